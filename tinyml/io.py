"""Weights on disk: a plain ``.npz`` of host arrays keyed like ``state_dict``.

The file format
---------------
An uncompressed zip archive with one ``KEY.npy`` member per array (``fc1.weight.npy``), each a
``.npy`` file (format version 1.0 or 2.0) of real numbers: bool, signed or unsigned integers
of up to 64 bits, float16, float32 or float64. It is what ``np.savez(path, **state)`` writes
for such arrays, and ``np.load(path)`` reads it. The keys (``"fc1.weight"``) and layouts follow
PyTorch. Compressed archives (``np.savez_compressed``), Fortran-order and big-endian members
load too; nothing else does: no object arrays, no pickles.

``net.save`` adds one more member, ``CONFIG_KEY`` (``"__config__"``): the net's
architecture as a 1-D uint8 array of UTF-8 JSON (:func:`encode_config`), which
:func:`tinyml.load_net` rebuilds the net from; and, when the net has any, its
``net.metadata`` under ``METADATA_KEY`` (``"__metadata__"``, JSON the same way: the
command line stores the dataset, input shape and class names there). Reading them parses
JSON, which runs no code; with `expected` given (``net.load``) they are skipped unread.

A training checkpoint (``learner.save_checkpoint``, :mod:`tinyml.train.checkpoint`) is the
same kind of file: the net's arrays under ``net/KEY`` (``CHECKPOINT_WEIGHTS``), the
optimizer's under ``optimizer/...``, the training state under ``CHECKPOINT_KEY``, and the
architecture and metadata as above. Whatever reads weights reads them out of a checkpoint too
(``net.load``, ``load_net``, ``tinyml evaluate``); :func:`weights_prefix` says where they
are.

Saving
------
:func:`save_state` writes to a temporary file beside the target (``.NAME.XXXXXXXX.tinyml-tmp``,
``XXXXXXXX`` random hex), flushes it to disk and renames it over the target, then syncs the
folder where the OS allows it. So a crash or a SIGKILL mid-write leaves the previous checkpoint
(or none) under the target's name, never a half-written one. A temporary file left by a killed
save is removed by the next save of the same target; one being written by another live process
is left alone (it holds a lock on it). A new file gets the permissions the umask allows
(``0o666 & ~umask``, as ``open`` gives); a file being replaced keeps its permissions. Saving
through a symbolic link writes to the file the link points to, and the link stays.

A save refuses what ``open(path, "wb")`` would refuse and never replaces anything but a
regular file (:func:`check_save_path`, which callers use to check a path before training):
a name ending in a separator, a named pipe, a device or a socket, a write-protected file, a
name longer than the file system takes. The temporary name is cut short where it would not
fit, so a legal target name always saves. Every array round-trips, 0-d ones included.

Loading and its limits
----------------------
:func:`load_state` reads the zip's directory and every ``.npy`` header before it reads any
array data, and checks them first: each member's name, dtype (real numbers only), shape
(against `expected`, when given) and size (its header's claim against the member's size in
the archive), and the total (at most `max_bytes`, ``MAX_BYTES`` = 4 GiB by default). A
damaged or hostile file is refused with nothing allocated for its data; a header claiming
shape (10**12,) costs nothing. :meth:`tinyml.Net.load` passes the net's own keys and shapes,
so a file that does not fit the net is refused before its data is read, whatever its size.
A shape NumPy could not hold is refused too, zero-sized ones included ((0, 2**62, 2**62) has
no elements, yet NumPy refuses it): more than 32 dimensions, or extents whose non-zero product
passes 2**63 bytes (:func:`shape_problem`, which the IDX reader shares).
:func:`state_headers` gives every member's shape and dtype without reading data, and
:func:`load_array` reads one ``.npy`` file with the same checks.

Errors
------
- ``FileNotFoundError`` (naming the path): no such file, or no folder to save into.
- ``ValueError`` naming the file and what is wrong with it: a directory, an empty file (what a
  plain ``np.savez`` killed mid-write leaves), a text file, a single ``.npy``, a truncated or
  damaged zip, a member that is not ``.npy``, a damaged header, a dtype that is not a real
  number (object, string, complex), a header that claims more data than the member holds,
  more than `max_bytes` in total, or keys and shapes that do not match `expected`.
- ``ValueError`` from :func:`save_state` for an array that is not of real numbers, or a
  path that is a folder, ends in a separator or names something other than a regular file;
  ``PermissionError`` for a write-protected file or folder; ``OSError`` (``ENAMETOOLONG``) for
  a name longer than the file system allows.
"""

import contextlib
import errno
import math
import os
import secrets
import stat
import zipfile
from collections import namedtuple
from io import BytesIO

import numpy as np

from .backend import to_numpy

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be removed there, which is lock enough
    fcntl = None

MAX_BYTES = 4 * 2**30
"""The default limit on the array data :func:`load_state` reads from one file (4 GiB)."""

TEMPORARY_SUFFIX = ".tinyml-tmp"
"""How the name of a save's temporary file ends: ``.NAME.XXXXXXXX.tinyml-tmp``."""

_MAGIC = b"\x93NUMPY"
_HEADER_BYTES = 1 << 16  # more than the 10,000 characters NumPy reads in a header
_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
               RuntimeError, NotImplementedError)  # RuntimeError: an encrypted member
_Header = namedtuple("_Header", ["shape", "fortran_order", "dtype", "offset", "nbytes"])


# ---------------------------------------------------------------- saving
def save_state(state, path):
    """Write {name: array} (any backend) to `path` as an uncompressed ``.npz``, atomically.

    Raises
    ------
    ValueError
        If an array is not of real numbers (bool, integer or float): it could not be loaded.
        If `path` is a folder, ends in a separator, or names something that is not a regular
        file (see :func:`check_save_path`).
    FileNotFoundError
        If the folder to save into does not exist.
    PermissionError
        If the file or its folder is write-protected.
    """
    path = os.fspath(path)
    arrays = {}
    for name, value in state.items():
        array = np.asarray(to_numpy(value), order="C")  # ascontiguousarray makes 0-d 1-d
        if not _is_real(array.dtype):
            raise ValueError(f"cannot save {name!r} to {path}: its dtype {array.dtype} is not a "
                             "real number type (bool, integer or float of up to 64 bits), the "
                             "only ones a weights file holds. Convert it with astype first.")
        arrays[name] = array
    target = check_save_path(path)
    directory, base = os.path.split(target)
    _remove_stale_temporaries(directory, base)
    descriptor, temporary = _create_temporary(path, directory, base)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _keep_mode(target, handle.fileno())
            _write_npz(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())
            if fcntl is not None:  # renamed while locked, so no cleanup can take it first
                os.replace(temporary, target)
        if fcntl is None:  # Windows renames only closed files
            os.replace(temporary, target)
    except BaseException:
        _unlink_if_there(temporary)
        raise
    _sync_folder(directory)


def _write_npz(handle, arrays):
    """What ``np.savez`` writes, without its pickling and its reserved keyword names."""
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def check_save_path(path):
    """The file a save to `path` writes (symbolic links followed), refused unless
    ``open(path, "wb")`` could write it there and a save would replace only a regular file.

    Raises
    ------
    ValueError
        `path` is empty, ends in a separator (``"run/"``), is a folder, or names something
        that is not a regular file (a named pipe, a device, a socket), which a save's rename
        would replace.
    PermissionError
        The file is write-protected (``open(path, "wb")`` would be refused).
    OSError
        The file name is longer than the file system allows (``ENAMETOOLONG``), or ``open``
        would be refused for another reason (a read-only file system).
    """
    path = os.fspath(path)
    text = os.fsdecode(path)
    if not text:
        raise ValueError("cannot save to '': name a file, such as weights.npz")
    if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):
        raise ValueError(f"cannot save to {text}: a name ending in {text[-1]!r} is a folder; "
                         f"name a file, such as {os.path.join(text, 'weights.npz')}")
    target = os.path.realpath(path)  # through symbolic links: the link stays a link
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # a new file; a missing folder is reported when the save creates it
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        mode = None  # said below, with the limit
    if mode is not None and stat.S_ISDIR(mode):
        raise ValueError(f"cannot save to {text}: it is a folder; name a file in it, for "
                         f"example {os.path.join(text, 'weights.npz')}")
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"cannot save to {text}: it is {_kind_of(mode)}, not a regular file, "
                         "and a save would replace it; name a regular file")
    if mode is not None:
        _check_opens_for_writing(text, target)
    base = os.path.basename(target)
    limit = _name_max(os.path.dirname(target))
    if len(os.fsencode(base)) > limit:
        raise OSError(errno.ENAMETOOLONG, f"cannot save to {text}: the file name is "
                      f"{len(os.fsencode(base))} bytes long, more than the {limit} the file "
                      "system allows; choose a shorter name", text)
    return target


def _check_opens_for_writing(text, target):
    """Refuse what ``open(target, "wb")`` would: opened for writing, not truncated."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(target, flags)
    except PermissionError:
        raise PermissionError(errno.EACCES, f"cannot save to {text}: the file is "
                              "write-protected, so open(path, 'wb') would be refused too; make "
                              "it writable (chmod u+w) or save elsewhere", text) from None
    os.close(descriptor)


def _kind_of(mode):
    for test, kind in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def _name_max(directory):
    """The longest file name (in bytes) the file system of `directory` takes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows, or a folder not there yet
        return 255


def _temporary_name(directory, base):
    """``.NAME.XXXXXXXX.tinyml-tmp`` with NAME cut short where the whole would not fit the
    file system's limit on names, so a legal target name always has a temporary name."""
    room = _name_max(directory) - len(f"..{'0' * 8}{TEMPORARY_SUFFIX}")
    while len(os.fsencode(base)) > room:
        base = base[:-1]
    return f".{base}."


def _create_temporary(path, directory, base):
    """(descriptor, name) of a new, locked file beside the target, created with mode 0o666 so
    the umask decides, as ``open`` does."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    prefix = _temporary_name(directory, base)
    for _ in range(100):  # a clash of 32 random bits is rare; 100 in a row means something else
        temporary = os.path.join(directory, f"{prefix}{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
        try:
            descriptor = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(errno.ENOENT, f"cannot save to {path}: there is no folder "
                                    f"{directory}; create it first", path) from None
        except PermissionError:
            raise PermissionError(errno.EACCES, f"cannot save to {path}: the folder "
                                  f"{directory} is write-protected; save elsewhere",
                                  path) from None
        if fcntl is None:
            return descriptor, temporary
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits only for a cleanup that got in first
        if _same_file(descriptor, temporary):
            return descriptor, temporary
        os.close(descriptor)  # a cleanup removed it between the open and the lock
    raise FileExistsError(errno.EEXIST, f"cannot save to {path}: found no free temporary name "
                          f"in {directory} in 100 tries", path)


def _remove_stale_temporaries(directory, base):
    """Remove what saves of this target killed mid-write left; a live save's file is locked."""
    prefix = _temporary_name(directory, base)
    try:
        names = os.listdir(directory)
    except OSError:
        return  # creating the temporary file reports a missing folder, naming the target
    for name in names:
        token = name[len(prefix):-len(TEMPORARY_SUFFIX)]
        if (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX) and len(token) == 8
                and all(character in "0123456789abcdef" for character in token)):
            _remove_if_unlocked(os.path.join(directory, name))


def _remove_if_unlocked(temporary):
    if fcntl is None:
        try:
            os.unlink(temporary)  # refused while a save has it open
        except OSError:
            pass
        return
    try:
        descriptor = os.open(temporary, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)  # a save in progress holds it
        return
    try:
        _unlink_if_there(temporary)
    finally:
        os.close(descriptor)


def _same_file(descriptor, name):
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(name))
    except FileNotFoundError:
        return False


def _keep_mode(target, descriptor):
    """A replaced file keeps its permissions, as it would when rewritten in place."""
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    os.fchmod(descriptor, mode & 0o7777)


def _unlink_if_there(name):
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def _sync_folder(directory):
    """Make the rename durable: fsync the folder, where the OS has folder descriptors."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some filesystems cannot sync a folder; the rename itself has happened
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------- loading
def load_state(path, *, expected=None, strict=True, max_bytes=MAX_BYTES, prefix=""):
    """{name: host NumPy array} from a file written by :func:`save_state`, checked before read.

    Never unpickles. The zip's directory and every ``.npy`` header are read and checked before
    any array data, so a damaged or hostile file costs no memory for its data.

    Parameters
    ----------
    path : str or os.PathLike
    expected : dict {name: shape}, optional
        The names and shapes the caller will load (:meth:`tinyml.Net.load` passes its own).
        Mis-shaped arrays are an error; with ``strict`` missing and unexpected names are too.
    strict : bool
        With `expected`: ``False`` reads only the names in both, leaving unexpected ones
        unread and missing ones out of the result.
    max_bytes : int or None
        The most array data (from the headers, over the names read) the file may hold:
        ``MAX_BYTES`` (4 GiB) by default; None for no limit, when `expected` already
        bounds it.
    prefix : str
        Read only the arrays whose names start with it, named without it (``"net/"``: the
        weights in a training checkpoint); the others are neither checked nor read.

    Returns
    -------
    dict {name: numpy.ndarray}
        C-contiguous, native byte order, in the file's order.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        If the file is not a weights file, is damaged, holds anything but real numbers, holds
        more than `max_bytes`, or does not match `expected`; the message names the file and
        what is wrong. Nothing is read then.
    """
    path = os.fspath(path)
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"max_bytes must be a non-negative int or None; got {max_bytes!r}")
    with _opened_archive(path) as archive:
        return _load_archive(path, archive, expected, strict, max_bytes, prefix)


ArrayHeader = namedtuple("ArrayHeader", ["shape", "dtype"])
"""What a ``.npy`` header says of its array: its shape (a tuple) and NumPy dtype."""


def state_headers(path):
    """{name: :data:`ArrayHeader`} of every array in the weights file at `path`, in the file's
    order, from the zip's directory and the ``.npy`` headers alone: no array data is read.

    Everything :func:`load_state` checks before reading is checked here too (a damaged
    archive or header, dtypes that are not real numbers, shapes that the data cannot hold),
    so a caller can check names and shapes against what it expects, then read with
    ``load_state(path, expected=...)``.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_state`.
    """
    path = os.fspath(path)
    with _opened_archive(path) as archive:
        members = _members(path, archive)
        return {name: ArrayHeader(header.shape, header.dtype) for name, header in
                ((name, _member_header(path, archive, info)) for name, info in members.items())}


def load_array(path, *, max_bytes=MAX_BYTES):
    """The host NumPy array in the ``.npy`` file at `path`, checked before its data is read.

    The same rules as one member of :func:`load_state`: format 1.0 or 2.0, real numbers only,
    a shape the file's size holds, at most `max_bytes` of data; never unpickles.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        If the file is not an ``.npy`` file of real numbers or is damaged, naming the file.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not an .npy file: pass the path of the file")

    def fail(reason, fix="The file is damaged (a truncated copy?): save or copy it again."):
        return ValueError(f"{path} is not an .npy file of real numbers: {reason}. {fix}")

    with open(path, "rb") as handle:  # FileNotFoundError names the path
        size = os.fstat(handle.fileno()).st_size
        prefix = handle.read(min(size, _HEADER_BYTES))
        if not prefix:
            raise fail("it is empty (0 bytes)")
        if prefix.startswith(b"PK"):
            raise fail("it is an .npz (zip) archive of named arrays",
                       "Read it with tinyml.io.load_state(path).")
        if not prefix.startswith(_MAGIC):
            raise fail(f"it does not start with the .npy magic bytes; it starts with "
                       f"{prefix[:len(_MAGIC)]!r}", "Pass a file written by np.save.")
        header = _parse_header(fail, "it", prefix, size)
        if max_bytes is not None and header.nbytes > max_bytes:
            raise fail(f"it holds {header.nbytes:,} bytes of data, more than max_bytes="
                       f"{max_bytes:,}", "If you trust the file, pass a larger max_bytes.")
        handle.seek(0)
        return _as_array(fail, "it", _read_bytes(handle, header), header)


def stored_names(path):
    """The names of the arrays in `path`, from its zip directory (no array data is read), after
    the checks :func:`load_state` makes of what the file is."""
    with _opened_archive(os.fspath(path)) as archive:
        return list(_members(path, archive))


def weights_prefix(names):
    """Where a file's weights are, from its member names: ``"net/"`` in a training
    checkpoint, ``""`` in a weights file."""
    return CHECKPOINT_WEIGHTS if CHECKPOINT_KEY in names else ""


def load_json(path, key):
    """The dict stored as JSON under `key` (``CONFIG_KEY``, ``METADATA_KEY``,
    ``CHECKPOINT_KEY``) in `path`, or None when the file has no such member; only that
    member is read (at most 64 MiB of it)."""
    path = os.fspath(path)
    with _opened_archive(path) as archive:
        members = _members(path, archive)
        if key not in members:
            return None
        header = _member_header(path, archive, members[key])
        if header.nbytes > _JSON_BYTES:
            raise _damaged(path, f"member {key!r} claims {header.nbytes:,} bytes, more than a "
                           "description of a net takes")
        return decode_config(_read_data(path, archive, members[key], header), path, key=key)


@contextlib.contextmanager
def _opened_archive(path):
    """The zip archive at `path`, after the checks that tell a weights file from others."""
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a weights file: pass the path of the .npz "
                         "file that net.save wrote")
    with open(path, "rb") as handle:  # FileNotFoundError names the path
        start = handle.read(len(_MAGIC))
        if not start:
            raise _damaged(path, "it is empty (0 bytes)", "A save killed mid-write with a plain "
                           "np.savez leaves such a file (net.save never does): save the "
                           "weights again, or load an older copy.")
        if start == _MAGIC:
            raise _damaged(path, "it holds one unnamed .npy array, not an .npz of named arrays",
                           "Save named weights with net.save(path) or np.savez(path, **state).")
        if not start.startswith(b"PK"):
            raise _damaged(path, f"it is not an .npz (zip) archive; it starts with {start!r}",
                           "Pass the .npz file that net.save wrote.")
        handle.seek(0)
        try:
            archive = zipfile.ZipFile(handle)
        except _ZIP_ERRORS as error:
            raise _damaged(path, f"it is a truncated or damaged zip archive "
                           f"({_detail(error)})") from None
        with archive:
            yield archive


def _load_archive(path, archive, expected, strict, max_bytes, prefix):
    members = _members(path, archive)
    if prefix:  # the names under `prefix`, without it; the rest is not asked for
        members = {name[len(prefix):]: info for name, info in members.items()
                   if name.startswith(prefix)}
    if expected is None:
        missing, unexpected, wanted = [], [], list(members)
    else:
        expected = {name: tuple(int(size) for size in shape) for name, shape in expected.items()}
        missing = [name for name in expected if name not in members]
        # The descriptions saved beside the weights are not weights: never read here.
        unexpected = [name for name in members if name not in expected
                      and name not in RESERVED_KEYS]
        wanted = [name for name in members if name in expected]
    headers = {name: _member_header(path, archive, members[name]) for name in wanted}
    problems = []
    if strict and missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if strict and unexpected:
        problems.append(f"unexpected keys: {', '.join(unexpected)}")
    misshaped = [f"{name}: checkpoint {headers[name].shape}, expected {expected[name]}"
                 for name in wanted if expected is not None
                 and headers[name].shape != expected[name]]
    if misshaped:
        problems.append(f"mis-shaped: {'; '.join(misshaped)}")
    if problems:
        what = f"{path} (the net in this training checkpoint)" if prefix else path
        raise ValueError(f"{what} does not fit, so nothing was read: " + " | ".join(problems)
                         + ". Build the net with the architecture the weights came from.")
    total = sum(header.nbytes for header in headers.values())
    if max_bytes is not None and total > max_bytes:
        raise ValueError(f"{path} holds {total:,} bytes of arrays, more than max_bytes="
                         f"{max_bytes:,}, so nothing was read. If you trust the file, pass a "
                         "larger max_bytes (or None); net.load(path) checks the shapes against "
                         "the net instead.")
    return {name: _read_data(path, archive, members[name], headers[name]) for name in wanted}


def _members(path, archive):
    """{name: ZipInfo} of the ``NAME.npy`` members; anything else in the archive is an error."""
    members = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _damaged(path, f"member {info.filename!r} is not a .npy array (an .npz holds "
                           "only NAME.npy members)")
        name = info.filename[:-len(".npy")]
        if name in members:
            raise _damaged(path, f"it holds {info.filename!r} twice")
        members[name] = info
    return members


def _member_header(path, archive, info):
    """The member's shape, order, dtype and data offset, checked; reads at most 64 KiB."""
    where = f"member {info.filename!r}"
    try:
        with archive.open(info) as stream:
            prefix = stream.read(min(info.file_size, _HEADER_BYTES))
    except _ZIP_ERRORS as error:
        raise _damaged(path, f"{where} cannot be read ({_detail(error)})") from None
    if not prefix.startswith(_MAGIC):
        raise _damaged(path, f"{where} is not a .npy array (it does not start with the .npy "
                       "magic bytes)")
    return _parse_header(lambda reason, *fix: _damaged(path, reason, *fix), where, prefix,
                         info.file_size)


def _parse_header(fail, where, prefix, size):
    """The checked header at the start of `prefix`, of a ``.npy`` of `size` bytes in all;
    `fail(reason[, fix])` makes the error, `where` names the header in it."""
    buffer = BytesIO(prefix)
    try:
        version = np.lib.format.read_magic(buffer)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(buffer)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(buffer)
    except Exception as error:  # NumPy's parser meets untrusted text: any failure is damage
        raise fail(f"{where} has a damaged .npy header ({_detail(error)})") from None
    if version not in ((1, 0), (2, 0)):
        raise fail(f"{where} is .npy format version {version[0]}.{version[1]}; arrays of real "
                   "numbers use 1.0 or 2.0")
    if not _is_real(dtype):
        raise fail(f"{where} holds dtype {dtype}, not real numbers (bool, integer or float of "
                   "up to 64 bits)", "A tinyml weights file never holds other data: load only "
                   "files that net.save wrote.")
    problem = shape_problem(shape, dtype.itemsize)
    if problem:
        raise fail(f"{where} claims the impossible shape {shape}: {problem}")
    offset = buffer.tell()
    nbytes = math.prod(shape) * dtype.itemsize
    if offset + nbytes != size:
        raise fail(f"{where} claims shape {shape} of {dtype} ({nbytes:,} bytes) but holds "
                   f"{size - offset:,} bytes of data")
    return _Header(shape, fortran_order, dtype, offset, nbytes)


MAX_NDIM = 32
"""The most dimensions an array in a file may have: NumPy 1.26's limit (2.x takes 64)."""


def shape_problem(shape, itemsize):
    """What makes `shape` (of items of `itemsize` bytes) impossible for a NumPy array, as a
    phrase, or None. Zero-sized arrays count too: NumPy refuses extents whose non-zero
    product overflows its index type even when another extent is 0."""
    if len(shape) > MAX_NDIM:
        return f"{len(shape)} dimensions, more than the {MAX_NDIM} NumPy holds"
    if any(size < 0 for size in shape):
        return "a negative extent"
    if math.prod(size for size in shape if size) * itemsize > _MAX_INDEX:
        return ("its extents multiply to more bytes than NumPy can address (2**63), "
                "whether or not another extent is 0")
    return None


_MAX_INDEX = 2**63 - 1


def _read_data(path, archive, info, header):
    """The member's array, read in chunks into memory sized by its checked header."""
    where = f"member {info.filename!r}"
    try:
        with archive.open(info) as stream:
            data = _read_bytes(stream, header)  # zipfile checks the CRC at the last byte
    except _ZIP_ERRORS as error:
        raise _damaged(path, f"{where} cannot be read ({_detail(error)})") from None
    return _as_array(lambda reason: _damaged(path, reason), where, data, header)


def _read_bytes(stream, header):
    """What `stream` (at the start of its ``.npy``) holds after the header, up to the
    header's size, read in chunks into memory sized by the checked header."""
    data = np.empty(header.nbytes, dtype=np.uint8)
    view = memoryview(data)
    filled = 0
    stream.read(header.offset)
    while filled < header.nbytes:  # each pass reads a byte or more, or stops
        got = stream.readinto(view[filled:filled + _CHUNK])
        if not got:
            break
        filled += got
    return data[:filled]


def _as_array(fail, where, data, header):
    """The array of `header`'s dtype, shape and order in `data`, in native byte order."""
    if data.size != header.nbytes:  # the zip's directory (or a shrunk file) overstates it
        raise fail(f"{where} holds {data.size:,} bytes of data where its header says "
                   f"{header.nbytes:,}")
    array = data.view(header.dtype)
    if header.fortran_order:
        array = array.reshape(header.shape[::-1]).transpose()
    else:
        array = array.reshape(header.shape)
    # np.asarray keeps a 0-d array 0-d; ascontiguousarray would make it (1,).
    return np.asarray(array, dtype=header.dtype.newbyteorder("="), order="C")


def _is_real(dtype):
    return dtype.kind in "biuf" and dtype.itemsize <= 8 and dtype.fields is None


def _detail(error):
    """An error's text for a message, never NumPy's advice to load unsafely."""
    text = str(error) or type(error).__name__
    if "pickle" in text.lower():
        return "the header is larger than NumPy reads safely"
    return text if len(text) <= 200 else text[:200] + "..."


def _damaged(path, reason, fix="The file is damaged (a truncated copy or download?): save or "
             "copy it again."):
    return ValueError(f"{path} is not a tinyml weights file (an .npz of named arrays of real "
                      f"numbers): {reason}. {fix}")


# ---------------------------------------------------------------- the architecture
CONFIG_KEY = "__config__"
"""The key under which ``net.save`` stores the net's architecture, its config as a 1-D uint8
array of UTF-8 JSON, beside the weights; a reader that wants the weights only skips it. No
state_dict key can be it (keys are dotted paths of named layers and public attributes)."""

METADATA_KEY = "__metadata__"
"""The key of ``net.metadata`` (what the net was trained on), JSON as the config."""

CHECKPOINT_KEY = "__checkpoint__"
"""The key of a training checkpoint's state (epoch, optimizer, random streams, history)."""

CHECKPOINT_WEIGHTS = "net/"
"""What the names of the net's arrays start with in a training checkpoint."""

RESERVED_KEYS = (CONFIG_KEY, METADATA_KEY, CHECKPOINT_KEY)
"""Members that describe, beside the weights: never weights themselves."""

_JSON_BYTES = 64 * 2**20


def encode_config(config):
    """The JSON-serializable `config` as a 1-D uint8 array of its UTF-8 JSON, to store under
    ``CONFIG_KEY``."""
    import json  # here, so that this pair stays apart from the rest of the module

    text = json.dumps(config, ensure_ascii=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def decode_config(array, path="the file", *, key=CONFIG_KEY):
    """The config dict (or the dict stored under another JSON `key`) back from
    :func:`encode_config`'s array; a ValueError naming `path` when the member is not UTF-8
    JSON of a dict (parsing JSON runs no code)."""
    import json

    array = np.asarray(array)
    fix = ("The stored architecture is damaged; build the net in code and load the weights "
           f"with net.load({str(path)!r})." if key == CONFIG_KEY else
           "The file is damaged (a truncated copy?): save or copy it again.")
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError(f"{path}: the {key!r} member should be a 1-D uint8 array of "
                         f"UTF-8 JSON; it is {array.dtype} of shape {array.shape}. {fix}")
    try:
        config = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"{path}: the {key!r} member is not UTF-8 JSON ({error}). "
                         f"{fix}") from None
    if not isinstance(config, dict):
        what = "the net's config" if key == CONFIG_KEY else "a dict"
        raise ValueError(f"{path}: the {key!r} member should hold a JSON object ({what}); "
                         f"it holds a {type(config).__name__}. {fix}")
    return config
