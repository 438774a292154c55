"""MqttSink against a real Mosquitto broker started per test on a free loopback port.

The subscriber keeps a persistent session (clean_session=False, QoS 1) and the broker persists
it across restarts, so messages published while the subscriber is reconnecting are queued for
it by the broker instead of racing it. Skipped when ``mosquitto`` (Debian package) is absent.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ConfigError
from edge.labels import EMOTIONS
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import one_hot

REPO = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
FRAME = Frame(np.zeros((48, 64, 3), np.uint8))

paho = pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed")
from edge.sinks.mqtt import MqttConfig, MqttSink  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Broker:
    """A mosquitto process on 127.0.0.1:<free port>, persistent across stop/start."""

    def __init__(self, directory: Path, extra: str = "") -> None:
        if MOSQUITTO is None:
            pytest.skip("mosquitto not installed (apt-get install -y mosquitto)")
        self.port = free_port()
        self.conf = directory / "mosquitto.conf"
        self.log = directory / "mosquitto.log"
        user = pwd.getpwuid(os.geteuid()).pw_name  # as root it would drop to user "mosquitto"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser {user}\n"
            f"persistence true\npersistence_location {directory}/\n"
            f"log_dest file {self.log}\n{extra}"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)])
        wait_until(self._listening, 10, "mosquitto to listen")
        return self

    def _listening(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def logged(self, text: str) -> int:
        """How many lines of the broker's log contain ``text``."""
        return sum(text in line for line in self.log.read_text(errors="replace").splitlines())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


class Subscriber:
    """Collects (topic, payload) from ``emotion/#`` over a persistent QoS 1 session."""

    def __init__(self, port: int, client_id: str = "test-subscriber") -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        c.reconnect_delay_set(0.1, 0.5)
        c.on_connect = lambda cl, *_: cl.subscribe("emotion/#", qos=1)
        c.on_subscribe = lambda *_: self.subscribed.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c
        assert self.subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, _client, _userdata, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload.decode(), msg.retain))

    def on(self, suffix: str) -> list:
        with self.lock:
            return [p for t, p, _ in self.messages if t.endswith("/" + suffix)]

    def events(self, suffix: str) -> list[dict]:
        return [json.loads(p) for p in self.on(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def result(n: int, labels_by_id: dict[int, str], capture: dict | None = None) -> FrameResult:
    faces = tuple(
        Face(i, Box(10 * i, 10, 20, 20), label, label, one_hot(label), one_hot(label))
        for i, label in labels_by_id.items()
    )
    return FrameResult(n, 1000.0 + n, faces, capture)


def sink_config(port: int, **kw) -> MqttConfig:
    defaults = {"enabled": True, "port": port, "device_id": "dev1"}
    return MqttConfig(**{**defaults, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0, **kw})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_events_summary_and_availability_arrive(broker):
    sub = Subscriber(broker.port)
    clock = Clock()
    sink = MqttSink(sink_config(broker.port, summary_interval_s=60), EMOTIONS, lambda: "cpu", clock)
    try:
        wait_until(lambda: sink.connected, what="sink to connect")
        for n, label in enumerate(["neutral", "neutral", "happy", "happy"]):
            clock.now = n * 10.0
            sink.handle(FRAME, result(n, {7: label}))
        sink.handle(FRAME, result(4, {7: "happy"}, capture={"image": "/c/smile-1.jpg"}))
        clock.now = 60.0
        sink.handle(FRAME, result(5, {7: "happy", 8: "sad"}))
        wait_until(lambda: sub.on("summary"), what="summary")
        faces = sub.events("face")
        assert [(f["id"], f["from"], f["to"]) for f in faces] == [
            (7, None, "neutral"),
            (7, "neutral", "happy"),
            (8, None, "sad"),
        ]
        assert faces[1]["scores"]["happy"] == pytest.approx(0.9)
        assert sub.events("capture") == [{"frame": 4, "ts": 1004.0, "image": "/c/smile-1.jpg"}]
        (summary,) = sub.events("summary")
        assert summary["frames"] == 6 and summary["faces_seen"] == 2 and summary["captures"] == 1
        assert summary["backend"] == "cpu" and summary["fps"] == pytest.approx(0.1)
        assert summary["changes_per_min"]["happy"] == 1.0
        assert sub.on("availability")[0] == "online"
        assert all(t.startswith("emotion/dev1/") for t, _, _ in sub.messages)
    finally:
        sink.close()
    wait_until(lambda: sub.on("availability")[-1:] == ["offline"], what="offline on close")
    sub.close()


def test_broker_down_at_start_buffers_then_delivers(tmp_path):
    broker = Broker(tmp_path).start()
    sub = Subscriber(broker.port)  # registers the persistent session
    broker.stop()
    sink = MqttSink(sink_config(broker.port), EMOTIONS)
    try:
        for n, label in enumerate(["angry", "happy", "sad"]):
            sink.handle(FRAME, result(n, {1: label}))  # returns at once: nothing to connect to
        assert not sink.connected and sink.published == 0
        broker.start()
        wait_until(lambda: len(sub.on("face")) == 3, what="buffered events after broker start")
        assert [f["to"] for f in sub.events("face")] == ["angry", "happy", "sad"]
        assert sink.dropped == 0
    finally:
        sink.close()
        sub.close()
        broker.stop()


def test_broker_restart_mid_run_reconnects_and_resumes(broker):
    sub = Subscriber(broker.port)
    sink = MqttSink(sink_config(broker.port), EMOTIONS)
    try:
        wait_until(lambda: sink.connected, what="sink to connect")
        sink.handle(FRAME, result(0, {1: "neutral"}))
        wait_until(lambda: len(sub.on("face")) == 1, what="first event")
        broker.stop()
        wait_until(lambda: not sink.connected, what="sink to notice the broker is gone")
        sink.handle(FRAME, result(1, {1: "happy"}))  # while the broker is down
        broker.start()
        wait_until(lambda: sink.connected, what="sink to reconnect")
        sink.handle(FRAME, result(2, {1: "surprise"}))  # after the reconnect
        wait_until(lambda: len(sub.on("face")) == 3, what="events after restart")
        assert [f["to"] for f in sub.events("face")] == ["neutral", "happy", "surprise"]
    finally:
        sink.close()
        sub.close()


def test_full_buffer_drops_oldest_and_counts(tmp_path):
    sink = MqttSink(sink_config(free_port(), buffer=5), EMOTIONS)  # nobody listens there
    try:
        for n in range(20):
            sink.handle(FRAME, result(n, {n: "happy"}))  # a new face each frame: one event each
        assert sink.dropped == 15
        assert [p["id"] for _, p in sink._queue] == [15, 16, 17, 18, 19]
    finally:
        sink.close()


CHILD = """
import sys, time
from edge.sinks.mqtt import MqttConfig, MqttSink
cfg = MqttConfig(enabled=True, port=int(sys.argv[1]), device_id="dev1", keepalive_s=5)
sink = MqttSink(cfg, ["a"])
while not sink.connected:
    time.sleep(0.05)
print("connected", flush=True)
time.sleep(60)
"""


def test_last_will_offline_when_killed(broker):
    sub = Subscriber(broker.port)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(broker.port)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "connected"
        wait_until(lambda: sub.on("availability") == ["online"], what="online")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        wait_until(lambda: sub.on("availability") == ["online", "offline"], what="last will")
    finally:
        if child.poll() is None:
            child.kill()
        sub.close()


def test_username_password_required_by_broker(tmp_path):
    passwd = tmp_path / "passwd"
    broker = Broker(tmp_path, extra=f"password_file {passwd}\n")  # skips without mosquitto
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "edge", "s3cret"], check=True)
    broker.conf.write_text(
        broker.conf.read_text().replace("allow_anonymous true", "allow_anonymous false")
    )
    broker.start()
    good = MqttSink(sink_config(broker.port, username="edge", password="s3cret"), EMOTIONS)
    bad = MqttSink(
        sink_config(broker.port, username="edge", password="wrong", client_id="bad"), EMOTIONS
    )
    try:
        wait_until(lambda: good.connected, what="authenticated connect")
        # Not "sleep, then not connected" (a slow connect passes that): the broker's answer.
        wait_until(lambda: broker.logged("disconnected, not authorised"), what="refusal")
        assert not bad.connected
        bad.handle(FRAME, result(0, {1: "happy"}))  # refused: still only queues
        assert len(bad._queue) == 1
    finally:
        good.close()
        bad.close()
        broker.stop()


def make_certs(d: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    ssl = shutil.which("openssl") or pytest.skip("openssl not installed")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run([ssl, *args], cwd=d, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=edge-test-ca",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    )


def test_tls_with_the_configured_ca(tmp_path):
    make_certs(tmp_path)
    tls = (
        f"cafile {tmp_path}/ca.pem\ncertfile {tmp_path}/server.pem\nkeyfile {tmp_path}/server.key\n"
    )
    broker = Broker(tmp_path, extra=tls).start()
    good = MqttSink(sink_config(broker.port, tls=True, ca_file=str(tmp_path / "ca.pem")), EMOTIONS)
    plain = MqttSink(sink_config(broker.port, client_id="plain"), EMOTIONS)
    untrusted = MqttSink(sink_config(broker.port, tls=True, client_id="untrusted"), EMOTIONS)
    try:
        wait_until(lambda: good.connected, what="TLS connect")
        # Wait for the broker to turn each one away (a slow connect would pass a sleep).
        wait_until(lambda: broker.logged("wrong version number"), what="plain MQTT refused")
        wait_until(lambda: broker.logged("alert unknown ca"), what="our CA unknown to the client")
        assert not plain.connected and not untrusted.connected  # system CAs don't know ours
    finally:
        for sink in (good, plain, untrusted):
            sink.close()
        broker.stop()


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"password": "x"}, "mqtt.username"),
        ({"topic_prefix": "a/#"}, "mqtt.topic_prefix"),
        ({"device_id": "a/b"}, "mqtt.device_id"),
        ({"ca_file": "/etc/ca.pem"}, "mqtt.tls"),
        ({"qos": 2}, "mqtt.qos"),
        ({"buffer": 0}, "mqtt.buffer"),
        ({"reconnect_min_s": 5.0, "reconnect_max_s": 1.0}, "mqtt.reconnect_min_s"),
    ],
)
def test_bad_config_names_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        MqttConfig(**kwargs)
