"""The ``tinyml`` command: ``tinyml train`` trains a small net on scikit-learn's digits."""

import argparse
import sys
import time

from . import models
from .backend import KNOWN_BACKENDS, set_backend
from .backend import seed as seed_backends
from .data import load_digits
from .losses import cross_entropy
from .optim import SGD
from .train import Learner


def build_parser():
    parser = argparse.ArgumentParser(prog="tinyml", description=__doc__)
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
    train.add_argument("--lr", type=float, default=0.05)
    train.add_argument("--momentum", type=float, default=0.9)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--save", metavar="PATH", default=None,
                       help="write the trained weights to PATH (.npz)")
    train.add_argument("--quiet", action="store_true", help="print only the test accuracy")
    return parser


def train(args):
    device = int(args.device) if args.device is not None and args.device.isdigit() else args.device
    # No --backend: set_backend(None, ...) keeps the current one ($TINYML_BACKEND or numpy).
    backend = set_backend(args.backend, device=device, dtype=args.dtype)
    seed_backends(args.seed)
    x_train, y_train, x_test, y_test = load_digits(flat=False, seed=args.seed)
    net = models.mlp() if args.model == "mlp" else models.cnn()
    if not args.quiet:
        print(f"{args.model} on {backend}, {len(x_train)} training and {len(x_test)} test "
              "digits")
        net.summary()
    learner = Learner(net, cross_entropy, SGD(lr=args.lr, momentum=args.momentum),
                      batch_size=args.batch_size)
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
