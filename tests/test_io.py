"""Checkpoints: .npz without pickle, written atomically, loadable on any backend; every damaged,
hostile or mismatched file refused with a ValueError naming it, before its data is read."""

import os
import stat
import struct
import tracemalloc
import zipfile
from io import BytesIO

import numpy as np
import pytest

import tinyml
from tinyml import io
from tinyml.backend import make_backend
from tinyml.layers import Flatten, Linear, ReLu, Softmax
from tinyml.testing import assert_close

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes, links and locks")


def make_net():
    return tinyml.Net([Flatten("flat"), Linear("fc1", 6, 4), ReLu("relu"), Linear("fc2", 4, 2),
                       Softmax("softmax")])


def host_state(net):
    return {key: tinyml.to_numpy(value).copy() for key, value in net.state_dict().items()}


def npy(array):
    """The bytes of one .npy member, as np.savez writes them."""
    buffer = BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def npy_with_header(header, data=b"", version=(1, 0)):
    """A .npy member with a hand-written header dict (text) and data."""
    text = header.encode("latin1") + b"\n"
    length = struct.pack("<H", len(text)) if version == (1, 0) else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(io.TEMPORARY_SUFFIX)]


# ---------------------------------------------------------------- round trips and the format
def test_save_on_one_backend_load_on_another(backend, tmp_path):
    path = tmp_path / "weights.npz"
    with tinyml.use_backend("numpy"):
        trained = make_net()
        trained.save(path)
        saved = {k: tinyml.to_numpy(v) for k, v in trained.state_dict().items()}
    restored = make_net().load(path)
    assert restored.backend.name == backend.name
    for key, value in restored.state_dict().items():
        assert_close(value, saved[key], backend=backend)


def test_file_is_a_plain_npz_keyed_like_the_state_dict(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(str(path))
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(set(archive.files) - {io.CONFIG_KEY}) == ["fc1.bias", "fc1.weight",
                                                                "fc2.bias", "fc2.weight"]
        assert archive["fc1.weight"].shape == (4, 6)
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_device_arrays_save_through_the_host(tmp_path):
    strict = make_backend("array_api_strict", device="device1", dtype="float64")
    io.save_state({"a.weight": strict.asarray(np.arange(3.0))}, tmp_path / "w.npz")
    np.testing.assert_array_equal(io.load_state(tmp_path / "w.npz")["a.weight"], [0, 1, 2])


def test_keys_numpy_would_take_as_its_own_arguments_save_as_keys(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(1), "a/b": np.arange(3)}
    io.save_state(state, tmp_path / "w.npz")
    loaded = io.load_state(tmp_path / "w.npz")
    assert list(loaded) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_compressed_fortran_order_and_big_endian_files_load_in_native_order(tmp_path):
    path = tmp_path / "other.npz"
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    big = np.arange(4, dtype=">i4")
    np.savez_compressed(path, f=fortran, b=big, flag=np.array([True, False]))
    loaded = io.load_state(path)
    np.testing.assert_array_equal(loaded["f"], fortran)
    np.testing.assert_array_equal(loaded["b"], big)
    assert loaded["b"].dtype == np.dtype("int32") and loaded["b"].dtype.isnative
    assert loaded["f"].flags.c_contiguous
    assert loaded["flag"].dtype == np.bool_


def test_an_empty_state_round_trips(tmp_path):
    io.save_state({}, tmp_path / "w.npz")
    assert io.load_state(tmp_path / "w.npz") == {}


# ---------------------------------------------------------------- saving
def test_save_leaves_no_temporary_file_and_replaces_the_old_one(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"old")
    make_net().save(path)
    assert os.listdir(tmp_path) == ["weights.npz"]
    assert io.load_state(path)["fc2.bias"].shape == (2,)


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(OSError, match="disk full"):
        make_net().save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["weights.npz"]


@pytest.mark.parametrize("bad", [np.array([1j]), np.array(["a"]), np.array([{}], dtype=object)],
                         ids=["complex", "string", "object"])
def test_saving_an_array_that_is_not_real_numbers_is_refused_and_writes_nothing(tmp_path, bad):
    with pytest.raises(ValueError, match=r"cannot save 'b' to .*w\.npz: its dtype .* is not a "
                                         r"real number type.*astype"):
        io.save_state({"a": np.ones(2), "b": bad}, tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def test_saving_into_a_missing_folder_names_the_path_not_a_temporary_file(tmp_path):
    path = tmp_path / "no" / "such" / "weights.npz"
    with pytest.raises(FileNotFoundError, match=r"cannot save to .*weights\.npz: there is no "
                                                r"folder .*such; create it first") as caught:
        make_net().save(path)
    assert io.TEMPORARY_SUFFIX not in str(caught.value)
    assert caught.value.filename == str(path)


def test_saving_to_a_folder_says_to_name_a_file_in_it(tmp_path):
    with pytest.raises(ValueError, match=r"cannot save to .*: it is a folder; name a file in "
                                         r"it, for example .*weights\.npz"):
        make_net().save(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    # What a SIGKILL mid-write leaves (tests/test_io_kill.py kills real saves).
    stale = tmp_path / f".weights.npz.0123abcd{io.TEMPORARY_SUFFIX}"
    stale.write_bytes(b"PK\x03\x04 half a checkpoint")
    others = [f".other.npz.0123abcd{io.TEMPORARY_SUFFIX}",  # another target's
              f".weights.npz.notes{io.TEMPORARY_SUFFIX}",  # not a name save_state makes
              ".weights.npz.0123abcd"]
    for name in others:
        (tmp_path / name).write_bytes(b"keep")
    make_net().save(tmp_path / "weights.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(others + ["weights.npz"])


@posix_only
def test_a_temporary_file_a_live_save_holds_is_left_alone(tmp_path):
    import fcntl

    busy = tmp_path / f".weights.npz.0123abcd{io.TEMPORARY_SUFFIX}"
    busy.write_bytes(b"being written")
    with open(busy, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # as the save writing it holds it
        make_net().save(tmp_path / "weights.npz")
        assert busy.read_bytes() == b"being written"
    make_net().save(tmp_path / "weights.npz")  # its writer gone: removed
    assert os.listdir(tmp_path) == ["weights.npz"]


@posix_only
def test_a_cleanup_that_removes_a_fresh_temporary_before_it_is_locked_costs_a_retry(
        tmp_path, monkeypatch):
    import fcntl

    real_flock = fcntl.flock
    removed = []

    def flock_after_a_cleanup(descriptor, operation):
        if operation == fcntl.LOCK_EX and not removed:  # the save locking its new file
            removed.extend(temporaries(tmp_path))
            os.unlink(tmp_path / removed[0])
        return real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_cleanup)
    make_net().save(tmp_path / "weights.npz")
    assert len(removed) == 1
    assert os.listdir(tmp_path) == ["weights.npz"]
    assert io.load_state(tmp_path / "weights.npz")["fc1.weight"].shape == (4, 6)


@posix_only
def test_no_free_temporary_name_is_an_error_naming_the_target(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setattr(io.secrets, "token_hex", lambda size: "0123abcd")
    taken = tmp_path / f".weights.npz.0123abcd{io.TEMPORARY_SUFFIX}"
    taken.write_bytes(b"")
    with open(taken, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        with pytest.raises(FileExistsError, match=r"cannot save to .*weights\.npz: found no "
                                                  r"free temporary name"):
            make_net().save(tmp_path / "weights.npz")
    assert sorted(os.listdir(tmp_path)) == [taken.name]


def test_a_folder_that_cannot_be_synced_still_saves(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync(descriptor):
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            raise OSError("this filesystem cannot sync a folder")
        return real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    make_net().save(tmp_path / "weights.npz")
    assert os.listdir(tmp_path) == ["weights.npz"]


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask):
    previous = os.umask(umask)
    try:
        make_net().save(tmp_path / "weights.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "weights.npz").st_mode) == 0o666 & ~umask


@posix_only
def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    os.chmod(path, 0o640)
    make_net().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


@posix_only
@pytest.mark.parametrize("layout", ["absolute", "relative", "other folder", "dangling"])
def test_saving_through_a_link_writes_the_file_it_points_to(tmp_path, layout):
    folder, elsewhere = tmp_path / "run", tmp_path / "store"
    folder.mkdir()
    elsewhere.mkdir()
    target = (elsewhere if layout in ("other folder", "dangling") else folder) / "real.npz"
    if layout != "dangling":
        target.write_bytes(b"old")
    link = folder / "weights.npz"
    if layout == "relative":
        os.symlink("real.npz", link)
    elif layout == "other folder":
        os.symlink(os.path.join("..", "store", "real.npz"), link)
    else:
        os.symlink(target, link)
    net = make_net()
    net.save(link, config=False)
    assert os.path.islink(link) and os.path.realpath(link) == os.path.realpath(target)
    for key, value in io.load_state(target).items():
        np.testing.assert_array_equal(value, host_state(net)[key])
    assert temporaries(folder) == [] and temporaries(elsewhere) == []


# ---------------------------------------------------------------- loading what is not weights
def test_loading_refuses_pickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"fc1.weight": np.array([{"code": 1}], dtype=object)})
    with pytest.raises(ValueError, match=r"evil\.npz is not a tinyml weights file.*member "
                                         r"'fc1\.weight\.npy' holds dtype object, not real "
                                         r"numbers") as caught:
        io.load_state(path)
    assert "pickle" not in str(caught.value).replace(str(path), "")


@pytest.mark.parametrize("array", [np.array(["abc"]), np.array([1 + 1j]),
                                   np.zeros(2, dtype=[("x", "f4"), ("y", "i4")]),
                                   np.zeros(2, dtype=np.longdouble)],
                         ids=["string", "complex", "structured", "longdouble"])
def test_only_real_numbers_of_up_to_64_bits_load(tmp_path, array):
    if array.dtype.itemsize <= 8 and array.dtype.kind == "f":
        pytest.skip("longdouble is float64 on this platform")
    path = write_zip(tmp_path / "w.npz", {"a.npy": npy(array)})
    with pytest.raises(ValueError, match=r"member 'a\.npy' holds dtype .*, not real numbers"):
        io.load_state(path)


@pytest.mark.parametrize("content", [b"not a zip at all", b"weights = [0.1, 0.2]\n", None])
def test_loading_something_else_says_so(tmp_path, content):
    path = tmp_path / "weights.npz"
    if content is None:
        np.save(tmp_path / "single.npy", np.ones(3))
        path = tmp_path / "single.npy"
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="is not a tinyml weights file") as caught:
        make_net().load(path)
    message = str(caught.value)
    assert str(path) in message and "pickle" not in message
    if content is None:
        assert "one unnamed .npy array" in message and "np.savez(path, **state)" in message
    else:
        assert f"not an .npz (zip) archive; it starts with {content[:6]!r}" in message


def test_an_empty_file_says_it_is_empty_and_what_leaves_one(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"weights\.npz is not a tinyml weights file.*it is "
                                         r"empty \(0 bytes\).*save the weights again"):
        make_net().load(path)


def test_a_truncated_file_says_it_is_truncated(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"weights\.npz is not a tinyml weights file.*a "
                                         r"truncated or damaged zip archive"):
        make_net().load(path)


def test_a_folder_is_not_a_weights_file(tmp_path):
    with pytest.raises(ValueError, match=r"is a folder, not a weights file: pass the path of "
                                         r"the \.npz"):
        make_net().load(tmp_path)


def test_missing_file_is_a_file_not_found_error_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        make_net().load(tmp_path / "nope.npz")


def test_a_member_that_is_not_npy_is_refused(tmp_path):
    path = write_zip(tmp_path / "w.npz", {"a.npy": npy(np.ones(2)), "notes.txt": b"hello"})
    with pytest.raises(ValueError, match=r"member 'notes\.txt' is not a \.npy array"):
        io.load_state(path)


def test_a_npy_member_of_other_bytes_is_refused(tmp_path):
    path = write_zip(tmp_path / "w.npz", {"a.npy": b"raw bytes, no header"})
    with pytest.raises(ValueError, match=r"member 'a\.npy' is not a \.npy array \(it does not "
                                         r"start with the \.npy magic"):
        io.load_state(path)


def test_a_member_twice_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(path, {"a.npy": npy(np.ones(2))})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("a.npy", npy(np.zeros(2)))
    with pytest.raises(ValueError, match=r"it holds 'a\.npy' twice"):
        io.load_state(path)


@pytest.mark.parametrize("header, why", [
    ("{'descr': '<f8', 'shape': (2,)}", "correct keys"),
    ("[1, 2, 3]", "not a dictionary"),
    ("{'descr': 'nonsense', 'fortran_order': False, 'shape': (2,)}", "descr|data type"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,", "parse|EOF in multi-line"),
])
def test_a_damaged_header_is_refused(tmp_path, header, why):
    path = write_zip(tmp_path / "w.npz", {"a.npy": npy_with_header(header, bytes(16))})
    with pytest.raises(ValueError, match=rf"member 'a\.npy' has a damaged \.npy header "
                                         rf"\(.*({why})"):
        io.load_state(path)


def test_a_huge_header_is_refused_without_numpys_advice_to_unpickle(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}" + " " * 20_000
    path = write_zip(tmp_path / "w.npz", {"a.npy": npy_with_header(header, bytes(16), (2, 0))})
    with pytest.raises(ValueError, match=r"damaged \.npy header \(the header is larger than "
                                         r"NumPy reads safely\)") as caught:
        io.load_state(path)
    assert "pickle" not in str(caught.value)


def test_a_header_longer_than_its_member_is_refused(tmp_path):
    data = npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}" + " " * 300)
    path = write_zip(tmp_path / "w.npz", {"a.npy": data[:100]})
    with pytest.raises(ValueError, match=r"member 'a\.npy' has a damaged \.npy header \(EOF"):
        io.load_state(path)


def test_npy_format_3_is_refused(tmp_path):
    member = npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
                             bytes(16), (3, 0))
    path = write_zip(tmp_path / "w.npz", {"a.npy": member})
    with pytest.raises(ValueError, match=r"member 'a\.npy' is \.npy format version 3\.0"):
        io.load_state(path)


def test_a_negative_shape_is_refused(tmp_path):
    member = npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}")
    path = write_zip(tmp_path / "w.npz", {"a.npy": member})
    with pytest.raises(ValueError, match=r"claims the impossible shape \(-2,\)"):
        io.load_state(path)


@pytest.mark.parametrize("shape", ["(1000000000000,)", "(3,)"])  # 8 TB, and 24 bytes
def test_a_header_claiming_more_than_its_member_holds_is_refused_before_allocating(tmp_path,
                                                                                  shape):
    member = npy_with_header(f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}}}",
                             bytes(16))
    path = write_zip(tmp_path / "w.npz", {"a.npy": member})
    with pytest.raises(ValueError, match=rf"member 'a\.npy' claims shape \({shape[1:-2]},\) of "
                                         rf"float64 \(.* bytes\) but holds 16 bytes of data"):
        io.load_state(path)


def test_a_damaged_member_fails_its_crc(tmp_path):
    path = tmp_path / "w.npz"
    io.save_state({"a": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    data[data.index(b"\x93NUMPY") + 300] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"member 'a\.npy' cannot be read \(Bad CRC-32"):
        io.load_state(path)


def test_a_damaged_local_header_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    io.save_state({"a": np.arange(4.0)}, path)
    data = bytearray(path.read_bytes())
    data[3] = 0x05  # "PK\x03\x04" starts every member
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"member 'a\.npy' cannot be read \(Bad magic"):
        io.load_state(path)


def test_a_zip_directory_that_overstates_a_member_is_refused(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}"
    member = npy_with_header(header, bytes(16))  # shape (4,) is 32 bytes; 16 are there
    path = write_zip(tmp_path / "w.npz", {"a.npy": member})
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the central directory's entry: its size at +24
    struct.pack_into("<I", data, entry + 24, len(member) + 16)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"member 'a\.npy' holds 16 bytes of data where its "
                                         r"header says 32"):
        io.load_state(path)


# ---------------------------------------------------------------- limits and expectations
def zip_bomb(path, megabytes):
    """A compressed .npz of a few KiB whose one member unpacks to `megabytes` MiB of zeros."""
    return write_zip(path, {"fc1.weight.npy": npy(np.zeros(megabytes * 2**17))},
                     compression=zipfile.ZIP_DEFLATED)


def test_a_zip_bomb_is_refused_by_the_limit_before_its_data_is_read(tmp_path):
    path = zip_bomb(tmp_path / "bomb.npz", 64)
    assert os.path.getsize(path) < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.npz holds 67,108,864 bytes of arrays, more "
                                             r"than max_bytes=1,048,576, so nothing was read"):
            io.load_state(path, max_bytes=2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    assert io.load_state(path, max_bytes=None)["fc1.weight"].nbytes == 64 * 2**20


def test_a_zip_bomb_that_does_not_fit_the_net_costs_nothing(tmp_path):
    path = zip_bomb(tmp_path / "bomb.npz", 64)
    net = make_net()
    before = host_state(net)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.npz does not fit, so nothing was read: "
                                             r"missing keys: fc1\.bias, fc2\.weight, fc2\.bias.*"
                                             r"fc1\.weight: checkpoint \(8388608,\), expected "
                                             r"\(4, 6\).*architecture"):
            net.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    for key, value in host_state(net).items():
        np.testing.assert_array_equal(value, before[key])


def test_the_default_limit_is_4_gib_and_max_bytes_is_checked():
    assert io.MAX_BYTES == 4 * 2**30
    for bad in (-1, 1.5, "4GB"):
        with pytest.raises(ValueError, match="max_bytes must be a non-negative int or None"):
            io.load_state("unused.npz", max_bytes=bad)


def test_loading_into_the_wrong_architecture_names_the_keys(tmp_path):
    path = tmp_path / "weights.npz"
    make_net().save(path)
    other = tinyml.Net([Flatten("flat"), Linear("fc1", 6, 3)])
    with pytest.raises(ValueError, match=r"unexpected keys: fc2\.weight, fc2\.bias.*mis-shaped: "
                                         r"fc1\.weight: checkpoint \(4, 6\), expected \(3, 6\)"):
        other.load(path)


def test_non_strict_loading_reads_only_the_keys_in_both(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    io.save_state({"fc1.weight": np.ones((4, 6)), "extra": np.zeros(3)}, path)
    expected = {"fc1.weight": (4, 6), "fc1.bias": (4,)}
    read = []
    real_read_data = io._read_data
    monkeypatch.setattr(io, "_read_data", lambda path, archive, info, header: read.append(
        info.filename) or real_read_data(path, archive, info, header))
    loaded = io.load_state(path, expected=expected, strict=False)
    assert list(loaded) == ["fc1.weight"] and read == ["fc1.weight.npy"]
    with pytest.raises(ValueError, match=r"missing keys: fc1\.bias \| unexpected keys: extra"):
        io.load_state(path, expected=expected)
    net = make_net()
    net.load(path, strict=False)
    np.testing.assert_array_equal(tinyml.to_numpy(net.state_dict()["fc1.weight"]), np.ones((4, 6)))


def test_a_file_that_fits_the_net_in_another_dtype_loads_cast(tmp_path):
    path = tmp_path / "weights.npz"
    state = {k: v.astype(np.float16) for k, v in host_state(make_net()).items()}
    io.save_state(state, path)
    with tinyml.use_backend("numpy", dtype="float64"):
        net = make_net().load(path)
    assert net.state_dict()["fc1.weight"].dtype == np.float64
    np.testing.assert_array_equal(net.state_dict()["fc1.weight"], state["fc1.weight"])


def test_the_module_documents_the_format_limits_and_errors():
    for words in ("KEY.npy", "MAX_BYTES", "4 GiB", "umask", "symbolic link", "SIGKILL",
                  "FileNotFoundError", "ValueError"):
        assert words in io.__doc__, words
