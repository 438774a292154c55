"""Face detection with OpenCV's Haar cascade on a small grey image."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.errors import ConfigError
from edge.scan import inside
from edge.tracking import iou
from edge.types import Box

log = logging.getLogger(__name__)

CASCADE_NAME = "haarcascade_frontalface_default.xml"
APT_CASCADE_DIR = Path("/usr/share/opencv4/haarcascades")  # Debian/RPi OS python3-opencv


def find_cascade(configured: str = "") -> Path:
    """The cascade file: the configured one, else pip opencv's cv2.data, else the apt path."""
    if configured:
        candidates = [Path(configured)]
    else:
        pip_dir = getattr(getattr(cv2, "data", None), "haarcascades", "")
        candidates = [Path(pip_dir) / CASCADE_NAME] if pip_dir else []
        candidates.append(APT_CASCADE_DIR / CASCADE_NAME)
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(f"faces.cascade: no Haar cascade at {', '.join(map(str, candidates))}")


class HaarFaceDetector:
    """``detect(grey) -> list[Box]`` in the grey image's pixels, largest first; a box lying
    mostly inside a larger one (Haar finding part of a face as a face) is dropped.

    A face needs ``min_neighbors`` (Haar's agreeing detections) to be new, and only
    ``known_neighbors`` where it overlaps a ``known`` box (a tracked face, found again).
    """

    def __init__(
        self,
        cascade: str = "",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        max_faces: int = 8,
        known_neighbors: int | None = None,
    ) -> None:
        path = find_cascade(cascade)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ConfigError(f"faces.cascade: cannot load Haar cascade {path}")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.known_neighbors = min(min_neighbors, known_neighbors or min_neighbors)
        self.min_size = (min_size, min_size)
        self.max_faces = max_faces
        log.debug("Haar cascade %s", path)

    def detect(
        self, grey: np.ndarray, window: Box | None = None, known: Sequence[Box] = ()
    ) -> list[Box]:
        """Faces in a 2-D uint8 image, at most ``max_faces``, largest first; with ``window``
        (inside the image) only those wholly inside it, still in the image's pixels."""
        x, y = (window.x, window.y) if window else (0, 0)
        if window:
            grey = grey[y : y + window.h, x : x + window.w]
        if min(grey.shape[:2]) < self.min_size[0]:
            return []
        found, counts = self._cascade.detectMultiScale2(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.known_neighbors if known else self.min_neighbors,
            minSize=self.min_size,
        )
        boxes = [Box(int(bx) + x, int(by) + y, int(w), int(h)) for bx, by, w, h in found]
        boxes = [  # OpenCV keeps a group of more than minNeighbors detections
            b
            for b, n in zip(boxes, counts, strict=True)
            if n > self.min_neighbors or any(iou(b, k) >= KNOWN_IOU for k in known)
        ]
        boxes.sort(key=lambda b: b.w * b.h, reverse=True)
        kept: list[Box] = []
        for box in boxes:  # a box mostly inside a larger one is a part of that face
            if all(inside(box, big) < NESTED for big in kept):
                kept.append(box)
        return kept[: self.max_faces]


KNOWN_IOU = 0.3  # a box overlapping a known face this much is that face, found again
NESTED = 0.5  # a box with this much of its area inside a larger box is dropped
