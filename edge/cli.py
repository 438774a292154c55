"""``python -m edge run|selftest|bench``: ``main(argv) -> exit code``.

Parses the arguments, loads the config, sets up logging and hands over: ``run`` to
``edge.daemon``, ``selftest`` to ``edge.selftest``, ``bench`` to ``edge.bench_command``.

Errors the user can fix (``EdgeError``: bad config, missing model, no camera...) print one line
``edge: error: ...`` and exit 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from edge import config as config_mod
from edge.cliargs import OneLineParser, nonnegative_int, positive_int
from edge.config import BACKENDS, LOG_LEVELS, MODES, Config
from edge.errors import EdgeError


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m edge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    commands = (
        ("run", "run the daemon"),
        ("selftest", "check camera, TPU and CPU"),
        ("bench", "latency per stage, fps, CPU and memory (see edge/bench.py)"),
    )
    for name, text in commands:
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", type=Path, help="TOML file (see edge/config.example.toml)")
        p.add_argument("--source", help="auto|sample|picamera|/dev/videoN|N|video|image folder")
        choices = (*BACKENDS, "all") if name == "bench" else BACKENDS
        p.add_argument("--backend", choices=choices, help="inference backend (default: auto)")
        p.add_argument("--model", type=Path, help="CPU int8 .tflite (model.path)")
        p.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, help="default INFO")
        p.add_argument("--debug", action="store_true", help="tracebacks and DEBUG logs")
    run_p = sub.choices["run"]
    run_p.add_argument("--events", help="JSON lines per frame to FILE, or - for stdout")
    run_p.add_argument("--max-frames", type=positive_int, help="stop after N frames")
    run_p.add_argument("--mode", choices=MODES, help="watch (events) | smile (also stills)")
    add_bench_arguments(sub.choices["bench"])
    return parser


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=positive_int, help="timed frames (default: to the end)")
    p.add_argument(
        "--warmup", type=nonnegative_int, default=10, help="untimed first frames/inferences"
    )
    p.add_argument("--loop", action="store_true", help="restart a finite source at its end")
    p.add_argument("--preload", action="store_true", help="decode the source into memory first")
    p.add_argument("--truth", type=Path, help="the clip's truth JSON: adds recall, label acc")
    p.add_argument("--detect-every", type=positive_int, help="faces.detect_every for this run")
    p.add_argument("--detect-width", type=int, help="faces.detect_width for this run")
    p.add_argument("--json", action="store_true", help="one JSON object as the last line")
    p.add_argument("--out", type=Path, help="append a row per backend to this CSV")
    p.add_argument("--compare", type=Path, help="print deltas against an earlier CSV")
    p.add_argument("--model-only", action="store_true", help="time classify() alone")
    p.add_argument("--runs", type=positive_int, default=1000, help="--model-only inferences")


def load_config(args: argparse.Namespace) -> Config:
    """The config file (or defaults) with the CLI flags on top, validated."""
    cfg = config_mod.load(args.config)
    backend = None if args.backend == "all" else args.backend
    return config_mod.override(
        cfg,
        run={"mode": getattr(args, "mode", None)},
        faces={
            "detect_every": getattr(args, "detect_every", None),
            "detect_width": getattr(args, "detect_width", None),
        },
        source={"uri": args.source},
        model={"backend": backend, "path": args.model},
        events={"path": getattr(args, "events", None)},
        log={"level": "DEBUG" if args.debug else args.log_level},
    )


def setup_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=level.upper(),
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("DEBUG" if args.debug else (args.log_level or "INFO").upper())
    try:
        cfg = load_config(args)
        setup_logging(cfg.log.level)
        if args.command == "selftest":
            from edge.selftest import selftest

            return selftest(cfg)
        if args.command == "bench":
            from edge.bench_command import bench

            return bench(cfg, args)
        from edge.daemon import run

        return run(cfg, max_frames=args.max_frames)
    except EdgeError as exc:
        if args.debug:
            raise
        print(f"edge: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of stdout went away (``| head -1``): end quietly
        silence_stdout()
        return 0


def silence_stdout() -> None:
    """Point fd 1 at /dev/null, so the flush at exit does not fail on a closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already gone
        pass
