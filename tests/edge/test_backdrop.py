"""The backdrop: a Haar box on the bare wall, seen bare before, is no face; faces never are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.backdrop import HOLD, STEP, Backdrop
from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline
from edge.tracking import Tracker
from edge.types import Box, Frame
from tests.fakes import FakeClassifier, within

H, W = 480, 640
PATCH = Box(260, 180, 120, 120)  # where Haar takes the wall for a face
REST = (HOLD + 2) * STEP  # frames: long enough for every cell to be learned
PASS = 40  # frames someone takes to pass in front of PATCH


def wall() -> np.ndarray:
    """A blotchy grey wall (fixed seed): detail at several scales, no sharp edges."""
    rng = np.random.default_rng(7)
    image = np.full((H, W), 128.0, np.float32)
    for cells, amp in ((6, 40.0), (24, 20.0), (96, 8.0)):
        coarse = rng.uniform(-amp, amp, (cells * 3 // 4, cells)).astype(np.float32)
        image += cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(cv2.GaussianBlur(image, (0, 0), 1.5), 0, 255).astype(np.uint8)


def with_face(image: np.ndarray, box: Box = PATCH, seed: int = 1) -> np.ndarray:
    """``image`` with a sharp, high-contrast pattern (a stand-in face) over ``box``."""
    out = image.copy()
    rng = np.random.default_rng(seed)
    face = rng.integers(0, 256, (box.h // 8, box.w // 8)).astype(np.uint8)
    out[box.y : box.y + box.h, box.x : box.x + box.w] = cv2.resize(
        face, (box.w, box.h), interpolation=cv2.INTER_NEAREST
    )
    return out


def passer_by(image: np.ndarray, t: int) -> np.ndarray:
    """``image`` with a bright disc crossing ``PATCH`` from left to right at frame ``t`` (of
    ``PASS``)."""
    out = image.copy()
    cv2.circle(out, (PATCH.x - 60 + 6 * t, PATCH.y + 60), 80, 250, -1)
    return out


def run(backdrop: Backdrop, frames: list[np.ndarray], covered: list[Box] | None = None) -> None:
    for grey in frames:
        backdrop.observe(grey, covered or [], W)


def bare_twice(backdrop: Backdrop) -> np.ndarray:
    """The wall at rest, someone passing in front of it (untracked), the wall at rest again."""
    bare = wall()
    run(backdrop, [bare] * REST + [passer_by(bare, t) for t in range(PASS)] + [bare] * REST)
    return bare


def test_a_box_on_the_wall_seen_bare_twice_is_the_backdrop():
    backdrop = Backdrop(0.8)
    bare = wall()
    run(backdrop, [bare] * REST)
    assert not backdrop.shows(bare, PATCH, W)  # seen at rest once: not yet trusted
    bare_twice(backdrop)
    assert backdrop.shows(bare, PATCH, W)
    assert not backdrop.shows(with_face(bare), PATCH, W)  # a face in front of it is no wall
    darker = (bare * 0.8).astype(np.uint8)  # the light changed: still the wall
    assert backdrop.shows(darker, PATCH, W)


def test_a_lores_detection_image_is_read_in_the_frames_pixels():
    backdrop = Backdrop(0.8)

    def lores(image: np.ndarray) -> np.ndarray:  # picamera2's 480x360 plane beside 640x480
        return cv2.resize(image, (480, 360), interpolation=cv2.INTER_AREA)

    bare = wall()
    frames = [bare] * REST + [passer_by(bare, t) for t in range(PASS)] + [bare] * REST
    for grey in frames:
        backdrop.observe(lores(grey), [], W)
    assert backdrop.shows(lores(bare), PATCH, W)  # PATCH is in the 640 px frame's pixels
    assert not backdrop.shows(lores(with_face(bare)), PATCH, W)


def test_the_walls_pattern_somewhere_else_is_not_the_wall_there():
    backdrop = Backdrop(0.8)
    bare = bare_twice(backdrop)
    other = Box(130, 190, 100, 100)  # another part of the wall (passed too), another pattern
    moved = bare.copy()
    moved[other.y : other.y + other.h, other.x : other.x + other.w] = bare[
        PATCH.y : PATCH.y + other.h, PATCH.x : PATCH.x + other.w
    ]
    assert backdrop.shows(bare, other, W)  # what is there: the wall
    assert not backdrop.shows(moved, other, W)  # the wall's pattern, but not what is there


def test_a_tracked_face_that_sits_still_is_never_learned():
    backdrop = Backdrop(0.8)
    bare = bare_twice(backdrop)
    face = with_face(bare)
    run(backdrop, [face] * (4 * REST), covered=[PATCH])  # tracked: its box covers it
    assert not backdrop.shows(face, PATCH, W)
    run(backdrop, [bare] * REST)  # it leaves; the wall is the wall it was
    assert backdrop.shows(bare, PATCH, W)


def test_a_face_at_rest_unseen_is_not_trusted_as_the_wall():
    backdrop = Backdrop(0.8)
    bare = bare_twice(backdrop)
    face = with_face(bare)
    run(backdrop, [face] * (3 * REST))  # Haar missed it: nothing covers it
    assert not backdrop.shows(face, PATCH, W)  # it rested once; the wall rested there before


def test_a_box_mostly_on_the_bare_wall_beside_a_face_is_no_face():
    backdrop = Backdrop(0.99)  # the whole box's detail is not the wall's: this is the other rule
    bare = bare_twice(backdrop)
    face = Box(PATCH.x - 80, PATCH.y, PATCH.w, PATCH.h)  # covers a third of PATCH
    frame = with_face(bare, face)
    assert backdrop.shows(frame, PATCH, W)  # Haar's box beside the face: two thirds bare wall
    assert not backdrop.shows(frame, face, W)
    assert not backdrop.shows(frame, Box(PATCH.x - 40, PATCH.y, PATCH.w, PATCH.h), W)  # 2/3 face


def test_the_flat_parts_of_a_face_before_a_plain_wall_are_not_bare_wall():
    backdrop = Backdrop(0.8)
    flat = np.full((H, W), 120, np.uint8)
    run(backdrop, [flat] * REST + [passer_by(flat, t) for t in range(PASS)] + [flat] * REST)
    half = with_face(
        flat, Box(PATCH.x, PATCH.y, PATCH.w // 3, PATCH.h)
    )  # the rest flat as the wall
    assert not backdrop.shows(half, PATCH, W)  # a plain wall shows no pattern a face would hide


def test_a_noisy_camera_never_holds_still_so_nothing_is_dropped():
    backdrop = Backdrop(0.8)
    rng = np.random.default_rng(0)
    bare = wall().astype(np.int16)
    frames = []
    for _ in range(3 * REST):
        noise = rng.normal(0, 6, bare.shape).round().astype(np.int16)
        frames.append(np.clip(bare + noise, 0, 255).astype(np.uint8))
    frames[2 * REST : 2 * REST + PASS] = [passer_by(f, t) for t, f in enumerate(frames[:PASS])]
    run(backdrop, frames)
    assert not backdrop.shows(frames[-1], PATCH, W)


def test_a_flat_box_is_never_judged():
    backdrop = Backdrop(0.8)
    flat = np.full((H, W), 120, np.uint8)
    run(backdrop, [flat] * REST + [passer_by(flat, t) for t in range(PASS)] + [flat] * REST)
    assert not backdrop.shows(flat, PATCH, W)


class HaarOnTheWall:
    """Finds ``PATCH`` on every run once ``fooled`` (as Haar may after the light changed)."""

    def __init__(self) -> None:
        self.fooled = False

    def detect(self, grey, window=None, *_) -> list[Box]:
        return within([PATCH], window) if self.fooled else []


@pytest.mark.parametrize("match, reported", [(0.8, False), (0.0, True)])
def test_the_pipeline_drops_haar_boxes_on_the_bare_wall(match, reported):
    haar = HaarOnTheWall()
    faces = FacesConfig(
        detect_width=W, confirm_frames=0, confirm_misses=0, rescan_change=0, backdrop_match=match
    )
    pipe = Pipeline(haar, FakeClassifier(), Tracker(EMOTIONS), faces)
    bare = cv2.cvtColor(wall(), cv2.COLOR_GRAY2BGR)
    frames = [bare] * REST + [passer_by(bare, t) for t in range(PASS)] + [bare] * REST
    for i, f in enumerate(frames):
        assert not pipe.process(Frame(f), i, 0.0).faces
    haar.fooled = True
    results = [pipe.process(Frame(bare), len(frames) + i, 0.0) for i in range(2 * STEP)]
    assert any(r.faces for r in results) is reported
