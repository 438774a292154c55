"""Small value types shared by the stages, and ``iou`` and ``inside`` of two boxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


class Box(NamedTuple):
    """An axis-aligned box in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    def scaled(self, factor: float) -> Box:
        """This box with every coordinate multiplied by ``factor`` (rounded)."""
        return Box(*(round(v * factor) for v in self))

    def shifted(self, dx: int, dy: int) -> Box:
        """This box moved by ``dx``, ``dy`` pixels, its size kept."""
        return Box(self.x + dx, self.y + dy, self.w, self.h)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes (``Box`` or any sequence: the
    tracker's and the clip scoring's one definition); 0 when disjoint or empty."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def inside(small: Sequence[float], big: Sequence[float]) -> float:
    """The fraction of ``small``'s area that lies inside ``big`` (``(x, y, w, h)`` boxes)."""
    ix = max(0, min(small[0] + small[2], big[0] + big[2]) - max(small[0], big[0]))
    iy = max(0, min(small[1] + small[3], big[1] + big[3]) - max(small[1], big[1]))
    return ix * iy / max(small[2] * small[3], 1)


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame from a source.

    Attributes:
        bgr: the main image, HxWx3 uint8 BGR (OpenCV order), source resolution.
        grey: an optional ready-made full-range grey detection image (e.g. picamera2's lores
            Y plane), any size with the same aspect; None lets the pipeline derive one.
    """

    bgr: np.ndarray
    grey: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Face:
    """One tracked face in one frame.

    Attributes:
        id: the track id, stable across frames while the face stays in view.
        box: the Haar box in source-frame pixels.
        emotion: the raw top-1 label of this frame.
        smoothed: the track's smoothed label (see ``edge/tracking.py``).
        scores: the dequantized scores of this frame, in label order.
        smoothed_scores: the track's smoothed scores (the EMA behind ``smoothed``).
    """

    id: int
    box: Box
    emotion: str
    smoothed: str
    scores: np.ndarray
    smoothed_scores: np.ndarray

    def summary(self) -> dict[str, Any]:
        """``id``, ``box`` (plain ints), ``emotion`` and ``smoothed``: what every output of a
        face starts with (events, status page)."""
        box = [int(v) for v in self.box]
        return {"id": self.id, "box": box, "emotion": self.emotion, "smoothed": self.smoothed}

    def label_scores(self, labels: Sequence[str], smoothed: bool = False) -> dict[str, float]:
        """``{label: score}`` rounded to 4 places: this frame's scores, or the smoothed ones."""
        values = self.smoothed_scores if smoothed else self.scores
        return {name: round(float(s), 4) for name, s in zip(labels, values, strict=True)}


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Everything the pipeline learned about frame number ``frame`` (0-based, source order)."""

    frame: int
    ts: float
    faces: tuple[Face, ...]
    capture: dict | None = None  # set on the frame a smile capture was saved
