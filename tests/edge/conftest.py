"""Shared fixtures for the edge tests: the shipped model (or a stand-in) and test assets."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SHIPPED_MODEL = REPO / "models" / "emotion_int8.tflite"


def model_path() -> Path | None:
    """The shipped CPU model; EDGE_TEST_MODEL may point at a stand-in during development."""
    path = Path(os.environ.get("EDGE_TEST_MODEL", SHIPPED_MODEL))
    return path if path.is_file() else None


@pytest.fixture
def model() -> Path:
    path = model_path()
    if path is None:
        pytest.skip(
            f"{SHIPPED_MODEL} is absent (the trained model lands there; or EDGE_TEST_MODEL)"
        )
    return path


@pytest.fixture
def faces48() -> list[np.ndarray]:
    """48x48 grey crops of the public-domain astronaut photo."""
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(DATA.glob("face_*.png"))]


@pytest.fixture
def head_bgr() -> np.ndarray:
    return cv2.imread(str(DATA / "astronaut_head.jpg"), cv2.IMREAD_COLOR)
