"""Optional MQTT events: smoothed-label changes, smile captures, a periodic summary, availability.

Topics under ``<topic_prefix>/<device_id>/``:

- ``face``: ``{"id", "from", "to", "scores", "ts"}`` when a face's smoothed label changes
  (``from`` is null for a new face); ``scores`` are its smoothed scores by label.
- ``capture``: the capture record of a frame on which a smile still was saved (no image).
- ``summary`` every ``summary_interval_s``: frames, fps, backend, faces seen, label changes
  per minute, captures, dropped messages.
- ``availability``: ``online`` (retained) on connect, ``offline`` on close, and ``offline`` as
  the broker-sent last will when the daemon dies.

``handle`` only appends to a bounded deque (the oldest message is dropped and counted when it
is full); a worker thread publishes while connected. paho's network thread connects with
backoff (``reconnect_min_s`` .. ``reconnect_max_s``), so a broker that is down at start or lost
mid-run never stops or slows the frame loop. No face image is ever published.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edge.errors import config_check

if TYPE_CHECKING:
    from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)

BAD_TOPIC_CHARS = ("+", "#", "\0")


_check = config_check("mqtt")


@dataclass(frozen=True)
class MqttConfig:
    """The ``[mqtt]`` section.

    Attributes:
        enabled: publish at all.
        host, port: the broker.
        device_id: the topic level naming this device ("" = the hostname).
        topic_prefix: the first topic level(s).
        client_id: the MQTT client id ("" = ``emotion-edge-<device_id>``).
        username, password: broker credentials ("" = anonymous).
        tls: connect with TLS; ``ca_file`` ("" = system CAs), ``cert_file``/``key_file``
            for client certificates.
        keepalive_s: MQTT keepalive; the broker sends the last will after ~1.5x this silence.
        qos: QoS of events (0 or 1; availability is always QoS 1, retained).
        summary_interval_s: seconds between summaries.
        buffer: messages held while disconnected (in the sink, and again unacknowledged in
            paho); beyond that the oldest are dropped and counted.
        reconnect_min_s, reconnect_max_s: reconnect backoff bounds.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    device_id: str = ""
    topic_prefix: str = "emotion"
    client_id: str = ""
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive_s: int = 30
    qos: int = 1
    summary_interval_s: float = 60.0
    buffer: int = 1000
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0

    def __post_init__(self) -> None:
        _check(bool(self.host), "host", "a non-empty host name or address")
        _check(1 <= self.port <= 65535, "port", "in [1, 65535]")
        for key in ("device_id", "topic_prefix"):
            value = getattr(self, key)
            ok = not any(c in value for c in BAD_TOPIC_CHARS) and not value.startswith("/")
            _check(ok, key, "free of +, #, NUL and not start with /")
        _check("/" not in self.device_id, "device_id", "a single topic level (no /)")
        _check(bool(self.topic_prefix), "topic_prefix", "non-empty")
        _check(bool(self.username) or not self.password, "username", "set with mqtt.password")
        _check(self.tls or not (self.ca_file or self.cert_file), "tls", "true for ca/cert files")
        _check(bool(self.cert_file) or not self.key_file, "cert_file", "set with mqtt.key_file")
        _check(5 <= self.keepalive_s <= 3600, "keepalive_s", "in [5, 3600]")
        _check(self.qos in (0, 1), "qos", "0 or 1")
        _check(1 <= self.summary_interval_s <= 86400, "summary_interval_s", "in [1, 86400]")
        _check(1 <= self.buffer <= 100_000, "buffer", "in [1, 100000]")
        _check(0 < self.reconnect_min_s <= self.reconnect_max_s, "reconnect_min_s", "in (0, max]")
        _check(self.reconnect_max_s <= 3600, "reconnect_max_s", "<= 3600")


@dataclass
class _Window:
    """What happened since the last summary."""

    started: float
    frames: int = 0
    captures: int = 0
    faces: set[int] = field(default_factory=set)
    changes: Counter[str] = field(default_factory=Counter)


class MqttSink:
    """A sink publishing events to an MQTT broker (see the module docstring).

    Args:
        cfg: the ``[mqtt]`` section.
        labels: the model's labels, in score order.
        backend: returns the backend name in use, e.g. ``lambda: classifier.name``.
        clock: monotonic seconds (summary interval); ``wall``: epoch seconds for ``ts``.
    """

    def __init__(
        self,
        cfg: MqttConfig,
        labels: Sequence[str],
        backend: Callable[[], str] = lambda: "",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.labels = tuple(labels)
        self.backend = backend
        self.clock = clock
        self.wall = wall
        self.device_id = cfg.device_id or socket.gethostname().split(".")[0]
        self.base = f"{cfg.topic_prefix.rstrip('/')}/{self.device_id}"
        self.dropped = 0
        self.published = 0
        self.errors = 0
        self.connected = False
        self._queue: deque[tuple[str, dict[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._refused = ""  # the last refusal, logged once
        self._smoothed: dict[int, str] = {}
        self._window = _Window(clock())
        self._client = self._make_client()
        self._worker = threading.Thread(target=self._publish_loop, name="mqtt-out", daemon=True)
        self._worker.start()
        self._client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        self._client.loop_start()
        log.info("mqtt: publishing to %s:%d under %s/", cfg.host, cfg.port, self.base)

    def handle(self, frame: Frame, result: FrameResult) -> None:
        try:
            self._handle(result)
        except Exception:  # a sink never stops the loop (edge.sinks)
            self.errors += 1
            if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
                log.exception("mqtt: event building failed (%d times)", self.errors)

    def _handle(self, result: FrameResult) -> None:
        w, out = self._window, []
        for f in result.faces:
            w.faces.add(f.id)
            before = self._smoothed.get(f.id)
            if before != f.smoothed:
                self._smoothed[f.id] = f.smoothed
                w.changes[f.smoothed] += 1
                scores = f.label_scores(self.labels, smoothed=True)
                change = {"id": f.id, "from": before, "to": f.smoothed, "scores": scores}
                out.append(("face", {**change, "ts": round(result.ts, 3)}))
        if len(self._smoothed) > 256:  # forget tracks that ended
            self._smoothed = {f.id: f.smoothed for f in result.faces}
        w.frames += 1
        if result.capture:
            w.captures += 1
            out.append(
                ("capture", {"frame": result.frame, "ts": round(result.ts, 3), **result.capture})
            )
        now = self.clock()
        if now - w.started >= self.cfg.summary_interval_s:
            out.append(("summary", self._summary(now, len(result.faces))))
            self._window = _Window(now)
        if out:
            self._enqueue(out)

    def _summary(self, now: float, faces_now: int) -> dict[str, Any]:
        w = self._window
        minutes = max(now - w.started, 1e-9) / 60
        return {
            "ts": round(self.wall(), 3),
            "interval_s": round(now - w.started, 3),
            "frames": w.frames,
            "fps": round(w.frames / (minutes * 60), 2),
            "backend": self.backend(),
            "faces_now": faces_now,
            "faces_seen": len(w.faces),
            "changes_per_min": {n: round(w.changes[n] / minutes, 2) for n in self.labels},
            "captures": w.captures,
            "dropped": self.dropped,
        }

    def _enqueue(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        with self._cond:
            for message in messages:
                if len(self._queue) >= self.cfg.buffer:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append(message)
            self._cond.notify_all()

    def _publish_loop(self) -> None:
        from paho.mqtt.client import MQTTErrorCode

        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or (self._queue and self.connected))
                if not (self._queue and self.connected):
                    return  # stopping, and nothing more can go out
                topic, payload = self._queue.popleft()
            body = json.dumps(payload, default=str, separators=(",", ":"))
            info = self._client.publish(f"{self.base}/{topic}", body, qos=self.cfg.qos)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.published += 1
            elif info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and self.cfg.qos == 1:
                self.published += 1  # paho keeps QoS 1 messages and sends them on reconnect
            else:
                self.dropped += 1
                log.debug("mqtt: %s dropped (%s)", topic, info.rc)

    def _make_client(self) -> Any:
        from paho.mqtt.client import CallbackAPIVersion, Client

        cfg = self.cfg
        client = Client(
            CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"emotion-edge-{self.device_id}"
        )
        client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        client.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)  # type: ignore[arg-type]
        client.max_queued_messages_set(cfg.buffer)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password or None)
        if cfg.tls:
            client.tls_set(
                ca_certs=cfg.ca_file or None,
                certfile=cfg.cert_file or None,
                keyfile=cfg.key_file or None,
            )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        return client

    def _on_connect(
        self, client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            level = logging.DEBUG if str(reason) == self._refused else logging.WARNING
            log.log(level, "mqtt: broker %s refused the connection: %s", self.cfg.host, reason)
            self._refused = str(reason)
            return
        self._refused = ""
        client.publish(f"{self.base}/availability", "online", qos=1, retain=True)
        log.info(
            "mqtt: connected to %s:%d (%d queued)", self.cfg.host, self.cfg.port, len(self._queue)
        )
        with self._cond:
            self.connected = True
            self._cond.notify_all()

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._cond:
            was, self.connected = self.connected, False
        if was and not self._stopping:
            log.warning(
                "mqtt: lost the broker (%s); buffering up to %d messages", reason, self.cfg.buffer
            )

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        log.debug("mqtt: cannot reach %s:%d; retrying with backoff", self.cfg.host, self.cfg.port)

    def close(self) -> None:
        """Publish what is queued (if connected, up to ~2 s), then ``offline``, then disconnect."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._worker.join(timeout=2)
        if self.connected:
            info = self._client.publish(f"{self.base}/availability", "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError) as exc:
                log.debug("mqtt: offline not confirmed: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()
        if self._queue:
            log.warning("mqtt: %d messages not sent at exit", len(self._queue))
        log.info(
            "mqtt: %d messages published, %d dropped, %d frames failed to build",
            self.published,
            self.dropped,
            self.errors,
        )
