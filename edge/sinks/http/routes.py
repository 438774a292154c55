"""The routes of the ``[http]`` sink: token check, then one method per path."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from edge.sinks.http.preview import Preview
    from edge.sinks.http.server import Server
    from edge.sinks.http.sink import WebSink

log = logging.getLogger(__name__)

TEXT = "text/plain; charset=utf-8"
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
SECRET = re.compile(r"(?i)(token=|bearer\s+)[^&\s\"']*")


def redact(text: str, token: str = "") -> str:
    """``text`` with ``?token=...``, ``Bearer ...`` and the configured token masked."""
    text = SECRET.sub(r"\1***", text)
    return text.replace(token, "***") if token else text


class Handler(BaseHTTPRequestHandler):
    """One connection: each GET is checked against the token, then routed by ``_ROUTES``
    (plus ``/capture/<n>.jpg``); the answer reads only what the ``WebSink`` holds."""

    server: Server
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
            route = Handler._capture
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
        from edge.sinks.metrics import CONTENT_TYPE

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


_ROUTES: dict[str, Callable[[Handler, WebSink, str], None]] = {
    "/": Handler._page,
    "/index.html": Handler._page,
    "/status.json": Handler._status,
    "/healthz": Handler._healthz,
    "/metrics": Handler._metrics,
    "/snapshot.jpg": Handler._snapshot,
    "/stream.mjpg": Handler._stream,
}
