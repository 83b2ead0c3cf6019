"""The ``tinyml`` command: ``tinyml train`` trains a small net on scikit-learn's digits."""

import argparse
import importlib
import math
import os
import sys
import time

from . import __version__, models
from .backend import KNOWN_BACKENDS, set_backend
from .backend import seed as seed_backends
from .core import check_positive_int
from .data import load_digits
from .losses import cross_entropy
from .optim import SGD, AdaGrad, Adam, AdamW, RMSProp
from .train import Learner

# --optimizer: (class, the lr used when --lr is not given). SGD keeps the demo's 0.05; the
# others got 0.96-0.98 on the digits with theirs (mlp and cnn, 20 epochs).
OPTIMIZERS = {
    "sgd": (SGD, 0.05),
    "adam": (Adam, 0.01),
    "adamw": (AdamW, 0.01),
    "rmsprop": (RMSProp, 0.01),
    "adagrad": (AdaGrad, 0.05),
}
WITH_MOMENTUM = {"sgd": 0.9, "rmsprop": 0.0}  # --momentum's default where it applies

# --schedule: name -> factory(schedules module, lr, total steps). The classes live in
# tinyml.optim.schedules, imported only when a schedule is asked for.
SCHEDULES = {
    "constant": lambda s, lr, total: s.ConstantScheduler(lr),
    "cosine": lambda s, lr, total: s.CosineScheduler(initial_lr=lr, total_steps=total),
    "step": lambda s, lr, total: s.StepScheduler(initial_lr=lr, step_size=max(1, total // 3),
                                                 gamma=0.1),
    "exponential": lambda s, lr, total: s.ExponentialScheduler(initial_lr=lr, stage_length=total,
                                                               decay=0.1),
}
SCHEDULES_MODULE = "tinyml.optim.schedules"


def build_parser():
    parser = argparse.ArgumentParser(prog="tinyml", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tinyml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train on scikit-learn's digits and report "
                                              "test accuracy")
    train.add_argument("--backend", default=None, choices=KNOWN_BACKENDS,
                       help="array library (default: $TINYML_BACKEND or numpy)")
    train.add_argument("--device", default=None,
                       help="device: a GPU number for cupy, a name such as device1 for "
                            "array_api_strict")
    train.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    train.add_argument("--model", default="mlp", choices=("mlp", "cnn"))
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--optimizer", default="sgd", choices=tuple(OPTIMIZERS),
                       help="default: sgd (with momentum 0.9)")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default: " + ", ".join(
                           f"{name} {lr}" for name, (_, lr) in OPTIMIZERS.items()) + ")")
    train.add_argument("--momentum", type=float, default=None,
                       help="for sgd (default 0.9) and rmsprop (default 0)")
    train.add_argument("--schedule", default=None, choices=tuple(SCHEDULES),
                       help="learning-rate schedule over the whole run, from --lr (cosine to "
                            "0, step: x0.1 at 1/3 and 2/3, exponential: x0.1 by the end); "
                            "default: none")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained weights to PATH (.npz)")
    train.add_argument("--quiet", action="store_true", help="print only the test accuracy")
    return parser


def check_save_path(path):
    """Refuse a --save path that cannot be written before training, not after it."""
    if path is None:
        return
    if not path.strip():
        raise ValueError("--save needs a file name, such as --save weights.npz; got ''")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"--save {path}: that is a folder; name a file in it, such as "
                         f"{os.path.join(path, 'weights.npz')}")
    if not os.path.isdir(folder):
        raise ValueError(f"--save {path}: the folder {folder} does not exist; create it first "
                         "or save elsewhere")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--save {path}: the folder {folder} is not writable; save elsewhere")


def train(args):
    check_save_path(args.save)
    device = int(args.device) if args.device is not None and args.device.isdigit() else args.device
    # No --backend: set_backend(None, ...) keeps the current one ($TINYML_BACKEND or numpy).
    backend = set_backend(args.backend, device=device, dtype=args.dtype)
    seed_backends(args.seed)
    x_train, y_train, x_test, y_test = load_digits(flat=False, seed=args.seed)
    optimizer = build_optimizer(args, len(x_train))
    net = models.mlp() if args.model == "mlp" else models.cnn()
    if not args.quiet:
        print(f"{args.model} on {backend}, {len(x_train)} training and {len(x_test)} test "
              f"digits, {optimizer!r}")
        net.summary(input_shape=x_train.shape[1:])  # every row gets its shape
    learner = Learner(net, cross_entropy, optimizer, batch_size=args.batch_size)
    started = time.perf_counter()
    learner.fit(x_train, y_train, epochs=args.epochs, validation_data=(x_test, y_test),
                verbose=0 if args.quiet else 1)
    seconds = time.perf_counter() - started
    result = learner.evaluate(x_test, y_test)
    print(f"test accuracy {result['accuracy']:.4f}  test loss {result['loss']:.4f}  "
          f"({args.model}, {backend.name}, {args.epochs} epochs in {seconds:.1f}s)")
    if args.save:
        net.save(args.save)
        print(f"weights saved to {args.save}")
    return result


def build_optimizer(args, samples):
    """The optimizer that --optimizer, --lr, --momentum and --schedule describe (a schedule
    spans the run: epochs times the batches of `samples`)."""
    cls, default_lr = OPTIMIZERS[args.optimizer]
    lr = default_lr if args.lr is None else args.lr
    settings = {"lr": lr}
    if args.optimizer in WITH_MOMENTUM:
        settings["momentum"] = WITH_MOMENTUM[args.optimizer] if args.momentum is None \
            else args.momentum
    elif args.momentum is not None:
        raise ValueError(f"--momentum applies to {' and '.join(WITH_MOMENTUM)}, not "
                         f"--optimizer {args.optimizer} (its betas play that part); leave it out")
    if args.schedule is not None:
        batch_size = check_positive_int("tinyml train", "--batch-size", args.batch_size)
        epochs = check_positive_int("tinyml train", "--epochs", args.epochs)
        total = epochs * math.ceil(samples / batch_size)
        settings["scheduler"] = build_schedule(args.schedule, lr, total)
    return cls(**settings)


def build_schedule(name, lr, total_steps):
    """The --schedule `name` from tinyml.optim.schedules, over `total_steps` updates."""
    try:
        schedules = importlib.import_module(SCHEDULES_MODULE)
    except ModuleNotFoundError as error:
        if error.name != SCHEDULES_MODULE:
            raise
        raise RuntimeError(f"--schedule {name} needs {SCHEDULES_MODULE}, which this tinyml "
                           "does not have; leave --schedule out") from None
    return SCHEDULES[name](schedules, lr, total_steps)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        train(args)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"tinyml: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
