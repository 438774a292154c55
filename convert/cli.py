"""Command line: ``python -m convert [convert] MODEL.keras ...``, ``check``, ``latency``.

Errors become one line on stderr and exit 1 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import typing
from collections.abc import Sequence
from pathlib import Path

from convert.errors import ConvertError
from edge.cliargs import OneLineParser, positive_int

if typing.TYPE_CHECKING:
    from convert.pipeline import ConvertOptions

log = logging.getLogger(__name__)

COMMANDS = ("convert", "check", "latency")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m convert",
        description="Full-int8 TFLite for the Edge TPU: convert (default), check, latency.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    conv = sub.add_parser("convert", help="Keras model -> models/NAME_int8.tflite (+ parity)")
    conv.add_argument("model", type=Path, help="trained .keras model (raw 0..255 pixel input)")
    conv.add_argument("--data", type=Path, required=True, help="FER-2013 root with train/ and val/")
    conv.add_argument("--out", type=Path, default=Path("models"), help="output folder")
    conv.add_argument(
        "--calibration-size",
        type=int,
        default=700,
        metavar="N",
        help="representative images from train, balanced across classes",
    )
    conv.add_argument("--io-dtype", choices=("uint8", "int8"), default="uint8")
    conv.add_argument(
        "--max-drop",
        type=float,
        default=1.0,
        metavar="PP",
        help="largest allowed int8 accuracy loss in points",
    )
    conv.add_argument(
        "--require-edgetpu", action="store_true", help="fail when edgetpu_compiler is not on PATH"
    )
    conv.add_argument(
        "--name",
        default="emotion",
        help="output stem: emotion (the accurate model, default) or emotion_fast (the CPU model)",
    )
    conv.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="skip edgetpu_compiler (a CPU-only model, e.g. the fast one)",
    )

    check = sub.add_parser("check", help="Edge TPU readiness report (no compiler needed)")
    check.add_argument("model", type=Path)

    lat = sub.add_parser("latency", help="per-face CPU latency (median/p95)")
    lat.add_argument("model", type=Path)
    lat.add_argument("--runs", type=positive_int, default=1000)
    lat.add_argument("--threads", type=positive_int, default=1)
    lat.add_argument("--json", type=Path, help="also write the figures here")

    for p in (conv, check, lat):
        p.add_argument("--debug", action="store_true", help="verbose logs, tracebacks")
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    argv = list(argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in COMMANDS and not {"-h", "--help"} & set(argv[:1]):
        argv.insert(0, "convert")  # `python -m convert MODEL.keras ...` as in the issue
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        check_paths(args)
        return _dispatch(args)
    except (ConvertError, OSError) as exc:  # OSError: a file system fault met mid-run
        if args.debug:
            raise
        print(f"convert: error: {one_line(exc)}", file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    """``exc`` as one line; an ``OSError`` names its file and reason, not ``[Errno N]``."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def check_paths(args: argparse.Namespace) -> None:
    """Before TensorFlow loads: the outputs can be written and the data folder is complete."""
    from edge.paths import unwritable_file

    outputs = []
    if args.command == "convert":
        from convert.pipeline import validate

        validate(options(args))  # the model, --data and --out exist as they should
        outputs = [args.out / ".convert-check"]
        check_data(args.data)
    elif args.command == "latency" and args.json:
        outputs = [args.json]
    for path in outputs:
        reason = unwritable_file(path)
        if reason:
            flag = "--out" if args.command == "convert" else "--json"
            raise ConvertError(f"cannot write {flag} ({reason})")


def check_data(data: Path) -> None:
    """``--data``: a CSV file, or a folder with train/ and val/, each with 7 non-empty class
    folders (the rows and images themselves are read, and checked, after the model loads)."""
    from edge.labels import EMOTIONS

    if data.suffix.lower() == ".csv" or not data.is_dir():
        if not data.exists():
            raise ConvertError(f"--data {data}: no such data folder or CSV file")
        return
    is_split = all((data / name).is_dir() for name in EMOTIONS)  # train.data accepts one
    for split in ("train", "val"):
        root = data if is_split and not (data / split).is_dir() else data / split
        for name in EMOTIONS:
            folder = root / name
            if not folder.is_dir():
                raise ConvertError(f"--data {data}: missing class folder {folder}")
            if not any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
                raise ConvertError(f"--data {data}: class folder {folder} has no images")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "check":
        from convert.check import check_file
        from convert.tflite_file import TfliteFileError

        try:
            readiness = check_file(args.model)
        except TfliteFileError as exc:
            raise ConvertError(str(exc)) from None
        print(readiness.text())
        return 0 if readiness.ready else 1
    if args.command == "latency":
        from convert.latency import format_latency, measure_latency
        from edge.fsio import write_atomic

        try:
            result = measure_latency(args.model, runs=args.runs, threads=args.threads)
        except ValueError as exc:  # the interpreter's "not a valid Flatbuffer" and the like
            raise ConvertError(f"{args.model}: cannot load the model ({one_line(exc)})") from None
        print(format_latency(result))
        if args.json:
            write_atomic(args.json, json.dumps(result, indent=2) + "\n", umask=False)
        return 0
    from convert.pipeline import run_convert

    return run_convert(options(args))


def options(args: argparse.Namespace) -> ConvertOptions:
    from convert.pipeline import ConvertOptions

    return ConvertOptions(
        model=args.model,
        data=args.data,
        out=args.out,
        calibration_size=args.calibration_size,
        io_dtype=args.io_dtype,
        max_drop_pp=args.max_drop,
        require_edgetpu=args.require_edgetpu,
        name=args.name,
        compile=args.compile,
    )
