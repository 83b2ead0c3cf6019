"""The command's files, checked before anything is trained or read (issue 16, item 11):
outputs that would overwrite each other or an input, paths a save would refuse, and damaged
or hostile --input and --weights files, each one line on stderr and exit status 2."""

import json
import os
import sys
import zipfile

import numpy as np
import pytest

import tinyml
from tinyml import cli, io
from tinyml.cli.training import check_train_arguments

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")


def run(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code, out, err):
    assert code == 2, (out, err)
    assert err.startswith("tinyml: error: ") and err.count("\n") == 1, err
    assert "test accuracy" not in out and "Traceback" not in err
    return err


def train_arguments(*argv):
    return cli.build_parser().parse_args(["train", *map(str, argv)])


@pytest.fixture
def untrained_mlp(tmp_path):
    """A digits mlp saved by net.save (weights and architecture), not trained: enough to
    predict, evaluate and summarize with."""
    tinyml.seed(0)
    path = tmp_path / "mlp.npz"
    tinyml.models.mlp(input_dim=(1, 8, 8), classes=10).save(path)
    return path


# ---------------------------------------------------------------- outputs that collide
def test_save_equal_to_checkpoint_is_refused_before_training(tmp_path, capsys):
    path = tmp_path / "run.npz"
    err = one_line_error(*run(capsys, "train", "--epochs", "1", "--quiet", "--save", path,
                              "--checkpoint", path))
    assert "--save and --checkpoint name the same file" in err
    assert not path.exists()


@posix_only
def test_save_equal_to_checkpoint_through_a_link_is_refused(tmp_path, capsys):
    (tmp_path / "run.npz").write_bytes(b"")
    os.symlink(tmp_path / "run.npz", tmp_path / "link.npz")
    with pytest.raises(ValueError, match="name the same file"):
        check_train_arguments(train_arguments("--save", tmp_path / "link.npz",
                                              "--checkpoint", tmp_path / "run.npz"))


def test_save_equal_to_resume_is_refused_and_checkpoint_equal_to_resume_is_not(tmp_path):
    checkpoint = tmp_path / "run.npz"
    checkpoint.write_bytes(b"")
    with pytest.raises(ValueError, match="--save and --resume name the same file"):
        check_train_arguments(train_arguments("--save", checkpoint, "--resume", checkpoint))
    check_train_arguments(train_arguments("--checkpoint", checkpoint, "--resume", checkpoint,
                                          "--save", tmp_path / "weights.npz"))


@pytest.mark.parametrize("collides", ["--input", "--weights"])
def test_predict_output_equal_to_an_input_is_refused_before_reading(untrained_mlp, tmp_path,
                                                                    capsys, collides):
    samples = tmp_path / "samples.npy"
    np.save(samples, np.zeros((2, 1, 8, 8), np.float32))
    output = samples if collides == "--input" else tmp_path / "w.npy"
    weights = untrained_mlp
    if collides == "--weights":
        weights = tmp_path / "w.npy"
        os.replace(untrained_mlp, weights)
    before = output.read_bytes()
    err = one_line_error(*run(capsys, "predict", "--weights", weights, "--input", samples,
                              "--output", output))
    assert f"--output and {collides} name the same file" in err
    assert output.read_bytes() == before


# ---------------------------------------------------------------- paths a save refuses
@posix_only
def test_a_named_pipe_as_save_is_refused_before_training(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe")
    err = one_line_error(*run(capsys, "train", "--epochs", "1", "--quiet", "--save",
                              tmp_path / "pipe"))
    assert "named pipe" in err


def test_a_name_ending_in_a_separator_is_refused_before_training(tmp_path, capsys):
    err = one_line_error(*run(capsys, "train", "--epochs", "1", "--quiet", "--checkpoint",
                              f"{tmp_path / 'run'}{os.sep}"))
    assert "is a folder" in err and not (tmp_path / "run").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write a write-protected file")
def test_a_write_protected_save_is_refused_before_training(tmp_path, capsys):
    path = tmp_path / "w.npz"
    path.write_bytes(b"keep")
    path.chmod(0o444)
    err = one_line_error(*run(capsys, "train", "--epochs", "1", "--quiet", "--save", path))
    assert "write-protected" in err


def test_a_name_too_long_for_the_file_system_is_refused_before_training(tmp_path, capsys):
    name = "w" * (io._name_max(str(tmp_path)) + 1)
    err = one_line_error(*run(capsys, "train", "--epochs", "1", "--quiet", "--save",
                              tmp_path / name))
    assert "choose a shorter name" in err


# ---------------------------------------------------------------- damaged --input files
def truncated_npz(path):
    np.savez(path, x=np.zeros((2, 1, 8, 8), np.float32))
    path.write_bytes(path.read_bytes()[:100])


def absurd_npy(path):
    header = repr({"descr": "<f4", "fortran_order": False, "shape": (0, 2**62, 2**62)})
    header = header.encode() + b" " * (-(len(header) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)


@pytest.mark.parametrize("name, make, words", [
    ("in.npz", truncated_npz, "truncated or damaged zip archive"),
    ("in.npz", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "damaged zip"),
    ("in.txt", lambda p: p.write_text("0.1 0.2 0.3\n"), "does not start with the .npy magic"),
    ("in.npy", absurd_npy, "impossible shape"),
    ("in.npy", lambda p: p.write_bytes(b""), "empty"),
    ("in.npy", lambda p: np.save(p, np.array([{}], dtype=object), allow_pickle=True),
     "not real numbers"),
])
def test_a_damaged_input_is_one_line_naming_it(untrained_mlp, tmp_path, capsys, name, make,
                                               words):
    path = tmp_path / name
    make(path)
    err = one_line_error(*run(capsys, "predict", "--weights", untrained_mlp, "--input", path))
    assert f"--input {path}" in err and words in err
    assert "pickle" not in err.lower()


def test_an_npz_input_reads_only_the_samples_member(untrained_mlp, tmp_path, capsys):
    path = tmp_path / "in.npz"
    np.savez(path, x=np.zeros((3, 1, 8, 8), np.float32), labels=np.arange(3))
    code, out, _ = run(capsys, "predict", "--weights", untrained_mlp, "--input", path)
    assert code == 0 and len(out.splitlines()) == 3


# ---------------------------------------------------------------- hostile --weights files
def hostile_weights(path):
    """A 1 KB file whose architecture asks for a 200000 x 200000 Linear."""
    net = tinyml.Net([tinyml.layers.Linear("fc", 4, 3)])
    config = net.config()
    config["hyperparameters"]["layers"][0]["hyperparameters"].update(input_dim=200_000,
                                                                      output_dim=200_000)
    arrays = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    arrays[io.CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("command", [["evaluate"], ["summary"], ["predict", "--input", "x"]])
def test_a_hostile_weights_file_is_one_line_and_allocates_nothing(tmp_path, capsys, command):
    weights = tmp_path / "evil.npz"
    hostile_weights(weights)
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    argv = [command[0], "--weights", weights,
            *[tmp_path / "x.npy" if part == "x" else part for part in command[1:]]]
    err = one_line_error(*run(capsys, *argv))
    assert "evil.npz" in err and "(200000, 200000)" in err


def test_a_truncated_weights_file_is_one_line(tmp_path, capsys, untrained_mlp):
    data = untrained_mlp.read_bytes()
    untrained_mlp.write_bytes(data[: len(data) // 2])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(untrained_mlp)
    err = one_line_error(*run(capsys, "summary", "--weights", untrained_mlp))
    assert "mlp.npz" in err
