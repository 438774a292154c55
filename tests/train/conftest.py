"""Tiny synthetic FER-2013-shaped data sets, made in seconds by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.synthetic import synthetic_faces, write_folder


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
