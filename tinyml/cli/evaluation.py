"""``tinyml evaluate``, ``tinyml predict`` and ``tinyml summary``: a saved net, used and shown."""

import numpy as np

from .. import io
from ..backend import to_numpy
from ..core import load_net
from ..losses import cross_entropy
from ..metrics import confusion_matrix, f1, precision, recall
from ..train import Learner
from . import datasets
from .arguments import (
    add_backend_arguments,
    check_different_files,
    check_file_to_read,
    check_file_to_write,
    use_backend_arguments,
)
from .plots import predicted_classes
from .training import CLASSES, MODELS


class NoUpdates:
    """The optimizer of a Learner that only evaluates and predicts."""

    def step(self, parameters):
        raise RuntimeError("tinyml evaluate and predict never train")


def add_evaluate_parser(commands):
    evaluate = commands.add_parser(
        "evaluate", help="score a saved net on a dataset's test images",
        description="Load a net saved by `tinyml train --save` (weights and architecture) and "
                    "print its accuracy, loss, macro precision, recall and F1 and the "
                    "confusion matrix on the test images of --dataset (with --seed for the "
                    "digits' split, as in training).")
    evaluate.add_argument("--weights", metavar="PATH", required=True,
                          help="a file written by tinyml train --save (or net.save)")
    add_backend_arguments(evaluate)
    datasets.add_dataset_arguments(evaluate)
    evaluate.set_defaults(run=evaluate_command)


def add_predict_parser(commands):
    predict = commands.add_parser(
        "predict", help="classify the samples in an .npy file with a saved net",
        description="Print the predicted class and its probability for each sample in "
                    "--input, or save the classes with --output.")
    predict.add_argument("--weights", metavar="PATH", required=True,
                         help="a file written by tinyml train --save (or net.save)")
    predict.add_argument("--input", metavar="FILE", required=True,
                         help="an .npy file of samples (N, ...) or of one sample, scaled as the "
                              "training images (floats in [0, 1] for tinyml's datasets); or "
                              "an .npz holding one array (or one named x)")
    predict.add_argument("--output", metavar="FILE", default=None,
                         help="write the predicted classes (int64, shape (N,)) to FILE (.npy) "
                              "instead of printing them")
    add_backend_arguments(predict)
    predict.set_defaults(run=predict_command)


def add_summary_parser(commands):
    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes and parameter counts",
        description="Print the table of layers, output shapes and parameters of --model as "
                    "tinyml train builds it for --dataset, or of a saved net (--weights).")
    which = summary.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=tuple(MODELS))
    which.add_argument("--weights", metavar="PATH", help="a file written by tinyml train --save")
    summary.add_argument("--dataset", type=datasets.dataset_spec, default="digits",
                         help="the dataset whose image shape the net takes (default digits)")
    summary.set_defaults(run=summary_command)


# ---------------------------------------------------------------- evaluate
def evaluate_command(args):
    check_file_to_read("--weights", args.weights)
    datasets.check_dataset_arguments(args.dataset, args.data_dir)
    use_backend_arguments(args)
    net = load_net(args.weights)
    if args.dataset in datasets.SAMPLE_SHAPES:  # refuse before reading 70,000 images
        check_fits(net, args.weights, datasets.SAMPLE_SHAPES[args.dataset],
                   f"--dataset {args.dataset}")
    data = datasets.load(args.dataset, args.data_dir, limit=args.limit, seed=args.seed)
    check_fits(net, args.weights, data.sample_shape, f"--dataset {args.dataset}")
    learner = Learner(net, cross_entropy, NoUpdates(), batch_size=args.batch_size)
    scores = learner.evaluate(data.x_test, data.y_test)
    predicted = predicted_classes(learner, data.x_test)
    labels = data.y_test
    print(f"{args.weights} on {len(labels)} test images of {args.dataset}")
    print(f"accuracy {scores['accuracy']:.4f}  loss {scores['loss']:.4f}  "
          f"precision {precision(predicted, labels, num_classes=CLASSES):.4f}  "
          f"recall {recall(predicted, labels, num_classes=CLASSES):.4f}  "
          f"f1 {f1(predicted, labels, num_classes=CLASSES):.4f} (macro)")
    cm = to_numpy(confusion_matrix(predicted, labels, num_classes=CLASSES))
    print(format_confusion(cm, data.class_names))
    return 0


def format_confusion(cm, class_names):
    """The confusion matrix as text: rows true classes, columns predicted, a key below when
    the names are not the indices."""
    width = max(3, len(str(int(cm.max()))) + 1)
    lines = ["confusion matrix (rows: true class, columns: predicted class):",
             "true " + "".join(f"{j:>{width}}" for j in range(len(cm)))]
    lines += [f"{i:>4} " + "".join(f"{int(count):>{width}}" for count in row)
              for i, row in enumerate(cm)]
    if any(name != str(i) for i, name in enumerate(class_names)):
        lines.append("classes: " + ", ".join(f"{i} {name}" for i, name in enumerate(class_names)))
    return "\n".join(lines)


def check_fits(net, path, sample_shape, source):
    """Refuse, in one line, samples of `sample_shape` that the net cannot take."""
    try:
        net.output_shape((None, *sample_shape))
    except ValueError as error:
        fitting = [name for name, shape in datasets.SAMPLE_SHAPES.items()
                   if _takes(net, shape)]
        hint = (f"; it takes the samples of --dataset {' or '.join(fitting)}" if fitting
                else "")
        raise ValueError(f"the net in {path} does not fit {source}, whose samples have shape "
                         f"{tuple(sample_shape)}: {str(error).rstrip('.')}{hint}") from None


def _takes(net, sample_shape):
    try:
        net.output_shape((None, *sample_shape))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- predict
def predict_command(args):
    check_file_to_read("--weights", args.weights)
    check_file_to_read("--input", args.input)
    check_file_to_write("--output", args.output, "predictions.npy")
    if args.output is not None and not args.output.endswith(".npy"):
        raise ValueError(f"--output {args.output}: name an .npy file, such as predictions.npy "
                         "(np.save would add .npy to any other name)")
    check_different_files(("--output", args.output), ("--input", args.input),
                          ("--weights", args.weights))
    use_backend_arguments(args)
    net = load_net(args.weights)
    samples = read_samples(args.input, net, args.weights)
    learner = Learner(net, cross_entropy, NoUpdates(), batch_size=args.batch_size)
    scores = to_numpy(learner.predict(samples))
    classes = np.argmax(scores, axis=1).astype(np.int64)
    if args.output is not None:
        np.save(args.output, classes)
        print(f"predicted classes of {len(classes)} samples written to {args.output}")
        return 0
    label = "p" if type(net.layers[-1]).__name__ == "Softmax" else "score"
    for i, (cls, row) in enumerate(zip(classes, scores, strict=True)):
        print(f"sample {i}: class {cls} ({label}={row[cls]:.3f})")
    return 0


def read_samples(path, net, weights):
    """The samples in the .npy/.npz file `path` as float32 (N, ...); one sample gets a batch
    axis when that is what makes it fit the net."""
    samples = read_input(path).astype(np.float32)
    if samples.ndim >= 1 and _takes(net, samples.shape[1:]):
        batch = samples
    elif _takes(net, samples.shape):
        batch = samples[None, ...]
    else:
        check_fits(net, weights, samples.shape[1:], f"--input {path} (shape {samples.shape})")
        batch = samples  # not reached: check_fits raised
    if batch.shape[0] == 0:
        raise ValueError(f"--input {path} holds no samples (shape {samples.shape})")
    return batch


def read_input(path):
    """The array in the .npy file `path`, or in the .npz `path` (its one array, or the one
    named x), read as tinyml reads weights: headers checked first, never unpickled, a damaged
    or foreign file a ValueError naming it."""
    with open(path, "rb") as handle:
        zipped = handle.read(2) == b"PK"
    try:
        if not zipped:
            return io.load_array(path)
        headers = io.state_headers(path)
        names = list(headers)
        if len(names) != 1 and "x" not in names:
            raise ValueError(f"--input {path} holds the arrays {names}; keep one, or name the "
                             "samples x")
        name = names[0] if len(names) == 1 else "x"
        return io.load_state(path, expected={name: headers[name].shape}, strict=False)[name]
    except ValueError as error:
        if str(error).startswith("--input"):
            raise
        raise ValueError(f"--input {path}: not a NumPy .npy/.npz file of numbers "
                         f"({error})") from None


# ---------------------------------------------------------------- summary
def summary_command(args):
    shape = datasets.sample_shape_of(args.dataset)
    if args.weights is not None:
        check_file_to_read("--weights", args.weights)
        net = load_net(args.weights)
        check_fits(net, args.weights, shape, f"--dataset {args.dataset}")
        print(f"{args.weights}, on {args.dataset} (samples of shape {shape}):")
    else:
        net = MODELS[args.model](input_dim=shape, classes=CLASSES)
        print(f"{args.model} for {args.dataset} (samples of shape {shape}):")
    net.summary(input_shape=shape)
    return 0
