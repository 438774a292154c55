"""``python -m edge run|selftest|bench``: ``main(argv) -> exit code``.

Errors the user can fix (``EdgeError``: bad config, missing model, no camera...) print one line
``edge: error: ...`` and exit 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from edge import config as config_mod
from edge.cliargs import OneLineParser, nonnegative_int, positive_int
from edge.config import BACKENDS, LOG_LEVELS, MODES, Config
from edge.errors import EdgeError

if TYPE_CHECKING:
    from edge.smile import SmileCamera

log = logging.getLogger("edge")


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
            return bench(cfg, args)
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


def check_writable_file(path: Path, what: str) -> None:
    """``path`` can be written: its folder takes a new file, it is no folder nor read-only."""
    from edge.paths import unwritable_file

    reason = unwritable_file(path)
    if reason:
        raise EdgeError(f"cannot write {what} ({reason})")


def check_writable_dir(directory: Path, what: str) -> None:
    """A file can be made in ``directory`` (made if missing); a full disk is let through (its
    writer copes at run time).

    Raises:
        EdgeError: naming ``what`` and the reason (a file, read-only, no permission).
    """
    from edge.paths import FULL, unwritable

    exc = unwritable(directory)
    if exc is not None and exc.errno in FULL:
        log.error("%s %s: %s; starting anyway", what, directory, exc.strerror)
    elif exc is not None:
        raise EdgeError(f"cannot write {what} {directory}: {exc.strerror}")


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


def load_labels(cfg: Config) -> tuple[str, ...]:
    from edge.labels import read_labels

    if not cfg.model.labels.is_file():
        raise EdgeError(f"labels file not found: {cfg.model.labels}")
    return read_labels(cfg.model.labels)


def _run(cfg: Config, stop: threading.Event, max_frames: int | None) -> int:
    from edge import pipeline
    from edge.backends import load_classifier
    from edge.notify import Watchdog, notify
    from edge.sinks import FanOut
    from edge.sinks.events import open_events
    from edge.sources import open_source

    labels = load_labels(cfg)
    # Every output path is checked before the model, HTTP, MQTT or the camera start.
    events = open_events(cfg.events.path, labels, on_closed=stop.set)
    sinks = FanOut([events] if events else [])
    try:
        if cfg.run.mode == "smile":
            from edge.smile import capture_directory

            check_writable_dir(capture_directory(cfg.capture.directory), "capture.directory")
        classifier = load_classifier(cfg.model)
        metrics, network = network_sinks(cfg, labels, classifier, events)
        sinks = FanOut([s for s in (events, metrics, *network) if s is not None])
        timer = metrics.stage_timer() if metrics is not None else None
        stages = pipeline.Pipeline.from_config(cfg, classifier, labels, timer)
        source = open_source(cfg.source)
    except BaseException:
        sinks.close()  # the events file lock; the network sinks run threads
        raise
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


def network_sinks(
    cfg: Config, labels: tuple[str, ...], classifier: object, events: object = None
) -> tuple:
    """``[http]`` (status page, /metrics, preview) and ``[mqtt]`` sinks, when enabled.

    Returns ``(metrics, [web, mqtt])``; disabled parts are None and import nothing.
    ``emotion_events_dropped`` counts MQTT's and the events file's (``events.dropped``) losses.
    """
    backend = lambda: getattr(classifier, "name", "?")  # noqa: E731  (follows failover)
    mqtt = metrics = web = None
    if cfg.mqtt.enabled:
        from edge.sinks.mqtt import MqttSink

        mqtt = MqttSink(cfg.mqtt, labels, backend=backend)
    if cfg.http.enabled:
        from edge.sinks.http import WebSink
        from edge.sinks.metrics import Metrics

        def dropped() -> int:
            return (mqtt.dropped if mqtt else 0) + getattr(events, "dropped", 0)

        metrics = Metrics(classifier, dropped=dropped)
        try:
            web = WebSink(cfg.http, labels, metrics, backend=backend)
        except BaseException:
            if mqtt is not None:
                mqtt.close()
            raise
    return metrics, [web, mqtt]


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


def bench(cfg: Config, args: argparse.Namespace) -> int:
    """``python -m edge bench``: a table on stdout, ``--json`` a JSON object as the last line."""
    try:
        return _bench(cfg, args)
    except (ValueError, OSError, KeyError) as exc:  # a bad --truth/--compare file, no frames
        if args.debug:
            raise
        raise EdgeError(f"bench: {exc}") from exc


def _bench(cfg: Config, args: argparse.Namespace) -> int:
    import json

    from edge import bench as bench_mod
    from edge.backends import load_classifier
    from edge.bench_report import append_csv, compare, read_csv, table
    from edge.errors import BackendUnavailable, ModelError
    from edge.pipeline import Pipeline

    labels = load_labels(cfg)
    if args.out:
        check_writable_file(args.out, "--out")
    if args.compare and not args.compare.is_file():  # read after the run: check it before
        raise EdgeError(f"--compare {args.compare}: no such CSV file")
    backends = ("edgetpu", "cpu") if args.backend == "all" else (cfg.model.backend,)
    opts = bench_mod.BenchOptions(args.frames, args.warmup, args.loop, args.preload, args.truth)
    results, skipped = [], {}
    for backend in backends:
        try:
            classifier = load_classifier(cfg.model, backend)
        except (BackendUnavailable, ModelError) as exc:
            if len(backends) == 1:
                raise
            skipped[backend] = str(exc)
            log.warning("bench: skipping %s: %s", backend, exc)
            continue
        if args.model_only:
            results.append(bench_mod.model_only(classifier, args.runs, args.warmup))
        else:
            stages = Pipeline.from_config(cfg, classifier, labels)
            results.append(bench_mod.bench_pipeline(cfg, stages, labels, opts))
        results[-1]["model"] = bench_mod.model_name(classifier, cfg.model)
    if not results:
        raise BackendUnavailable(f"no backend to bench: {skipped}")
    print(table(results, skipped))
    if args.compare:
        print(compare(results, read_csv(args.compare)))
    if args.out:
        append_csv(args.out, results)
        print(f"appended {len(results)} row(s) to {args.out}")
    if args.json:
        summary = dict(results[0])
        if args.backend == "all":
            summary |= {"backend": results[0]["backend"], "runs": results, "skipped": skipped}
        print(json.dumps(summary, separators=(",", ":")))
    return 0
