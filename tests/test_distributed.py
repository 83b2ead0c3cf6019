"""tinyml.distributed in one process: the collectives, the sampler rule, the Learner's
data-parallel hooks and sync BatchNorm, with each rank a thread of a ThreadWorld (a stand-in
for MPI speaking mpi4py's API), on every backend. The real mpirun runs are in
test_distributed_mpirun.py."""

import os
import subprocess
import sys

import numpy as np
import pytest
from thread_world import MPI, ThreadWorld, run_ranks

import tinyml
from tinyml import distributed
from tinyml.callbacks import Callback, CSVLogger, ModelCheckpoint
from tinyml.distributed import share_bounds
from tinyml.distributed.shares import global_batches, rank_order
from tinyml.distributed.transports import HostTransport, make_transport
from tinyml.layers import BatchNorm1D, BatchNorm2D, Linear, ReLU, Softmax
from tinyml.losses import cross_entropy
from tinyml.optim import SGD
from tinyml.testing import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(0)


def host(array):
    return tinyml.to_numpy(array)


# ---------------------------------------------------------------- the collectives
def test_allreduce_sum_packs_one_buffer_per_dtype(backend):
    values = [{"a": RNG.standard_normal((3, 4)), "b": RNG.standard_normal(5),
               "n": RNG.integers(0, 9, 2)} for _ in range(2)]
    world = ThreadWorld(2)

    def rank_sum(comm, rank):
        mine = values[rank]
        return comm.allreduce_sum([backend.asarray(mine["a"]), backend.asarray(mine["n"]),
                                   backend.asarray(mine["b"])])

    for a, n, b in run_ranks(2, rank_sum, backend=backend, world=world):
        assert_close(a, values[0]["a"] + values[1]["a"])
        assert_close(b, values[0]["b"] + values[1]["b"])
        assert_close(n, values[0]["n"] + values[1]["n"])
    # Two dtypes: two collectives per rank, never one per array.
    sizes = sorted(size for rank, name, size in world.calls if rank == 0)
    assert sizes == [2, 12 + 5]


def test_allreduce_mean_plain_and_weighted(backend):
    values = [RNG.standard_normal((2, 3)) for _ in range(2)]

    def means(comm, rank):
        x = backend.asarray(values[rank])
        return (comm.allreduce_mean([x])[0],
                comm.allreduce_mean([x], weight=3 if rank == 0 else 1)[0])

    for plain, weighted in run_ranks(2, means, backend=backend):
        assert_close(plain, (values[0] + values[1]) / 2, rtol=1e-15, atol=0)
        assert_close(weighted, (3 * values[0] + values[1]) / 4, rtol=1e-15, atol=0)


def test_the_inputs_are_not_changed_and_the_results_are_new_arrays(backend):
    x = RNG.standard_normal(4)

    def run(comm, rank):
        mine = backend.asarray(x)
        out = comm.allreduce_sum([mine])[0]
        return mine, out

    for mine, out in run_ranks(2, run, backend=backend):
        assert_close(mine, x, rtol=0, atol=0)
        assert_close(out, 2 * x, rtol=0, atol=0)


def test_broadcast_gives_every_rank_the_roots_arrays(backend):
    values = [[RNG.standard_normal((2, 2)), RNG.integers(0, 5, 3)] for _ in range(2)]

    def run(comm, rank):
        return comm.broadcast([backend.asarray(v) for v in values[rank]], root=1)

    for weights, counts in run_ranks(2, run, backend=backend):
        assert_close(weights, values[1][0], rtol=0, atol=0)
        assert_close(counts, values[1][1], rtol=0, atol=0)


def test_broadcast_refuses_arrays_that_differ_between_ranks():
    def run(comm, rank):
        with pytest.raises(ValueError, match="every process must pass the same list"):
            comm.broadcast([np.zeros(3 + rank)])
        return True

    assert run_ranks(2, run) == [True, True]


def test_arguments_are_checked():
    comm = ThreadWorld(1).communicator(0)
    with pytest.raises(TypeError, match="takes a list of arrays"):
        comm.allreduce_sum(np.zeros(3))
    with pytest.raises(TypeError, match="use allreduce_sum for integer counts"):
        comm.allreduce_mean([np.zeros(3, dtype=np.int64)])
    with pytest.raises(TypeError, match="integer or floating"):
        comm.allreduce_sum([np.zeros(3, dtype=bool)])
    with pytest.raises(ValueError, match=r"root must be a process number in \[0, 1\)"):
        comm.broadcast([np.zeros(3)], root=1)
    with pytest.raises(ValueError, match="finite number >= 0"):
        comm.allreduce_mean([np.zeros(3)], weight=-1)
    assert comm.allreduce_sum([]) == [] and comm.broadcast([]) == []


def test_sum_values_and_any():
    def run(comm, rank):
        return comm.sum_values([rank + 1, 0.5]), comm.any(rank == 1), comm.any(False)

    for sums, some, none in run_ranks(3, run):
        assert sums == [6.0, 1.5] and some is True and none is False


def test_the_module_functions_use_the_current_communicator():
    def run(comm, rank):
        with distributed.use_communicator(comm):
            assert distributed.current_communicator() is comm
            return host(distributed.allreduce_mean([np.full(2, float(rank))])[0])

    for mean in run_ranks(2, run):
        np.testing.assert_array_equal(mean, [0.5, 0.5])
    assert distributed.current_communicator() is None


# ---------------------------------------------------------------- which transport
class _Recorder:
    """An mpi4py-like communicator that records what the transports hand it."""

    def __init__(self):
        self.calls = []

    def Allreduce(self, sendbuf, recvbuf, op):
        self.calls.append(("Allreduce", recvbuf))

    def Bcast(self, buf, root):
        self.calls.append(("Bcast", buf))


def test_host_arrays_go_to_mpi_as_they_are_and_others_through_host_memory(backend):
    comm = _Recorder()
    transport = make_transport(backend.name, "auto", comm, MPI)
    assert isinstance(transport, HostTransport)
    assert transport.staged == (backend.name != "numpy")
    buffer = backend.asarray(np.arange(3.0))
    out = transport.allreduce_sum(buffer)
    assert_close(out, np.arange(3.0), rtol=0, atol=0)
    handed = comm.calls[0][1]
    assert isinstance(handed, np.ndarray) and handed.flags.c_contiguous
    assert (handed is buffer) == (backend.name == "numpy")


class FakeCupy:
    """What the GPU transports ask of CuPy: the current stream and a device context."""

    class cuda:
        class Stream:
            ptr = 1234
            synchronized = 0

            def synchronize(self):
                FakeCupy.cuda.Stream.synchronized += 1

        @staticmethod
        def get_current_stream():
            return FakeCupy.cuda.Stream()

        class Device:
            entered = []

            def __init__(self, index):
                self.index = index

            def __enter__(self):
                FakeCupy.cuda.Device.entered.append(self.index)

            def __exit__(self, *exc):
                pass


class FakeGpuArray:
    """A host array dressed as a CuPy one: ``data.ptr``, ``size``, ``dtype``, ``device.id``."""

    def __init__(self, values, device=0):
        self.host = np.ascontiguousarray(values)
        self.size, self.dtype = self.host.size, self.host.dtype
        self.data = type("Memory", (), {"ptr": self.host.ctypes.data})()
        self.device = type("Device", (), {"id": device})()


class FakeNccl:
    """cupy.cuda.nccl's names, with a communicator that acts as if one other rank held ones
    (allReduce) or as if the root held sevens (bcast), writing through the raw pointers."""

    NCCL_SUM = 0
    NCCL_FLOAT32, NCCL_FLOAT64, NCCL_INT64 = 7, 8, 4
    NCCL_FLOAT16 = NCCL_INT8 = NCCL_UINT8 = NCCL_INT32 = NCCL_UINT32 = NCCL_UINT64 = -1
    DTYPES = {7: np.float32, 8: np.float64, 4: np.int64}
    available = True

    def __init__(self):
        self.made, self.calls = [], []

    def get_unique_id(self):
        return (42,) * 128

    def NcclCommunicator(self, size, unique_id, rank):
        self.made.append((size, unique_id, rank))
        return _FakeNcclComm(self)


class _FakeNcclComm:
    def __init__(self, nccl):
        self.nccl = nccl

    def _view(self, pointer, count, datatype):
        dtype = np.dtype(FakeNccl.DTYPES[datatype])
        raw = (np.ctypeslib.ctypes.c_char * (count * dtype.itemsize)).from_address(pointer)
        return np.frombuffer(raw, dtype=dtype)

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        self.nccl.calls.append(("allReduce", count, datatype, op, stream, sendbuf == recvbuf))
        self._view(recvbuf, count, datatype)[...] += 1

    def bcast(self, buff, count, datatype, root, stream):
        self.nccl.calls.append(("bcast", count, datatype, root, stream))
        self._view(buff, count, datatype)[...] = 7


class _UniqueIdComm:
    def __init__(self, rank):
        self.rank, self.handed = rank, []

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return 2

    def bcast(self, obj, root):
        self.handed.append(obj)
        return (42,) * 128  # rank 0's id, as MPI would hand it


@pytest.mark.parametrize("rank", [0, 1])
def test_nccl_sums_and_broadcasts_in_place_on_the_current_stream(rank):
    from tinyml.distributed.nccl import NcclTransport

    nccl, comm = FakeNccl(), _UniqueIdComm(rank)
    transport = NcclTransport(comm, nccl, FakeCupy)
    grads = FakeGpuArray(np.arange(5.0), device=1)
    assert transport.allreduce_sum(grads) is grads
    np.testing.assert_array_equal(grads.host, np.arange(5.0) + 1)
    counts = FakeGpuArray(np.arange(3, dtype=np.int64), device=1)
    transport.broadcast(counts, root=0)
    np.testing.assert_array_equal(counts.host, [7, 7, 7])
    # One NCCL communicator for the GPU, made inside its device with rank 0's unique id.
    assert nccl.made == [(2, (42,) * 128, rank)]
    assert comm.handed == [(42,) * 128 if rank == 0 else None]
    assert FakeCupy.cuda.Device.entered[-1] == 1
    assert nccl.calls == [("allReduce", 5, FakeNccl.NCCL_FLOAT64, FakeNccl.NCCL_SUM, 1234, True),
                          ("bcast", 3, FakeNccl.NCCL_INT64, 0, 1234)]
    with pytest.raises(TypeError, match="NCCL has no data type for bool"):
        transport.allreduce_sum(FakeGpuArray(np.zeros(2, dtype=bool), device=1))


def test_cupy_arrays_take_the_path_asked_for(monkeypatch):
    from tinyml.distributed import nccl as nccl_module
    from tinyml.distributed import transports

    comm = _Recorder()
    monkeypatch.setattr(transports, "load_nccl", lambda: (FakeCupy, FakeNccl()))
    assert isinstance(make_transport("cupy", "auto", comm, MPI), nccl_module.NcclTransport)
    assert isinstance(make_transport("cupy", "nccl", comm, MPI), nccl_module.NcclTransport)
    assert make_transport("cupy", "host", comm, MPI).staged
    aware = make_transport("cupy", "cuda-aware-mpi", comm, MPI)
    assert isinstance(aware, nccl_module.CudaAwareMpiTransport)
    buffer = FakeGpuArray(np.zeros(2))
    synchronized = FakeCupy.cuda.Stream.synchronized
    aware.allreduce_sum(buffer)
    assert comm.calls[-1] == ("Allreduce", buffer)  # the GPU buffer itself goes to MPI
    assert FakeCupy.cuda.Stream.synchronized == synchronized + 1  # after the stream's work
    monkeypatch.setattr(transports, "load_nccl", lambda: (FakeCupy, None))
    assert make_transport("cupy", "auto", comm, MPI).staged  # no NCCL: through the host
    with pytest.raises(RuntimeError, match="has no NCCL"):
        make_transport("cupy", "nccl", comm, MPI)


def test_the_gpu_path_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.setenv(distributed.GPU_ENV_VAR, "host")
    assert ThreadWorld(1).communicator(0).gpu == "host"
    assert ThreadWorld(1).communicator(0, gpu="nccl").gpu == "nccl"
    monkeypatch.delenv(distributed.GPU_ENV_VAR)
    assert ThreadWorld(1).communicator(0).gpu == "auto"
    with pytest.raises(ValueError, match="gpu must be one of"):
        ThreadWorld(1).communicator(0, gpu="mpi")


@pytest.mark.gpu
def test_nccl_on_a_real_gpu_with_one_rank():
    """NCCL itself, where a GPU is: one rank, so the sum is the array and the broadcast
    keeps it (NCCL refuses two ranks on one GPU)."""
    cupy = pytest.importorskip("cupy")
    from tinyml.distributed.nccl import load_nccl

    if not cupy.cuda.is_available() or load_nccl()[1] is None:
        pytest.skip("needs a CUDA device and CuPy with NCCL")
    comm = ThreadWorld(1).communicator(0, gpu="nccl")
    x = tinyml.backend.make_backend("cupy", dtype="float64").asarray(np.arange(6.0))
    assert "NCCL" in comm.path(x)
    np.testing.assert_array_equal(host(comm.allreduce_mean([x])[0]), np.arange(6.0))
    np.testing.assert_array_equal(host(comm.broadcast([x])[0]), np.arange(6.0))


# ---------------------------------------------------------------- without mpi4py
def test_tinyml_imports_and_trains_without_mpi4py_and_init_says_what_to_install():
    script = (
        "import sys; sys.modules['mpi4py'] = None; sys.modules['mpi4py.MPI'] = None\n"
        "import numpy as np, tinyml\n"
        "from tinyml import distributed\n"
        "from tinyml.layers import BatchNorm1D, Linear\n"
        "net = tinyml.Net([Linear('a', 3, 2), BatchNorm1D('n', 2, sync=True)])\n"
        "learner = tinyml.Learner(net, tinyml.losses.mse, tinyml.optim.SGD(lr=0.1))\n"
        "learner.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)\n"
        "assert distributed.from_launcher() is None\n"
        "try:\n"
        "    distributed.init()\n"
        "except RuntimeError as error:\n"
        "    print(error)\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert 'pip install "tinyml-xp[mpi]"' in done.stdout, done.stdout


def test_the_launcher_is_noticed_from_its_environment():
    assert distributed.launched_processes({}) is None
    assert distributed.launched_processes({"OMPI_COMM_WORLD_SIZE": "4"}) == 4
    assert distributed.launched_processes({"PMI_SIZE": "2"}) == 2
    distributed.abort_run(2)  # MPI never started in this process: nothing to end


# ---------------------------------------------------------------- the sampler rule
@pytest.mark.parametrize(("samples", "batch_size", "size"),
                         [(50, 8, 2), (49, 8, 2), (17, 4, 3), (9, 2, 4), (64, 16, 2)])
def test_each_global_batch_is_split_over_the_ranks_in_order(samples, batch_size, size):
    order = RNG.permutation(samples)
    kept = global_batches(samples, batch_size * size, size)
    shares = [rank_order(order, batch_size, rank, size) for rank in range(size)]
    for index, (start, stop) in enumerate(kept):
        per_rank = [share[index * batch_size:(index + 1) * batch_size] for share in shares]
        assert all(len(p) <= batch_size for p in per_rank)
        assert max(map(len, per_rank)) - min(map(len, per_rank)) <= 1
        np.testing.assert_array_equal(np.concatenate(per_rank), order[start:stop])
    dropped = samples - (kept[-1][1] if kept else 0)
    assert dropped < size  # only a last batch with fewer samples than ranks is left out
    assert sum(map(len, shares)) == samples - dropped


def test_share_bounds_cover_the_batch_once():
    for length in range(1, 12):
        bounds = [share_bounds(length, rank, 3) for rank in range(3)]
        assert bounds[0][0] == 0 and bounds[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


# ---------------------------------------------------------------- the Learner
X = RNG.standard_normal((50, 6))
Y = RNG.integers(0, 3, 50)
X_VAL, Y_VAL = RNG.standard_normal((13, 6)), RNG.integers(0, 3, 13)


def mlp(seed):
    with tinyml.use_seed(seed):
        return tinyml.Net([Linear("a", 6, 8), ReLU("r"), Linear("b", 8, 3), Softmax("s")])


def weights(net):
    return {key: host(value).copy() for key, value in net.state_dict().items()}


def assert_same_weights(mine, reference, rtol):
    assert mine.keys() == reference.keys()
    for key in reference:
        np.testing.assert_allclose(mine[key], reference[key], rtol=rtol, atol=0, err_msg=key)


def one_process(batch_size, **fit):
    net = mlp(0)
    learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.9),
                             batch_size=batch_size, seed=0, metrics=["f1", "top_2"])
    history = learner.fit(X, Y, epochs=2, verbose=0, validation_data=(X_VAL, Y_VAL), **fit)
    return weights(net), history


def test_two_ranks_train_as_one_process_with_twice_the_batch(backend):
    """50 samples, 8 per rank: global batches of 16, 16, 16 and 2 (split 1 and 1), from
    nets seeded differently on each rank."""
    def rank_run(comm, rank):
        net = mlp(seed=11 * rank)  # rank 1 differs: the broadcast makes rank 0's count
        learner = tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.9),
                                 batch_size=8, seed=0, metrics=["f1", "top_2"],
                                 distributed=comm)
        history = learner.fit(X, Y, epochs=2, verbose=0, validation_data=(X_VAL, Y_VAL))
        return weights(net), dict(history), learner.step

    reference, history = one_process(16)
    for mine, logs, steps in run_ranks(2, rank_run, backend=backend):
        assert steps == 2 * 4
        assert_same_weights(mine, reference, rtol=1e-12)
        for key in ("loss", "accuracy", "f1", "top_2", "val_loss", "val_accuracy", "val_f1"):
            np.testing.assert_allclose(logs[key], history[key], rtol=1e-12, err_msg=key)


def test_a_short_last_batch_is_weighted_by_each_ranks_share(backend):
    """49 samples over 3 ranks of 4: batches of 12, 12, 12, 12 and one sample, which is
    dropped (fewer samples than ranks); 51 samples: a last batch of 3, one each; 53: a last
    batch of 5, split 2, 2, 1 and weighted."""
    for samples in (51, 53):
        x, y = X[:1].repeat(samples, 0) + RNG.standard_normal((samples, 6)), Y[:1].repeat(
            samples)

        def rank_run(comm, rank, x=x, y=y):
            net = mlp(seed=0)
            tinyml.Learner(net, cross_entropy, SGD(lr=0.1), batch_size=4, seed=0,
                           distributed=comm).fit(x, y, epochs=1, verbose=0)
            return weights(net)

        net = mlp(seed=0)
        tinyml.Learner(net, cross_entropy, SGD(lr=0.1), batch_size=12, seed=0).fit(
            x, y, epochs=1, verbose=0)
        for mine in run_ranks(3, rank_run, backend=backend):
            assert_same_weights(mine, weights(net), rtol=1e-12)


def test_only_rank_0_prints_and_writes_files(tmp_path, capsys):
    def rank_run(comm, rank):
        learner = tinyml.Learner(mlp(rank), cross_entropy, SGD(lr=0.1), batch_size=8,
                                 seed=0, distributed=comm)
        learner.fit(X, Y, epochs=3, verbose=2, callbacks=[
            CSVLogger(tmp_path / f"log{rank}.csv"),
            ModelCheckpoint(tmp_path / f"weights{rank}.npz"),
            ModelCheckpoint(tmp_path / f"state{rank}.npz", save_weights_only=False)])
        learner.save_checkpoint(tmp_path / f"saved{rank}.npz")

    run_ranks(2, rank_run)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "log0.csv", "saved0.npz", "state0.npz", "weights0.npz"]
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines() if "epoch" in line] == [
        ["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]]
    assert "data-parallel over 2 processes, 8 samples each per step (global batch 16); " \
           "collectives: MPI on host buffers" in out


class _StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step:
            self.learner.stop_training = True


def test_rank_0_alone_shows_progress_a_line_per_epoch():
    parallel = [distributed.DataParallel(ThreadWorld(2).communicator(rank)) for rank in (0, 1)]
    assert [parallel[0].verbosity(v) for v in (0, 1, 2)] == [0, 2, 2]
    assert [parallel[1].verbosity(v) for v in (0, 1, 2)] == [0, 0, 0]
    assert parallel[1].verbosity(3) == 3  # left for fit to refuse


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_step():
    def rank_run(comm, rank):
        learner = tinyml.Learner(mlp(0), cross_entropy, SGD(lr=0.1), batch_size=8, seed=0,
                                 distributed=comm)
        learner.fit(X, Y, epochs=3, verbose=0, callbacks=[_StopAt(6)] if rank == 1 else [])
        return learner.step, learner.epoch

    assert run_ranks(2, rank_run) == [(6, 2), (6, 2)]


def test_evaluate_splits_the_samples_and_sums_over_the_ranks(backend):
    net = mlp(3)
    whole = tinyml.Learner(net, cross_entropy, SGD(lr=0.1), metrics=["f1"]).evaluate(X, Y)

    def rank_run(comm, rank):
        learner = tinyml.Learner(mlp(3), cross_entropy, SGD(lr=0.1), metrics=["f1"],
                                 distributed=comm)
        return learner.evaluate(X, Y), learner.evaluate(X[:2], Y[:2])

    tiny = tinyml.Learner(net, cross_entropy, SGD(lr=0.1), metrics=["f1"]).evaluate(X[:2],
                                                                                  Y[:2])
    for scores, few in run_ranks(3, rank_run, backend=backend):
        for key in whole:
            assert scores[key] == pytest.approx(whole[key], rel=1e-12)
            assert few[key] == pytest.approx(tiny[key], rel=1e-12)  # fewer than ranks: all


def test_the_learner_refuses_what_is_not_a_communicator():
    with pytest.raises(TypeError, match=r"tinyml.distributed.init\(\)"):
        tinyml.Learner(mlp(0), cross_entropy, SGD(lr=0.1), distributed="mpi")


def test_too_few_samples_for_the_ranks_is_refused_before_training():
    def rank_run(comm, rank):
        learner = tinyml.Learner(mlp(0), cross_entropy, SGD(lr=0.1), distributed=comm)
        with pytest.raises(ValueError, match="1 samples cannot be split over 2 processes"):
            learner.fit(X[:1], Y[:1], verbose=0)
        return True

    assert run_ranks(2, rank_run) == [True, True]


def test_a_data_loaders_batch_is_the_global_batch(backend):
    loader = tinyml.data.DataLoader(X, Y, batch_size=16, shuffle=True, seed=3)

    def rank_run(comm, rank):
        net = mlp(rank)
        tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.5),
                       distributed=comm).fit(loader, epochs=2, verbose=0)
        return weights(net)

    net = mlp(0)
    tinyml.Learner(net, cross_entropy, SGD(lr=0.1, momentum=0.5)).fit(loader, epochs=2,
                                                                      verbose=0)
    for mine in run_ranks(2, rank_run, backend=backend):
        assert_same_weights(mine, weights(net), rtol=1e-12)


# ---------------------------------------------------------------- sync BatchNorm
def _split_batchnorm(backend, layer_class, x, g, rows):
    """Each rank's (output, input gradient, weight and bias gradients, running stats) for
    its rows of `x`, upstream gradient in units of its own loss (the mean over its rows)."""
    total = x.shape[0]

    def rank_run(comm, rank):
        start = sum(rows[:rank])
        part = slice(start, start + rows[rank])
        layer = layer_class("bn", x.shape[1], sync=True)
        with distributed.use_communicator(comm):
            y = layer.forward(backend.asarray(x[part]))
            share = rows[rank] / total  # the weight the Learner averages with
            dx = layer.backward(backend.asarray(g[part] / share))
        return (host(y), host(dx), host(layer.weight.grad) * share,
                host(layer.bias.grad) * share, host(layer.running_mean.data),
                host(layer.running_var.data))

    return run_ranks(len(rows), rank_run, backend=backend)


@pytest.mark.parametrize(("layer_class", "shape", "rows"),
                         [(BatchNorm1D, (8, 3), (4, 4)), (BatchNorm1D, (8, 3), (5, 3)),
                          (BatchNorm2D, (7, 2, 3, 3), (3, 1, 3))])
def test_sync_batchnorm_over_ranks_equals_one_batchnorm_over_the_batch(backend, layer_class,
                                                                       shape, rows):
    x = RNG.standard_normal(shape) * 3 + 1
    g = RNG.standard_normal(shape)
    whole = layer_class("bn", shape[1])
    y = host(whole.forward(backend.asarray(x)))
    dx = host(whole.backward(backend.asarray(g)))
    ranks = _split_batchnorm(backend, layer_class, x, g, rows)
    starts = np.cumsum((0, *rows))
    for rank, (y_r, dx_r, _, _, mean, var) in enumerate(ranks):
        part = slice(starts[rank], starts[rank + 1])
        share = rows[rank] / shape[0]
        np.testing.assert_allclose(y_r, y[part], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx_r * share, dx[part], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mean, host(whole.running_mean.data), rtol=1e-12)
        np.testing.assert_allclose(var, host(whole.running_var.data), rtol=1e-12)
    np.testing.assert_allclose(sum(r[2] for r in ranks), host(whole.weight.grad), rtol=1e-10)
    np.testing.assert_allclose(sum(r[3] for r in ranks), host(whole.bias.grad), rtol=1e-10,
                               atol=1e-12)


def test_sync_batchnorm_without_a_communicator_is_plain_batchnorm(backend):
    x, g = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))
    plain, synced = BatchNorm1D("a", 4), BatchNorm1D("b", 4, sync=True)
    assert synced.hyperparameters["sync"] is True
    np.testing.assert_array_equal(host(synced.forward(backend.asarray(x))),
                                  host(plain.forward(backend.asarray(x))))
    np.testing.assert_array_equal(host(synced.backward(backend.asarray(g))),
                                  host(plain.backward(backend.asarray(g))))


def test_sync_batchnorm_needs_two_samples_over_all_ranks_not_on_each():
    def rank_run(comm, rank):
        layer = BatchNorm1D("bn", 2, sync=True)
        with distributed.use_communicator(comm):
            layer.forward(np.ones((1, 2)) * rank)
            with pytest.raises(ValueError, match="a training batch of one sample"):
                layer.forward(np.ones((1 - rank, 2)))  # one sample in all
        return True

    assert run_ranks(2, rank_run) == [True, True]
