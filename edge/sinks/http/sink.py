"""The HTTP sink: ``WebSink`` and its ``[http]`` section.

``WebSink`` is a ``Sink``. On the frame loop it only keeps a reference to the latest result
and, while a preview client asked within the last 2 s, hands the frame to the ``Preview``
(``preview.py``), whose own thread draws and JPEG-encodes it. A ``ThreadingHTTPServer``
(``server.py``) serves the routes (``routes.py``) on another thread, so no client ever waits
the loop.

Routes: ``/`` (status page), ``/status.json``, ``/healthz`` (503 when no frame for
``stale_after_s``), ``/metrics``, ``/stream.mjpg``, ``/snapshot.jpg``, ``/capture/<n>.jpg``.
With ``token`` set every route needs ``Authorization: Bearer <token>`` or ``?token=<token>``.
With ``preview = false`` (the default) no image route exists: no face image leaves the device.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.errors import config_check
from edge.sinks.http.preview import Preview
from edge.sinks.http.server import Server

if TYPE_CHECKING:
    from edge.sinks.metrics import Metrics
    from edge.types import Face, Frame, FrameResult

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"


_check = config_check("http")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HttpConfig:
    """The ``[http]`` section.

    Attributes:
        enabled: serve HTTP at all.
        host: bind address; anything but loopback needs ``token``.
        port: TCP port (0 = any free port, for tests).
        token: bearer token ("" = none; required off loopback), at least 16 characters.
        preview: serve the annotated preview and capture thumbnails (face images!).
        preview_fps: most preview JPEGs encoded per second.
        preview_width: preview width in pixels (downscaled, never upscaled).
        jpeg_quality: preview JPEG quality, 1..100.
        max_stream_clients: concurrent ``/stream.mjpg`` clients; more get 503.
        max_clients: concurrent connections of any kind; more are closed at once.
        stale_after_s: ``/healthz`` is 503 when no frame was handled for this long.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    token: str = ""
    preview: bool = False
    preview_fps: float = 5.0
    preview_width: int = 640
    jpeg_quality: int = 70
    max_stream_clients: int = 16
    max_clients: int = 128
    stale_after_s: float = 5.0

    def __post_init__(self) -> None:
        _check(bool(self.host), "host", "a non-empty address")
        _check(0 <= self.port <= 65535, "port", "in [0, 65535]")
        _check(self.token == "" or len(self.token) >= 16, "token", "empty or >= 16 characters")
        _check(is_loopback(self.host) or bool(self.token), "token", f"set to bind {self.host}")
        _check(0 < self.preview_fps <= 30, "preview_fps", "in (0, 30]")
        _check(64 <= self.preview_width <= 4096, "preview_width", "in [64, 4096]")
        _check(1 <= self.jpeg_quality <= 100, "jpeg_quality", "in [1, 100]")
        _check(1 <= self.max_stream_clients <= 1000, "max_stream_clients", "in [1, 1000]")
        streams = self.max_stream_clients
        _check(streams < self.max_clients <= 2000, "max_clients", "in (max_stream_clients, 2000]")
        _check(0 < self.stale_after_s <= 3600, "stale_after_s", "in (0, 3600]")


class WebSink:
    """A sink that serves the daemon over HTTP (see the module docstring).

    Args:
        cfg: the ``[http]`` section.
        labels: the model's labels, in score order.
        metrics: the registry behind ``/metrics`` (None: 404).
        backend: returns the backend name in use, e.g. ``lambda: classifier.name``.
        check: an extra health check returning a reason when unhealthy, else None.
        clock: monotonic seconds (health, preview rate).
    """

    def __init__(
        self,
        cfg: HttpConfig,
        labels: tuple[str, ...] | list[str],
        metrics: Metrics | None = None,
        backend: Callable[[], str] = lambda: "",
        check: Callable[[], str | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self.labels = tuple(labels)
        self.metrics = metrics
        self.backend = backend
        self.check = check
        self.clock = clock
        self.result: FrameResult | None = None
        self.last_frame_at: float | None = None
        self.captures: deque[dict[str, Any]] = deque(maxlen=5)
        self.stream_slots = threading.BoundedSemaphore(cfg.max_stream_clients)
        self.preview = Preview(cfg, clock) if cfg.preview else None
        self.page = (STATIC / "index.html").read_bytes()
        self._server = Server(cfg, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http", kwargs={"poll_interval": 0.5}
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("http: serving on http://%s:%d/ (preview %s)", *self.address, cfg.preview)

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    def handle(self, frame: Frame, result: FrameResult) -> None:
        self.result = result
        self.last_frame_at = self.clock()
        capture_no = 0
        if result.capture:
            capture_no = result.frame + 1
            self.captures.append({"n": capture_no, "ts": result.ts, **result.capture})
        if self.preview is not None:
            self.preview.offer(frame, result, capture_no)

    def health(self) -> tuple[bool, str]:
        """(healthy, reason) for ``/healthz``."""
        if self.last_frame_at is None:
            return False, "no frame yet (starting, or the camera is stuck)"
        age = self.clock() - self.last_frame_at
        if age > self.cfg.stale_after_s:
            return False, f"no frame for {age:.1f} s (camera or backend stuck)"
        reason = self.check()
        return (False, reason) if reason else (True, "ok")

    def status(self) -> dict[str, Any]:
        """The ``/status.json`` document (read on a client thread)."""
        result, (ok, reason) = self.result, self.health()
        faces = [{**f.summary(), "score": self._score(f)} for f in (result.faces if result else ())]
        thumbs = {n for n, _ in self.preview.thumbnails} if self.preview else set()
        captures = [{**c, "thumbnail": c["n"] in thumbs} for c in self.captures]
        return {
            "healthy": ok,
            "reason": reason,
            "frame": result.frame if result else None,
            "ts": result.ts if result else None,
            "fps": round(self.metrics.current_fps, 2) if self.metrics else None,
            "backend": self.backend(),
            "faces": faces,
            "captures": captures[::-1],
            "preview": self.preview is not None,
        }

    def _score(self, face: Face) -> float:
        """The smoothed score of the face's smoothed label, for the status page."""
        return round(float(face.smoothed_scores[self.labels.index(face.smoothed)]), 3)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.preview is not None:
            self.preview.close()
