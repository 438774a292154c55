import numpy as np

from edge.labels import EMOTIONS
from edge.tracking import Tracker, iou
from edge.types import Box
from tests.fakes import one_hot


def test_iou():
    assert iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert iou(Box(0, 0, 10, 10), Box(20, 20, 10, 10)) == 0.0
    assert abs(iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_ids_follow_two_faces_that_move_and_survive_short_dropouts():
    tracker = Tracker(EMOTIONS, max_missed=2)
    ids: dict[int, set[int]] = {10: set(), 200: set()}  # by the face's fixed y
    for i in range(20):
        a, b = Box(10 + 4 * i, 10, 50, 50), Box(300 - 4 * i, 200, 40, 40)
        boxes = [a] if i == 10 else [b, a]  # b vanishes for one frame; order differs from a, b
        for face in tracker.update(boxes, [one_hot("happy")] * len(boxes)):
            ids[face.box.y].add(face.id)
    assert len(ids[10]) == 1 and len(ids[200]) == 1 and ids[10] != ids[200]
    assert tracker.update([], []) == []
    assert len(tracker.tracks) == 2  # kept for max_missed frames


def test_a_new_face_gets_a_new_id_after_the_old_track_expired():
    tracker = Tracker(EMOTIONS, max_missed=1)
    (first,) = tracker.update([Box(0, 0, 50, 50)], [one_hot("sad")])
    tracker.update([], [])
    tracker.update([], [])
    (again,) = tracker.update([Box(0, 0, 50, 50)], [one_hot("sad")])
    assert again.id != first.id


def test_smoothed_label_ignores_single_frame_flips_and_follows_a_real_change():
    tracker = Tracker(EMOTIONS, ema_alpha=0.3, hysteresis=0.15)
    box = Box(0, 0, 50, 50)
    script = ["happy"] * 10 + ["angry"] + ["happy"] * 5 + ["sad"] * 15
    raw, smooth = [], []
    for label in script:
        (face,) = tracker.update([box], [one_hot(label)])
        raw.append(face.emotion)
        smooth.append(face.smoothed)
    assert raw == script
    changes = [i for i in range(1, len(smooth)) if smooth[i] != smooth[i - 1]]
    assert len(changes) == 1 and smooth[-1] == "sad" and "angry" not in smooth
    assert np.isclose(face.scores.sum(), 1.0)
