"""The HTTP server of the ``[http]`` sink: at most ``max_clients`` connections, which idle
clients cannot fill; the routes themselves are in ``routes.py``."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from edge.errors import EdgeError
from edge.ratelimit import RateLimitedLog
from edge.sinks.http.routes import CLIENT_GONE, Handler, redact

if TYPE_CHECKING:
    from edge.sinks.http.sink import HttpConfig, WebSink

log = logging.getLogger(__name__)

EVICT_WAIT_S = 0.5  # how long a new connection waits for the idle one it displaced to close
IDLE_WAIT_S = 0.05  # how long it waits for some connection to become idle before a refusal
LOG_EVERY_S = 60.0  # refused connections and failed requests: at most one log line per minute


class Server(ThreadingHTTPServer):
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
            super().__init__((cfg.host, cfg.port), Handler)
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
