"""Measure the Haar-box → FER-2013-crop geometry that `faces.crop_margin` encodes.

FER-2013 images are 48x48 face crops. To feed the model what it was trained on, the daemon
must expand a Haar box the same way. This tool takes FER images (read-only, never copied),
upscales each x4, pastes it on a mid-grey canvas, runs the same cascade as the daemon and
compares the detected box with the pasted image's extent:

    python -m edge.tools.measure_margin /path/to/fer2013/val --limit 300

It prints the median per-side margin (as a fraction of the box side) and the median
centre offsets; the defaults in `edge/config.py` come from one such run.
"""

from __future__ import annotations

import argparse
import random
import statistics
from pathlib import Path

import cv2
import numpy as np

from edge.faces import HaarFaceDetector

UPSCALE = 4
CANVAS = 400


def measure_one(
    detector: HaarFaceDetector, grey48: np.ndarray
) -> tuple[float, float, float] | None:
    """Return (margin, dx, dy) for one FER image, or None when no single face is found."""
    side = grey48.shape[0] * UPSCALE
    big = cv2.resize(grey48, (side, side), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((CANVAS, CANVAS), 128, np.uint8)
    off = (CANVAS - side) // 2
    canvas[off : off + side, off : off + side] = big
    boxes = detector.detect(canvas)
    if len(boxes) != 1:
        return None
    x, y, w, h = boxes[0]
    margin = (side / w - 1.0) / 2.0
    dx = ((off + side / 2) - (x + w / 2)) / w
    dy = ((off + side / 2) - (y + h / 2)) / h
    return margin, dx, dy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder of <emotion>/*.jpg|png FER-2013 images")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = sorted(p for p in args.root.glob("*/*") if p.suffix.lower() in {".jpg", ".png"})
    random.Random(args.seed).shuffle(paths)
    paths = paths[: args.limit]
    detector = HaarFaceDetector(scale_factor=1.1, min_neighbors=5, min_size=48)
    found = [r for p in paths if (r := measure_one(detector, cv2.imread(str(p), 0))) is not None]
    if not found:
        print("no faces detected")
        return 1
    margins, dxs, dys = zip(*found, strict=True)
    q = statistics.quantiles(margins, n=4)
    print(f"images={len(paths)} detected_single={len(found)}")
    print(f"margin median={statistics.median(margins):.3f} iqr=[{q[0]:.3f}, {q[2]:.3f}]")
    dx, dy = statistics.median(dxs), statistics.median(dys)
    print(f"centre offset dx median={dx:.3f} dy median={dy:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
