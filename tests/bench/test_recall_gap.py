"""``bench.recall_gap``: the true faces found by `fer`'s detector only, or by ours only."""

from __future__ import annotations

import json
from pathlib import Path

from bench.recall_gap import main, recall_gap

A, B = [100, 100, 100, 100], [400, 100, 80, 80]
TRUTH = [
    [{"box": A, "label": "happy", "id": 7}, {"box": B, "label": "sad", "id": 8}],
    [{"box": A, "label": "happy", "id": 7}, {"box": B, "label": "sad", "id": 8, "ignore": True}],
    [{"box": A, "label": "happy", "id": 7}],
]
OURS = [[A], [[102, 100, 98, 98]], []]
FERS = [[[98, 99, 104, 104], B], [], [A, [500, 400, 60, 60]]]  # the last box: on the wall


def test_each_face_counts_frames_found_by_either_or_both():
    gaps = {g.id: g for g in recall_gap(TRUTH, OURS, FERS)}
    a, b = gaps[7], gaps[8]
    assert (a.frames, a.fer, a.ours, a.fer_only, a.ours_only) == (3, 2, 2, 1, 1)
    assert (b.frames, b.fer, b.ours, b.fer_only, b.ours_only) == (1, 1, 0, 1, 0)  # ignored once
    assert [g.id for g in recall_gap(TRUTH, OURS, FERS)] == [7, 8]  # ties: by id


def test_a_folder_without_frames_is_one_line(tmp_path: Path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"frame": 0, "faces": []}) + "\n")
    assert main([str(events), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no frame_*.png" in err
