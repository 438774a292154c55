"""The optional HTTP side: health, Prometheus metrics, an annotated preview and a status page.

``WebSink`` is a ``Sink``. On the frame loop it only keeps a reference to the latest result
and, while a preview client asked within the last 2 s, copies at most ``preview_fps`` frames
per second into a one-slot mailbox. Its own thread draws and JPEG-encodes them; a stdlib
``ThreadingHTTPServer`` on another thread serves clients, so no client ever waits the loop.

Routes: ``/`` (status page), ``/status.json``, ``/healthz`` (503 when no frame for
``stale_after_s``), ``/metrics``, ``/stream.mjpg``, ``/snapshot.jpg``, ``/capture/<n>.jpg``.
With ``token`` set every route needs ``Authorization: Bearer <token>`` or ``?token=<token>``.
With ``preview = false`` (the default) no image route exists: no face image leaves the device.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from edge.errors import EdgeError, config_check
from edge.ratelimit import RateLimitedLog

if TYPE_CHECKING:
    import numpy as np

    from edge.metrics import Metrics
    from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
TEXT = "text/plain; charset=utf-8"
WANT_S = 2.0  # keep encoding this long after the last preview request
EVICT_WAIT_S = 0.5  # how long a new connection waits for the idle one it displaced to close
IDLE_WAIT_S = 0.05  # how long it waits for some connection to become idle before a refusal
LOG_EVERY_S = 60.0  # refused connections and failed requests: at most one log line per minute
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
SECRET = re.compile(r"(?i)(token=|bearer\s+)[^&\s\"']*")


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


def annotate(bgr: np.ndarray, faces: tuple, width: int) -> np.ndarray:
    """A copy of ``bgr`` at most ``width`` wide with each face's box, id and smoothed label."""
    import cv2

    scale = min(1.0, width / bgr.shape[1])
    out = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    for f in faces:
        x, y, w, h = (round(v * scale) for v in f.box)
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
        text = f"#{f.id} {f.smoothed}"
        cv2.putText(out, text, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
    return out


def redact(text: str, token: str = "") -> str:
    """``text`` with ``?token=...``, ``Bearer ...`` and the configured token masked."""
    text = SECRET.sub(r"\1***", text)
    return text.replace(token, "***") if token else text


def mjpeg_part(jpeg: bytes) -> bytes:
    """One ``multipart/x-mixed-replace; boundary=frame`` part holding ``jpeg``."""
    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


class Preview:
    """The latest annotated JPEG, encoded on its own thread, at most ``fps`` per second."""

    def __init__(self, cfg: HttpConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.clock = clock
        self.seq = 0
        self.jpeg = b""
        self.jpeg_at = 0.0
        self.part = b""  # the multipart chunk of ``jpeg`` for /stream.mjpg
        self.thumbnails: deque[tuple[int, bytes]] = deque(maxlen=5)
        self._wanted_until = 0.0
        self._next_due = 0.0
        self._job: tuple | None = None
        self._captures: deque[tuple[int, np.ndarray]] = deque(maxlen=3)
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._work, name="preview", daemon=True)
        self._thread.start()

    def want(self) -> None:
        """A client wants frames: keep encoding for the next ``WANT_S`` seconds."""
        self._wanted_until = self.clock() + WANT_S

    def offer(self, frame: Frame, result: FrameResult, capture_no: int) -> None:
        """Frame loop: copy the frame if a client wants it and one is due (O(1) otherwise)."""
        now = self.clock()
        due = now < self._wanted_until and now >= self._next_due
        if not due and not capture_no:
            return
        bgr = frame.bgr.copy()  # the source may reuse its buffer
        with self._cond:
            if due:
                self._next_due = now + 1.0 / self.cfg.preview_fps
                self._job = (bgr, result.faces)
            if capture_no:
                self._captures.append((capture_no, bgr))
            self._cond.notify_all()

    def wait_newer(self, seq: int, timeout: float, part: bool = False) -> tuple[int, bytes] | None:
        """The latest JPEG (or its multipart chunk) once its number is above ``seq``; None
        after ``timeout`` s."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self.seq > seq or self._stop, timeout)
            if not ok or self.seq <= seq:
                return None
            return self.seq, self.part if part else self.jpeg

    def latest(self, max_age_s: float, timeout: float) -> bytes | None:
        """A JPEG at most ``max_age_s`` old, waiting up to ``timeout`` s for a new one."""
        self.want()
        seq, fresh = self.seq, self.clock() - self.jpeg_at <= max_age_s
        if fresh and self.jpeg:
            return self.jpeg
        got = self.wait_newer(seq, timeout)
        return got[1] if got else None

    @property
    def closed(self) -> bool:
        return self._stop

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _work(self) -> None:
        import cv2

        quality = [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality]
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job or self._captures or self._stop)
                if self._stop:
                    return
                job, self._job = self._job, None
                capture = self._captures.popleft() if self._captures else None
            try:
                if job is not None:
                    image = annotate(job[0], job[1], self.cfg.preview_width)
                    data = cv2.imencode(".jpg", image, quality)[1].tobytes()
                    part = mjpeg_part(data)  # built once, written to every stream client
                    with self._cond:
                        self.seq, self.jpeg, self.jpeg_at = self.seq + 1, data, self.clock()
                        self.part = part
                        self._cond.notify_all()
                if capture is not None:
                    small = annotate(capture[1], (), 240)
                    self.thumbnails.append((capture[0], cv2.imencode(".jpg", small)[1].tobytes()))
            except Exception:  # a bad frame must not end the preview
                log.exception("preview encoding failed")


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
        self._server = _Server(cfg, self)
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
        faces = [
            {
                "id": f.id,
                "box": [int(v) for v in f.box],
                "emotion": f.emotion,
                "smoothed": f.smoothed,
                "score": round(float(f.smoothed_scores[self.labels.index(f.smoothed)]), 3),
            }
            for f in (result.faces if result else ())
        ]
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

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.preview is not None:
            self.preview.close()


class _Server(ThreadingHTTPServer):
    """A threading server of at most ``max_clients`` connections that idle clients cannot fill.

    A connection waiting for its next request (idle, or keep-alive between requests) is
    tracked; when every slot is taken, the oldest idle one is closed to make room for the new
    one, so ``/healthz`` and ``/metrics`` answer while hoarders hold sockets open. Only when
    all slots are busy is the new connection refused: a 503, counted
    (``emotion_http_refused_total``) and logged at most once per ``LOG_EVERY_S``.
    """

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, cfg: HttpConfig, app: WebSink) -> None:
        self.app = app
        self.slots = threading.BoundedSemaphore(cfg.max_clients)
        self.refused = 0
        self.idle_closed = 0
        self._idle: dict[socket.socket, float] = {}  # connection -> idle since (monotonic)
        self._idle_lock = threading.Lock()
        self._refusals = RateLimitedLog(log, LOG_EVERY_S)
        self.failures = RateLimitedLog(log, LOG_EVERY_S)
        try:
            super().__init__((cfg.host, cfg.port), _Handler)
        except OSError as exc:
            raise EdgeError(f"http: cannot listen on {cfg.host}:{cfg.port}: {exc}") from None

    def mark_idle(self, connection: socket.socket, idle: bool) -> None:
        with self._idle_lock:
            if idle:
                self._idle[connection] = time.monotonic()
            else:
                self._idle.pop(connection, None)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._take_slot():
            self._refuse(request, client_address)
            return
        super().process_request(request, client_address)

    def _take_slot(self) -> bool:
        """A free slot, or the oldest idle connection's once it has closed; False if every
        connection is busy (a just-accepted one gets ``IDLE_WAIT_S`` to reach its first read)."""
        if self.slots.acquire(blocking=False):
            return True
        deadline = time.monotonic() + IDLE_WAIT_S
        while not self._close_oldest_idle():
            if time.monotonic() >= deadline:
                return False
            if self.slots.acquire(timeout=0.005):
                return True
        return self.slots.acquire(timeout=EVICT_WAIT_S)

    def _close_oldest_idle(self) -> bool:
        with self._idle_lock:
            if not self._idle:
                return False
            oldest = min(self._idle, key=self._idle.__getitem__)
            del self._idle[oldest]
        try:
            oldest.shutdown(socket.SHUT_RDWR)  # its thread's read returns: the slot frees
        except OSError:
            pass
        self.idle_closed += 1
        if self.app.metrics is not None:
            self.app.metrics.http_idle_closed.inc()
        return True

    def _refuse(self, request: Any, client_address: Any) -> None:
        self.refused += 1
        if self.app.metrics is not None:
            self.app.metrics.http_refused.inc()
        self._refusals.log(
            logging.WARNING,
            "http: %d connections busy (http.max_clients), refusing %s",
            self.app.cfg.max_clients,
            client_address[0],
        )
        try:
            request.setblocking(False)
            request.send(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, CLIENT_GONE):  # closed before the whole answer was read: its choice
            log.debug("http: client %s went away (%s)", client_address[0], type(exc).__name__)
            return
        self.failures.log(
            logging.WARNING,
            "http: request from %s failed: %s",
            client_address[0],
            redact(f"{type(exc).__name__}: {exc}", self.app.cfg.token),
        )
        log.debug("http: request failure", exc_info=True)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.mark_idle(request, False)
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds a client may stall a read or write (slow or silent clients)
    error_content_type = TEXT
    error_message_format = "%(code)d %(message)s\n"

    def log_message(self, format: str, *args: Any) -> None:
        token = self.server.app.cfg.token
        args = tuple(redact(a, token) if isinstance(a, str) else a for a in args)
        log.debug("http %s: " + format, self.address_string(), *args)

    def handle_one_request(self) -> None:
        self.server.mark_idle(self.connection, True)  # until the request line arrives
        try:
            super().handle_one_request()
        finally:
            self.server.mark_idle(self.connection, False)

    def parse_request(self) -> bool:
        ok = super().parse_request()  # reads the headers: a slow sender stays evictable
        self.server.mark_idle(self.connection, False)
        return ok

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        app = self.server.app
        if not self._authorized(app.cfg.token, parse_qs(url.query).get("token", [""])[0]):
            self._send(401, b"unauthorized\n", extra={"WWW-Authenticate": "Bearer"})
            return
        route = _ROUTES.get(url.path)
        if route is None and url.path.startswith("/capture/") and url.path.endswith(".jpg"):
            route = _Handler._capture
        if route is None:
            self._send(404, b"not found\n")
            return
        try:
            route(self, app, url.path)
        except CLIENT_GONE:
            log.debug("http: client %s went away", self.address_string())

    def _authorized(self, token: str, query_token: str) -> bool:
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        given = given[7:] if given.startswith("Bearer ") else query_token
        return hmac.compare_digest(given.encode(), token.encode())

    def _send(self, code: int, body: bytes, ctype: str = TEXT, extra: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, app: WebSink, _path: str) -> None:
        self._send(200, app.page, "text/html; charset=utf-8")

    def _status(self, app: WebSink, _path: str) -> None:
        body = json.dumps(app.status(), default=str).encode()
        self._send(200, body, "application/json")

    def _healthz(self, app: WebSink, _path: str) -> None:
        ok, reason = app.health()
        self._send(200 if ok else 503, f"{'ok' if ok else 'unhealthy'}: {reason}\n".encode())

    def _metrics(self, app: WebSink, _path: str) -> None:
        if app.metrics is None:
            self._send(404, b"metrics disabled\n")
            return
        from edge.metrics import CONTENT_TYPE

        self._send(200, app.metrics.render(), CONTENT_TYPE)

    def _snapshot(self, app: WebSink, _path: str) -> None:
        if app.preview is None:
            self._send(404, b"preview disabled (http.preview = false)\n")
            return
        jpeg = app.preview.latest(max_age_s=1.0, timeout=3.0)
        if jpeg is None:
            self._send(503, b"no recent frame\n")
            return
        self._send(200, jpeg, "image/jpeg")

    def _stream(self, app: WebSink, _path: str) -> None:
        if app.preview is None:
            self._send(404, b"preview disabled (http.preview = false)\n")
            return
        if not app.stream_slots.acquire(blocking=False):
            self._send(503, b"too many stream clients\n", extra={"Retry-After": "5"})
            return
        try:
            self._stream_frames(app.preview)
        finally:
            app.stream_slots.release()

    def _stream_frames(self, preview: Preview) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        seq = 0
        while not preview.closed:
            preview.want()
            got = preview.wait_newer(seq, 1.0, part=True)
            if got is not None:
                seq = got[0]
                self.wfile.write(got[1])

    def _capture(self, app: WebSink, path: str) -> None:
        name = path[len("/capture/") : -len(".jpg")]
        thumbs = dict(app.preview.thumbnails) if app.preview else {}
        number = name.isascii() and name.isdigit() and len(name) <= 9  # not "²", not 5,000 digits
        data = thumbs.get(int(name)) if number else None
        if data is None:
            self._send(404, b"no such capture thumbnail\n")
            return
        self._send(200, data, "image/jpeg")


_ROUTES: dict[str, Callable[[_Handler, WebSink, str], None]] = {
    "/": _Handler._page,
    "/index.html": _Handler._page,
    "/status.json": _Handler._status,
    "/healthz": _Handler._healthz,
    "/metrics": _Handler._metrics,
    "/snapshot.jpg": _Handler._snapshot,
    "/stream.mjpg": _Handler._stream,
}
