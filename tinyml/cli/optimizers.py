"""``--optimizer``, ``--lr``, ``--momentum`` and ``--schedule``: the optimizer they describe."""

import importlib
import math

from ..core import check_positive_int
from ..optim import SGD, AdaGrad, Adam, AdamW, RMSProp

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


def add_optimizer_arguments(parser):
    parser.add_argument("--optimizer", default="sgd", choices=tuple(OPTIMIZERS),
                        help="default: sgd (with momentum 0.9)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: " + ", ".join(
                            f"{name} {lr}" for name, (_, lr) in OPTIMIZERS.items()) + ")")
    parser.add_argument("--momentum", type=float, default=None,
                        help="for sgd (default 0.9) and rmsprop (default 0)")
    parser.add_argument("--schedule", default=None, choices=tuple(SCHEDULES),
                        help="learning-rate schedule over the whole run, from --lr (cosine to "
                             "0, step: x0.1 at 1/3 and 2/3, exponential: x0.1 by the end); "
                             "default: none")


def build_optimizer(args, samples):
    """The optimizer that --optimizer, --lr, --momentum and --schedule describe (a schedule
    spans the run: --epochs times the batches of `samples`)."""
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
