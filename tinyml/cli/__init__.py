"""The ``tinyml`` command: train, evaluate, predict with and summarize small nets on image
datasets read from disk (scikit-learn's digits, Fashion-MNIST, MNIST, any IDX folder).

- ``tinyml train``: :mod:`tinyml.cli.training`
- ``tinyml evaluate``, ``predict``, ``summary``: :mod:`tinyml.cli.evaluation`
- ``tinyml export``: :mod:`tinyml.cli.exporting`

Every bad flag value ends the command with one line, ``tinyml: error: ...`` (or argparse's
usage and ``tinyml COMMAND: error: ...``), and exit status 2, never a traceback.
"""

import argparse
import sys

from .. import __version__
from ..distributed import abort_run
from .arguments import check_file_to_write
from .evaluation import add_evaluate_parser, add_predict_parser, add_summary_parser
from .exporting import add_export_parser
from .optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    SCHEDULES_MODULE,
    WITH_MOMENTUM,
    build_optimizer,
    build_schedule,
)
from .training import MODELS, add_train_parser, train

DESCRIPTION = ("Train, evaluate, predict with and summarize small nets on image datasets read "
               "from disk: scikit-learn's digits, Fashion-MNIST, MNIST or any IDX folder. "
               "`tinyml COMMAND --help` lists a command's flags.")
# What tinyml raises for a bad value, a missing file or a missing extra: one line each.
CLEAN_ERRORS = (ValueError, TypeError, OSError, RuntimeError, ImportError)

__all__ = ["MODELS", "OPTIMIZERS", "SCHEDULES", "SCHEDULES_MODULE", "WITH_MOMENTUM",
           "build_optimizer", "build_parser", "build_schedule", "check_save_path", "main",
           "train"]


def build_parser():
    parser = argparse.ArgumentParser(prog="tinyml", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"tinyml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_parser(commands)
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    add_summary_parser(commands)
    add_export_parser(commands)
    return parser


def check_save_path(path):
    """Refuse a --save path that cannot be written before training, not after it."""
    check_file_to_write("--save", path)


def main(argv=None):
    """Run the command in `argv` (sys.argv[1:] by default); its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CLEAN_ERRORS as error:
        print(f"tinyml: error: {one_line(error)}", file=sys.stderr)
        abort_run(2)  # under mpirun: the other processes would wait for this one for ever
        return 2
    except KeyboardInterrupt:
        print("tinyml: interrupted", file=sys.stderr)
        abort_run(130)
        return 130


def one_line(error):
    """The error's message on one line (a FileNotFoundError without one names its file)."""
    text = str(error) or type(error).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())
