"""Data-parallel training with real processes: ``mpirun -n 2`` on this machine's CPU, with
the mpi extra (mpi4py and Open MPI's wheels). Each launch is bounded by a timeout and checks
many things, so the suite starts few of them (4). Skipped, with the reason, without mpi4py
or mpirun. The in-process tests of the same code on every backend are in
test_distributed.py; NCCL on real GPUs is not tested here (no GPU in CI)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinyml

pytest.importorskip("mpi4py", reason="the MPI tests need the mpi extra: pip install -e "
                                     "\".[mpi]\"")
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "mpi_worker.py")
TIMEOUT = 600  # a loaded 2-core machine; a hang ends here, never in CI's own limit


def mpirun():
    """Open MPI's launcher: beside this Python (a virtual environment that is not
    activated), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpirun")
    found = beside if os.path.exists(beside) else shutil.which("mpirun")
    if found is None:
        pytest.skip("no mpirun beside this Python or on PATH: pip install -e \".[mpi]\"")
    return found


def launch(*command, timeout=TIMEOUT, processes=2):
    """`command` (after python) on `processes` processes; the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMPI_MCA_rmaps_base_oversubscribe="1")
    if os.geteuid() == 0:  # containers and CI run as root, which Open MPI refuses unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return subprocess.run([mpirun(), "-n", str(processes), "--oversubscribe", sys.executable,
                           *command], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def relative_difference(actual, desired):
    """max |a - d| / max |d| over every weight and buffer of the nets (dicts of arrays): the
    whole state, since some parts are 0 up to rounding (a bias before a BatchNorm gets no
    gradient) and have no relative difference of their own."""
    keys = sorted(desired)
    a = np.concatenate([np.ravel(actual[key]) for key in keys])
    d = np.concatenate([np.ravel(desired[key]) for key in keys])
    return float(np.max(np.abs(a - d)) / np.max(np.abs(d)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The "train" scenario's files, from one launch for the whole module."""
    out = tmp_path_factory.mktemp("mpi")
    (out / "files").mkdir()
    done = launch(WORKER, "train", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, done


def one_process(model, name):
    """The one-process run that the 2-process one must equal: 32 samples per step."""
    from mpi_worker import BATCH_SIZE, EPOCHS, data, optimizer, seeded_net

    x, y, x_test, y_test = data()
    net = seeded_net(model, 0)
    history = tinyml.Learner(net, tinyml.losses.cross_entropy, optimizer(name),
                             batch_size=2 * BATCH_SIZE, seed=0, metrics=["f1"]).fit(
        x, y, epochs=EPOCHS, verbose=0, validation_data=(x_test, y_test))
    return {key: tinyml.to_numpy(v) for key, v in net.state_dict().items()}, history


@pytest.mark.parametrize(("model", "name"), [("mlp", "sgd"), ("mlp", "adam"), ("cnn", "sgd"),
                                             ("cnn", "adam"), ("cnn_bn", "sgd")])
def test_two_processes_end_with_the_weights_of_one(trained, model, name):
    out, _ = trained
    ranks = [dict(np.load(out / f"{model}-{name}-rank{rank}.npz")) for rank in (0, 1)]
    for key in ranks[0]:  # both processes hold the very same bits (and the same history)
        if key != "history/epoch_time":
            np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    reference, history = one_process(model, name)
    difference = relative_difference(ranks[0], reference)
    print(f"{model} {name}: 2 processes vs 1, relative difference {difference:.2g}")
    assert difference <= 1e-12, f"{model} {name}: relative difference {difference:.3g}"
    for key, values in history.items():
        if key != "epoch_time":  # the loss, accuracy, f1 and validation logs are reduced
            np.testing.assert_allclose(ranks[0][f"history/{key}"], values, rtol=1e-12,
                                       err_msg=key)


def test_only_rank_0_writes_files_and_prints(trained):
    out, done = trained
    files = sorted(os.listdir(out / "files"))
    assert files == ["log-rank0.csv", "state-rank0.npz", "tb-rank0"], files
    assert os.listdir(out / "files" / "tb-rank0")
    epoch_lines = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in epoch_lines] == ["1/1", "2/2"], done.stdout
    assert done.stdout.count("data-parallel over 2 processes") == 2  # one per fit shown
    assert "rank 0: done" in done.stdout and "rank 1: done" in done.stdout


def test_a_two_process_checkpoint_resumes_in_two_processes_and_in_one(trained):
    from mpi_worker import RESUMED, data, learner, seeded_net

    out, _ = trained
    straight = dict(np.load(out / f"{RESUMED}-sgd-rank0.npz"))
    resumed = [dict(np.load(out / f"resumed-rank{rank}.npz")) for rank in (0, 1)]
    for key in resumed[0]:  # in 2 processes: bit for bit the uninterrupted 2-process run
        np.testing.assert_array_equal(resumed[0][key], straight[key], err_msg=key)
        np.testing.assert_array_equal(resumed[1][key], straight[key], err_msg=key)
    # In one process with the same global batch: the state loads bit for bit, and the
    # second epoch is the one the two processes trained, within rounding.
    x, y, x_test, y_test = data()
    net = seeded_net(RESUMED, 3)
    one = tinyml.Learner(net, tinyml.losses.cross_entropy, tinyml.optim.SGD(lr=0.05,
                                                                             momentum=0.9),
                         batch_size=32)
    one.load_checkpoint(str(out / "files" / "state-rank0.npz"))
    after_one_epoch = dict(np.load(out / "epoch1-rank0.npz"))
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(tinyml.to_numpy(value), after_one_epoch[key], err_msg=key)
    net = seeded_net(RESUMED, 3)
    resumed_here = learner(net, "sgd", None)
    resumed_here.batch_size = 32
    resumed_here.fit(x, y, epochs=2, verbose=0, validation_data=(x_test, y_test),
                     resume_from=str(out / "files" / "state-rank0.npz"))
    here = {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}
    difference = relative_difference(here, {key: straight[key] for key in here})
    assert difference <= 1e-12, difference


@pytest.mark.parametrize("scenario", ["fail", "kill"])
def test_a_failing_or_killed_process_ends_the_whole_run(scenario):
    """Process 1 raises (or is SIGKILLed) at step 3 while process 0 waits in the gradient
    all-reduce of step 4: the run must end, not hang (bounded by the timeout)."""
    try:
        done = launch(WORKER, scenario, ".", timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{scenario}: process 0 was left waiting for ever")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "trained to the end" not in output
    if scenario == "fail":
        assert "RuntimeError: rank 1 fails on purpose at step 3" in output, output[-3000:]
    else:
        assert "signal 9" in output, output[-3000:]


def test_the_command_line_notices_it_is_one_of_several_processes(tmp_path):
    net, state = tmp_path / "net.npz", tmp_path / "state.npz"
    done = launch("-m", "mpi4py", "-m", "tinyml", "train", "--limit", "400", "--epochs", "2",
                  "--batch-size", "16", "--dtype", "float64", "--verbose", "2",
                  "--save", str(net), "--checkpoint", str(state))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert out.count("data-parallel over 2 processes, 16 samples each per step (global "
                     "batch 32); collectives: MPI on host buffers") == 1, out
    assert out.count("test accuracy") == 1 and out.count("weights saved") == 1, out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("epoch")] == [
        "1/2", "2/2"], out
    assert tinyml.load_net(str(net)) is not None and state.exists()
    # A bad flag value on the processes ends the run with the one-line error, not a hang.
    done = launch("-m", "tinyml", "train", "--limit", "400", "--epochs", "1", "--resume",
                  str(tmp_path / "missing.npz"), timeout=180)
    assert done.returncode != 0
    assert "tinyml: error: --resume" in done.stderr, done.stderr[-2000:]
