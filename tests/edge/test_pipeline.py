"""The whole pipeline (real Haar, tracker, events) over a generated clip with moving faces."""

from __future__ import annotations

import io
import json
import os
import socket
import threading

import cv2
import numpy as np
import pytest

from edge.config import FacesConfig
from edge.errors import SourceReadError
from edge.faces import HaarFaceDetector
from edge.labels import EMOTIONS
from edge.notify import Watchdog, notify
from edge.pipeline import Pipeline, StageTimer, run
from edge.sinks.events import EventWriter
from edge.tracking import Tracker
from edge.types import Box
from tests.fakes import FakeClassifier, FakeFaces, FakeSource, one_hot

W, H = 480, 360
FRAMES = 40
DARK = 100  # crop mean below this = the darker face B


def make_clip(head: np.ndarray) -> tuple[list[np.ndarray], list[tuple[Box, Box]]]:
    """FRAMES frames with face A (bright) moving right and face B (dark, small) moving left,
    then 3 frames with no face. Returns the frames and the pasted regions of A and B."""
    small = cv2.flip(cv2.resize(head, None, fx=0.6, fy=0.6), 1)
    small = (small * 0.55).astype(np.uint8)
    frames, where = [], []
    for i in range(FRAMES):
        canvas = np.full((H, W, 3), 120, np.uint8)
        ax, ay = 5 + 3 * i, 10 + i
        bx, by = W - small.shape[1] - 5 - 3 * i, H - small.shape[0] - 5
        canvas[ay : ay + head.shape[0], ax : ax + head.shape[1]] = head
        canvas[by : by + small.shape[0], bx : bx + small.shape[1]] = small
        frames.append(canvas)
        where.append((Box(ax, ay, head.shape[1], head.shape[0]), Box(bx, by, *small.shape[1::-1])))
    frames += [np.full((H, W, 3), 120, np.uint8)] * 3
    return frames, where


def distance(box: list[int], region: Box) -> float:
    x, y, w, h = box
    return float(np.hypot(x + w / 2 - region.x - region.w / 2, y + h / 2 - region.y - region.h / 2))


class ScriptedByFace:
    """Scores by identity (crop brightness) and that face's frame count, with noisy flips."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.seen = {"A": 0, "B": 0}

    def __call__(self, face: np.ndarray, _call: int) -> np.ndarray:
        who = "B" if face.mean() < DARK else "A"
        n = self.seen[who]
        self.seen[who] += 1
        label = {"A": "happy" if n < 20 else "sad", "B": "neutral" if n < 25 else "surprise"}[who]
        if self.rng.random() < 0.25:  # a single-frame misclassification
            label = EMOTIONS[int(self.rng.integers(len(EMOTIONS)))]
            return one_hot(label, 0.5)
        return one_hot(label, 0.8)


def test_pipeline_tracks_moving_faces_and_smooths_labels(head_bgr):
    frames, where = make_clip(head_bgr)
    clf = FakeClassifier(ScriptedByFace())
    tracker = Tracker(EMOTIONS, ema_alpha=0.3, hysteresis=0.15)
    pipe = Pipeline(HaarFaceDetector(), clf, tracker, FacesConfig(), StageTimer(enabled=True))
    out = io.StringIO()
    ticks = iter(range(1000))
    stats = run(
        FakeSource(frames),
        pipe,
        EventWriter(out, EMOTIONS).handle,
        threading.Event(),
        clock=lambda: 1000.0 + next(ticks),
    )
    events = [json.loads(line) for line in out.getvalue().splitlines()]

    assert stats.ended and stats.frames == len(frames) == len(events)
    assert [e["frame"] for e in events] == list(range(len(frames)))
    assert [e["ts"] for e in events] == [1000.0 + i for i in range(len(frames))]
    assert all(e["faces"] == [] for e in events[FRAMES:])  # no-face frames are reported
    per_track: dict[int, list[dict]] = {}
    for i, e in enumerate(events[:FRAMES]):
        assert len(e["faces"]) == 2, f"frame {i}"
        for f in e["faces"]:
            region_a, region_b = where[i]
            f["who"] = "A" if distance(f["box"], region_a) < distance(f["box"], region_b) else "B"
            per_track.setdefault(f["id"], []).append(f)
    assert len(per_track) == 2  # ids are stable across all frames
    for faces in per_track.values():
        assert len({f["who"] for f in faces}) == 1 and len(faces) == FRAMES
        raw = [f["emotion"] for f in faces]
        smooth = [f["smoothed"] for f in faces]
        raw_flips = sum(a != b for a, b in zip(raw, raw[1:], strict=False))
        changes = sum(a != b for a, b in zip(smooth, smooth[1:], strict=False))
        assert raw_flips > 4  # the noise is there...
        assert changes == 1  # ...but the smoothed label changes once, for the one real change
        assert smooth[-1] == {"A": "sad", "B": "surprise"}[faces[0]["who"]]
        assert abs(sum(faces[0]["scores"].values()) - 1.0) < 1e-3
    assert all(len(pipe.timer.samples[s]) > 0 for s in ("detect", "crop", "infer", "track"))


def test_boxes_are_scaled_back_to_source_pixels():
    frames = [np.zeros((960, 1280, 3), np.uint8)]
    pipe = Pipeline(
        FakeFaces([[Box(10, 20, 30, 30)]]),
        FakeClassifier(),
        Tracker(EMOTIONS),
        FacesConfig(detect_width=320),
    )
    result = pipe.process(FakeSource(frames).read(), 0, 0.0)
    assert result.faces[0].box == Box(40, 80, 120, 120)


def test_read_failures_are_retried_then_raised():
    err = SourceReadError("camera: read failed")
    frame = np.zeros((120, 160, 3), np.uint8)
    pipe = Pipeline(FakeFaces([[]]), FakeClassifier(), Tracker(EMOTIONS), FacesConfig())
    ok = FakeSource([frame, err, err, frame, frame])
    stats = run(ok, pipe, lambda f, r: None, threading.Event(), read_retries=2, retry_delay_s=0)
    assert stats.frames == 3 and stats.read_failures == 2
    bad = FakeSource([frame] + [err] * 5)
    with pytest.raises(SourceReadError, match="3 reads failed in a row"):
        run(bad, pipe, lambda f, r: None, threading.Event(), read_retries=2, retry_delay_s=0)


def test_stop_event_ends_the_loop_and_watchdog_pings_per_frame(tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(sock_path)
    server.settimeout(1)
    env = {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "2000000"}
    now = iter([0.0, 0.0, 0.5, 1.2, 1.2, 2.0])
    dog = Watchdog(env, clock=lambda: next(now))
    stop = threading.Event()
    frames = [np.zeros((120, 160, 3), np.uint8)] * 10
    pipe = Pipeline(FakeFaces([[]]), FakeClassifier(), Tracker(EMOTIONS), FacesConfig())

    def on_frame():
        dog.ping()
        if source.reads == 3:
            stop.set()

    source = FakeSource(frames)
    stats = run(source, pipe, lambda f, r: None, stop, on_frame=on_frame)
    assert stats.frames == 3 and not stats.ended
    got = [server.recv(64), server.recv(64)]  # pings at t=0 and t=1.2, not at t=0.5
    assert got == [b"WATCHDOG=1", b"WATCHDOG=1"]
    assert notify("READY=1", env) and server.recv(64) == b"READY=1"
    assert not notify("READY=1", {})  # not under systemd: nothing sent
    server.close()


def test_watchdog_pings_only_when_watchdog_pid_is_ours(tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(sock_path)
    server.setblocking(False)
    env = {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "2000000"}
    theirs = Watchdog({**env, "WATCHDOG_PID": str(os.getppid())}, clock=lambda: 0.0)
    theirs.ping()  # the watchdog is the parent's (e.g. a wrapper script): not ours to feed
    assert not theirs.enabled
    with pytest.raises(BlockingIOError):
        server.recv(64)
    ours = Watchdog({**env, "WATCHDOG_PID": str(os.getpid())}, clock=lambda: 0.0)
    ours.ping()
    assert ours.enabled and server.recv(64) == b"WATCHDOG=1"
    server.close()


def test_load_detector_passes_every_faces_key():
    from edge.detection import load_detector

    cfg = FacesConfig(
        scale_factor=1.2,
        min_neighbors=3,
        known_neighbors=2,
        min_size=40,
        max_faces=2,
        verify_neighbors=4,
        sure_neighbors=20,
    )
    detector = load_detector(cfg)
    assert isinstance(detector, HaarFaceDetector)
    assert (detector.scale_factor, detector.min_neighbors) == (1.2, 3)
    assert (detector.known_neighbors, detector.min_size, detector.max_faces) == (2, (40, 40), 2)
    assert detector.verify_neighbors == 4 and detector._verifier is not None
    assert detector.sure_neighbors == 20
    assert load_detector(FacesConfig(verify_cascade=""))._verifier is None


def test_an_old_config_with_8_neighbours_and_the_second_cascade_is_warned_about(caplog):
    from edge.detection import load_detector

    with caplog.at_level("WARNING", logger="edge.detection"):
        load_detector(FacesConfig(min_neighbors=8, known_neighbors=5))
        load_detector(FacesConfig(min_neighbors=8, verify_cascade=""))  # no second look: fine
        load_detector(FacesConfig())
    assert [r.getMessage()[:36] for r in caplog.records] == ["faces.min_neighbors = 8 with faces.v"]


def test_run_stats_count_tracks_without_keeping_their_ids():
    from edge.pipeline import RunStats
    from edge.types import Face

    def faces(*ids: int) -> list[Face]:
        return [Face(i, Box(0, 0, 1, 1), "happy", "happy", np.zeros(7), np.zeros(7)) for i in ids]

    stats = RunStats()
    for frame in ([], [0], [0, 1], [1], [3, 1, 2], [3]):  # ids 0-3, one appearing out of order
        stats.count_tracks(faces(*frame))
    assert stats.tracks == 4 and not hasattr(stats, "track_ids")
