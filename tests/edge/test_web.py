"""WebSink over real loopback HTTP: health, auth, metrics, preview, status, hostile clients."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from edge.errors import ConfigError
from edge.labels import EMOTIONS
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import one_hot

pytest.importorskip("prometheus_client")
from edge.sinks.http import HttpConfig, WebSink  # noqa: E402
from edge.sinks.metrics import Metrics  # noqa: E402

TOKEN = "t0ken-t0ken-t0ken"
ORANGE = (0, 160, 255)  # BGR
BOX = Box(200, 120, 160, 160)


def frame_and_result(n: int, capture: dict | None = None) -> tuple[Frame, FrameResult]:
    bgr = np.full((480, 640, 3), ORANGE, np.uint8)
    s = one_hot("happy", 0.8)
    face = Face(3, BOX, "happy", "happy", s, s)
    return Frame(bgr), FrameResult(n, 1000.0 + n, (face,), capture)


class Driver:
    """Feeds the sink ~50 frames/s on its own thread, like the frame loop."""

    def __init__(self, sink: WebSink, capture_at: int = -1) -> None:
        self.sink, self.capture_at, self.frames = sink, capture_at, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            capture = {"image": "/captures/smile-1.jpg"} if self.frames == self.capture_at else None
            self.sink.handle(*frame_and_result(self.frames, capture))
            self.frames += 1
            self.stop.wait(0.02)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture
def make_sink():
    made: list[WebSink] = []

    def make(**kw) -> WebSink:
        clock = kw.pop("clock", time.monotonic)
        check = kw.pop("check", lambda: None)
        cfg = HttpConfig(**{"enabled": True, "port": 0, **kw})
        sink = WebSink(cfg, EMOTIONS, Metrics(), lambda: "cpu", check, clock)
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.close()


def get(sink: WebSink, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    host, port = sink.address
    req = urllib.request.Request(f"http://{host}:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def test_healthz_follows_the_frames(make_sink):
    now = [100.0]
    reason = [None]
    sink = make_sink(clock=lambda: now[0], check=lambda: reason[0], stale_after_s=5.0)
    code, _, body = get(sink, "/healthz")
    assert code == 503 and b"no frame yet" in body
    sink.handle(*frame_and_result(0))
    assert get(sink, "/healthz")[0] == 200
    now[0] += 6.0
    code, _, body = get(sink, "/healthz")
    assert code == 503 and b"no frame for 6.0 s" in body
    sink.handle(*frame_and_result(1))
    reason[0] = "backend failed"
    code, _, body = get(sink, "/healthz")
    assert code == 503 and b"backend failed" in body


def test_token_required_on_every_route(make_sink):
    sink = make_sink(token=TOKEN)
    sink.handle(*frame_and_result(0))
    for path in ("/", "/healthz", "/metrics", "/status.json", "/nope"):
        code, headers, _ = get(sink, path)
        assert code == 401 and headers["WWW-Authenticate"] == "Bearer", path
        assert get(sink, path, {"Authorization": "Bearer wrong-wrong-wrong"})[0] == 401
        assert get(sink, path, {"Authorization": TOKEN})[0] == 401  # no "Bearer "
    assert get(sink, "/healthz", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert get(sink, f"/metrics?token={TOKEN}")[0] == 200
    assert get(sink, "/metrics?token=wrong")[0] == 401


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "0.0.0.0"}, "http.token must be set to bind 0.0.0.0"),
        ({"host": "192.168.1.20"}, "http.token must be set"),
        ({"token": "short"}, "http.token must be empty or >= 16"),
        ({"max_stream_clients": 200, "max_clients": 100}, "http.max_clients"),
    ],
)
def test_bad_config_names_the_key(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        HttpConfig(**kwargs)


def test_loopback_and_tokened_binds_are_accepted():
    HttpConfig(host="::1")
    HttpConfig(host="localhost")
    HttpConfig(host="0.0.0.0", token=TOKEN)


def test_metrics_route(make_sink):
    sink = make_sink()
    for n in range(3):
        sink.metrics.handle(*frame_and_result(n))
    code, headers, body = get(sink, "/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=")
    assert b"emotion_frames_total 3.0" in body and b"emotion_faces 1.0" in body


def test_no_image_routes_without_preview(make_sink):
    sink = make_sink(preview=False)
    driver = Driver(sink, capture_at=2)
    try:
        for path in ("/snapshot.jpg", "/stream.mjpg", "/capture/3.jpg"):
            assert get(sink, path)[0] == 404, path
        status = json.loads(get(sink, "/status.json")[2])
        assert status["preview"] is False
        assert all(not c["thumbnail"] for c in status["captures"])
    finally:
        driver.close()


def test_preview_encodes_only_on_demand_and_is_annotated(make_sink):
    sink = make_sink(preview=True, preview_width=320)
    driver = Driver(sink)
    try:
        wait_for(lambda: driver.frames > 5, "frames to flow")
        assert sink.preview.seq == 0  # nobody asked: nothing encoded
        code, headers, body = get(sink, "/snapshot.jpg")
        assert code == 200 and headers["Content-Type"] == "image/jpeg"
    finally:
        driver.close()
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (240, 320, 3)
    assert np.abs(image[5, 5].astype(int) - ORANGE).max() < 30  # the frame itself
    edge = image[BOX.y // 2 + 20, BOX.x // 2]  # on the box's left side, scaled by 1/2
    assert edge[1] > 200 and edge[0] < 80 and edge[2] < 80  # drawn in green


def read_part(stream) -> bytes:
    assert stream.readline() == b"--frame\r\n"
    assert stream.readline() == b"Content-Type: image/jpeg\r\n"
    length = int(stream.readline().split(b":")[1])
    assert stream.readline() == b"\r\n"
    data = stream.read(length)
    assert stream.readline() == b"\r\n"
    return data


def test_mjpeg_stream_and_client_cap(make_sink):
    sink = make_sink(preview=True, max_stream_clients=1)
    driver = Driver(sink)
    host, port = sink.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/stream.mjpg", timeout=10) as r:
            assert r.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
            parts = [read_part(r) for _ in range(2)]
            assert all(p[:2] == b"\xff\xd8" for p in parts)
            code, headers, _ = get(sink, "/stream.mjpg")  # a second client is over the cap
            assert code == 503 and headers["Retry-After"] == "5"
    finally:
        driver.close()


def test_status_lists_faces_and_captures_with_thumbnails(make_sink):
    sink = make_sink(preview=True)
    driver = Driver(sink, capture_at=3)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not sink.preview.thumbnails:
            time.sleep(0.05)
        status = json.loads(get(sink, "/status.json")[2])
    finally:
        driver.close()
    assert status["healthy"] and status["backend"] == "cpu" and status["preview"]
    assert status["faces"] == [
        {"id": 3, "box": list(BOX), "emotion": "happy", "smoothed": "happy", "score": 0.8}
    ]
    (capture,) = status["captures"]
    assert capture["image"] == "/captures/smile-1.jpg" and capture["thumbnail"]
    code, _, body = get(sink, f"/capture/{capture['n']}.jpg")
    assert code == 200 and body[:2] == b"\xff\xd8"
    assert get(sink, "/capture/../../etc/passwd.jpg")[0] == 404


def raw(sink: WebSink, data: bytes) -> bytes:
    with socket.create_connection(sink.address, timeout=10) as s:
        s.sendall(data)
        return s.recv(200)


def test_malformed_requests_do_not_disturb_the_loop(make_sink):
    sink = make_sink(preview=True)
    driver = Driver(sink)
    idle = [socket.create_connection(sink.address) for _ in range(5)]  # silent clients
    try:
        before = driver.frames
        assert raw(sink, b"\x16\x03\x01garbage\r\n\r\n").startswith(b"400 Bad request")
        assert raw(sink, b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n")[:12] in (
            b"HTTP/1.1 431",
            b"HTTP/1.1 400",
        )
        assert raw(sink, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 501")
        assert raw(sink, b"GET /%zz?token=%ff HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404")
        wait_for(lambda: driver.frames > before + 5, "the loop to go on")  # not blocked
        assert get(sink, "/healthz")[0] == 200
    finally:
        for s in idle:
            s.close()
        driver.close()
