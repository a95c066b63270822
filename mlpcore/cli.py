"""The ``mlpcore`` command.

``train`` fits a model on a built-in dataset (or on IDX files you downloaded)
and ends with a test-accuracy line; ``bench`` runs the benchmarks of a source
checkout (``make bench``). The course tooling: ``release`` regenerates
``course/`` from ``solutions/``; ``grade`` autogrades a class in parallel;
``feedback`` and ``report`` write per-student feedback and the class report;
``check`` scores one notebook locally for self-study; ``demo`` runs that whole
loop on an embedded sample class (see :mod:`mlpcore.autograde.commands`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import backend, data
from .activations import ACTIVATIONS
from .init import INITIALIZERS
from .model import MLP
from .optim import OPTIMIZERS, get_optimizer

DATASETS = ("digits", "spirals", "moons", "xor", "idx")
# With the default network (two hidden ReLU layers, 128 and 64 wide) and Adam, the
# embedded digits reach 97-98 % held-out accuracy in about a second on two cores.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.003}


def _load_dataset(args):
    """``(X_train, X_test, y_train, y_test)`` for the chosen dataset."""
    if args.dataset == "idx":
        if not (args.train_images and args.train_labels):
            raise ValueError("--dataset idx needs --train-images and --train-labels (IDX files you downloaded).")
        X, y = data.load_idx_dataset(args.train_images, args.train_labels)
        if args.test_images or args.test_labels:
            if not (args.test_images and args.test_labels):
                raise ValueError("give both --test-images and --test-labels, or neither (then part of the training set is held out).")
            X_test, y_test = data.load_idx_dataset(args.test_images, args.test_labels)
            return X, X_test, y, y_test
    elif args.dataset == "digits":
        X, y = data.load_digits()
    else:
        make = {"spirals": data.make_spirals, "moons": data.make_moons, "xor": data.make_xor}[args.dataset]
        X, y = make(n_samples=args.samples, seed=args.seed)
    return data.train_test_split(X, y, test_size=args.test_size, seed=args.seed)


def train(args) -> int:
    # Checked before training, so that a run is never lost to a typo in where to write it.
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        if path and not Path(path).expanduser().resolve().parent.is_dir():
            raise FileNotFoundError(f"{option} {path}: the folder {Path(path).parent} does not exist; create it first.")
    X_train, X_test, y_train, y_test = _load_dataset(args)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    sizes = [X_train.shape[1], *args.hidden, n_classes]
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    model = MLP(sizes, activation=args.activation, init=args.init, dtype=args.dtype, seed=args.seed, device=args.device)
    print(f"{args.dataset}: {len(X_train)} training and {len(X_test)} test samples, {n_classes} classes")
    print(f"{model}, optimizer {args.optimizer} (lr {lr:g}), batch {args.batch_size}, {args.epochs} epochs")
    started = time.perf_counter()
    history = model.fit(
        X_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=get_optimizer(args.optimizer, lr),
        l2=args.l2,
        dropout=args.dropout,
        validation_data=(X_test, y_test),
        progress=not args.no_progress,
    )
    seconds = time.perf_counter() - started
    print(f"trained in {seconds:.1f} s; final training loss {history['loss'][-1]:.4f}, "
          f"training accuracy {history['accuracy'][-1]:.2%}")
    if args.save:
        print(f"model saved to {model.save(args.save)}")
    if args.plot:
        from .plots import plot_history

        plot_history(history, title=f"{args.dataset}: {sizes}").savefig(args.plot, dpi=120)
        print(f"learning curves saved to {args.plot}")
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    print(f"test accuracy: {accuracy:.2%} ({len(y_test)} samples)")
    return 0


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"should be a positive whole number, got {text}")
    return value


def _add_training_options(parser):
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--hidden", type=_positive_int, nargs="*", default=[128, 64],
                        metavar="N", help="hidden layer sizes, e.g. --hidden 128 64 (default: %(default)s); "
                                          "--hidden alone gives none, a softmax regression")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    parser.add_argument("--init", choices=sorted(INITIALIZERS), default="he")
    parser.add_argument("--epochs", type=_positive_int, default=30)
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    parser.add_argument("--l2", type=float, default=0.0, help="L2 strength (default 0)")
    parser.add_argument("--dropout", type=float, default=0.0, help="drop probability of hidden units (default 0)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--device", choices=backend.DEVICE_CHOICES, default=None,
                        help=f"cpu, gpu or auto (default: ${backend.DEVICE_ENV_VAR} or cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=_positive_int, default=600, help="size of a synthetic dataset")
    parser.add_argument("--test-size", type=float, default=0.2, help="fraction held out for testing")
    parser.add_argument("--train-images", type=Path, help="IDX images (with --dataset idx)")
    parser.add_argument("--train-labels", type=Path, help="IDX labels (with --dataset idx)")
    parser.add_argument("--test-images", type=Path)
    parser.add_argument("--test-labels", type=Path)
    parser.add_argument("--save", type=Path, help="write the trained model to this .npz file")
    parser.add_argument("--plot", type=Path, help="write the learning curves to this PNG file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def bench(extra_args) -> int:
    """Run the benchmarks of a source checkout (they live beside the package, in benchmarks/)."""
    import runpy

    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "__main__.py").is_file():
        print("mlpcore bench: error: the benchmarks come with the source checkout (its benchmarks/ folder), "
              f"which is not beside this installation ({root}). Run it from a clone: make bench.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(root))
    sys.argv = ["python -m benchmarks", *extra_args]
    try:
        runpy.run_module("benchmarks", run_name="__main__")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlpcore", description="A multilayer perceptron built from matrix operations.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_training_options(commands.add_parser("train", help="train a model and report its test accuracy"))
    commands.add_parser("bench", help="speed and memory benchmarks (options: mlpcore bench --help)", add_help=False)
    missing = course_tools_missing()
    if missing is None:
        from .autograde.commands import add_commands

        add_commands(commands)
    else:
        parser.epilog = (f"The course commands (release, grade, check, lab, ...) need the course tools: "
                         f"pip install 'mlpcore[course]' ({missing} is not installed).")
    return parser


def course_tools_missing() -> str | None:
    """The name of a module the course commands need that is not installed (``pip install mlpcore``
    without the ``course`` extra), or None."""
    try:
        import mlpcore.autograde.commands  # noqa: F401  (nbgrader, Jupyter)
    except ModuleNotFoundError as exc:
        return exc.name
    return None


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    missing = course_tools_missing() if argv[:1] and not argv[0].startswith("-") and argv[0] != "train" else None
    if missing is not None:
        print(f"mlpcore {argv[0]}: this command needs the course tools, and {missing} is not installed: "
              "pip install 'mlpcore[course]'", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) if hasattr(args, "run") else train(args)
    except (ValueError, TypeError, OSError, RuntimeError, FloatingPointError) as exc:
        print(f"mlpcore {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
