"""bench.make_clip on a stand-in val folder of synthetic 48x48 images (no FER data needed)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.fer_baseline import load_clip
from bench.make_clip import HEIGHT, LABELS, MAX_SIDE, MIN_SIDE, PAD, WIDTH, main


@pytest.fixture
def fake_val(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for label in LABELS:
        (tmp_path / "val" / label).mkdir(parents=True)
        for i in range(2):
            face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            cv2.imwrite(str(tmp_path / "val" / label / f"{i}.jpg"), face)
    return tmp_path / "val"


@pytest.mark.parametrize("out_name", ["clip", "clip.avi"])
def test_clip_frames_and_truth_agree(fake_val: Path, tmp_path: Path, out_name: str) -> None:
    out = tmp_path / out_name
    args = ["--fer-val", str(fake_val), "--out", str(out), "--frames", "12", "--faces", "2"]
    assert main([*args, "--seed", "3", "--hold", "5"]) == 0
    frames, truth = load_clip(out)
    assert len(frames) == len(truth["frames"]) == 12
    assert all(f.shape == (HEIGHT, WIDTH, 3) for f in frames)
    for entry in truth["frames"]:
        assert len(entry["faces"]) == 2
        for face in entry["faces"]:
            x, y, w, h = face["box"]
            pad = round(PAD * w)
            assert w == h and MIN_SIDE <= w <= MAX_SIDE
            assert 0 <= x - pad and x + w + pad <= WIDTH and 0 <= y - pad and y + h + pad <= HEIGHT
            assert face["label"] in LABELS and face["image"].startswith(face["label"] + "/")
    boxes = [f["box"] for f in truth["frames"][0]["faces"]]
    assert boxes[0][0] + boxes[0][2] <= boxes[1][0], "faces keep to their own lanes"


def test_same_seed_same_clip(fake_val: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        main(["--fer-val", str(fake_val), "--out", str(tmp_path / name), "--frames", "3"])
    truth = [json.loads((tmp_path / n / "truth.json").read_text()) for n in ("a", "b")]
    assert truth[0] == truth[1]
    a, b = (cv2.imread(str(tmp_path / n / "frame_00002.png")) for n in ("a", "b"))
    assert np.array_equal(a, b)
