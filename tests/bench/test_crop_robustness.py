"""bench.crop_robustness: the loosened crop, and accuracy through the real CPU backend."""

from __future__ import annotations

import cv2
import numpy as np

from bench.crop_robustness import accuracy, loosen
from edge.labels import EMOTIONS
from tests.edge.conftest import DATA, SHIPPED_MODEL

FACES = sorted(DATA.glob("face_*.png"))


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
    # The astronaut crops of tests/data show a smiling face: "happy" is a person's label, not
    # the model's own prediction. The shipped model gets all of them (top score > 0.8).
    faces = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in FACES])
    truth = np.full(len(faces), EMOTIONS.index("happy"))
    assert accuracy(SHIPPED_MODEL, faces, truth, 0.0) == 1.0
    half = truth.copy()
    half[: len(faces) // 2] = EMOTIONS.index("sad")
    assert accuracy(SHIPPED_MODEL, faces, half, 0.0) == 0.5
    assert accuracy(SHIPPED_MODEL, faces, (truth + 1) % len(EMOTIONS), 0.0) == 0.0
