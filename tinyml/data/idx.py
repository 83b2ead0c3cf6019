"""IDX files, the format of MNIST and Fashion-MNIST, plain or gzipped, read on the host.

Format (every integer big-endian)::

    bytes 0-1   zero
    byte 2      type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte 3      ndim, the number of dimensions
    4 * ndim    the sizes, one uint32 each
    the rest    the values in C (row-major) order, big-endian

A gzipped file is recognised by its first two bytes (1f 8b), whatever its name.
"""

import gzip
import math
import os
import zlib

import numpy as np

from ..io import check_save_path, shape_problem

DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
MAX_NDIM = 32  # NumPy's own limit before 2.0; real IDX files have 1 to 4
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 18  # gzip reads go in 256 KiB steps: memory grows with the data, not the claim


def load_idx(path):
    """The array stored in the IDX file at `path` (plain or gzipped).

    Returns
    -------
    numpy.ndarray
        The header's shape and dtype, in native byte order.

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    ValueError
        Not a valid IDX file: empty, bad magic, unknown type code, ndim 0 or over 32, a
        truncated header, data shorter or longer than the header's shape, a shape NumPy cannot
        hold (extents whose non-zero product passes 2**63 bytes, even with another extent 0),
        or a damaged gzip stream. The header's size is checked before anything is allocated,
        and a gzip stream is decompressed only up to one byte past that size.
    """
    path = os.fspath(path)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"no IDX file at {path!r}") from None
    with file:
        if file.read(2) != GZIP_MAGIC:
            file.seek(0)
            return _read(file, os.fstat(file.fileno()).st_size, path)
        file.seek(0)
        try:
            with gzip.GzipFile(fileobj=file) as stream:
                return _read(stream, None, path)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise ValueError(f"IDX file {path!r}: damaged gzip stream ({error})") from None


def save_idx(path, array, gz=False):
    """Write `array` (1 to 32 dimensions, a dtype of the format) as an IDX file; gzip if `gz`.

    Refuses (as :func:`tinyml.io.check_save_path`) a path that is not a regular file, ends in
    a separator, is write-protected or has too long a name."""
    array = np.asarray(array)
    code = CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        names = ", ".join(str(d.newbyteorder("=")) for d in DTYPES.values())
        raise TypeError(f"save_idx: IDX stores {names}; got dtype {array.dtype}")
    if not 1 <= array.ndim <= MAX_NDIM or max(array.shape) >= 2**32:
        raise ValueError(f"save_idx: IDX stores 1 to {MAX_NDIM} dimensions below 2**32 each; "
                         f"got shape {array.shape}")
    check_save_path(path)  # never onto a pipe or a device, a name ending in "/", ...
    with (gzip.open if gz else open)(path, "wb") as file:
        file.write(bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes())
        file.write(array.astype(DTYPES[code]).tobytes())


def _read(stream, file_size, path):
    """Header, size check, then data. `file_size` is None for a stream of unknown length."""
    def fail(problem):
        return ValueError(f"IDX file {path!r}: {problem}")

    start = _read_upto(stream, 4)
    if not start:
        raise fail("the file is empty")
    if len(start) >= 2 and start[:2] != b"\0\0":
        raise fail(f"not an IDX file: the first two bytes must be 0, got {start[:2].hex(' ')}")
    if len(start) < 4:
        raise fail(f"truncated header: {len(start)} of at least 4 bytes")
    code, ndim = start[2], start[3]
    if code not in DTYPES:
        raise fail(f"unknown type code 0x{code:02X}; known: "
                   + ", ".join(f"0x{c:02X} ({d.name})" for c, d in DTYPES.items()))
    if not 1 <= ndim <= MAX_NDIM:
        raise fail(f"ndim must be 1 to {MAX_NDIM}; the header says {ndim}")
    sizes = _read_upto(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise fail(f"truncated header: {4 + len(sizes)} of {4 + 4 * ndim} bytes")
    shape = tuple(int(size) for size in np.frombuffer(sizes, ">u4"))
    dtype = DTYPES[code]
    problem = shape_problem(shape, dtype.itemsize)
    if problem:  # a zero-sized array, whose size check passes, can still be one NumPy refuses
        raise fail(f"the header claims the impossible shape {shape}: {problem}")
    claimed = math.prod(shape) * dtype.itemsize
    if file_size is None:  # gzip: decompress at most one byte past the claim
        data = _read_upto(stream, claimed + 1)
        actual = len(data) if len(data) <= claimed else "more than that"
    else:  # a plain file: its size is checked before anything is allocated
        actual = file_size - 4 - 4 * ndim
        if actual == claimed:
            data = bytearray(claimed)
            actual = stream.readinto(data)  # less if the file shrank since it was measured
    if actual != claimed:
        raise fail(f"shape {shape} of {dtype.name} needs {claimed} data bytes; "
                   f"the file has {actual}")
    # Writable buffers, so native byte order costs a copy only for multi-byte types.
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _read_upto(stream, limit):
    """At most `limit` bytes, fewer only at the end of the stream, read in bounded steps."""
    data = bytearray()
    while len(data) < limit:
        chunk = stream.read(min(CHUNK, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return data
