"""bench.make_scene on a stand-in val folder: visits come and go, truth matches the frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.fer_baseline import load_clip
from bench.make_scene import FADE, HEIGHT, MAX_SIDE, MIN_SIDE, WIDTH, main, make_scene
from tests.bench.test_make_clip import fake_val  # noqa: F401  (the fixture)

FRAMES = 150


def test_visits_arrive_leave_and_change_with_per_frame_truth(fake_val: Path, tmp_path: Path):  # noqa: F811
    frames, truth = make_scene(fake_val, FRAMES, 3, seed=1)
    assert len(frames) == len(truth["frames"]) == FRAMES
    assert all(f.shape == (HEIGHT, WIDTH, 3) for f in frames)
    spans: dict[int, list[int]] = {}
    labels: dict[int, set[str]] = {}
    for t, entry in enumerate(truth["frames"]):
        for face in entry["faces"]:
            spans.setdefault(face["id"], []).append(t)
            labels.setdefault(face["id"], set()).add(face["label"])
            x, y, w, h = face["box"]
            assert 0 <= x and x + w <= WIDTH and 0 <= y and y + h <= HEIGHT
            assert face.get("ignore") or MIN_SIDE <= w <= MAX_SIDE
    counts = [len(e["faces"]) for e in truth["frames"]]
    assert 0 in counts and max(counts) >= 3  # gaps with no face, and three at once
    assert all(s == list(range(s[0], s[-1] + 1)) for s in spans.values())  # one stay each
    assert len(spans) >= 6 and any(s[-1] < FRAMES - 1 for s in spans.values())  # faces leave
    assert any(len(v) == 2 for v in labels.values())  # an expression change within a visit
    for t, entry in enumerate(truth["frames"]):  # "ignore" only while arriving or leaving
        for face in entry["faces"]:
            span = spans[face["id"]]
            if face.get("ignore"):
                assert t - span[0] < FADE or span[-1] - t < FADE
    first, last = spans[min(spans)][0], spans[min(spans)][-1]
    assert not np.array_equal(frames[first], frames[last])


def test_same_seed_same_scene(fake_val: Path, tmp_path: Path) -> None:  # noqa: F811
    for name in ("a", "b"):
        main(["--fer-val", str(fake_val), "--out", str(tmp_path / name), "--frames", "20"])
    truth = [json.loads((tmp_path / n / "truth.json").read_text()) for n in ("a", "b")]
    assert truth[0] == truth[1] and len(load_clip(tmp_path / "a")[0]) == 20
