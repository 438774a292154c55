import numpy as np
import pytest

from edge.labels import EMOTIONS
from edge.tracking import Tracker, change_frames
from edge.types import Box, iou
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


def smoothed_labels(scores: list[np.ndarray], **kw: float) -> list[str]:
    tracker = Tracker(EMOTIONS, **kw)  # type: ignore[arg-type]
    return [tracker.update([Box(0, 0, 50, 50)], [s])[0].smoothed for s in scores]


def scores_of(top: str, second: str, p: float, q: float) -> np.ndarray:
    s = np.full(len(EMOTIONS), (1 - p - q) / 5, np.float32)
    s[EMOTIONS.index(top)], s[EMOTIONS.index(second)] = p, q
    return s


def test_two_close_classes_do_not_lock_the_label_on_the_one_no_longer_favoured():
    # angry leads at first; then the raw scores alternate, fear ahead 2 frames in 3
    first = [scores_of("angry", "fear", 0.5, 0.4)] * 10
    fear, angry = scores_of("fear", "angry", 0.5, 0.4), scores_of("angry", "fear", 0.45, 0.44)
    smooth = smoothed_labels(first + [fear, fear, angry] * 20)
    assert smooth[9] == "angry"
    assert smooth[-30:] == ["fear"] * 30


@pytest.mark.parametrize(("alpha", "follow"), [(0.3, 4), (0.5, 1), (0.2, 3)])
def test_a_change_between_close_classes_reaches_the_new_label_at_the_bound(alpha, follow):
    # sad takes over with a margin too small for the hysteresis: only the bound moves the label
    bound = change_frames(alpha, follow)
    before, after = scores_of("happy", "sad", 0.45, 0.35), scores_of("sad", "happy", 0.45, 0.35)
    smooth = smoothed_labels([before] * 20 + [after] * 20, ema_alpha=alpha, follow_frames=follow)
    assert smooth[20 + bound - 1] == "happy" and set(smooth[20 + bound :]) == {"sad"}


def test_a_clear_change_is_followed_sooner_than_the_bound():
    smooth = smoothed_labels([one_hot("happy")] * 20 + [one_hot("sad")] * 20)
    first = smooth.index("sad") - 20
    assert 1 <= first < change_frames(0.3, 4) == 4


def test_a_fresh_face_keeps_its_id_but_restarts_its_smoothing():
    tracker = Tracker(EMOTIONS)
    box = Box(0, 0, 50, 50)
    for _ in range(10):
        (settled,) = tracker.update([box], [one_hot("happy")])
    (same,) = tracker.update([box], [one_hot("sad")])
    (fresh,) = Tracker(EMOTIONS).update([box], [one_hot("happy")])  # a control without reset
    tracker2 = Tracker(EMOTIONS)
    for _ in range(10):
        tracker2.update([box], [one_hot("happy")])
    (other,) = tracker2.update([box], [one_hot("sad")], fresh=[True])
    assert same.id == settled.id and same.smoothed == "happy"  # an ordinary frame: smoothed
    assert other.id == 0 and other.smoothed == "sad"  # another face in the same place
    assert np.allclose(other.smoothed_scores, one_hot("sad")) and fresh.smoothed == "happy"
