"""What the progress display writes, laid out for a terminal `width` columns wide: pure text.

A line is a list of items (``"epoch 2/10"``, ``"loss 0.4512"``, ...). Items are never cut: a
line that does not fit drops its least important items (the live line) or wraps between items
onto indented lines (the epoch's summary), so no number is ever shown cut short.
"""

import math

SEPARATOR = "  "
INDENT = "  "  # continuation lines of a wrapped summary
BAR_MIN = 10  # narrower than this, the bar is left out
BAR_MAX = 30


def format_duration(seconds):
    """``"0.41s"``, ``"12.3s"``, ``"2:05"``, ``"1:02:05"``: short, and exact enough to read."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def per_step(seconds, steps):
    """``"250us/step"``, ``"6ms/step"`` or ``"1.2s/step"``: the mean time of one step."""
    if steps < 1:
        return None
    each = seconds / steps
    if each < 1e-3:
        return f"{each * 1e6:.0f}us/step"
    return f"{each * 1e3:.0f}ms/step" if each < 1 else f"{each:.1f}s/step"


def epoch_title(epoch, epochs):
    """``"epoch  3/10"``: the epoch from 1, padded so a run's lines align."""
    return f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}"


def steps_done(done, total):
    return f"{done}/{total}" if total else f"{done} steps"


def bar(done, total, width):
    """``[=====>......]`` of `width` characters for `done` of `total` steps."""
    inner = width - 2
    filled = min(inner, inner * done // total)
    if filled == inner:
        return "[" + "=" * inner + "]"
    return "[" + "=" * filled + ">" + "." * (inner - filled - 1) + "]"


def live_line(title, done, total, elapsed, running, width):
    """The line shown while an epoch runs, at most ``width - 1`` characters (the last column
    is left free: writing there makes some terminals wrap).

    The title and the step count always show (cut only on a terminal narrower than they are);
    then, while they fit, the running loss and accuracy, the ETA, a bar in the room left over
    (from 10 to 30 characters) and the rate, in that order of importance.
    """
    room = max(width - 1, 1)
    items = [title, steps_done(done, total)]

    def add(item):
        if item is not None and _length([*items, item]) <= room:
            items.append(item)

    for key in ("loss", "accuracy"):
        add(f"{key} {running[key]:.4f}" if key in running else None)
    add(f"ETA {format_duration(elapsed / done * (total - done))}" if total and done else None)
    spare = room - _length(items) - len(SEPARATOR)
    if total and spare >= BAR_MIN:
        items.insert(1, bar(done, total, min(spare, BAR_MAX)))
    add(f"{done / elapsed:.1f} steps/s" if done and elapsed > 0 else None)
    line = SEPARATOR.join(items)
    return line if len(line) <= room else line[:room]  # only a terminal narrower than 2 items


def epoch_lines(title, steps, total, logs, width):
    """The lines a finished epoch leaves: its title, steps, time and every log (validation and
    lr included), on one line when it fits in ``width - 1`` columns, otherwise wrapped between
    items onto indented lines."""
    logs = dict(logs)
    seconds = logs.pop("epoch_time", None)
    items = [title, steps_done(steps, total)]
    if seconds is not None:
        items.append(format_duration(seconds))
        rate = per_step(seconds, steps)
        if rate:
            items.append(rate)
    items.extend(format_logs({key: value}) for key, value in logs.items())
    return wrap(items, max(width - 1, 1))


def wrap(items, room):
    """`items` joined by two spaces into lines of at most `room` characters, breaking only
    between items; an item longer than a line gets a line of its own, whole."""
    lines, current = [], ""
    for item in items:
        candidate = item if not current else current + SEPARATOR + item
        if len(candidate) <= room or not current:
            current = candidate
        else:
            lines.append(current)
            current = INDENT + item
    lines.append(current)
    return lines


def _length(items):
    return len(SEPARATOR.join(items))


def format_logs(logs):
    """``loss 0.1234  accuracy 0.9651  lr 0.05  (0.41s)`` for a dict of floats."""
    parts = [f"{key} {value:.4f}" for key, value in logs.items()
             if key not in ("lr", "epoch_time")]
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.3g}")
    if "epoch_time" in logs:
        parts.append(f"({logs['epoch_time']:.2f}s)")
    return "  ".join(parts)
