"""bench.score on hand-made boxes."""

from __future__ import annotations

import pytest

from bench.score import (
    ChangeLatency,
    ClipScore,
    Tally,
    iou,
    match,
    score_clip,
    score_frame,
    timing_summary,
)


def test_iou_of_hand_made_boxes() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (2, 2, 5, 5)) == pytest.approx(25 / 100)
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_match_is_one_to_one_and_prefers_the_best_overlap() -> None:
    truth = [(0, 0, 100, 100), (200, 0, 100, 100)]
    pred = [(210, 5, 100, 100), (5, 5, 100, 100), (0, 0, 90, 90), (400, 400, 50, 50)]
    pairs = match(pred, truth)
    assert sorted(j for _, j in pairs) == [0, 1]
    assert (0, 1) in pairs and 3 not in [i for i, _ in pairs]
    best_for_0 = max((1, 2), key=lambda i: iou(pred[i], truth[0]))
    assert (best_for_0, 0) in pairs


def test_match_respects_min_iou() -> None:
    truth = [(0, 0, 100, 100)]
    pred = [(60, 0, 100, 100)]  # IoU 40/160 = 0.25
    assert match(pred, truth, min_iou=0.3) == []
    assert match(pred, truth, min_iou=0.2) == [(0, 0)]


def test_score_frame_counts_recall_precision_and_labels() -> None:
    truth = [((0, 0, 100, 100), "happy"), ((200, 0, 100, 100), "sad"), ((0, 300, 100, 100), "fear")]
    pred = [((5, 5, 100, 100), "happy"), ((205, 0, 100, 100), "angry"), ((500, 0, 60, 60), "sad")]
    tally = score_frame(pred, truth)
    assert tally == Tally(truth=3, predicted=3, matched=2, correct=1, frames=1)
    assert (tally.recall, tally.precision, tally.label_accuracy) == (2 / 3, 2 / 3, 0.5)


def test_score_clip_sums_frames_and_handles_empty_ones() -> None:
    face = ((0, 0, 50, 50), "happy")
    frames = [([face], [face]), ([], [face]), ([face], []), ([], [])]
    tally = score_clip(frames)
    assert tally == Tally(truth=2, predicted=2, matched=1, correct=1, frames=4)
    assert tally.phantoms_per_100 == 100 * 1 / 4
    assert Tally().recall == Tally().precision == Tally().label_accuracy == 0.0


def test_timing_summary() -> None:
    stats = timing_summary([0.010] * 18 + [0.030] * 2)
    assert stats["fps"] == pytest.approx(20 / 0.24, abs=0.01)
    assert stats["ms_p50"] == 10.0 and stats["ms_p95"] == 30.0
    with pytest.raises(ValueError):
        timing_summary([])


def test_a_prediction_on_an_ignored_face_is_neither_hit_nor_phantom() -> None:
    faces = [
        {"box": [0, 0, 100, 100], "label": "happy", "id": 1},
        {"box": [300, 0, 100, 100], "label": "sad", "id": 2, "ignore": True},
    ]
    pred = [((2, 2, 100, 100), "happy"), ((305, 0, 100, 100), "sad"), ((600, 0, 50, 50), "sad")]
    clip = ClipScore()
    clip.add(pred, faces)
    assert clip.tally == Tally(truth=1, predicted=2, matched=1, correct=1, frames=1)
    assert clip.report()["phantoms_per_100_frames"] == 100.0  # the one at x=600


def test_change_latency_counts_frames_to_the_new_label_and_unreached_changes() -> None:
    changes = ChangeLatency()
    said = ["happy"] * 3 + ["happy", "happy", "sad", "sad"]  # true: 3 happy, then 4 sad
    for k in range(7):
        changes.add({"a": ("happy" if k < 3 else "sad", said[k])})
    changes.add({"b": ("fear", None)})  # a leaves; b arrives
    changes.add({"b": ("angry", "fear")})  # b changes, never shown: unreached at the end
    report = changes.report()
    assert changes.latencies == [2]
    assert report["changes"] == 2 and report["changes_unreached"] == 1
    assert report["change_frames_p50"] == 2 and report["change_frames_p95"] == 2
    # a: 6 pairs of frames found on both, one change (happy -> sad); b: missed on its first
    # frame, so no pair
    assert (changes.flips, changes.pairs) == (1, 6)
    assert report["label_changes_per_100"] == round(100 / 6, 2)


def test_label_changes_count_a_flickering_label_and_not_a_steady_one() -> None:
    steady, flicker = ChangeLatency(), ChangeLatency()
    for k in range(10):
        steady.add({"a": ("happy", "happy")})
        flicker.add({"a": ("happy", "happy" if k % 2 else "sad")})
    assert steady.report()["label_changes_per_100"] == 0.0
    assert flicker.report()["label_changes_per_100"] == 100.0
    gone = ChangeLatency()  # a face missed on a frame breaks the pair: no change counted
    for said in ("happy", None, "sad"):
        gone.add({"a": ("happy", said)})
    assert gone.report()["label_changes_per_100"] is None


def test_phantoms_on_a_face_are_counted_apart_from_those_on_the_background() -> None:
    faces = [
        {"box": [0, 0, 160, 160], "label": "happy"},
        {"box": [300, 0, 100, 100], "label": "sad", "ignore": True},
    ]
    pred = [
        ((90, 90, 60, 60), "happy"),  # inside the first face, IoU 0.14: a phantom on a face
        ((350, 30, 50, 50), "sad"),  # inside the ignored face, IoU 0.25: on a face
        ((500, 0, 60, 60), "sad"),  # on the background
        ((140, 140, 60, 60), "sad"),  # a third inside the first face: counted as background
    ]
    clip = ClipScore()
    clip.add(pred, faces)
    assert clip.tally == Tally(truth=1, predicted=4, matched=0, correct=0, frames=1, on_faces=2)
    report = clip.report()
    assert report["phantoms_per_100_frames"] == 400.0
    assert report["phantoms_on_faces_per_100_frames"] == 200.0
