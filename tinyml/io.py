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


# ---------------------------------------------------------------- the architecture member
CONFIG_KEY = "__config__"
"""The key under which ``net.save`` stores the net's architecture, its config as a 1-D uint8
array of UTF-8 JSON, beside the weights; a reader that wants the weights only skips it. No
state_dict key can be it (keys are dotted paths of named layers and public attributes)."""


def encode_config(config):
    """The JSON-serializable `config` as a 1-D uint8 array of its UTF-8 JSON, to store under
    :data:`CONFIG_KEY`."""
    import json  # here, so that this pair stays apart from the rest of the module

    text = json.dumps(config, ensure_ascii=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def decode_config(array, path="the file"):
    """The config dict back from :func:`encode_config`'s array; a ValueError naming `path`
    when the member is not UTF-8 JSON of a dict (parsing JSON runs no code)."""
    import json

    array = np.asarray(array)
    fix = ("The stored architecture is damaged; build the net in code and load the weights "
           f"with net.load({str(path)!r}).")
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError(f"{path}: the {CONFIG_KEY!r} member should be a 1-D uint8 array of "
                         f"UTF-8 JSON; it is {array.dtype} of shape {array.shape}. {fix}")
    try:
        config = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"{path}: the {CONFIG_KEY!r} member is not UTF-8 JSON ({error}). "
                         f"{fix}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: the {CONFIG_KEY!r} member should hold a JSON object (the "
                         f"net's config); it holds a {type(config).__name__}. {fix}")
    return config
