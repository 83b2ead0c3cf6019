"""IDX files: every type code round-trips, plain and gzipped, and each damaged form is refused
with a ValueError that names the file, before it can cost memory."""

import gzip
import tracemalloc

import numpy as np
import pytest

from tinyml.data import load_idx, save_idx

DTYPES = {0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32",
          0x0E: "float64"}


def write(path, payload, gz=False):
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def header(code, *shape):
    return bytes([0, 0, code, len(shape)]) + b"".join(s.to_bytes(4, "big") for s in shape)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("code", sorted(DTYPES), ids=list(DTYPES.values()))
def test_every_type_code_reads_big_endian_into_native_order(tmp_path, code, gz):
    values = np.arange(-3, 21).reshape(2, 3, 4).astype(DTYPES[code])
    if DTYPES[code] == "uint8":
        values = values + np.uint8(3)
    big = values.astype(values.dtype.newbyteorder(">"))
    path = write(tmp_path / "values.bin", header(code, 2, 3, 4) + big.tobytes(), gz)
    loaded = load_idx(path)
    assert loaded.dtype == values.dtype and loaded.dtype.isnative and loaded.shape == (2, 3, 4)
    np.testing.assert_array_equal(loaded, values)
    assert loaded.flags.writeable


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("dtype", list(DTYPES.values()))
def test_save_and_load_round_trip(tmp_path, dtype, gz):
    values = (np.arange(30) - 10).reshape(5, 6).astype(dtype)
    save_idx(tmp_path / "a.idx", values, gz=gz)
    assert (tmp_path / "a.idx").read_bytes()[:2] == (b"\x1f\x8b" if gz else b"\0\0")
    np.testing.assert_array_equal(load_idx(str(tmp_path / "a.idx")), values)


def test_gzip_is_told_by_its_bytes_not_its_name(tmp_path):
    path = write(tmp_path / "labels.idx", header(0x08, 3) + bytes([1, 2, 3]), gz=True)
    np.testing.assert_array_equal(load_idx(path), [1, 2, 3])
    plain = write(tmp_path / "labels.gz", header(0x08, 2) + bytes([4, 5]))
    np.testing.assert_array_equal(load_idx(plain), [4, 5])


def test_save_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="got dtype bool"):
        save_idx(tmp_path / "a", np.zeros(3, bool))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        save_idx(tmp_path / "a", np.uint8(3))


DAMAGED = {
    "empty": (b"", "the file is empty"),
    "bad magic": (b"\x01\x00" + header(0x08, 2)[2:] + b"ab", "first two bytes must be 0"),
    "bad type code": (header(0x0A, 2) + b"ab", "unknown type code 0x0A"),
    "ndim 0": (bytes([0, 0, 8, 0]), "ndim must be 1 to 32; the header says 0"),
    "absurd ndim": (bytes([0, 0, 8, 200]) + bytes(800), "the header says 200"),
    "header shorter than 4 bytes": (b"\0\0\x08", r"truncated header: 3 of at least 4"),
    "truncated sizes": (header(0x08, 2, 3)[:9], r"truncated header: 9 of 12 bytes"),
    "truncated data": (header(0x0B, 2, 3) + bytes(11), "needs 12 data bytes; the file has 11"),
    "extra data": (header(0x0B, 2, 3) + bytes(13), "needs 12 data bytes; the file has"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", list(DAMAGED))
def test_each_damaged_file_is_refused_naming_the_file(tmp_path, name, gz):
    payload, problem = DAMAGED[name]
    path = write(tmp_path / "broken-file.idx", payload, gz)
    with pytest.raises(ValueError, match=problem) as caught:
        load_idx(path)
    assert "broken-file.idx" in str(caught.value)


@pytest.mark.parametrize("cut", [5, 15, -4])
def test_a_truncated_gzip_stream_is_refused(tmp_path, cut):
    whole = gzip.compress(header(0x0C, 100) + np.arange(100, dtype=">i4").tobytes())
    path = write(tmp_path / "cut.gz", whole[:cut])
    with pytest.raises(ValueError, match="cut.gz.*damaged gzip stream"):
        load_idx(path)


def test_a_corrupt_gzip_checksum_is_refused(tmp_path):
    whole = bytearray(gzip.compress(header(0x08, 4) + b"abcd"))
    whole[-8] ^= 0xFF  # the CRC-32 of the data
    with pytest.raises(ValueError, match="damaged gzip stream"):
        load_idx(write(tmp_path / "crc.gz", bytes(whole)))


def peak_bytes(action):
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_header_claiming_a_huge_shape_costs_no_memory(tmp_path, gz):
    path = write(tmp_path / "huge", header(0x0E, 10**6, 10**6) + bytes(64), gz)

    def load():
        with pytest.raises(ValueError, match=r"needs 8000000000000 data bytes; the file has 64"):
            load_idx(path)

    assert peak_bytes(load) < 1_000_000


def test_a_gzip_bomb_is_decompressed_only_one_byte_past_the_claim(tmp_path):
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=1) as file:
        file.write(header(0x08, 10))
        for _ in range(20):
            file.write(bytes(1 << 20))  # 20 MiB of zeros behind a 10-byte claim

    def load():
        with pytest.raises(ValueError, match="needs 10 data bytes; the file has more than that"):
            load_idx(path)

    assert peak_bytes(load) < 1_000_000


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no IDX file at .*nowhere.idx"):
        load_idx(tmp_path / "nowhere.idx")


def test_an_empty_shape_is_a_valid_file(tmp_path):
    path = write(tmp_path / "none.idx", header(0x08, 0, 28, 28))
    assert load_idx(path).shape == (0, 28, 28)
