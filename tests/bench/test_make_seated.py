"""bench.make_seated on a stand-in val folder: faces sit still, others walk past in front."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.fer_baseline import load_clip
from bench.make_clip import FPS
from bench.make_seated import HIDDEN, main, make_seated
from edge.types import inside
from tests.bench.test_make_clip import fake_val  # noqa: F401  (the fixture)

FRAMES = 300  # 10 s: each lane's first face sits at least 8 s (or to the end)


def spans_of(truth: dict) -> dict[int, list[int]]:
    spans: dict[int, list[int]] = {}
    for t, entry in enumerate(truth["frames"]):
        for face in entry["faces"]:
            spans.setdefault(face["id"], []).append(t)
    return spans


def test_seated_faces_hold_still_while_passers_cross_in_front(fake_val: Path) -> None:  # noqa: F811
    frames, truth = make_seated(fake_val, FRAMES, 3, seed=2)
    assert len(frames) == len(truth["frames"]) == FRAMES
    spans = spans_of(truth)
    seated = {i: s for i, s in spans.items() if i < 3000}
    passers = {i: s for i, s in spans.items() if i >= 3000}
    assert {i // 1000 for i in seated} == {0, 1, 2} and len(passers) >= 2
    assert all(s == list(range(s[0], s[-1] + 1)) for s in spans.values())  # one stay each
    assert all(len(s) >= 8 * FPS or s[-1] == FRAMES - 1 for s in seated.values())
    boxes: dict[int, set[tuple[int, ...]]] = {}
    labels: dict[int, set[str]] = {}
    for entry in truth["frames"]:
        walking = [f["box"] for f in entry["faces"] if f["id"] >= 3000]
        for face in entry["faces"]:
            if face["id"] < 3000:
                boxes.setdefault(face["id"], set()).add(tuple(face["box"]))
                labels.setdefault(face["id"], set()).add(face["label"])
                hidden = any(inside(face["box"], w) >= HIDDEN for w in walking)
                assert not hidden or face.get("ignore")  # hidden by a passer: not scored
    # a seated face does not move (a slide in or out aside: those boxes are few)
    assert all(len(b) <= 20 for b in boxes.values())
    assert any(len(v) >= 2 for v in labels.values())  # it changes expression as it sits
    # a passer crosses the frame: its box moves from one side to the other
    xs = [
        [f["box"][0] for e in truth["frames"] for f in e["faces"] if f["id"] == i]
        for i, s in passers.items()
        if s[-1] < FRAMES - 1
    ]
    assert xs and all(abs(x[-1] - x[0]) > 400 for x in xs)

    # still means still: with no passer, one image, a second later only the light drifted
    def seen(t: int, i: int) -> tuple[str, list[int], bool]:
        faces = truth["frames"][t]["faces"]
        face = next((f for f in faces if f["id"] == i and not f.get("ignore")), None)
        walking = any(f["id"] >= 3000 for f in faces)
        return (face["image"], face["box"], walking) if face else ("", [], walking)

    i, t = next(
        (i, t)
        for i, s in seated.items()
        for t in s[:-30]
        if seen(t, i) == seen(t + 30, i) and seen(t, i)[0] and not seen(t, i)[2]
    )
    x, y, w, h = next(f["box"] for f in truth["frames"][t]["faces"] if f["id"] == i)
    a, b = (frames[k][y : y + h, x : x + w].astype(np.float32) for k in (t, t + 30))
    assert np.abs(a / a.mean() - b / b.mean()).mean() < 0.005


def test_same_seed_same_clip(fake_val: Path, tmp_path: Path) -> None:  # noqa: F811
    for name in ("a", "b"):
        main(["--fer-val", str(fake_val), "--out", str(tmp_path / name), "--frames", "30"])
    truth = [json.loads((tmp_path / n / "truth.json").read_text()) for n in ("a", "b")]
    assert truth[0] == truth[1] and len(load_clip(tmp_path / "a")[0]) == 30
