"""Accuracy on `val` when the face crop is looser than FER-2013's, as the daemon's Haar crops are.

FER-2013 faces are tightly cropped and centred; a Haar box on a camera frame is not. Each `val`
image is given a replicated border of PAD x its side (and optionally shifted SHIFT pixels),
resized back to 48x48, and scored by ``train.evaluate`` (a .tflite runs through the daemon's CPU
backend, as in ``python -m train evaluate``):

    python -m bench.crop_robustness --data ../shared/datasets/fer2013 \
        --model models/emotion_int8.tflite [--model OTHER.tflite] [--pad 0 0.1 0.2] [--shift 0 4]

Prints one JSON line per (model, pad, shift).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def loosen(face: np.ndarray, pad: float, shift: int = 0) -> np.ndarray:
    """``face`` with a replicated border of ``pad`` x its side, shifted right, resized back."""
    side = face.shape[0]
    border = int(round(side * pad))
    big = cv2.copyMakeBorder(face, border, border, border, border, cv2.BORDER_REPLICATE)
    big = np.roll(big, shift, axis=1)
    return cv2.resize(big, (side, side), interpolation=cv2.INTER_AREA)


def accuracy(
    model: Path, faces: np.ndarray, labels: np.ndarray, pad: float, shift: int = 0
) -> float:
    """Top-1 accuracy of ``model`` on ``faces`` loosened by ``pad`` and ``shift``."""
    from train.evaluate import predict, score

    loosened = np.stack([loosen(face, pad, shift) for face in faces])
    return score(labels, predict(model, loosened))["accuracy"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crop_robustness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, type=Path, help="FER-2013 folder root")
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--model", required=True, type=Path, action="append", help=".tflite or .keras"
    )
    parser.add_argument("--pad", type=float, nargs="+", default=[0.0, 0.1, 0.2])
    parser.add_argument("--shift", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    from train.data import load_split

    split = load_split(args.data, args.split)
    for model in args.model:
        for pad in args.pad:
            for shift in args.shift:
                acc = accuracy(model, split.images, split.labels, pad, shift)
                row = {"model": str(model), "pad": pad, "shift": shift, "n": len(split)}
                print(json.dumps(row | {"accuracy": round(acc, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
