"""Smile mode: SmileCamera, the pipeline hook, the picamera still, and the CLI end to end."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import types
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main
from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline, run
from edge.preprocess import DetectionImage
from edge.sinks.events import EventWriter
from edge.smile.camera import SmileCamera, capture_directory, source_still
from edge.smile.capture import CaptureConfig, CaptureWriter
from edge.smile.trigger import SmileTrigger, TriggerConfig
from edge.tracking import Tracker
from edge.types import Box, Face, Frame, FrameResult
from tests.fakes import FakeClassifier, FakeFaces, FakePicamera2, FakeSource, one_hot, within

T0 = datetime(2026, 1, 2, 3, 4, 5, 678000).timestamp()


def frame(seed: int = 0, h: int = 120, w: int = 160) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def face(track: int, happy: float, x: int = 10) -> Face:
    scores = np.full(len(EMOTIONS), (1 - happy) / 6, np.float32)
    scores[EMOTIONS.index("happy")] = happy
    return Face(track, Box(x, 20, 30, 30), "happy", "happy", scores, scores)


def test_smile_camera_captures_a_group_only_when_all_smile(tmp_path: Path) -> None:
    now = [0.0]
    camera = SmileCamera(
        SmileTrigger(TriggerConfig(frames=3, min_faces=3)),
        CaptureWriter(CaptureConfig(directory=tmp_path)),
        EMOTIONS,
        {"backend": "cpu", "model": "emotion_int8.tflite"},
        still=lambda: frame(h=240, w=320),  # twice the frame's size
        clock=lambda: now[0],
    )
    small = Frame(frame(h=120, w=160))
    holdout = [face(1, 0.9, 0), face(2, 0.3, 50), face(3, 0.9, 100)]
    smiling = [face(1, 0.9, 0), face(2, 0.8, 50), face(3, 0.9, 100)]
    results = []
    for i, faces in enumerate([holdout] * 10 + [smiling] * 3):
        now[0] = i / 8
        results.append(camera.apply(small, FrameResult(i, T0 + i, tuple(faces))))
    assert [r.frame for r in results if r.capture] == [12]
    event = results[12].capture
    assert event["event"] == "capture"
    sidecar = json.loads(Path(event["sidecar"]).read_text())
    assert (sidecar["width"], sidecar["height"], sidecar["backend"]) == (320, 240, "cpu")
    assert [f["box"] for f in sidecar["faces"]] == [
        [0, 40, 60, 60],
        [100, 40, 60, 60],
        [200, 40, 60, 60],
    ]
    assert [f["happy"] for f in sidecar["faces"]] == pytest.approx([0.9, 0.8, 0.9])


def test_capture_directory_goes_under_the_systemd_state_directory() -> None:
    state = {"STATE_DIRECTORY": "/var/lib/emotion-edge"}
    assert capture_directory(Path("captures"), state) == Path("/var/lib/emotion-edge/captures")
    assert capture_directory(Path("/srv/c"), state) == Path("/srv/c")
    assert capture_directory(Path("captures"), {}) == Path("captures")


def test_run_hands_the_stage_result_to_the_sinks(tmp_path: Path) -> None:
    """Every frame's events line is written; the firing frame's line carries ``capture``."""
    boxes = [Box(10, 10, 40, 40), Box(70, 10, 40, 40)]
    pipe = Pipeline(
        FakeFaces([boxes]),
        FakeClassifier(lambda _f, _i: one_hot("happy")),
        Tracker(EMOTIONS),
        FacesConfig(),
    )
    camera = SmileCamera(
        SmileTrigger(TriggerConfig(frames=4, min_faces=2, cooldown_s=100)),
        CaptureWriter(CaptureConfig(directory=tmp_path)),
        EMOTIONS,
        lambda: {"backend": "fake"},
        clock=lambda: 0.0,
    )
    out = io.StringIO()
    frames = [np.zeros((120, 160, 3), np.uint8)] * 12
    stats = run(
        FakeSource(frames),
        pipe,
        EventWriter(out, EMOTIONS).handle,
        threading.Event(),
        clock=lambda: T0,
        stages_after=[camera.apply],
    )
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert stats.frames == len(events) == 12
    assert [e["frame"] for e in events if "capture" in e] == [3]
    assert len(list(tmp_path.glob("*.jpg"))) == len(list(tmp_path.glob("*.json"))) == 1


def test_picamera_still_uses_the_still_configuration(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=FakePicamera2))
    caplog.set_level(logging.WARNING, logger="edge.sources.picamera")
    from edge.sources.picamera import PicameraSource

    source = PicameraSource((640, 480), (320, 240))
    cam = FakePicamera2.instances[-1]
    still = source_still(source)()
    assert still.shape == (1944, 2592, 3)
    assert cam.switches == [{"use": "still", "main": {"format": "RGB888"}}]
    cam.fail = True
    assert source.capture_still() is None  # the caller saves the video frame instead
    assert "still capture failed" in caplog.text
    source.close()


def test_sources_without_a_still_give_none() -> None:
    assert source_still(FakeSource([]))() is None


def group_clip(folder: Path, head: np.ndarray, frames: int) -> None:
    """Three heads side by side, the right one darker (the frowner), the same every frame."""
    canvas = np.full((300, 760, 3), 120, np.uint8)
    for k, gain in enumerate((1.0, 0.95, 0.6)):
        x = 20 + 250 * k
        canvas[40 : 40 + head.shape[0], x : x + head.shape[1]] = (head * gain).astype(np.uint8)
    folder.mkdir()
    for i in range(frames):
        cv2.imwrite(str(folder / f"frame_{i:03d}.png"), canvas)


def test_cli_smile_mode_end_to_end(tmp_path, head_bgr, monkeypatch) -> None:
    """Real Haar + tracker + CLI; a scripted classifier: the darkest face smiles from frame 10."""
    group_clip(tmp_path / "clip", head_bgr, 30)

    def scores(face48: np.ndarray, call: int) -> np.ndarray:
        dark = face48.mean() < 115
        return one_hot("sad" if dark and call < 3 * 10 else "happy")

    import edge.backends

    monkeypatch.setattr(edge.backends, "load_classifier", lambda cfg: FakeClassifier(scores))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[capture]\ndirectory = "{tmp_path / "shots"}"\n'
        "[trigger]\nmin_faces = 3\nframes = 3\ncooldown_s = 3600\n"
    )
    events = tmp_path / "events.jsonl"
    argv = ["run", "--mode", "smile", "--config", str(cfg), "--source", str(tmp_path / "clip")]
    assert main([*argv, "--events", str(events), "--log-level", "ERROR"]) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(lines) == 30 and all(len(e["faces"]) == 3 for e in lines)
    captured = [e for e in lines if "capture" in e]
    assert len(captured) == 1 and captured[0]["frame"] >= 12
    jpgs = sorted((tmp_path / "shots").glob("*.jpg"))
    assert [Path(captured[0]["capture"]["image"])] == jpgs
    sidecar = json.loads(jpgs[0].with_suffix(".json").read_text())
    assert len(sidecar["faces"]) == 3 and sidecar["backend"] == "fake"
    assert all(f["happy"] > 0.6 for f in sidecar["faces"])


def test_a_face_that_left_is_not_counted_towards_a_group_smile(tmp_path: Path) -> None:
    """Two smiling faces, min_faces 2: one leaves before the streak is long enough, between Haar
    runs; the trigger must not fire on the face still carried from before."""
    wall = cv2.GaussianBlur(
        np.random.default_rng(3).integers(0, 256, (160, 240)).astype(np.float32), (0, 0), 2
    )
    boxes = [Box(20, 40, 60, 60), Box(150, 40, 60, 60)]

    def scene(*present: int) -> np.ndarray:
        grey = wall.copy()
        for k in present:
            b = boxes[k]
            stripes = np.where(np.arange(b.w) // 6 % 2, 20.0, -20.0)[None, :]
            grey[b.y : b.y + b.h, b.x : b.x + b.w] = wall.mean() + stripes
        return cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)

    class Seeing:  # finds a face where the frame differs from the wall
        def detect(self, image: DetectionImage, window: Box | None = None, *_: object) -> list:
            grey = image.whole()  # the detection image as the pipeline made it
            diff = np.abs(grey.astype(np.float32) - wall)
            seen = [b for b in boxes if diff[b.y : b.y + b.h, b.x : b.x + b.w].mean() > 4]
            return within(seen, window)

    happy = FakeClassifier(lambda _f, _i: one_hot("happy"))
    pipe = Pipeline(Seeing(), happy, Tracker(EMOTIONS), FacesConfig(detect_width=240))
    camera = SmileCamera(
        SmileTrigger(TriggerConfig(frames=5, min_faces=2)),
        CaptureWriter(CaptureConfig(directory=tmp_path)),
        EMOTIONS,
        {},
    )
    frames = [scene(0, 1)] * 3 + [scene(0)] * 5  # face 1 leaves on frame 3
    results = []
    for i, f in enumerate(frames):
        frame = Frame(f)
        results.append(camera.apply(frame, pipe.process(frame, i, float(i))))
    assert [len(r.faces) for r in results] == [2, 2, 2] + [1] * 5
    assert not any(r.capture for r in results) and not list(tmp_path.iterdir())
