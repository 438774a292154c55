"""Prometheus metrics of the running daemon: a sink plus a stage timer feeding one registry.

``Metrics`` is a ``Sink`` (frames, fps, faces, captures, backend switches) and hands the
pipeline a ``HistogramTimer`` for per-stage latency::

    metrics = Metrics(classifier, dropped=lambda: mqtt.dropped)
    stages = Pipeline(detector, classifier, tracker, cfg.faces, timer=metrics.stage_timer())
    metrics.add_counter("emotion_mqtt_published", "MQTT messages sent", lambda: mqtt.published)

``render()`` gives the text exposition format for ``/metrics``. Values read from other objects
(the backend in use, dropped events, counters added with ``add_counter``: MQTT messages
published, smile stills that failed) are read at scrape time, not per frame.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from edge.timing import STAGES, StageTimer

RENDER_MAX_AGE_S = 0.5

if TYPE_CHECKING:
    from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)

# Per-stage seconds: Haar detect is ~5-30 ms on a Pi 4, one Edge TPU invoke ~1-3 ms.
STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class HistogramTimer(StageTimer):
    """A ``StageTimer`` that observes each stage into a histogram instead of keeping samples."""

    def __init__(self, histogram: Histogram, clock: Callable[[], float] = time.perf_counter):
        super().__init__(enabled=True, clock=clock)
        self._children = {s: histogram.labels(stage=s) for s in STAGES}
        self._histogram = histogram

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = self.clock()
        yield
        child = self._children.get(stage) or self._histogram.labels(stage=stage)
        child.observe(self.clock() - start)


class FpsMeter:
    """Frames per second over windows of at least ``window_s`` seconds."""

    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self.clock = clock
        self.fps = 0.0
        self._start: float | None = None
        self._count = 0

    def tick(self) -> float:
        now = self.clock()
        if self._start is None:
            self._start = now
            return self.fps
        self._count += 1
        if now - self._start >= self.window_s:
            self.fps = self._count / (now - self._start)
            self._start, self._count = now, 0
        return self.fps


class _ScrapeTimeCollector:
    """Values owned by other objects, read when Prometheus scrapes."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        m = self.metrics
        info = GaugeMetricFamily(
            "emotion_backend_info", "Inference backend in use (1)", labels=["backend"]
        )
        info.add_metric([m.backend or "none"], 1.0)
        yield info
        fallbacks = CounterMetricFamily(
            "emotion_fallbacks", "Backend switches during the run (Edge TPU to CPU)"
        )
        fallbacks.add_metric([], m.fallbacks)
        yield fallbacks
        dropped = CounterMetricFamily(
            "emotion_events_dropped",
            "Events dropped (network buffers full, events file unwritable)",
        )
        dropped.add_metric([], m.dropped())
        yield dropped
        for name, documentation, read in m.counters:
            counter = CounterMetricFamily(name, documentation)
            counter.add_metric([], read())
            yield counter


class Metrics:
    """The daemon's registry and the sink that updates it (``handle`` is a few microseconds).

    Args:
        classifier: anything with ``.name``; a name change mid-run counts as a fallback.
        dropped: returns the number of events dropped so far (e.g. ``lambda: mqtt.dropped``).
        clock: monotonic seconds, for fps.
    """

    def __init__(
        self,
        classifier: Any = None,
        dropped: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = CollectorRegistry()
        self._render_lock = threading.Lock()
        self._rendered: bytes | None = None
        self._rendered_at = 0.0
        self.classifier = classifier
        self.dropped = dropped or (lambda: 0)
        self.backend = getattr(classifier, "name", "")
        self.fallbacks = 0
        self.counters: list[tuple[str, str, Callable[[], float]]] = []
        self._fps = FpsMeter(clock=clock)
        r = self.registry
        self.frames = Counter("emotion_frames", "Frames processed", registry=r)
        self.fps = Gauge("emotion_fps", "Frames per second (last ~2 s)", registry=r)
        self.faces = Gauge("emotion_faces", "Faces in the latest frame", registry=r)
        self.captures = Counter("emotion_captures", "Smile captures saved", registry=r)
        self.http_refused = Counter(
            "emotion_http_refused",
            "HTTP connections refused: every http.max_clients slot busy",
            registry=r,
        )
        self.http_idle_closed = Counter(
            "emotion_http_idle_closed",
            "Idle HTTP connections closed to make room for a new one",
            registry=r,
        )
        self.stage_seconds = Histogram(
            "emotion_stage_seconds",
            "Seconds per pipeline stage (per face for crop and infer)",
            labelnames=("stage",),
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        r.register(_ScrapeTimeCollector(self))

    def add_counter(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Export a count another object keeps (``lambda: mqtt.published``) as ``<name>_total``,
        read when Prometheus scrapes."""
        self.counters.append((name, documentation, read))

    def stage_timer(self) -> HistogramTimer:
        """A timer for ``Pipeline(..., timer=)`` that feeds ``emotion_stage_seconds``."""
        return HistogramTimer(self.stage_seconds)

    def handle(self, frame: Frame, result: FrameResult) -> None:
        self.frames.inc()
        self.fps.set(self._fps.tick())
        self.faces.set(len(result.faces))
        if result.capture:
            self.captures.inc()
        name = getattr(self.classifier, "name", "")
        if name != self.backend:
            log.info("backend changed: %s -> %s", self.backend or "none", name)
            self.fallbacks += bool(self.backend)
            self.backend = name

    @property
    def current_fps(self) -> float:
        return self._fps.fps

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (thread-safe).

        Requests within ``RENDER_MAX_AGE_S`` of each other share one rendering, so a crowd of
        scrapers costs the frame loop (which shares the GIL) one rendering per interval.
        """
        with self._render_lock:
            now = time.monotonic()
            if self._rendered is None or now - self._rendered_at >= RENDER_MAX_AGE_S:
                self._rendered, self._rendered_at = generate_latest(self.registry), now
            return self._rendered

    def close(self) -> None:
        pass
