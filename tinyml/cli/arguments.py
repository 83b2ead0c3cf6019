"""What the commands share: value types for argparse, the backend flags, and path checks that
run before any data is loaded or any epoch is trained."""

import argparse
import importlib
import os

from ..backend import KNOWN_BACKENDS, set_backend
from ..io import check_save_path


# ---------------------------------------------------------------- argparse value types
def positive_int(text):
    """An int > 0 (argparse type): ``--epochs 0`` is refused with a one-line usage error."""
    return _int_at_least(text, 1, "a positive integer, such as 10")


def non_negative_int(text):
    """An int >= 0 (argparse type)."""
    return _int_at_least(text, 0, "an integer >= 0, such as 3")


def fraction(text):
    """A float in (0, 1) (argparse type), such as 0.1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1), such as 0.1; got {text!r}")
    return value


def _int_at_least(text, minimum, expected):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"must be {expected}; got {text!r}")
    return value


# ---------------------------------------------------------------- the backend flags
def add_backend_arguments(parser):
    parser.add_argument("--backend", default=None, choices=KNOWN_BACKENDS,
                        help="array library (default: $TINYML_BACKEND or numpy)")
    parser.add_argument("--device", default=None,
                        help="device: a GPU number for cupy, a name such as device1 for "
                             "array_api_strict")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--batch-size", type=positive_int, default=32)


def use_backend_arguments(args):
    """Make --backend/--device/--dtype current; the Backend. No --backend keeps the current
    one ($TINYML_BACKEND or numpy)."""
    device = args.device
    if device is not None and device.isdigit():
        device = int(device)
    return set_backend(args.backend, device=device, dtype=args.dtype)


# ---------------------------------------------------------------- paths, checked up front
def check_file_to_write(flag, path, example="weights.npz"):
    """Refuse a file path that cannot be written, before training rather than after it: what
    a save refuses (:func:`tinyml.io.check_save_path`: a special file, a name ending in a
    separator, a write-protected file, a name too long) is refused here first."""
    if path is None:
        return
    if not path.strip():
        raise ValueError(f"{flag} needs a file name, such as {flag} {example}; got ''")
    if os.path.isdir(path):
        raise ValueError(f"{flag} {path}: that is a folder; name a file in it, such as "
                         f"{os.path.join(path, example)}")
    _check_writable_folder(flag, path, os.path.dirname(os.path.abspath(path)), "save elsewhere")
    try:
        check_save_path(path)
    except OSError as error:  # PermissionError, ENAMETOOLONG: their message is ours
        raise ValueError(f"{flag} {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ValueError(f"{flag} {path}: {error}") from None


def check_different_files(*flags_and_paths):
    """Refuse two flags that name one file (through links too), where writing one would
    overwrite the other: ``--save run.npz --checkpoint run.npz`` would replace the
    checkpoint with weights."""
    given = [(flag, path) for flag, path in flags_and_paths if path]
    for index, (flag, path) in enumerate(given):
        for other_flag, other in given[index + 1:]:
            if _same_file(path, other):
                raise ValueError(f"{flag} and {other_flag} name the same file, {path}: one "
                                 f"would overwrite the other; give {flag} another name")


def _same_file(first, second):
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)  # hard links
    except OSError:
        return False


def check_file_to_read(flag, path):
    """Refuse a file path that is not there, before anything is built."""
    if path is None:
        return
    if not path.strip():
        raise ValueError(f"{flag} needs a file name; got ''")
    if os.path.isdir(path):
        raise ValueError(f"{flag} {path}: that is a folder; name a file in it")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{flag} {path}: no such file")


def check_folder_to_fill(flag, path, example):
    """Refuse a folder that can be neither used nor created (its parent must exist)."""
    if path is None:
        return
    if not path.strip():
        raise ValueError(f"{flag} needs a folder name, such as {flag} {example}; got ''")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{flag} {path}: that is a file, not a folder; name a folder")
    if os.path.isdir(path):
        _check_writable_folder(flag, path, path, "choose another folder")
        return
    _check_writable_folder(flag, path, os.path.dirname(os.path.abspath(path)),
                           "choose another folder", creating=True)


def _check_writable_folder(flag, path, folder, instead, creating=False):
    if not os.path.isdir(folder):
        raise ValueError(f"{flag} {path}: the folder {folder} does not exist; create it first "
                         f"or {instead}")
    if not os.access(folder, os.W_OK):
        what = f"{path} cannot be created there" if creating else "it is not writable"
        raise ValueError(f"{flag} {path}: the folder {folder} is not writable ({what}); "
                         f"{instead}")


def require_module(flag, module, extra):
    """Refuse a flag whose optional dependency is missing, before training."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise RuntimeError(f"{flag} needs {module}: pip install \"tinyml-xp[{extra}]\" (from a "
                           f"clone: pip install -e \".[{extra}]\"), or leave {flag} out") from None
