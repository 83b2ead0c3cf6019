"""Weights on disk: a plain ``.npz`` of host arrays keyed like ``state_dict``.

Written to a temporary file in the same directory and renamed over the target, so a crash
mid-write never leaves a half-written checkpoint; read with ``allow_pickle=False``, so loading
a file cannot run code. The keys (``"fc1.weight"``) and layouts follow PyTorch.
"""

import os
import tempfile
import zipfile

import numpy as np

from .backend import to_numpy


def save_state(state, path):
    """Write {name: array} (any backend) to `path` as an uncompressed ``.npz``, atomically."""
    path = os.fspath(path)
    arrays = {name: np.ascontiguousarray(to_numpy(value)) for name, value in state.items()}
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".tinyml-", suffix=".npz.tmp",
                                             dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_state(path):
    """{name: host NumPy array} from a file written by :func:`save_state` (no pickle)."""
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise _not_weights(path, error) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _not_weights(path, "it holds one unnamed array, not an .npz of named weights")
    with archive:
        try:
            return {name: archive[name] for name in archive.files}
        except (ValueError, zipfile.BadZipFile, OSError) as error:
            raise _not_weights(path, error) from None


def _not_weights(path, reason):
    return ValueError(f"{path} is not a tinyml weights file (an .npz of numeric arrays): {reason}")
