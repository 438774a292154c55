"""Scan windows: their geometry, and Haar in a window reporting boxes in the image's pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.errors import ConfigError
from edge.faces import HaarFaceDetector
from edge.preprocess import DetectionImage, downscale
from edge.scan import changed_regions, clip, grow, merge, merge_sized, sides_near, to_detection
from edge.types import Box, iou


def test_grow_keeps_the_centre_and_a_minimum_side():
    assert grow(Box(100, 100, 40, 20), 0.5) == Box(80, 80, 80, 60)
    assert grow(Box(100, 100, 10, 10), 0.0, min_side=50) == Box(80, 80, 50, 50)


def test_clip_cuts_to_the_image_or_gives_none():
    assert clip(Box(-10, 5, 30, 30), 100, 20) == Box(0, 5, 20, 15)
    assert clip(Box(120, 0, 10, 10), 100, 100) is None


def test_merge_joins_overlapping_windows_transitively_and_keeps_apart_ones():
    a, b, c, far = Box(0, 0, 10, 10), Box(8, 0, 10, 10), Box(16, 5, 10, 10), Box(50, 50, 5, 5)
    assert sorted(merge([a, far, c, b])) == sorted([Box(0, 0, 26, 15), far])


def test_merged_windows_search_for_the_sides_of_both_or_any():
    a, b, c = Box(0, 0, 10, 10), Box(8, 0, 10, 10), Box(40, 40, 10, 10)
    assert merge_sized([(a, (10, 20)), (b, (15, 30))]) == [(Box(0, 0, 18, 10), (10, 30))]
    assert merge_sized([(a, (10, 20)), (b, None), (c, (5, 6))]) == [
        (Box(0, 0, 18, 10), None),
        (c, (5, 6)),
    ]
    assert sides_near(60, 1.5) == (40, 90)


def test_changed_regions_group_near_cells_and_scale_to_pixels():
    changed = np.zeros((10, 10), bool)
    changed[2, 2] = changed[2, 4] = True  # one cell apart: one group
    changed[8, 8] = True
    regions = sorted(changed_regions(changed, 16))
    # each group's bounding box, grown by the one-cell dilation that joined it
    assert regions == [Box(16, 16, 80, 48), Box(112, 112, 48, 48)]


def test_to_detection_rounds_outwards_and_clips():
    assert to_detection(Box(10, 10, 21, 21), 4.0, 100, 100) == Box(2, 2, 6, 6)
    assert to_detection(Box(-40, 380, 100, 100), 4.0, 100, 100) == Box(0, 95, 15, 5)


def grey_with_head(head_bgr: np.ndarray, x: int, y: int) -> np.ndarray:
    grey = np.full((360, 480), 120, np.uint8)
    h, w = head_bgr.shape[:2]
    grey[y : y + h, x : x + w] = cv2.cvtColor(head_bgr, cv2.COLOR_BGR2GRAY)
    return grey


def test_haar_in_a_window_reports_the_face_in_image_pixels(head_bgr):
    grey = grey_with_head(head_bgr, 200, 50)
    haar = HaarFaceDetector()
    [whole] = haar.detect(grey)
    [windowed] = haar.detect(grey, Box(150, 20, 260, 250))
    assert iou(whole, windowed) > 0.9  # the same face, not one offset by the window's corner


def test_haar_does_not_find_a_face_the_window_cuts_through(head_bgr):
    grey = grey_with_head(head_bgr, 200, 50)
    [whole] = HaarFaceDetector().detect(grey)
    cut = Box(0, 0, whole.x + whole.w // 2, 360)  # the window ends mid-face
    assert HaarFaceDetector().detect(grey, cut) == []
    assert HaarFaceDetector().detect(grey, Box(0, 0, 20, 20)) == []  # smaller than min_size


def test_haar_with_sides_finds_only_faces_of_those_sides(head_bgr):
    grey = grey_with_head(head_bgr, 200, 50)
    haar = HaarFaceDetector()
    [face] = haar.detect(grey)
    near = sides_near(face.w, 1.5)
    assert [iou(b, face) > 0.8 for b in haar.detect(grey, Box(150, 20, 260, 250), (), near)] == [
        True
    ]
    assert haar.detect(grey, None, (), (2 * face.w, 3 * face.w)) == []  # larger faces only
    assert haar.detect(grey, None, (), (10, face.w // 2)) == []  # smaller faces only


def grey_with_faint_head(head_bgr: np.ndarray) -> np.ndarray:
    """The head at a fifth of its contrast, blurred: Haar finds it with 7 agreeing detections."""
    grey = np.full((360, 480), 120, np.float32)
    head = cv2.cvtColor(head_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey[50:270, 200:410] = cv2.GaussianBlur((head - head.mean()) * 0.2 + 120, (0, 0), 2.5)
    return grey.astype(np.uint8)


def test_a_weak_face_is_found_only_where_a_tracked_face_is(head_bgr):
    grey = grey_with_faint_head(head_bgr)  # 7 agreeing detections: 3 from each threshold
    haar = HaarFaceDetector(min_neighbors=10, known_neighbors=4)
    assert haar.detect(grey) == []  # too weak for a new face
    assert haar.detect(grey, known=[Box(0, 0, 100, 100)]) == []  # a tracked face elsewhere
    [found] = haar.detect(grey, known=[Box(250, 100, 110, 110)])
    assert iou(found, Box(250, 100, 110, 110)) > 0.7
    assert HaarFaceDetector(min_neighbors=10).detect(grey, known=[found]) == []  # default: 10


def test_a_face_being_confirmed_is_found_again_on_fewer_detections_with_the_second_look(
    head_bgr,
):
    grey = grey_with_faint_head(head_bgr)  # 7 agreeing detections: 3 from each threshold
    alt2 = "haarcascade_frontalface_alt2.xml"
    haar = HaarFaceDetector(min_neighbors=10, known_neighbors=4, verify=alt2)
    assert haar.detect(grey) == []  # too weak for a new face
    assert haar.detect(grey, confirming=[Box(0, 0, 100, 100)]) == []  # one elsewhere
    [found] = haar.detect(grey, confirming=[Box(250, 100, 110, 110)])
    assert iou(found, Box(250, 100, 110, 110)) > 0.7
    # unlike a tracked face, it still needs the second cascade...
    blind = HaarFaceDetector(min_neighbors=10, known_neighbors=4, verify="haarcascade_eye.xml")
    assert blind.detect(grey, confirming=[found]) == []
    assert blind.detect(grey, known=[found]) == [found]
    # ...and more than known_neighbors agreeing detections
    fewer = HaarFaceDetector(min_neighbors=10, known_neighbors=10, verify=alt2)
    assert fewer.detect(grey, confirming=[found]) == []


def test_a_new_face_must_be_found_by_the_second_cascade_too(head_bgr):
    grey = grey_with_head(head_bgr, 200, 50)
    [face] = HaarFaceDetector(verify="haarcascade_frontalface_alt2.xml").detect(grey)
    assert iou(face, HaarFaceDetector().detect(grey)[0]) == 1.0  # verified: kept as found
    # a "second cascade" that never sees a whole face (eyes only, all under 0.6x the box)
    eyes = HaarFaceDetector(verify="haarcascade_eye.xml")
    assert eyes.detect(grey) == []
    [known] = eyes.detect(grey, known=[face])  # a tracked face needs no second look
    assert iou(known, face) == 1.0
    assert eyes.verified(grey, face) is False
    assert HaarFaceDetector(verify="haarcascade_frontalface_alt2.xml").verified(grey, face)


def test_a_face_found_with_sure_neighbors_needs_no_second_look(head_bgr):
    grey = grey_with_head(head_bgr, 200, 50)
    [face] = HaarFaceDetector().detect(grey)
    blind = "haarcascade_eye.xml"  # a second cascade that never sees a whole face
    [sure] = HaarFaceDetector(verify=blind, sure_neighbors=6).detect(grey)
    assert sure == face  # the head gathers more than 6 agreeing detections: enough alone
    assert HaarFaceDetector(verify=blind, sure_neighbors=200).detect(grey) == []
    assert HaarFaceDetector(verify=blind, sure_neighbors=0).detect(grey) == []  # 0: off


def test_the_second_look_is_off_with_no_cascade_and_a_missing_one_is_named(head_bgr, tmp_path):
    grey = grey_with_head(head_bgr, 200, 50)
    assert HaarFaceDetector(verify="").verified(grey, Box(0, 0, 50, 50))  # no check: all pass
    with pytest.raises(ConfigError, match=r"faces\.verify_cascade: no Haar cascade at .*nope"):
        HaarFaceDetector(verify="nope.xml")
    with pytest.raises(ConfigError, match=r"faces\.verify_cascade: no Haar cascade at .*gone"):
        HaarFaceDetector(verify=str(tmp_path / "gone.xml"))


def test_haar_on_a_detection_image_made_only_around_the_window_finds_what_it_finds_on_all_of_it(
    head_bgr,
):
    frame = cv2.resize(grey_with_head(head_bgr, 200, 50), (640, 480))  # a 640 px frame's grey
    whole = downscale(frame, 480)
    haar = HaarFaceDetector(verify="haarcascade_frontalface_alt2.xml")
    [face] = haar.detect(whole)
    window = grow(face, 0.2)  # as a tracked face is looked for again
    [in_window] = haar.detect(whole, window)
    image = DetectionImage(frame, 480)
    assert haar.detect(image, window) == [in_window]  # in the whole image's pixels, verified
    assert image._whole is None  # only the window and what the second look reads around it
    assert haar.detect(DetectionImage(frame, 480)) == [face]
