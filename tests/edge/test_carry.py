"""Carrying boxes between Haar runs: fewer scans, the same ids, faces that leave are dropped."""

from __future__ import annotations

import cv2
import numpy as np

from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline
from edge.tracking import Tracker
from edge.types import Box, Frame
from tests.fakes import FakeClassifier, FakeFaces, within

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
    # frame 0 (whole frame), frame 3 where the crop changed: around the face only; frame 4:
    # nothing tracked and nothing changed since Haar looked there, so no run
    assert haar.windows[0] is None and haar.windows[1] is not None and haar.calls == 2


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


WALL = cv2.GaussianBlur(
    np.random.default_rng(7).integers(0, 256, (160, 200)).astype(np.float32), (0, 0), 2
)  # a textured background (grey std ~10), the same in every frame


def textured(alpha: float = 0.0, contrast: float = 60.0, x: int = BOX.x) -> np.ndarray:
    """``WALL`` with a striped face of ``contrast`` (+-) blended in at ``alpha``, at column x."""
    grey = WALL.copy()
    stripes = np.where(np.arange(BOX.w) // 6 % 2, contrast, -contrast)[None, :]
    region = grey[BOX.y : BOX.y + BOX.h, x : x + BOX.w]
    region += alpha * (grey.mean() + stripes - region)
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


class SeeingFaces:
    """Finds the face where ``textured`` puts it while its stripes show (as Haar finds faint
    faces), and nothing once it is gone; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, grey: np.ndarray, window: Box | None = None) -> list[Box]:
        self.calls += 1
        region = grey[BOX.y : BOX.y + BOX.h].astype(np.float32) - WALL[BOX.y : BOX.y + BOX.h]
        cols = np.flatnonzero(np.abs(region).mean(axis=0) > 4)
        return within([Box(int(cols[0]), BOX.y, BOX.w, BOX.h)] if cols.size else [], window)


def test_a_low_contrast_face_that_leaves_is_dropped_on_that_frame():
    haar = SeeingFaces()
    pipe = pipeline(haar, detect_every=10)  # type: ignore[arg-type]
    frames = [textured(1.0, contrast=20)] * 4 + [textured(0.0)] * 4
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1] * 4 + [0] * 4


def test_a_faded_view_does_not_become_the_reference_so_the_wall_is_not_kept():
    haar = SeeingFaces()
    pipe = pipeline(haar, detect_every=3)  # Haar on frames 0, 3, 6...
    frames = [textured(1.0)] * 3 + [textured(0.15)] + [textured(0.0)] * 6
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1] * 4 + [0] * 6


def test_a_moving_face_is_followed_between_haar_runs():
    haar = SeeingFaces()
    pipe = pipeline(haar, detect_every=10)
    xs = [BOX.x + 3 * i for i in range(9)]
    results = [pipe.process(Frame(textured(1.0, x=x)), i, 0.0) for i, x in enumerate(xs)]
    assert haar.calls == 1
    assert [abs(r.faces[0].box.x - x) <= 1 for r, x in zip(results, xs, strict=True)] == [True] * 9
    assert {r.faces[0].id for r in results} == {0}


def test_a_face_arriving_between_haar_runs_is_found_on_arrival():
    second = Box(130, 30, 60, 60)

    class Seeing:
        calls = 0

        def detect(self, grey: np.ndarray, window: Box | None = None) -> list[Box]:
            self.calls += 1
            diff = np.abs(grey.astype(np.float32) - WALL)
            seen = [b for b in (BOX, second) if diff[b.y : b.y + b.h, b.x : b.x + b.w].mean() > 4]
            return within(seen, window)

    def two() -> np.ndarray:
        image = textured(1.0)
        image[second.y : second.y + second.h, second.x : second.x + second.w] = textured(1.0)[
            BOX.y : BOX.y + BOX.h, BOX.x : BOX.x + BOX.w
        ]
        return image

    haar = Seeing()
    pipe = pipeline(haar, detect_every=10)  # type: ignore[arg-type]
    frames = [textured(1.0)] * 3 + [two()] * 5
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1] * 3 + [2] * 5
    assert haar.calls == 2  # frame 0, and frame 3 where the second face came
