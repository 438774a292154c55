"""Shared fixtures for the edge tests: the shipped model (or a stand-in) and test assets."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SHIPPED_MODEL = REPO / "models" / "emotion_int8.tflite"  # the accurate one (the TPU's source)
SHIPPED_FAST = REPO / "models" / "emotion_fast_int8.tflite"  # the CPU's default
# Each shipped int8 model: the float model it was converted from, and its golden scores.
SHIPPED = {
    "accurate": (SHIPPED_MODEL, SHIPPED_MODEL.with_name("emotion.keras"), DATA / "expected.csv"),
    "fast": (
        SHIPPED_FAST,
        SHIPPED_FAST.with_name("emotion_fast.keras"),
        DATA / "expected_fast.csv",
    ),
}


def model_path() -> Path | None:
    """The daemon's default CPU model (the fast one); EDGE_TEST_MODEL may name a stand-in."""
    path = Path(os.environ.get("EDGE_TEST_MODEL", SHIPPED_FAST))
    return path if path.is_file() else None


@pytest.fixture
def model() -> Path:
    path = model_path()
    if path is None:
        pytest.skip(f"{SHIPPED_FAST} is absent (the trained model lands there; or EDGE_TEST_MODEL)")
    return path


@pytest.fixture
def faces48() -> list[np.ndarray]:
    """48x48 grey crops of the public-domain astronaut photo."""
    return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(DATA.glob("face_*.png"))]


@pytest.fixture
def head_bgr() -> np.ndarray:
    return cv2.imread(str(DATA / "astronaut_head.jpg"), cv2.IMREAD_COLOR)
