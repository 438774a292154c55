"""The daemon wires the optional [http] and [mqtt] sinks from its config."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest

from edge import config as config_mod
from edge import sources
from edge.cli import main
from edge.errors import ConfigError
from edge.sources.base import Source
from edge.sources.files import VideoFileSource
from edge.types import Frame


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_sections_are_validated_with_the_key_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key mqtt\.bogus"):
        config_mod.from_dict({"mqtt": {"bogus": 1}})
    with pytest.raises(ConfigError, match=r"http\.token"):
        config_mod.from_dict({"http": {"enabled": True, "host": "0.0.0.0"}})
    cfg = config_mod.from_dict({"http": {"enabled": True, "port": 9000}})
    assert cfg.http.port == 9000 and not cfg.mqtt.enabled


class GatedSource:
    """Passes ``source`` through, but holds frame ``at`` until ``gate`` is set (or 30 s pass),
    so a check made "while frames flow" cannot lose the race against a fast machine."""

    def __init__(self, source: Source, gate: threading.Event, at: int = 5) -> None:
        self.source, self.gate, self.at, self.reads = source, gate, at, 0
        self.name = source.name

    def read(self) -> Frame | None:
        if self.reads == self.at:
            self.gate.wait(30)
        self.reads += 1
        return self.source.read()

    def close(self) -> None:
        self.source.close()


def count_frames(source: Source) -> int:
    n = 0
    while source.read() is not None:
        n += 1
    source.close()
    return n


def test_run_serves_status_and_survives_a_missing_broker(model, tmp_path, monkeypatch):
    http_port, dead_broker_port = free_port(), free_port()  # nothing listens on the broker port
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"[http]\nenabled = true\nport = {http_port}\n"
        f"[mqtt]\nenabled = true\nport = {dead_broker_port}\n"
    )
    events = tmp_path / "events.jsonl"
    seen: list[dict] = []
    answered = threading.Event()
    real_open_source = sources.open_source
    monkeypatch.setattr(
        sources, "open_source", lambda c: GatedSource(real_open_source(c), answered)
    )

    def poll() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not seen:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/status.json") as r:
                    seen.append(json.load(r))
            except OSError:
                time.sleep(0.05)
        answered.set()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    args = ["run", "--config", str(cfg), "--source", "sample", "--backend", "cpu"]
    code = main([*args, "--model", str(model), "--events", str(events)])
    poller.join(timeout=1)
    assert code == 0
    lines = events.read_text().splitlines()
    assert len(lines) == count_frames(VideoFileSource(sources.SAMPLE_PATH))  # broker or not
    assert seen, "the status page never answered while frames flowed"
    assert seen[0]["backend"] == "cpu"
