"""What the commands print, fitted to the terminal: a long line wraps between words onto
indented lines (a number or a path is never split), as the progress display does. Printed to
a file or a pipe, each line stays one line, for logs and scripts."""

import sys
import textwrap

from ..callbacks.progress import terminal_columns


def fitted(text, stream=None):
    """`text` wrapped between words to the width of the terminal `stream` (stdout) writes to,
    continuation lines indented by two spaces; `text` itself when `stream` is no terminal."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return text
    return "\n".join(textwrap.fill(line, width=terminal_columns(stream) - 1,
                                   subsequent_indent="  ", break_long_words=False,
                                   break_on_hyphens=False) for line in text.splitlines())


def say(text):
    """Print `text`, fitted to the terminal."""
    print(fitted(text), flush=True)
