"""``tinyml train``: train a model on a dataset, report the test accuracy, write what was asked."""

import sys
import time

from .. import distributed, models
from ..backend import seed as seed_backends
from ..core import counted
from ..losses import cross_entropy
from ..train import Learner
from . import datasets, screen
from .arguments import (
    add_backend_arguments,
    check_different_files,
    check_file_to_read,
    check_file_to_write,
    check_folder_to_fill,
    fraction,
    non_negative_int,
    positive_int,
    require_module,
    use_backend_arguments,
)
from .optimizers import add_optimizer_arguments, build_optimizer
from .plots import check_plots_folder, predicted_classes, write_plots

# --model: name -> factory(input_dim, classes), from tinyml.models.
MODELS = {"mlp": models.mlp, "cnn": models.cnn, "gru": models.gru, "lstm": models.lstm,
          "transformer": models.transformer}
CLASSES = 10  # every dataset the CLI reads has the labels 0-9
INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)


def add_train_parser(commands):
    train = commands.add_parser(
        "train", help="train a model and report its test accuracy",
        description="Train a model on a dataset and report its test accuracy. Without "
                    "--validation-split the test images are also the validation data seen "
                    "after each epoch (and by --early-stopping).")
    add_backend_arguments(train)
    datasets.add_dataset_arguments(train)
    train.add_argument("--model", default="mlp", choices=tuple(MODELS),
                       help="mlp (default), cnn, or a sequence model reading each image row "
                            "by row: gru, lstm or transformer (tinyml.models), sized for the "
                            "dataset")
    train.add_argument("--epochs", type=positive_int, default=20,
                       help="epochs to train (with --resume: counted from the start of the "
                            "run; default 20)")
    add_optimizer_arguments(train)
    train.add_argument("--validation-split", type=fraction, default=None, metavar="F",
                       help="hold out the last fraction F of the training images for "
                            "validation; the test images are then used only at the end")
    train.add_argument("--early-stopping", type=non_negative_int, default=None, metavar="N",
                       help="stop when val_loss has not improved for N epochs, and end with "
                            "the best epoch's weights")
    train.add_argument("--checkpoint", metavar="PATH", default=None,
                       help="write the whole training state to PATH (.npz) after every epoch")
    train.add_argument("--resume", metavar="PATH", default=None,
                       help="go on from a --checkpoint file (same model, optimizer and "
                            "dataset)")
    train.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained net (weights and architecture, with the "
                            "dataset, input shape and class names) to PATH (.npz), for tinyml "
                            "evaluate/predict/summary")
    train.add_argument("--plots", metavar="DIR", default=None,
                       help="write history.png, confusion_matrix.png, misclassified.png and, "
                            "for a cnn, filters.png and feature_maps.png into DIR (created if "
                            "missing; needs matplotlib)")
    train.add_argument("--tensorboard", metavar="DIR", default=None,
                       help="write TensorBoard event files to DIR (needs tensorboardX)")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                       help="0: no progress, 1: a progress bar on a terminal, else a line per "
                            "epoch (default), 2: a line per epoch")
    train.add_argument("--quiet", action="store_true", help="print only the test accuracy line")
    train.set_defaults(run=train_command)
    return train


def check_train_arguments(args):
    """Every path and optional dependency the flags need, checked before any data is read."""
    check_file_to_write("--save", args.save)
    check_file_to_write("--checkpoint", args.checkpoint, "checkpoint.npz")
    check_file_to_read("--resume", args.resume)
    # --checkpoint may be --resume (a run goes on writing its checkpoint); --save may be neither.
    check_different_files(("--save", args.save), ("--checkpoint", args.checkpoint))
    check_different_files(("--save", args.save), ("--resume", args.resume))
    check_plots_folder(args.plots)
    if args.tensorboard is not None:
        check_folder_to_fill("--tensorboard", args.tensorboard, "runs")
        require_module("--tensorboard", "tensorboardX", "tensorboard")
    datasets.check_dataset_arguments(args.dataset, args.data_dir)


def train_command(args):
    return 0 if train(args) is not None else INTERRUPTED


def train(args):
    """Run ``tinyml train`` with parsed `args`; the test set's {"loss", "accuracy"}, or None
    when Ctrl-C stopped training (the weights of the last completed step are still saved).

    Started by ``mpirun -n P ... -m tinyml train`` it is one of P processes: it trains
    data-parallel (``--batch-size`` per process), and only rank 0 prints and writes files.
    """
    check_train_arguments(args)
    comm = distributed.from_launcher()  # None in one process
    chief = comm is None or comm.rank == 0
    verbose = 0 if args.quiet else args.verbose
    say = (lambda *a: None) if args.quiet or not chief else screen.say
    backend = use_backend_arguments(args)
    seed_backends(args.seed, rank=None if comm is None else comm.rank)
    data = datasets.load(args.dataset, args.data_dir, limit=args.limit, seed=args.seed)
    split = args.validation_split
    held_out = int(len(data.x_train) * split) if split else 0  # fit refuses 0 of them
    processes = 1 if comm is None else comm.size  # the schedule counts global batches
    optimizer = build_optimizer(args, -(-(len(data.x_train) - held_out) // processes))
    net = MODELS[args.model](input_dim=data.sample_shape, classes=CLASSES)
    # Saved with the weights and checkpoints: evaluate, predict and summary default to it.
    net.metadata = datasets.stored_description(args.dataset, args.data_dir, args.seed, data)
    callbacks, early = build_callbacks(args)
    say(f"{args.model} on {backend}: {data.describe()}, {optimizer!r}")
    say(f"validation: the last {held_out} training images (--validation-split)" if split
        else "validation: the test images, after each epoch")
    if not args.quiet and chief:
        net.summary(input_shape=data.sample_shape)  # every row gets its shape
    learner = Learner(net, cross_entropy, optimizer, batch_size=args.batch_size,
                      distributed=comm)
    if args.resume:
        say(f"resuming from {args.resume}")
    started = time.perf_counter()
    history = learner.fit(
        data.x_train, data.y_train, epochs=args.epochs,
        validation_data=None if split else (data.x_test, data.y_test),
        validation_split=split or 0.0, verbose=verbose, callbacks=callbacks,
        resume_from=args.resume)
    seconds = time.perf_counter() - started
    if history.interrupted:
        write_interrupted(args, learner)
        return None
    if early is not None:
        say(early_stopping_report(early, learner.epoch))
    result = learner.evaluate(data.x_test, data.y_test)  # a collective with several processes
    if not chief:
        return result
    screen.say(f"test accuracy {result['accuracy']:.4f}  test loss {result['loss']:.4f}  "
               f"({args.model}, {backend.name}, {timing(history, seconds)})")
    write_outputs(args, learner, data, say)
    return result


def build_callbacks(args):
    """(callbacks for fit, the EarlyStopping among them or None) for the flags given."""
    if args.early_stopping is None and args.checkpoint is None and args.tensorboard is None:
        return [], None
    from .. import callbacks as module

    def named(name, flag):
        found = getattr(module, name, None)
        if found is None:
            raise RuntimeError(f"{flag} needs tinyml.callbacks.{name}, which this tinyml does "
                               f"not have; leave {flag} out")
        return found

    chosen, early = [], None
    if args.early_stopping is not None:
        early = named("EarlyStopping", "--early-stopping")(
            monitor="val_loss", patience=args.early_stopping, restore_best_weights=True)
        chosen.append(early)
    if args.checkpoint is not None:
        chosen.append(named("ModelCheckpoint", "--checkpoint")(
            args.checkpoint, save_weights_only=False))
    if args.tensorboard is not None:
        chosen.append(named("TensorBoard", "--tensorboard")(args.tensorboard))
    return chosen, early


def early_stopping_report(early, epochs_done):
    """What --early-stopping did, in a line: where it stopped and whose weights the net has."""
    if early.stopped_epoch:
        what = (f"early stopping: val_loss did not improve for {early.wait} "
                f"epoch{'s' * (early.wait != 1)}; stopped after epoch {early.stopped_epoch + 1}")
    else:
        what = (f"early stopping: did not stop (patience {early.patience}, "
                f"{counted(epochs_done, 'epoch')})")
    if early.best_epoch is None:
        return what + "; no epoch improved, the net keeps its last weights"
    return (what + f"; the net has the weights of epoch {early.best_epoch + 1}, the best "
                   f"(val_loss {early.best:.4f})")


def timing(history, seconds):
    """'3 epochs in 4.2s, 1.4s per epoch' for the epochs this call trained."""
    times = history.get("epoch_time", [])
    if not times:
        return "no epoch trained"
    per_epoch = sum(times) / len(times)
    return (f"{len(times)} epoch{'s' * (len(times) != 1)} in {seconds:.1f}s, "
            f"{per_epoch:.{1 if per_epoch >= 1 else 2}f}s per epoch")


def write_interrupted(args, learner):
    """After Ctrl-C: --save still writes the net (the last completed step's weights); the test
    pass and the plots are skipped. Said on standard error, as the stop itself."""
    if args.save:
        learner.net.save(args.save)
        print(f"tinyml: weights of step {learner.step} saved to {args.save}", file=sys.stderr)
    if args.checkpoint and learner.epoch:
        print(f"tinyml: checkpoint {args.checkpoint} holds the run after epoch "
              f"{learner.epoch} (go on with --resume {args.checkpoint})", file=sys.stderr)
    print("tinyml: interrupted; no test pass, no plots", file=sys.stderr)


def write_outputs(args, learner, data, say):
    """--save, --plots and --checkpoint's file, each said in a line."""
    if args.checkpoint:
        say(f"checkpoint {args.checkpoint}: the training state after epoch {learner.epoch} "
            f"(go on with --resume {args.checkpoint} --epochs N)")
    if args.tensorboard:
        say(f"TensorBoard logs in {args.tensorboard} (tensorboard --logdir {args.tensorboard})")
    if args.save:
        learner.net.save(args.save)
        say(f"weights saved to {args.save}")
    if args.plots:
        written, notes = write_plots(args.plots, learner, data,
                                     predicted_classes(learner, data.x_test))
        say(f"plots written: {', '.join(written)}")
        for note in notes:
            say(f"  not written: {note}")
