"""bench.crop_robustness: the loosened crop, and accuracy through the real CPU backend."""

from __future__ import annotations

import numpy as np

from bench.crop_robustness import accuracy, loosen
from tests.edge.conftest import SHIPPED_MODEL


def test_loosen_keeps_the_side_and_shrinks_the_face() -> None:
    face = np.zeros((48, 48), np.uint8)
    face[12:36, 12:36] = 255  # a 24-pixel bright square in the middle
    assert np.array_equal(loosen(face, 0.0), face)
    looser = loosen(face, 0.25)  # 72-pixel canvas resized to 48: the square becomes 16 pixels
    assert looser.shape == (48, 48) and looser.dtype == np.uint8
    assert 14 * 14 < np.count_nonzero(looser > 127) < 18 * 18
    shifted = loosen(face, 0.0, shift=5)
    assert np.array_equal(shifted[:, 17:41], face[:, 12:36])


def test_accuracy_is_a_fraction_that_follows_the_labels() -> None:
    faces = np.random.default_rng(0).integers(0, 256, (14, 48, 48), dtype=np.uint8)
    from edge.backends.cpu import CpuClassifier

    clf = CpuClassifier(SHIPPED_MODEL)
    predicted = np.array([int(np.argmax(clf.classify(f))) for f in faces])
    assert accuracy(SHIPPED_MODEL, faces, predicted, 0.0) == 1.0
    assert accuracy(SHIPPED_MODEL, faces, (predicted + 1) % 7, 0.0) == 0.0
