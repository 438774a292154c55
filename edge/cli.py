"""``python -m edge run|selftest|bench``: ``main(argv) -> exit code``.

Errors the user can fix (``EdgeError``: bad config, missing model, no camera...) print one line
``edge: error: ...`` and exit 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from edge import config as config_mod
from edge.config import BACKENDS, MODES, Config
from edge.errors import EdgeError

if TYPE_CHECKING:
    from edge.smile import SmileCamera

log = logging.getLogger("edge")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run the daemon"), ("selftest", "check camera, TPU and CPU")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", type=Path, help="TOML file (see edge/config.example.toml)")
        p.add_argument("--source", help="auto|sample|picamera|/dev/videoN|N|video|image folder")
        p.add_argument("--backend", choices=BACKENDS, help="inference backend (default: auto)")
        p.add_argument("--model", type=Path, help="CPU int8 .tflite (model.path)")
        p.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR")
        p.add_argument("--debug", action="store_true", help="tracebacks and DEBUG logs")
    run_p = sub.choices["run"]
    run_p.add_argument("--events", help="JSON lines per frame to FILE, or - for stdout")
    run_p.add_argument("--max-frames", type=positive_int, help="stop after N frames")
    run_p.add_argument("--mode", choices=MODES, help="watch (events) | smile (also stills)")
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """The config file (or defaults) with the CLI flags on top, validated."""
    cfg = config_mod.load(args.config)
    return config_mod.override(
        cfg,
        run={"mode": getattr(args, "mode", None)},
        source={"uri": args.source},
        model={"backend": args.backend, "path": args.model},
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
        return run(cfg, max_frames=args.max_frames)
    except EdgeError as exc:
        if args.debug:
            raise
        print(f"edge: error: {exc}", file=sys.stderr)
        return 1


def install_signal_handlers(stop: threading.Event) -> dict[int, object]:
    """SIGTERM (systemd stop) and SIGINT (Ctrl-C) end the loop after the current frame.

    Returns the previous handlers, for ``restore_signal_handlers``.
    """

    def handler(signum: int, _frame: object) -> None:
        log.info("%s received, stopping", signal.Signals(signum).name)
        stop.set()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def restore_signal_handlers(previous: dict[int, object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def run(cfg: Config, max_frames: int | None = None) -> int:
    """Build every stage from ``cfg``, then loop until the source ends or a signal arrives."""
    stop = threading.Event()
    previous = install_signal_handlers(stop)
    try:
        return _run(cfg, stop, max_frames)
    finally:
        restore_signal_handlers(previous)


def _run(cfg: Config, stop: threading.Event, max_frames: int | None) -> int:
    from edge import pipeline
    from edge.backends import load_classifier
    from edge.events import open_events
    from edge.faces import HaarFaceDetector
    from edge.labels import read_labels
    from edge.notify import Watchdog, notify
    from edge.sinks import FanOut
    from edge.sources import open_source
    from edge.tracking import Tracker

    labels = read_labels(cfg.model.labels) if cfg.model.labels.is_file() else None
    if labels is None:
        raise EdgeError(f"labels file not found: {cfg.model.labels}")
    f, t = cfg.faces, cfg.tracking
    detector = HaarFaceDetector(f.cascade, f.scale_factor, f.min_neighbors, f.min_size, f.max_faces)
    classifier = load_classifier(cfg.model)
    tracker = Tracker(labels, t.iou_min, t.max_missed, t.ema_alpha, t.hysteresis)
    stages = pipeline.Pipeline(detector, classifier, tracker, cfg.faces)
    events = open_events(cfg.events.path, labels)
    sinks = FanOut([s for s in (events,) if s is not None])
    source = open_source(cfg.source)
    log.info("source: %s; model: %s; backend: %s", source.name, cfg.model.path, classifier.name)
    after = [smile_camera(cfg, labels, classifier, source).apply] if cfg.run.mode == "smile" else []
    watchdog = Watchdog()
    notify(f"READY=1\nSTATUS=running on {classifier.name}")
    try:
        stats = pipeline.run(
            source,
            stages,
            sinks.handle,
            stop,
            read_retries=cfg.source.read_retries,
            retry_delay_s=cfg.source.retry_delay_s,
            on_frame=watchdog.ping,
            max_frames=max_frames,
            stages_after=after,
        )
    finally:
        notify("STOPPING=1")
        source.close()
        sinks.close()
    fps = stats.frames / stats.seconds if stats.seconds > 0 else 0.0
    log.info(
        "done: %d frames (%d with faces, %d faces, %d tracks) in %.1f s, %.1f fps, backend %s",
        stats.frames,
        stats.frames_with_faces,
        stats.faces,
        len(stats.track_ids),
        stats.seconds,
        fps,
        classifier.name,
    )
    return 0


def smile_camera(
    cfg: Config, labels: tuple[str, ...], classifier: object, source: object
) -> SmileCamera:
    """The smile-mode stage: ``[trigger]`` + ``[capture]``, stills from the source if it can."""
    from edge.capture import CaptureWriter
    from edge.smile import SmileCamera, capture_directory, source_still
    from edge.trigger import SmileTrigger

    directory = capture_directory(cfg.capture.directory)
    writer = CaptureWriter(dataclasses.replace(cfg.capture, directory=directory))
    model = cfg.model.path.name

    def info() -> dict[str, str]:
        backend = getattr(classifier, "name", "?")
        return {
            "backend": backend,
            "model": cfg.model.edgetpu_path.name if backend == "edgetpu" else model,
        }

    t = cfg.trigger
    log.info(
        "smile mode: %d+ face(s) above %.2f for %d frames, cooldown %g s; stills in %s",
        t.min_faces,
        t.threshold,
        t.frames,
        t.cooldown_s,
        directory,
    )
    return SmileCamera(SmileTrigger(t), writer, labels, info, still=source_still(source))
