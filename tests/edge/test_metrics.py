"""Metrics: the sink, the stage timer inside a real Pipeline loop, and the exposition text."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge.backends import FailoverClassifier
from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline, run
from edge.tracking import Tracker
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import FakeClassifier, FakeFaces, FakeSource, one_hot

parser = pytest.importorskip("prometheus_client.parser")
from edge.sinks.metrics import FpsMeter, Metrics  # noqa: E402

FRAME = Frame(np.zeros((120, 160, 3), np.uint8))


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    """Every sample of the rendered text, keyed by (name, sorted labels)."""
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in parser.text_string_to_metric_families(text)
        for s in family.samples
    }


def result(n: int, faces: int, capture: dict | None = None) -> FrameResult:
    s = one_hot("happy")
    return FrameResult(
        n,
        float(n),
        tuple(Face(i, Box(0, 0, 9, 9), "happy", "happy", s, s) for i in range(faces)),
        capture,
    )


def test_frames_faces_captures_and_dropped():
    class Clf:
        name = "edgetpu"

    dropped = [0]
    m = Metrics(Clf(), dropped=lambda: dropped[0])
    for n, faces in enumerate([0, 2, 3]):
        m.handle(FRAME, result(n, faces, capture={"image": "x.jpg"} if n == 1 else None))
    dropped[0] = 4
    got = samples(m)
    assert got[("emotion_frames_total", ())] == 3
    assert got[("emotion_faces", ())] == 3
    assert got[("emotion_captures_total", ())] == 1
    assert got[("emotion_events_dropped_total", ())] == 4
    assert got[("emotion_backend_info", (("backend", "edgetpu"),))] == 1
    assert got[("emotion_fallbacks_total", ())] == 0


def test_fps_over_a_window():
    now = [0.0]
    fps = FpsMeter(window_s=2.0, clock=lambda: now[0])
    for _ in range(31):  # 30 intervals of 0.1 s
        fps.tick()
        now[0] += 0.1
    assert fps.fps == pytest.approx(10.0)


def test_stage_histograms_fed_by_the_pipeline_and_failover_counted():
    cpu = FakeClassifier(name="cpu")
    tpu = FakeClassifier(name="edgetpu", fail_at=2, fail_with=RuntimeError("USB transfer error"))
    clf = FailoverClassifier(tpu, lambda: cpu)
    m = Metrics(clf)
    boxes = [[Box(10, 10, 40, 40), Box(80, 10, 40, 40)]]  # two faces per frame
    pipe = Pipeline(FakeFaces(boxes), clf, Tracker(EMOTIONS), FacesConfig(), m.stage_timer())
    source = FakeSource([np.zeros((120, 160, 3), np.uint8)] * 3)
    stats = run(source, pipe, m.handle, threading.Event())
    assert stats.frames == 3
    got = samples(m)
    count = {s: got[("emotion_stage_seconds_count", (("stage", s),))] for s in pipe.timer.samples}
    # crop: frame 0 crops 2 Haar faces; frames 1-2 follow the 2 carried faces (a crop each)
    # and, a flat frame giving no evidence they are there, crop 2 Haar faces again
    assert count == {"detect": 3, "crop": 2 + 4 + 4, "infer": 6, "track": 3}
    assert pipe.timer.samples["infer"] == []  # no unbounded per-sample lists in the daemon
    assert got[("emotion_fallbacks_total", ())] == 1
    assert got[("emotion_backend_info", (("backend", "cpu"),))] == 1
    assert ("emotion_backend_info", (("backend", "edgetpu"),)) not in got


def test_scrapes_close_together_share_one_rendering(monkeypatch):
    m = Metrics()
    first = m.render()
    m.handle(FRAME, result(0, 2))
    assert m.render() is first  # a crowd of scrapers costs one rendering per interval
    monkeypatch.setattr("edge.sinks.metrics.RENDER_MAX_AGE_S", 0.0)
    assert samples(m)[("emotion_frames_total", ())] == 1


def test_counters_kept_by_other_objects_are_read_at_scrape_time():
    metrics, counts = Metrics(), {"published": 0}
    metrics.add_counter("emotion_mqtt_published", "MQTT messages", lambda: counts["published"])
    assert samples(metrics)[("emotion_mqtt_published_total", ())] == 0
    counts["published"] = 3
    metrics._rendered = None  # (renders are shared for RENDER_MAX_AGE_S)
    assert samples(metrics)[("emotion_mqtt_published_total", ())] == 3
