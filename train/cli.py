"""``python -m train``: fit, compare-optimizers, evaluate, export."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from edge.cliargs import OneLineParser, nonnegative_float, positive_float, positive_int

ARCHITECTURES = ("seed", "seed-device", "edge", "fast")  # train.models.ARCHITECTURES, no TF import

log = logging.getLogger("train")

DESCRIPTION = """\
Train and evaluate the FER-2013 emotion CNNs (7 classes, FER-2013 label order).

  fit                 train one architecture with one optimizer; checkpoints every epoch
  compare-optimizers  the seed paper's Figure 5: val accuracy vs epoch for momentum, rmsprop, adam
  sweep-lr            short runs of one optimizer at several learning rates; picks the best
  evaluate            accuracy, macro-F1, per-class recall, confusion of a .keras/.tflite model
  export              copy a run's checkpoint to ship (no optimizer state), e.g. to models/

DATA is the image-folder root (holding train/ and val/, each <emotion>/*.jpg) or fer2013.csv.
"""


def _add_fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", choices=ARCHITECTURES, default="edge", help="architecture")
    p.add_argument("--data", required=True, type=Path, help="FER-2013 folder root or fer2013.csv")
    p.add_argument("--epochs", type=positive_int, default=30, help="epochs (default 30)")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument(
        "--lr", type=positive_float, help="peak learning rate (default depends on optimizer)"
    )
    p.add_argument(
        "--weight-decay",
        type=nonnegative_float,
        help="decoupled weight decay (default per optimizer)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed for reproducibility")
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument(
        "--limit", type=positive_int, help="use only the first N training images (smoke runs)"
    )
    p.add_argument(
        "--protocol",
        choices=("fer", "paper"),
        default="fer",
        help="fer: train on train/, score on val/ (default); paper: the seed paper's 11,214 "
        "training / 2,804 test samples drawn from train+val (split paper-train/paper-test)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m train",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    fit = sub.add_parser(
        "fit",
        help="train a model",
        description="Train with augmentation (flip, rotate, shift, zoom, erase), a "
        "warm-up + cosine schedule and label smoothing. Writes OUT/last.keras every "
        "epoch, OUT/best.keras (best val accuracy), OUT/history.csv.",
    )
    _add_fit_args(fit)
    fit.add_argument("--optimizer", choices=("momentum", "rmsprop", "adam"), default="adam")
    fit.add_argument("--out", required=True, type=Path, help="run folder, e.g. runs/edge-adam")
    fit.add_argument("--resume", action="store_true", help="continue an interrupted run in OUT")
    fit.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    fit.add_argument(
        "--init",
        type=Path,
        help="start from this .keras model's weights (same --arch): a second training stage",
    )
    kd = fit.add_argument_group("distillation (train/distill.py)")
    kd.add_argument("--teacher", type=Path, help="distill from this .keras model's scores")
    kd.add_argument("--distill-alpha", type=float, default=0.5, help="weight of the KD term")
    kd.add_argument("--temperature", type=float, default=4.0, help="softmax temperature")
    kd.add_argument(
        "--distill-on",
        choices=("clean", "augmented"),
        default="clean",
        help="teacher scores once on clean images (cached) or on every augmented batch",
    )

    cmp = sub.add_parser(
        "compare-optimizers",
        help="momentum vs rmsprop vs adam",
        description="Train the same architecture with each optimizer and plot "
        "val accuracy against epochs (the seed paper's Figure 5) as PNG and CSV.",
    )
    _add_fit_args(cmp)
    cmp.add_argument("--out", type=Path, default=Path("runs/optimizers"), help="output folder")
    cmp.add_argument("--resume", action="store_true", help="continue interrupted runs")
    cmp.add_argument(
        "--lrs",
        type=optimizer_lrs,
        default={},
        metavar="OPT=LR,...",
        help="peak learning rate per optimizer (e.g. from sweep-lr), e.g. momentum=0.01,adam=1e-3",
    )

    sweep = sub.add_parser(
        "sweep-lr",
        help="one optimizer at several learning rates",
        description="Short runs of one optimizer, one per peak learning rate; writes "
        "OUT/sweep.csv and prints the best learning rate (by best val accuracy) as JSON.",
    )
    _add_fit_args(sweep)
    sweep.add_argument("--optimizer", choices=("momentum", "rmsprop", "adam"), required=True)
    sweep.add_argument("--lrs", type=lr_list, required=True, metavar="LR,LR,...")
    sweep.add_argument("--out", type=Path, required=True, help="output folder")
    sweep.add_argument("--resume", action="store_true", help="continue interrupted runs")

    cur = sub.add_parser(
        "curves",
        help="plot runs trained apart",
        description="Train and val accuracy against epochs for each NAME=RUN (a training "
        "output folder with history.csv) in one PNG (and CSV beside it); prints, per run, "
        "its best val accuracy, the epoch of it and the epochs to reach 90%% of it, as JSON.",
    )
    cur.add_argument("runs", type=named_run, nargs="+", metavar="NAME=RUN")
    cur.add_argument("--out", type=Path, required=True, help="PNG to write")
    cur.add_argument("--title", default="", help="plot title")

    ev = sub.add_parser(
        "evaluate",
        help="score a model on a split",
        description="Print a per-class table; the last line is one JSON object "
        "with n, accuracy, macro_f1, recall (per class) and confusion (7x7).",
    )
    ev.add_argument("--model", required=True, type=Path, help=".keras or .tflite model")
    ev.add_argument("--data", required=True, type=Path, help="FER-2013 folder root or fer2013.csv")
    ev.add_argument("--split", default="val", help="split to score (default val)")
    ev.add_argument("--plot", type=Path, help="write a confusion-matrix PNG here")
    ev.add_argument(
        "--paper",
        action="store_true",
        help="with --plot: per-class recall beside the seed paper's Figure 4 in a second panel",
    )
    ev.add_argument(
        "--tta",
        choices=("none", "flip"),
        default="none",
        help="test-time augmentation: average with the mirrored face",
    )

    ex = sub.add_parser(
        "export",
        help="copy a checkpoint for shipping",
        description="Write MODEL (e.g. runs/NAME/best.keras) to DEST without optimizer "
        "state, atomically; print one JSON line with params, MACs, bytes and sha256.",
    )
    ex.add_argument("model", type=Path, help="checkpoint to export (.keras)")
    ex.add_argument("dest", type=Path, help="where to write it, e.g. models/emotion.keras")
    return parser


def lr_list(text: str) -> list[float]:
    """``0.1,0.03,0.01`` -> [0.1, 0.03, 0.01]; each must be a positive number."""
    return [positive_float(part) for part in text.split(",")]


def optimizer_lrs(text: str) -> dict[str, float]:
    """``momentum=0.01,adam=1e-3`` -> {"momentum": 0.01, "adam": 0.001}."""
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in ("momentum", "rmsprop", "adam") or not value:
            raise argparse.ArgumentTypeError(f"{part!r} is not OPT=LR (momentum|rmsprop|adam)")
        out[name] = positive_float(value)
    return out


def named_run(text: str) -> tuple[str, Path]:
    """``adam=runs/adam`` -> ("adam", Path("runs/adam"))."""
    name, _, run = text.partition("=")
    if not name or not run:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=RUN_FOLDER")
    return name, Path(run)


def _fit_config(args: argparse.Namespace, optimizer: str, out: Path, lr: float | None = None):
    from train.fit import FitConfig

    return FitConfig(
        arch=args.arch,
        optimizer=optimizer,
        data=str(args.data),
        out=str(out),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=lr if lr is not None else args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        augment=not args.no_augment,
        limit=args.limit,
        teacher=str(args.teacher) if getattr(args, "teacher", None) else None,
        distill_alpha=getattr(args, "distill_alpha", 0.5),
        temperature=getattr(args, "temperature", 4.0),
        distill_on=getattr(args, "distill_on", "clean"),
        init=str(args.init) if getattr(args, "init", None) else None,
        protocol=args.protocol,
    )


def run_fit(args: argparse.Namespace) -> int:
    from train.fit import fit

    verbose = 2 if args.quiet else "auto"
    state = fit(_fit_config(args, args.optimizer, args.out), resume=args.resume, verbose=verbose)
    print(json.dumps({"out": str(args.out), **state}))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from train.compare import compare_optimizers

    csv_path, png_path = compare_optimizers(
        lambda opt, out: _fit_config(args, opt, out, args.lrs.get(opt)), args.out, args.resume
    )
    print(json.dumps({"csv": str(csv_path), "png": str(png_path)}))
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from train.compare import sweep_lr

    result = sweep_lr(
        lambda lr, out: _fit_config(args, args.optimizer, out, lr), args.lrs, args.out, args.resume
    )
    print(json.dumps(result))
    return 0


def run_curves(args: argparse.Namespace) -> int:
    from train.compare import plot_runs

    result = plot_runs(dict(args.runs), args.out, args.title)
    print(json.dumps({"png": str(args.out), "runs": result}))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from train.data import load_split
    from train.evaluate import format_table, plot_confusion, predict, score

    split = load_split(args.data, args.split)
    probs = predict(args.model, split.images, tta=args.tta)
    result = score(split.labels, probs)
    print(format_table(result))
    if args.plot:
        title = f"{args.model.name} on {args.split}"
        plot_confusion(result, args.plot, title=title, paper=args.paper)
    print(json.dumps(result))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from train.fit import export_model

    if not args.model.is_file():
        raise FileNotFoundError(f"{args.model}: no such checkpoint")
    if args.dest.suffix != ".keras":
        raise ValueError(f"{args.dest}: the exported model must end in .keras")
    print(json.dumps(export_model(args.model, args.dest)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handlers = {
        "fit": run_fit,
        "compare-optimizers": run_compare,
        "sweep-lr": run_sweep,
        "curves": run_curves,
        "evaluate": run_evaluate,
        "export": run_export,
    }
    try:
        check_paths(args)
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("train: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:  # DataError is a ValueError
        if args.debug:
            raise
        print(f"train: error: {one_line(exc)}", file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    """``exc`` as one line; an ``OSError`` names its file and reason, not ``[Errno N]``."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_paths(args: argparse.Namespace) -> None:
    """Before TensorFlow loads and data is read: inputs exist and outputs can be written.

    Raises:
        FileNotFoundError, PermissionError: naming the flag and the path.
    """
    from edge.paths import unwritable_file

    data = getattr(args, "data", None)
    if data is not None and not data.exists():
        raise FileNotFoundError(f"--data {data}: no such data folder or CSV file")
    model = getattr(args, "model", None)
    if model is not None and not model.exists():
        raise FileNotFoundError(f"--model {model}: no such model file")
    for flag in ("init", "teacher"):
        path = getattr(args, flag, None)
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"--{flag} {path}: no such model file")
    outputs = {
        "fit": ("--out", lambda: args.out / "history.csv"),
        "compare-optimizers": ("--out", lambda: args.out / "optimizers.csv"),
        "sweep-lr": ("--out", lambda: args.out / "sweep.csv"),
        "evaluate": ("--plot", lambda: args.plot),
        "curves": ("--out", lambda: args.out),
        "export": ("DEST", lambda: args.dest),
    }
    flag, path = outputs[args.command]
    target = path()
    reason = unwritable_file(target) if target is not None else None
    if reason:
        raise PermissionError(f"cannot write {flag} ({reason})")
