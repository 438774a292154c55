"""Generate the bundled demo clip ``edge/data/sample.mp4`` from public-domain material.

The face is scikit-image's ``data.astronaut()`` (Eileen Collins, NASA, public domain). Two
copies (one mirrored and smaller) drift across a plain background, so the clip has two moving
faces for the tracker. Run once on a development machine (needs scikit-image)::

    python -m edge.tools.make_sample            # writes edge/data/sample.mp4

The committed file is what ``python -m edge run`` plays when there is no camera.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edge.sources import SAMPLE_PATH

SIZE = (480, 360)  # w, h
FRAMES = 60
FPS = 10


def head(astronaut_rgb: np.ndarray) -> np.ndarray:
    """The head and shoulders region of the astronaut photo, BGR."""
    return cv2.cvtColor(astronaut_rgb[10:230, 120:330], cv2.COLOR_RGB2BGR)


def paste(canvas: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    canvas[y : y + h, x : x + w] = patch


def frames(astronaut_rgb: np.ndarray, count: int = FRAMES) -> list[np.ndarray]:
    """``count`` BGR frames with two faces moving on opposite paths."""
    big = head(astronaut_rgb)
    small = cv2.flip(cv2.resize(big, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA), 1)
    w, h = SIZE
    ramp = np.linspace(90, 150, w, dtype=np.float32)
    background = np.repeat(np.tile(ramp, (h, 1))[:, :, None], 3, axis=2).astype(np.uint8)
    out = []
    for i in range(count):
        t = i / max(count - 1, 1)
        canvas = background.copy()
        paste(canvas, big, round(10 + 140 * t), round(20 + 40 * np.sin(np.pi * t)))
        paste(
            canvas, small, round(w - small.shape[1] - 10 - 120 * t), round(h - small.shape[0] - 10)
        )
        out.append(canvas)
    return out


def main(argv: list[str] | None = None) -> int:
    from skimage import data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_PATH)
    args = parser.parse_args(argv)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for frame in frames(data.astronaut()):
        writer.write(frame)
    writer.release()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {FRAMES} frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
