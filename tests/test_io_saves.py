"""A save refuses what ``open(path, "wb")`` would refuse and never replaces a special file; what
tinyml saves loads again; headers of absurd zero-sized shapes are refused naming the file
(issue 16, items 1, 2 and 4)."""

import errno
import os
import socket
import stat
import sys
import zipfile

import numpy as np
import pytest

import tinyml
from tinyml import io
from tinyml.data import load_idx
from tinyml.layers import Linear

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")
not_root = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                              reason="root may write a write-protected file")


def make_net():
    tinyml.seed(0)
    return tinyml.Net([Linear("fc", 3, 2)])


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(io.TEMPORARY_SUFFIX)]


# ---------------------------------------------------------------- what a save may replace
@posix_only
def test_a_named_pipe_is_refused_and_stays_a_pipe(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match="it is a named pipe, not a regular file"):
        make_net().save(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and not temporaries(tmp_path)


@posix_only
def test_a_link_to_a_named_pipe_is_refused_too(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", tmp_path / "link.npz")
    with pytest.raises(ValueError, match="named pipe"):
        make_net().save(tmp_path / "link.npz")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


@posix_only
def test_a_socket_is_refused_and_stays_a_socket(tmp_path):
    path = tmp_path / "s"
    if len(os.fsencode(str(path))) > 100:
        pytest.skip("the temporary folder's path is too long for a unix socket")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ValueError, match="it is a socket"):
            make_net().save(path)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        server.close()


@pytest.mark.parametrize("exists", [False, True])
def test_a_name_ending_in_a_separator_is_refused_and_nothing_is_written(tmp_path, exists):
    if exists:
        (tmp_path / "w.npz").write_bytes(b"keep")
    with pytest.raises(ValueError, match="ending in '/' is a folder"):
        make_net().save(str(tmp_path / "w.npz") + "/")
    assert sorted(os.listdir(tmp_path)) == (["w.npz"] if exists else [])
    if exists:
        assert (tmp_path / "w.npz").read_bytes() == b"keep"


@not_root
def test_a_write_protected_file_is_refused_as_open_would_refuse_it(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"keep")
    path.chmod(0o444)
    with pytest.raises(PermissionError):
        open(path, "wb")
    with pytest.raises(PermissionError, match="write-protected"):
        make_net().save(path)
    assert path.read_bytes() == b"keep" and not temporaries(tmp_path)


@not_root
def test_a_write_protected_folder_names_the_target_not_a_temporary(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"cannot save to .*w\.npz: the folder"):
            make_net().save(folder / "w.npz")
    finally:
        folder.chmod(0o755)


def test_a_legal_long_name_saves_and_loads(tmp_path):
    """The temporary name is cut short to fit: a 244-byte name used to fail after training."""
    limit = io._name_max(str(tmp_path))
    name = "w" * (limit - 4) + ".npz"
    net = make_net()
    net.save(tmp_path / name)
    assert os.listdir(tmp_path) == [name]
    make_net().load(tmp_path / name)
    net.save(tmp_path / name)  # and replaces itself
    assert os.listdir(tmp_path) == [name]


def test_a_long_names_stale_temporary_is_removed_by_the_next_save(tmp_path):
    limit = io._name_max(str(tmp_path))
    name = "w" * (limit - 4) + ".npz"
    stale = io._temporary_name(str(tmp_path), name) + "0123abcd" + io.TEMPORARY_SUFFIX
    assert len(stale) <= limit
    (tmp_path / stale).write_bytes(b"half")
    make_net().save(tmp_path / name)
    assert os.listdir(tmp_path) == [name]


def test_a_name_longer_than_the_file_system_allows_is_refused_before_writing(tmp_path):
    name = "w" * (io._name_max(str(tmp_path)) + 1)
    with pytest.raises(OSError) as raised:
        make_net().save(tmp_path / name)
    assert raised.value.errno == errno.ENAMETOOLONG and "choose a shorter name" in str(
        raised.value)
    assert os.listdir(tmp_path) == []


def test_check_save_path_is_what_the_save_checks(tmp_path):
    assert io.check_save_path(tmp_path / "new.npz") == os.path.realpath(tmp_path / "new.npz")
    with pytest.raises(ValueError, match="it is a folder"):
        io.check_save_path(tmp_path)
    with pytest.raises(ValueError, match="name a file"):
        io.check_save_path("")


@posix_only
def test_every_other_writer_refuses_a_named_pipe_before_writing(tmp_path):
    """ModelCheckpoint (at on_train_begin, before the first epoch), the pictures and
    save_idx: none blocks on a pipe nor replaces it."""
    from tinyml.callbacks import ModelCheckpoint
    from tinyml.data import save_idx
    from tinyml.losses import cross_entropy
    from tinyml.optim import SGD

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    tinyml.seed(0)
    learner = tinyml.Learner(tinyml.Net([Linear("fc", 3, 2), tinyml.layers.Softmax("sm")]),
                             cross_entropy, SGD(lr=0.1))
    x, y = np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="ModelCheckpoint: cannot save to .*named pipe"):
        learner.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(pipe))])
    assert learner.step == 0
    with pytest.raises(ValueError, match="named pipe"):
        save_idx(pipe, np.zeros(3, np.uint8))
    png = tmp_path / "p.png"
    os.mkfifo(png)
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="not a regular file"):
        tinyml.viz.plot_history({"loss": [1.0]}, str(png))
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and stat.S_ISFIFO(os.stat(png).st_mode)


# ---------------------------------------------------------------- every save loads
class Scalar(tinyml.Layer):
    """y = x * weight with a 0-d weight (a custom layer's scalar)."""

    def __init__(self, name):
        super().__init__(name)
        self.weight = tinyml.Parameter(tinyml.asarray(np.array(1.5)))

    def forward(self, input):
        return input * self.weight.data


tinyml.register_layer(Scalar, name="tests.io_saves.Scalar")


def test_a_0d_parameter_round_trips_through_save_load_and_load_net(tmp_path):
    net = tinyml.Net([Linear("fc", 3, 2), Scalar("scale")])
    net.save(tmp_path / "net.npz")
    assert io.state_headers(tmp_path / "net.npz")["scale.weight"].shape == ()
    assert io.load_state(tmp_path / "net.npz")["scale.weight"].shape == ()
    loaded = tinyml.Net([Linear("fc", 3, 2), Scalar("scale")]).load(tmp_path / "net.npz")
    assert loaded["scale"].weight.shape == ()
    rebuilt = tinyml.load_net(tmp_path / "net.npz")
    assert tinyml.to_numpy(rebuilt["scale"].weight.data) == 1.5


@pytest.mark.parametrize("array", [np.array(3.0), np.array(7, dtype=np.int64),
                                   np.array(True), np.asfortranarray(np.ones((2, 3))),
                                   np.zeros((0, 4))])
def test_every_shape_round_trips(tmp_path, array):
    io.save_state({"a": array}, tmp_path / "a.npz")
    loaded = io.load_state(tmp_path / "a.npz")["a"]
    assert loaded.shape == array.shape and loaded.dtype == array.dtype
    assert np.array_equal(loaded, array)


# ---------------------------------------------------------------- absurd zero-sized headers
def npy_bytes(shape, descr="<f4"):
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


@pytest.mark.parametrize("shape, why", [
    ((0, 2**62, 2**62), "more bytes than NumPy can address"),
    ((0, 2**40, 2**40), "more bytes than NumPy can address"),
    ((0,) * 33, "33 dimensions"),
])
def test_an_npz_member_of_an_absurd_zero_sized_shape_is_refused_naming_the_file(
        tmp_path, shape, why):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", npy_bytes(shape))
    with pytest.raises(ValueError, match=rf"w\.npz .*member 'a\.npy' claims the impossible "
                                         rf"shape .*{why}"):
        io.load_state(path)
    with pytest.raises(ValueError, match=r"w\.npz"):
        io.state_headers(path)


def test_an_npy_file_of_an_absurd_zero_sized_shape_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(npy_bytes((0, 2**62, 2**62)))
    with pytest.raises(ValueError, match=r"x\.npy is not an \.npy file.*impossible shape"):
        io.load_array(path)


@pytest.mark.parametrize("shape", [(0, 2**32 - 1, 2**32 - 1), (0, 2**32 - 1, 2**32 - 1, 7)])
def test_an_idx_file_of_an_absurd_zero_sized_shape_is_refused_naming_the_file(tmp_path, shape):
    path = tmp_path / "labels.idx"
    path.write_bytes(bytes([0, 0, 0x08, len(shape)]) + np.asarray(shape, ">u4").tobytes())
    with pytest.raises(ValueError, match=r"IDX file .*labels\.idx.*impossible shape"):
        load_idx(path)


def test_load_array_reads_what_np_save_wrote_and_refuses_other_files(tmp_path):
    array = np.arange(12, dtype=">i4").reshape(3, 4)
    np.save(tmp_path / "a.npy", array)
    loaded = io.load_array(tmp_path / "a.npy")
    assert loaded.dtype == np.dtype("int32") and np.array_equal(loaded, array)
    (tmp_path / "t.npy").write_text("1, 2, 3\n")
    with pytest.raises(ValueError, match=r"t\.npy .*does not start with the \.npy magic"):
        io.load_array(tmp_path / "t.npy")
    np.save(tmp_path / "o.npy", np.array([{}], dtype=object))
    with pytest.raises(ValueError, match="not real numbers") as raised:
        io.load_array(tmp_path / "o.npy")
    assert "pickle" not in str(raised.value)
    with pytest.raises(ValueError, match="more than max_bytes"):
        io.load_array(tmp_path / "a.npy", max_bytes=8)
