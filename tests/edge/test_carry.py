"""Carrying boxes between Haar runs: fewer scans, the same ids, faces that leave are dropped."""

from __future__ import annotations

import numpy as np

from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline
from edge.tracking import Tracker
from edge.types import Box, Frame
from tests.fakes import FakeClassifier, FakeFaces

BOX = Box(40, 30, 60, 60)


def scene(face: bool) -> np.ndarray:
    """A flat frame, with a striped square where the face is (``BOX``) if ``face``."""
    image = np.full((160, 200, 3), 120, np.uint8)
    if face:
        stripes = np.where(np.arange(BOX.w) // 6 % 2, 250, 10).astype(np.uint8)
        image[BOX.y : BOX.y + BOX.h, BOX.x : BOX.x + BOX.w] = stripes[None, :, None]
    return image


def pipeline(detector: FakeFaces, **faces: object) -> Pipeline:
    cfg = FacesConfig(detect_width=200, **faces)  # type: ignore[arg-type]
    return Pipeline(detector, FakeClassifier(), Tracker(EMOTIONS), cfg)


def test_haar_runs_every_nth_frame_and_ids_stay():
    haar = FakeFaces([[BOX]])
    pipe = pipeline(haar, detect_every=4)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(12)]
    assert haar.calls == 3  # frames 0, 4, 8
    assert all([f.box for f in r.faces] == [BOX] for r in results)
    assert {f.id for r in results for f in r.faces} == {0}


def test_a_face_that_leaves_is_dropped_on_that_frame():
    haar = FakeFaces([[BOX], []])  # Haar finds nothing once it is gone
    pipe = pipeline(haar, detect_every=10)
    frames = [scene(True)] * 3 + [scene(False)] * 2
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1, 1, 1, 0, 0]
    assert haar.calls == 3  # frame 0, frame 3 where the crop changed, frame 4: no face tracked


def test_a_haar_miss_is_bridged_once_while_the_crop_matches():
    haar = FakeFaces([[BOX], [], []])  # found once, then missed by every later run
    pipe = pipeline(haar, detect_every=2, max_coast=1)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(6)]
    # Haar on 0 (found), 2 (missed: bridged), 4 (missed again: dropped, and Haar each frame)
    assert [len(r.faces) for r in results] == [1, 1, 1, 1, 0, 0]


def test_no_bridging_when_max_coast_is_0():
    haar = FakeFaces([[BOX], []])
    pipe = pipeline(haar, detect_every=2, max_coast=0)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(3)]
    assert [len(r.faces) for r in results] == [1, 1, 0]


def test_detect_every_1_runs_haar_on_every_frame():
    haar = FakeFaces([[BOX]])
    pipe = pipeline(haar, detect_every=1)
    for i in range(5):
        pipe.process(Frame(scene(True)), i, 0.0)
    assert haar.calls == 5
