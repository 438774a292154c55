"""The daemon (``python -m edge run``): every stage built from the config, then the frame loop.

Where a frame goes::

    source.read() -> Pipeline.process (detect, crop, classify, track) -> [SmileCamera.apply]
        -> FanOut: events file, Prometheus metrics, HTTP (status page, preview), MQTT

Output paths are checked first, then the model loads, the network sinks start and the source
opens; SIGTERM (systemd stop) or SIGINT ends the loop after the current frame, and the source
and sinks are closed whatever happens. ``edge.cli`` only parses the arguments and calls ``run``.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from typing import TYPE_CHECKING

from edge.config import Config
from edge.errors import EdgeError
from edge.paths import check_writable_dir

if TYPE_CHECKING:
    from edge.smile.camera import SmileCamera

log = logging.getLogger(__name__)


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
            from edge.smile.camera import capture_directory

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
    camera = smile_camera(cfg, labels, classifier, source) if cfg.run.mode == "smile" else None
    if camera is not None and metrics is not None:
        metrics.add_counter(
            "emotion_captures_failed",
            "Smile stills that could not be saved (full disk, unwritable folder)",
            lambda: camera.writer.failed,
        )
    after = [camera.apply] if camera is not None else []
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
        "done: %d frames (%d with faces, %d faces, %d tracks) in %.1f s, %.1f fps, backend %s; "
        "%s, %d failed reads",
        stats.frames,
        stats.frames_with_faces,
        stats.faces,
        stats.tracks,
        stats.seconds,
        fps,
        classifier.name,
        "the source ended" if stats.ended else "stopped",
        stats.read_failures,
    )
    if camera is not None:
        w = camera.writer
        log.info("smile: %d stills saved, %d failed, in %s", w.saved, w.failed, w.directory)
    return 0


def network_sinks(
    cfg: Config, labels: tuple[str, ...], classifier: object, events: object = None
) -> tuple:
    """``[http]`` (status page, /metrics, preview) and ``[mqtt]`` sinks, when enabled.

    Returns ``(metrics, [web, mqtt])``; disabled parts are None and import nothing.
    ``emotion_events_dropped`` counts MQTT's and the events file's (``events.dropped``) losses;
    ``emotion_mqtt_published`` / ``emotion_mqtt_errors`` export MQTT's own counters.
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
        if mqtt is not None:
            sent, failed = lambda: mqtt.published, lambda: mqtt.errors
            metrics.add_counter("emotion_mqtt_published", "MQTT messages sent to the broker", sent)
            metrics.add_counter(
                "emotion_mqtt_errors", "Frames MQTT could not turn into messages", failed
            )
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
    from edge.smile.camera import SmileCamera, capture_directory, source_still
    from edge.smile.capture import CaptureWriter
    from edge.smile.trigger import SmileTrigger

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
