"""Tiny synthetic FER-2013-shaped data sets, made in seconds by the tests themselves.

Training here is deterministic: op determinism, and one thread for TensorFlow's own pools, so
the float sums are done in the same order whatever the machine's core count. This runs when
pytest collects this folder: after the other test modules are imported (importing TensorFlow is
fine) but before any test runs an op (after that TensorFlow refuses a new thread count).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.synthetic import synthetic_faces, write_folder

TF_THREADS = 1


def _fix_threads() -> bool:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(TF_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(TF_THREADS)
    except RuntimeError:  # an op ran before this folder was collected
        return False
    return True


THREADS_FIXED = _fix_threads()


@pytest.fixture(autouse=True)
def deterministic_tf() -> None:
    """Seeded ops give the same result on every run (the tests seed through ``--seed``)."""
    if not THREADS_FIXED and tf.config.threading.get_intra_op_parallelism_threads() != TF_THREADS:
        pytest.fail("TensorFlow ran an op before tests/train/conftest.py fixed its thread count")
    tf.config.experimental.enable_op_determinism()


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
