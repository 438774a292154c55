"""Tiny synthetic FER-2013-shaped data sets, made in seconds by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.labels import EMOTIONS


def synthetic_faces(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An easy task: class k has mean brightness 25 + 32k (texture noise on top)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(EMOTIONS)), n_per_class)
    noise = rng.integers(-12, 13, size=(len(labels), 48, 48))
    images = np.clip(25 + 32 * labels[:, None, None] + noise, 0, 255).astype(np.uint8)
    return images, labels


def write_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"img_{i:05d}.png"), image)
    return root


def make_dataset(
    root: Path,
    train_per_class: int = 24,
    val_per_class: int = 8,
    shuffle_train_labels: bool = False,
    seed: int = 0,
) -> Path:
    images, labels = synthetic_faces(train_per_class, seed)
    if shuffle_train_labels:
        labels = np.random.default_rng(seed + 1).permutation(labels)
    write_folder(root / "train", images, labels)
    write_folder(root / "val", *synthetic_faces(val_per_class, seed + 2))
    return root


@pytest.fixture
def tiny_fer(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "fer")
