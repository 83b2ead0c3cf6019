"""What each process runs in test_distributed_mpirun.py: ``mpirun -n 2 python
tests/mpi_worker.py SCENARIO OUT`` (tinyml from the checkout: PYTHONPATH). Each process saves
what the test compares to OUT as plain .npz files of its own (test plumbing, not tinyml's
writers; those write only on rank 0, which the "train" scenario checks).

Scenarios
---------
train
    Every case of CASES for 2 epochs on the digits, float64, 16 samples per process, from
    nets seeded differently on each process; then the files and resume check: one epoch
    of the sync-BatchNorm CNN with ModelCheckpoint, CSVLogger and TensorBoard named per
    rank, and a resume from rank 0's checkpoint to epoch 2 with nets seeded differently again.
fail
    Process 1 raises at step 3 (started as ``python worker.py``, without ``-m mpi4py``).
kill
    Process 1 SIGKILLs itself at step 3.
"""

import os
import signal
import sys

import numpy as np

import tinyml
from tinyml import distributed
from tinyml.callbacks import Callback, CSVLogger, ModelCheckpoint, TensorBoard
from tinyml.layers import (
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Flatten,
    Linear,
    MaxPool2D,
    ReLU,
    Softmax,
)
from tinyml.losses import cross_entropy
from tinyml.optim import SGD, Adam

EPOCHS = 2
BATCH_SIZE = 16  # per process; one process runs 32
CASES = [("mlp", "sgd"), ("mlp", "adam"), ("cnn", "sgd"), ("cnn", "adam"), ("cnn_bn", "sgd")]
RESUMED = "cnn_bn"


def build(model):
    """The nets of the cases, sized for the 8x8 digits."""
    if model == "mlp":
        return tinyml.Net([Flatten("flat"), Linear("fc1", 64, 32), ReLU("relu"),
                           Linear("fc2", 32, 10), Softmax("softmax")])
    if model == "cnn":
        return tinyml.Net([Conv2D("conv", (1, 8, 8), 8, 3, 3, 1, 1), ReLU("relu"),
                           MaxPool2D("pool", (8, 8, 8), 2, 2), Flatten("flat"),
                           Linear("fc", 8 * 4 * 4, 10), Softmax("softmax")])
    return tinyml.Net([Conv2D("conv", (1, 8, 8), 8, 3, 3, 1, 1),
                       BatchNorm2D("bn2", 8, sync=True), ReLU("relu1"),
                       MaxPool2D("pool", (8, 8, 8), 2, 2), Flatten("flat"),
                       Linear("fc1", 8 * 4 * 4, 32), BatchNorm1D("bn1", 32, sync=True),
                       ReLU("relu2"), Linear("fc2", 32, 10), Softmax("softmax")])


def optimizer(name):
    return SGD(lr=0.05, momentum=0.9) if name == "sgd" else Adam(lr=1e-3)


def data():
    tinyml.set_backend("numpy", dtype="float64")
    return tinyml.data.load_digits()


def seeded_net(model, seed):
    with tinyml.use_seed(seed):
        return build(model)


def weights(net):
    return {key: tinyml.to_numpy(value) for key, value in net.state_dict().items()}


def learner(net, name, comm, **kwargs):
    return tinyml.Learner(net, cross_entropy, optimizer(name), batch_size=BATCH_SIZE, seed=0,
                          distributed=comm, **kwargs)


def train(comm, out):
    rank = comm.rank
    assert comm.local_rank == rank, (comm.local_rank, rank)  # one host: the same numbers
    x, y, x_test, y_test = data()
    for model, name in CASES:
        net = seeded_net(model, 0 if rank == 0 else 100 + rank)  # the broadcast aligns them
        history = learner(net, name, comm, metrics=["f1"]).fit(
            x, y, epochs=EPOCHS, verbose=0, validation_data=(x_test, y_test))
        np.savez(os.path.join(out, f"{model}-{name}-rank{rank}.npz"), **weights(net),
                 **{f"history/{key}": values for key, values in history.items()})
    files = os.path.join(out, "files")
    net = seeded_net(RESUMED, 0 if rank == 0 else 7 + rank)  # as the straight run
    learner(net, "sgd", comm).fit(x, y, epochs=1, verbose=2, validation_data=(x_test, y_test),
                                  callbacks=[
        ModelCheckpoint(os.path.join(files, f"state-rank{rank}.npz"), save_weights_only=False),
        CSVLogger(os.path.join(files, f"log-rank{rank}.csv")),
        TensorBoard(os.path.join(files, f"tb-rank{rank}"))])
    np.savez(os.path.join(out, f"epoch1-rank{rank}.npz"), **weights(net))
    comm.barrier()  # rank 0's checkpoint is written before anyone reads it
    net = seeded_net(RESUMED, 50 + rank)
    learner(net, "sgd", comm).fit(x, y, epochs=EPOCHS, verbose=2,
                                  validation_data=(x_test, y_test),
                                  resume_from=os.path.join(files, "state-rank0.npz"))
    np.savez(os.path.join(out, f"resumed-rank{rank}.npz"), **weights(net))


class _AtStep(Callback):
    def __init__(self, step, action):
        self.step, self.action = step, action

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step:
            self.action()


def _fail():
    raise RuntimeError("rank 1 fails on purpose at step 3")


def fail_or_kill(comm, scenario):
    x, y, _, _ = data()
    action = _fail if scenario == "fail" else (lambda: os.kill(os.getpid(), signal.SIGKILL))
    callbacks = [_AtStep(3, action)] if comm.rank == 1 else []
    learner(seeded_net("mlp", 0), "sgd", comm).fit(x, y, epochs=50, verbose=0,
                                                   callbacks=callbacks)
    print(f"rank {comm.rank}: trained to the end, which it must not", flush=True)


def main(scenario, out):
    comm = distributed.init()
    if scenario == "train":
        train(comm, out)
    else:
        fail_or_kill(comm, scenario)
    print(f"rank {comm.rank}: done", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
