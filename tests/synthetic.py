"""Tiny synthetic FER-2013-shaped data, shared by the train and convert tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.labels import EMOTIONS


def synthetic_faces(
    n_per_class: int, seed: int, full_range: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """An easy task: class k has mean brightness 25 + 32k (texture noise on top).

    ``full_range`` sets one black and one white pixel per image, as real faces have (so int8
    calibration sees the whole 0..255 input range).
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(EMOTIONS)), n_per_class)
    noise = rng.integers(-12, 13, size=(len(labels), 48, 48))
    images = np.clip(25 + 32 * labels[:, None, None] + noise, 0, 255).astype(np.uint8)
    if full_range:
        images[:, 0, 0], images[:, 0, 1] = 0, 255
    return images, labels


def write_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """``root/<emotion>/img_NNNNN.png`` for each image."""
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"img_{i:05d}.png"), image)
    return root
