"""Carrying boxes between Haar runs: fewer scans, the same ids, faces that leave are dropped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.carry import Followed, is_part, surrounds, without_parts
from edge.config import FacesConfig
from edge.labels import EMOTIONS
from edge.pipeline import Pipeline
from edge.preprocess import DetectionImage
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
    faces.setdefault("confirm_frames", 0)  # new faces carried at once (tested apart)
    faces.setdefault("confirm_misses", 0)  # a miss while being confirmed drops it (tested apart)
    faces.setdefault("rescan_change", 0.0)  # periodic scans of the whole frame (tested apart)
    faces.setdefault("detect_width", 200)
    cfg = FacesConfig(**faces)  # type: ignore[arg-type]
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
    assert haar.sides == [None, (40, 90)]  # looked for at its own side (60), 1/1.5x to 1.5x


def test_a_haar_miss_is_bridged_once_while_the_crop_matches_and_looked_at_next_frame():
    haar = FakeFaces([[BOX], [], []])  # found once, then missed by every later run
    pipe = pipeline(haar, detect_every=4, max_coast=1)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(6)]
    # Haar on 0 (found), 4 (full scan, missed: bridged), 5 (in its window: missed again, dropped)
    assert [len(r.faces) for r in results] == [1, 1, 1, 1, 1, 0]
    assert haar.calls == 3 and haar.windows[1] is None and haar.windows[2] is not None


def test_a_bridged_face_found_again_next_frame_is_carried_on():
    haar = FakeFaces([[BOX], [], [BOX]])  # found, missed once (blur), found in its window
    pipe = pipeline(haar, detect_every=4, max_coast=1)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(8)]
    assert [len(r.faces) for r in results] == [1] * 8
    assert haar.calls == 3  # 0, 4 (missed), 5 (found again), then carried until the scan on 8


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

    def detect(self, image: DetectionImage, window: Box | None = None, *_: object) -> list:
        grey = image.whole()  # the detection image as the pipeline made it
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


def test_a_face_replaced_in_place_by_a_fainter_one_is_confirmed_on_its_own_reference():
    """Another face (or expression) in the same place, with less contrast: Haar finds it, its
    match to the old face's reference has dropped, so it is confirmed anew on a reference of
    its own and then carried on it. Kept, the old face's reference never matched it: Haar
    looked for it on every frame."""
    haar = SeeingFaces()
    pipe = pipeline(haar, detect_every=20, confirm_frames=2, confirm_misses=3)
    fainter = WALL.copy()  # horizontal stripes where the vertical ones were, half the contrast
    rows = np.where(np.arange(BOX.h) // 5 % 2, 30.0, -30.0)[:, None]
    fainter[BOX.y : BOX.y + BOX.h, BOX.x : BOX.x + BOX.w] = WALL.mean() + rows
    fainter_bgr = cv2.cvtColor(np.clip(fainter, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    frames = [textured(1.0)] * 3 + [fainter_bgr] * 9
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1] * 12
    # frames 0-2: found, then found again twice (confirmed); 3: its match dropped, found (a
    # changed face); 4-5: found again twice on its new reference; 6-11: carried on its match
    assert haar.calls == 6


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
        def __init__(self) -> None:
            self.calls = 0
            self.windows: list[Box | None] = []

        def detect(self, image: DetectionImage, window: Box | None = None, *_: object) -> list:
            grey = image.whole()  # the detection image as the pipeline made it
            self.calls += 1
            self.windows.append(window)
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
    assert haar.windows[1] is not None and haar.windows[1] != Box(0, 0, 200, 160)
    assert within([second], haar.windows[1]) == [second]  # only around the change


WIDE = cv2.GaussianBlur(
    np.random.default_rng(11).integers(0, 256, (240, 480)).astype(np.float32), (0, 0), 2
)
A, NEAR, FAR = Box(40, 60, 80, 80), Box(150, 60, 80, 80), Box(300, 60, 80, 80)


def wide(*faces: tuple[Box, float]) -> np.ndarray:
    """``WIDE`` with bright striped faces, each showing the left ``shown`` part of its box."""
    grey = WIDE.copy()
    for box, shown in faces:
        stripes = np.where(np.arange(box.w) // (5 + box.x % 4) % 2, 40.0, -40.0)[None, :]
        cols = round(box.w * shown)
        grey[box.y : box.y + box.h, box.x : box.x + cols] = 200 + stripes[:, :cols]
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


class WideSeeing:
    """Finds each of ``A, NEAR, FAR`` where ``wide`` shows at least half of it, as Haar only
    when it lies wholly inside the scanned window; records the windows."""

    def __init__(self) -> None:
        self.windows: list[Box | None] = []

    def detect(self, image: DetectionImage, window: Box | None = None, *_: object) -> list:
        grey = image.whole()  # the detection image as the pipeline made it
        self.windows.append(window)
        diff = np.abs(grey.astype(np.float32) - WIDE)
        seen = [b for b in (A, NEAR, FAR) if diff[b.y : b.y + b.h, b.x : b.x + b.w].mean() > 20]
        return within(seen, window)


def wide_pipeline(haar: WideSeeing, **faces: object) -> Pipeline:
    faces.setdefault("confirm_frames", 0)
    cfg = FacesConfig(detect_width=480, detect_every=20, **faces)  # type: ignore[arg-type]
    return Pipeline(haar, FakeClassifier(), Tracker(EMOTIONS), cfg)  # type: ignore[arg-type]


def test_a_newcomer_whose_change_covers_half_of_it_is_found_in_the_grown_window():
    haar = WideSeeing()
    pipe = wide_pipeline(haar)
    frames = [wide((A, 1.0))] * 3 + [wide((A, 1.0), (FAR, 0.5))] * 3
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1] * 3 + [2] * 3
    assert haar.windows[0] is None  # the first frame: the whole frame
    assert haar.windows[1] is not None and within([FAR], haar.windows[1]) == [FAR]
    assert within([A], haar.windows[1]) == []  # the window is around the change, not A


def test_a_carried_face_the_window_only_partly_covers_is_kept_not_dropped():
    haar = WideSeeing()
    pipe = wide_pipeline(haar, max_coast=0)  # a face checked and missed is dropped at once
    frames = [wide((A, 1.0))] * 2 + [wide((A, 1.0), (NEAR, 1.0))] * 4
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    window = haar.windows[1]
    assert window is not None and within([NEAR], window) == [NEAR]
    assert within([A], window) == [] and window.x < A.x + A.w  # A straddles its edge
    assert [len(r.faces) for r in results] == [1] * 2 + [2] * 4
    assert {r.faces[-1].id for r in results} == {0}  # A kept its track throughout


def test_a_face_checked_in_a_window_maps_back_to_source_pixels():
    frames = [np.full((960, 1280, 3), 120, np.uint8) for _ in range(3)]
    frames[0][80:200, 40:160] = np.where(np.arange(120) // 10 % 2, 250, 10)[None, :, None]
    checks = (np.arange(120)[:, None] // 10 + np.arange(120)[None, :] // 10) % 2
    frames[1][80:200, 40:160] = np.where(checks, 10, 250)[:, :, None]  # another look
    frames[2] = frames[1]
    haar = FakeFaces([[Box(10, 20, 30, 30)]])  # detection-image pixels (1/4)
    cfg = FacesConfig(detect_width=320, confirm_frames=0)
    pipe = Pipeline(haar, FakeClassifier(), Tracker(EMOTIONS), cfg)
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [haar.windows[0], haar.calls] == [None, 2]  # frame 1: the match dropped
    window = haar.windows[1]
    assert window is not None and within([Box(10, 20, 30, 30)], window)
    assert window.w * window.h < 320 * 240 / 4  # a window, not the frame
    assert [r.faces[0].box for r in results] == [Box(40, 80, 120, 120)] * 3
    assert {r.faces[0].id for r in results} == {0}


def test_a_new_face_must_be_found_again_on_the_next_frames_to_be_carried():
    once = FakeFaces([[BOX], []])  # a Haar false positive: found once, never again
    pipe = pipeline(once, detect_every=10, confirm_frames=2)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(4)]
    assert [len(r.faces) for r in results] == [1, 0, 0, 0]  # not carried on its match
    steady = FakeFaces([[BOX]])
    pipe = pipeline(steady, detect_every=10, confirm_frames=2)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(6)]
    assert [len(r.faces) for r in results] == [1] * 6
    assert steady.calls == 3 and steady.windows[1:] != [None, None]  # then carried; windows


def test_haar_is_told_where_the_faces_being_confirmed_are_until_they_are_confirmed():
    steady = FakeFaces([[BOX]])
    pipe = pipeline(steady, detect_every=4, confirm_frames=2)
    for i in range(5):
        pipe.process(Frame(scene(True)), i, 0.0)
    # found on 0 (new), looked for on 1 and 2 as a face being confirmed, not a tracked one
    assert steady.confirming[:3] == [[], [BOX], [BOX]]
    assert steady.known[:3] == [[], [], []]
    # confirmed on 2: the periodic scan (frame 4) finds it again as a tracked face
    assert steady.calls == 4 and steady.confirming[3] == [] and steady.known[3] == [BOX]


def test_a_new_face_missed_while_being_confirmed_is_hidden_and_looked_for_again():
    # Haar finds this face on every other look (as some real faces: 4-8 agreeing detections)
    haar = FakeFaces([[BOX], [], [BOX], [], [BOX], []])
    pipe = pipeline(haar, detect_every=10, confirm_frames=2, confirm_misses=3)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(8)]
    # shown where found (0, 2, 4), hidden where missed (1, 3): neither reported nor
    # classified; found on 3 frames it is confirmed and carried on its match (5-7, no Haar)
    assert [len(r.faces) for r in results] == [1, 0, 1, 0, 1, 1, 1, 1]
    assert haar.calls == 5 and pipe.classifier.calls == 6
    assert {f.id for r in results for f in r.faces} == {0}  # one track throughout
    # without misses allowed it is dropped on its first miss, until the next periodic scan
    haar = FakeFaces([[BOX], [], [BOX], [], [BOX], []])
    pipe = pipeline(haar, detect_every=10, confirm_frames=2, confirm_misses=0)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(8)]
    assert [len(r.faces) for r in results] == [1] + [0] * 7 and haar.calls == 2


def test_a_face_never_found_again_is_dropped_after_its_confirm_misses():
    once = FakeFaces([[BOX], []])  # a Haar false positive: found once, never again
    pipe = pipeline(once, detect_every=10, confirm_frames=2, confirm_misses=2)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(8)]
    assert [len(r.faces) for r in results] == [1] + [0] * 7  # never shown again
    assert once.calls == 4  # found on 0; missed on 1 and 2 (hidden), and 3: dropped
    assert pipe.carry.faces == []


def test_a_face_carried_out_of_the_frame_is_dropped_when_half_of_it_is_out():
    wall = np.full((240, 320), 120.0, np.float32)
    # vertical stripes: the frame edge's replicated rows look the same, so it keeps matching
    face = np.where(np.arange(80)[None, :] // 8 % 2, 230, 20).repeat(80, axis=0)

    def at(y: int) -> np.ndarray:
        grey = wall.copy()
        top = max(y, 0)
        grey[top : y + 80, 100:180] = face[top - y :]
        return cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)

    ys = [80, 60, 40, 20, 0, -20, -45, -70]
    haar = FakeFaces([[Box(100, 80, 80, 80)]])  # found once; Haar never runs again
    cfg = FacesConfig(detect_width=320, detect_every=30, confirm_frames=0)
    pipe = Pipeline(haar, FakeClassifier(), Tracker(EMOTIONS), cfg)
    results = [pipe.process(Frame(at(y)), i, 0.0) for i, y in enumerate(ys)]
    inside = [min(80, 80 + y) / 80 for y in ys]
    shown = [len(r.faces) for r in results]
    assert shown[: inside.index(0.4375)] == [1] * inside.index(0.4375)  # followed up...
    assert shown[inside.index(0.4375) :] == [0, 0]  # ...and dropped once half of it is out


def test_only_faces_that_still_match_may_be_found_again_on_weaker_evidence():
    haar = FakeFaces([[BOX]])
    pipe = pipeline(haar, detect_every=3, confirm_frames=0)
    frames = [scene(True)] * 4 + [scene(False)]  # Haar on 0, 3 (its turn), 4 (match dropped)
    for i, f in enumerate(frames):
        pipe.process(Frame(f), i, 0.0)
    assert haar.known == [[], [BOX], []]  # on frame 4 the face has left: full evidence needed


def test_a_face_found_again_with_another_look_is_confirmed_anew():
    other = scene(False)
    checks = (np.arange(BOX.h)[:, None] // 6 + np.arange(BOX.w)[None, :] // 6) % 2
    other[BOX.y : BOX.y + BOX.h, BOX.x : BOX.x + BOX.w] = np.where(checks, 250, 10)[..., None]
    haar = FakeFaces([[BOX], [BOX], [BOX], []])  # the new look: found once, then no more
    pipe = pipeline(haar, detect_every=10, confirm_frames=1)
    frames = [scene(True)] * 3 + [other] * 3
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    # Haar: 0 (new), 1 (confirmed), 3 (the match dropped: found, but changed), 4 (not again)
    assert [len(r.faces) for r in results] == [1, 1, 1, 1, 0, 0]
    assert haar.calls == 4


def test_the_periodic_scan_skips_what_did_not_change_since_haar_looked():
    haar = FakeFaces([[BOX]])
    pipe = pipeline(haar, detect_every=4, rescan_change=2.0)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(12)]
    assert haar.calls == 1  # frame 0 only: the same pixels give Haar the same answer
    assert all([f.box for f in r.faces] == [BOX] for r in results)
    assert pipe.scans == {"full": 1, "rescan": 2, "none": 9}  # due on 4 and 8, nothing to see


def test_the_periodic_scan_looks_where_a_face_fades_in_too_slowly_for_the_watch():
    haar = FakeFaces([[], [BOX]])  # Haar finds the face once it is there (second call on)
    pipe = pipeline(haar, detect_every=4, rescan_change=2.0, arrival_change=20.0)
    face = scene(True).astype(np.float32)
    wall = scene(False).astype(np.float32)
    # each frame 1/20 more of the face: its cells change by < 20 per frame (no arrival run)
    frames = [(wall + (face - wall) * min(i / 20, 1)).astype(np.uint8) for i in range(9)]
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    # frame 0 whole; the rescans on 4 and 8 only around the fading face (it still changes)
    assert haar.calls == 3 and haar.windows[0] is None
    assert all(w is not None and w.w * w.h < 160 * 200 * 0.75 for w in haar.windows[1:])
    assert pipe.scans == {"full": 1, "rescan": 2, "none": 6}
    assert [len(r.faces) for r in results] == [0] * 4 + [1] * 5


ROOM = Box(0, 0, 640, 480)  # a camera-sized frame: room for a face and a change apart
SEATED = Box(100, 100, 160, 160)  # a face that stays
BLOB = Box(480, 320, 48, 48)  # something that changed far from it
BESIDE = Box(300, 140, 80, 80)  # a face that comes to sit beside it, half of it near it


def room(
    face: float = 0.0, blob: float = 0.0, light: float = 1.0, beside: bool = False
) -> np.ndarray:
    """A flat 640x480 wall (grey 100) with a striped face at ``SEATED`` (40/200) and ``BLOB``,
    each brightened by ``face`` / ``blob`` grey levels, a striped face at ``BESIDE`` if
    ``beside``, all of it lit by ``light``."""
    grey = np.full((ROOM.h, ROOM.w), 100.0, np.float32)
    for box, lift in [(SEATED, face)] + [(BESIDE, 0.0)] * beside:
        stripes = np.where(np.arange(box.w) // 6 % 2, 200.0, 40.0)[None, :]
        grey[box.y : box.y + box.h, box.x : box.x + box.w] = stripes + lift
    grey[BLOB.y : BLOB.y + BLOB.h, BLOB.x : BLOB.x + BLOB.w] += blob
    return cv2.cvtColor(np.clip(grey * light, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def periodic(haar: FakeFaces) -> Pipeline:
    """Haar every 4th frame where something changed by 2 grey levels; arrivals at 20."""
    return pipeline(haar, detect_width=640, detect_every=4, rescan_change=2.0, arrival_change=20.0)


def test_the_periodic_scan_looks_at_a_face_that_still_matches_only_at_about_its_size():
    """Its cells changed (it moved, the light on it changed) but its match holds: a face is
    looked for there only at 1/1.25..1.25x its side (there is no other face on a face, and
    one that grew more would not match), while a change away from it is looked at for faces
    of any size."""
    haar = FakeFaces([[SEATED]])
    pipe = periodic(haar)
    frames = [room()] * 4 + [room(face=6.0, blob=6.0)]  # each changed by 6 (< 20: no arrival)
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [[f.box for f in r.faces] for r in results] == [[SEATED]] * 5
    assert pipe.scans == {"full": 1, "none": 3, "rescan": 1}
    looks = dict(zip(haar.sides[1:], haar.windows[1:], strict=True))
    assert set(looks) == {(128, 200), None}  # two windows on frame 4: the face's, the blob's
    assert within([SEATED], looks[(128, 200)]) == [SEATED]
    assert within([BLOB], looks[None]) == [BLOB] and not within([SEATED], looks[None])


def test_a_face_that_comes_beside_a_tracked_one_is_looked_for_at_any_size_where_it_is():
    """A face that arrives beside a tracked one, half of it within half a side of it (where
    the tracked face's own changes are not looked at for other faces), is looked for where
    it is at any size: the window of what changed beside the face reaches over all that."""
    haar = FakeFaces([[SEATED], [SEATED, BESIDE]])
    pipe = periodic(haar)
    frames = [room()] * 4 + [room(beside=True)]
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [len(r.faces) for r in results] == [1, 1, 1, 1, 2]
    assert haar.sides[1:] == [None] and within([BESIDE], haar.windows[1]) == [BESIDE]


def test_the_periodic_scan_does_not_look_again_where_only_the_light_changed():
    """The room's light drifts by 1% a frame (4% between periodic scans: grey 100 -> 104):
    Haar scales each window's contrast, so it would see the same; only the blob, changed by
    more than the light, is looked at again (on frame 8)."""
    haar = FakeFaces([[SEATED]])
    pipe = periodic(haar)
    frames = [room(light=1 + 0.01 * i) for i in range(8)] + [room(blob=8.0, light=1.08)]
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    assert [[f.box for f in r.faces] for r in results] == [[SEATED]] * 9
    assert haar.calls == 2 and haar.windows[0] is None  # frame 0 whole, frame 8 the blob
    assert within([BLOB], haar.windows[1]) == [BLOB] and not within([SEATED], haar.windows[1])
    assert pipe.scans == {"full": 1, "rescan": 2, "none": 6}


@pytest.mark.parametrize("whole_every", [16, 0])
def test_a_change_slower_than_the_periodic_scan_sees_is_looked_at_by_the_whole_frame_scan(
    whole_every,
):
    """Something fades in by 1 grey level between periodic scans (under their 2-level line:
    never looked at, and the line is measured from what it was at the last scan). Haar looks
    at the whole frame every ``whole_every`` frames all the same, and finds the face there."""
    haar = FakeFaces([[], [BLOB]])  # nothing on frame 0; the face on Haar's next look
    pipe = pipeline(
        haar,
        detect_width=640,
        detect_every=4,
        rescan_change=2.0,
        arrival_change=20.0,
        whole_every=whole_every,
    )
    frames = [room(blob=0.25 * i) for i in range(21)]
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    if whole_every:
        assert [len(r.faces) for r in results] == [0] * 16 + [1] * 5  # found on frame 16
        assert haar.windows[:2] == [None, None]  # both whole-frame looks (then the new face's)
        assert pipe.scans["full"] == 2 and pipe.scans["rescan"] == 4  # frames 4, 8, 12, 20
    else:  # the hole that closes: never looked at
        assert haar.calls == 1 and all(not r.faces for r in results)


def test_a_match_that_falls_sharply_is_checked_by_haar_though_still_above_min_match():
    changed = scene(True).astype(np.float32)
    checks = (np.arange(BOX.h)[:, None] // 6 + np.arange(BOX.w)[None, :] // 6) % 2
    patch = changed[BOX.y : BOX.y + BOX.h, BOX.x : BOX.x + BOX.w]
    patch[:] = 0.55 * patch + 0.45 * np.where(checks, 250, 10)[..., None]  # matches ~0.8
    haar = FakeFaces([[BOX], []])  # found on frame 0, never again
    pipe = pipeline(haar, detect_every=30, carry_min_match=0.7)
    frames = [scene(True)] * 3 + [changed.astype(np.uint8)] * 3
    results = [pipe.process(Frame(f), i, 0.0) for i, f in enumerate(frames)]
    # frame 3: the match fell from 1.0 to ~0.8; Haar looks there, misses it (one coast: the
    # match is above min_match); 4: missed again, dropped. Before: carried on ~0.8, unchecked
    assert [len(r.faces) for r in results] == [1, 1, 1, 1, 0, 0]
    assert haar.calls == 3


def test_the_arrival_watch_reads_the_frames_detection_image():
    """A source's ready-made grey image (picamera2's lores Y plane) is what the watch compares:
    a face arriving there makes Haar look on that frame, though the BGR image stayed flat."""
    haar = FakeFaces([[], [BOX]])
    pipe = pipeline(haar, detect_every=8, rescan_change=2.0, arrival_change=20.0)
    flat = scene(False)
    grey_wall = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    grey_face = cv2.cvtColor(scene(True), cv2.COLOR_BGR2GRAY)
    frames = [Frame(flat, grey_wall)] * 3 + [Frame(flat, grey_face)]
    results = [pipe.process(f, i, 0.0) for i, f in enumerate(frames)]
    assert haar.calls == 2  # frame 0 (nothing tracked yet: whole frame) and frame 3 (arrival)
    assert haar.windows[1] is not None and within([BOX], haar.windows[1]) == [BOX]
    assert [len(r.faces) for r in results] == [0, 0, 0, 1]


def test_thumbnail_of_a_bgr_frame_or_of_its_grey_view_at_another_size():
    from edge.carry import CELL, thumbnail

    bgr = np.zeros((96, 128, 3), np.uint8)
    bgr[:, 64:] = 200
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (96, 72), interpolation=cv2.INTER_AREA)  # detection size
    want = np.zeros((96 // CELL, 128 // CELL), np.float32)
    want[:, 4:] = 200
    assert np.array_equal(thumbnail(bgr), want)
    assert np.allclose(thumbnail(bgr, small), want, atol=1)  # source cells, from the grey


# A chin-sized box at the bottom of BOX, partly below it (Haar's box ends above the jaw).
CHIN = Box(BOX.x + 25, BOX.y + 40, 30, 30)


def test_a_small_box_within_a_face_is_part_of_it_not_another_face():
    assert is_part(CHIN, BOX)
    assert not is_part(BOX, CHIN)  # the face is not part of its chin
    assert not is_part(Box(BOX.x + 10, BOX.y + 10, 40, 40), BOX)  # 2/3 its side: the same face
    assert not is_part(Box(BOX.x + BOX.w + 5, BOX.y, 30, 30), BOX)  # a small face beside it
    assert not is_part(Box(BOX.x + 50, BOX.y + 50, 30, 30), BOX)  # overlapping a corner only
    # a small face in the next lane, close beside a large one: not within it (a box grown on
    # every side by a quarter of the large face's side took it for a part: make_scene seed 13)
    assert not is_part(Box(232, 100, 76, 76), Box(0, 0, 240, 240))


def test_a_face_is_reported_once_not_again_for_a_part_haar_finds_in_it():
    haar = FakeFaces([[BOX, CHIN]])
    result = pipeline(haar).process(Frame(scene(True)), 0, 0.0)
    assert [f.box for f in result.faces] == [BOX]


def test_a_part_found_while_the_face_is_followed_does_not_become_a_face():
    # Found on frame 0; the periodic scan on frame 2 misses it (it still matches: bridged) and
    # finds its chin: the chin lies within where the face was followed to, so it is dropped.
    haar = FakeFaces([[BOX], [CHIN]])
    pipe = pipeline(haar, detect_every=2, max_coast=1)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(3)]
    assert haar.calls == 2
    assert [[f.box for f in r.faces] for r in results] == [[BOX], [BOX], [BOX]]


def test_a_followed_part_is_dropped_when_haar_finds_the_face_it_belongs_to():
    # Haar finds only the chin at first (the face changed expression and was missed: make_scene
    # seed 9) and it is followed; the periodic scan on frame 2 finds the whole face: the chin
    # lies within it, so from then on one face is reported, not the face and its chin.
    haar = FakeFaces([[CHIN], [BOX]])
    pipe = pipeline(haar, detect_every=2, max_coast=1)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(4)]
    assert [[f.box for f in r.faces] for r in results] == [[CHIN], [CHIN], [BOX], [BOX]]


# A box Haar finds around BOX, which lies in its upper half at under half its side: a face and
# the wall around it taken for a larger face (make_scene seed 22: a 327-px box around a 112-px
# face, reported for 17 frames in its place).
AROUND = Box(10, 20, 125, 125)


def test_a_box_with_a_small_face_in_its_upper_half_surrounds_it():
    assert surrounds(AROUND, BOX)
    assert not surrounds(BOX, AROUND)
    assert not surrounds(AROUND, Box(40, 80, 60, 60))  # in its lower half: a part (is_part)
    assert not surrounds(Box(25, 20, 100, 100), BOX)  # 0.6 its side: the same face, looser
    assert not surrounds(AROUND, Box(120, 30, 60, 60))  # half outside it: a face beside it


def test_a_box_haar_finds_around_a_tracked_face_is_not_a_face():
    # BOX is tracked and still matches; the periodic scan on frame 2 finds it again and a box
    # around it with BOX in its upper half. Without the check BOX was dropped as part of that
    # box, which was reported in its place: one face, the tracked one, is reported.
    haar = FakeFaces([[BOX], [AROUND, BOX]])
    pipe = pipeline(haar, detect_every=2)
    results = [pipe.process(Frame(scene(True)), i, 0.0) for i in range(4)]
    assert [[f.box for f in r.faces] for r in results] == [[BOX]] * 4
    assert haar.known[1] == [BOX]  # the tracked face the box was checked against
    # A face not yet tracked is no evidence against the box: both found at once, the box stays.
    first = pipeline(FakeFaces([[AROUND, BOX]])).process(Frame(scene(True)), 0, 0.0)
    assert [f.box for f in first.faces] == [AROUND]


def test_without_parts_keeps_faces_side_by_side():
    beside = Box(BOX.x + BOX.w + 5, BOX.y + 10, 30, 30)
    followed = [Followed(BOX, BOX, np.zeros((48, 48), np.uint8), 0.9)]
    assert without_parts([CHIN, beside], followed) == [beside]
    assert without_parts([BOX, beside, CHIN], []) == [BOX, beside]


def test_a_flat_reference_is_no_evidence_and_its_contrast_travels_with_it():
    """A face whose reference crop is flat would match anything: its match is 0, so Haar must
    look; a striped one matches itself. The reference's contrast is measured once, when it is
    chosen, and is carried with it from frame to frame."""
    from edge.carry import MIN_CONTRAST, BoxCarry, Carried, Kept

    carry = BoxCarry()
    region = Box(BOX.x - 2, BOX.y - 2, BOX.w + 4, BOX.h + 4)
    unknown = Carried(BOX, region, np.zeros((48, 48), np.uint8))  # flat: the crop is centred
    for frame, has_face in ((scene(False), False), (scene(True), True)):
        crop = carry.follow_one(frame, unknown).crop  # the region as the carry crops it
        face = Carried(BOX, region, crop)
        assert face.contrast == float(crop.std())
        assert (face.contrast >= MIN_CONTRAST) == has_face
        followed = carry.follow_one(frame, face)
        assert followed.score > 0.99 if has_face else followed.score == 0.0
        carry.faces = [face]
        carry.update([], [Kept(0, followed, checked=False)], full=False, followed=[followed])
        assert carry.faces[0].ref is crop and carry.faces[0].contrast == face.contrast
