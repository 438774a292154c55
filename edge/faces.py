"""Face detection with OpenCV's Haar cascade on a small grey image."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.errors import ConfigError
from edge.preprocess import DetectionImage
from edge.scan import clip
from edge.types import Box, inside, iou

log = logging.getLogger(__name__)

CASCADE_NAME = "haarcascade_frontalface_default.xml"
APT_CASCADE_DIR = Path("/usr/share/opencv4/haarcascades")  # Debian/RPi OS python3-opencv


def find_cascade(configured: str = "", key: str = "faces.cascade") -> Path:
    """The cascade file: ``configured`` if it is a path; a bare file name (or "" for the
    default cascade) is looked for in pip opencv's cv2.data, then in the apt directory."""
    name = configured or CASCADE_NAME
    if configured and Path(configured).name != configured:
        candidates = [Path(configured)]
    else:
        pip_dir = getattr(getattr(cv2, "data", None), "haarcascades", "")
        candidates = [Path(pip_dir) / name] if pip_dir else []
        candidates.append(APT_CASCADE_DIR / name)
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(f"{key}: no Haar cascade at {', '.join(map(str, candidates))}")


def load_cascade(configured: str, key: str) -> cv2.CascadeClassifier:
    path = find_cascade(configured, key)
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ConfigError(f"{key}: cannot load Haar cascade {path}")
    log.debug("%s: %s", key, path)
    return cascade


class HaarFaceDetector:
    """``detect(grey) -> list[Box]`` in the grey image's pixels, largest first; a box lying
    mostly inside a larger one (Haar finding part of a face as a face) is dropped.

    A face needs ``min_neighbors`` (Haar's agreeing detections) to be new, and only
    ``known_neighbors`` where it overlaps a ``known`` box (a tracked face, found again).
    A new face must also be found by a second cascade (``verify``, a file name or path; ""
    for none) at about the same place and size, with ``verify_neighbors`` agreeing detections:
    the two cascades were trained apart and rarely take the same patch of wall for a face, so
    the first may ask for fewer neighbours (more faces found) without more phantoms. A face
    the first finds with ``sure_neighbors`` or more (0: off) needs no second look. A new face
    being confirmed (a ``confirming`` box: found and passed on an earlier frame) is found
    again there on ``known_neighbors``, still with the second look.
    """

    def __init__(
        self,
        cascade: str = "",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 24,
        max_faces: int = 8,
        known_neighbors: int | None = None,
        verify: str = "",
        verify_neighbors: int = 3,
        sure_neighbors: int = 0,
    ) -> None:
        self._cascade = load_cascade(cascade, "faces.cascade")
        self._verifier = load_cascade(verify, "faces.verify_cascade") if verify else None
        self.verify_neighbors = verify_neighbors
        self.sure_neighbors = sure_neighbors
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.known_neighbors = min(min_neighbors, known_neighbors or min_neighbors)
        self.min_size = (min_size, min_size)
        self.max_faces = max_faces

    def detect(
        self,
        grey: np.ndarray | DetectionImage,
        window: Box | None = None,
        known: Sequence[Box] = (),
        sides: tuple[int, int] | None = None,
        confirming: Sequence[Box] = (),
    ) -> list[Box]:
        """Faces in a 2-D uint8 image, at most ``max_faces``, largest first; with ``window``
        (inside the image) only those wholly inside it, still in the image's pixels; with
        ``sides`` only those with sides in that range (never below ``min_size``). A
        ``DetectionImage`` is read (downscaled) only in the window and around it."""
        image = grey if isinstance(grey, DetectionImage) else DetectionImage(grey, grey.shape[1])
        window = clip(window, image.width, image.height) if window else image.box
        if window is None:
            return []
        low = max(self.min_size[0], sides[0]) if sides else self.min_size[0]
        high = sides[1] if sides else 0
        if min(window.w, window.h) < low or (sides and high < low):
            return []
        # the window and what the second look reads around a face in it (``verified``)
        pad = min(window.w, window.h) // 4 + 1
        pixels, at = image.part(
            Box(window.x - pad, window.y - pad, window.w + 2 * pad, window.h + 2 * pad)
        )
        x, y = window.x - at.x, window.y - at.y
        found, counts = self._cascade.detectMultiScale2(
            pixels[y : y + window.h, x : x + window.w],
            scaleFactor=self.scale_factor,
            minNeighbors=self.known_neighbors if known or confirming else self.min_neighbors,
            minSize=(low, low),
            maxSize=(high, high),
        )
        boxes = [Box(int(bx) + x, int(by) + y, int(w), int(h)) for bx, by, w, h in found]
        in_block = [  # known and confirming in the block's pixels
            [b.shifted(-at.x, -at.y) for b in group] for group in (known, confirming)
        ]
        boxes = [  # OpenCV keeps a group of more than minNeighbors detections
            b.shifted(at.x, at.y)
            for b, n in zip(boxes, counts, strict=True)
            if self._accepted(pixels, b, n, *in_block)
        ]
        boxes.sort(key=lambda b: b.w * b.h, reverse=True)
        kept: list[Box] = []
        for box in boxes:  # a box mostly inside a larger one is a part of that face
            if all(inside(box, big) < NESTED for big in kept):
                kept.append(box)
        return kept[: self.max_faces]

    def _accepted(
        self, grey: np.ndarray, box: Box, n: int, known: Sequence[Box], confirming: Sequence[Box]
    ) -> bool:
        """Whether a group of ``n`` agreeing detections at ``box`` is a face: a tracked one
        found again; else a new one with more than ``min_neighbors`` of them (``known_neighbors``
        where it is being confirmed) that the second cascade passes, or with ``sure_neighbors``."""
        if any(iou(box, k) >= KNOWN_IOU for k in known):
            return True
        if n > self.min_neighbors and self.sure(n):
            return True
        again = n > self.known_neighbors and any(iou(box, k) >= KNOWN_IOU for k in confirming)
        return (n > self.min_neighbors or again) and self.verified(grey, box)

    def sure(self, neighbors: int) -> bool:
        """Whether the first cascade's ``neighbors`` agreeing detections are enough alone
        (``sure_neighbors``; 0: never): the second cascade misses some faces the first finds
        clearly, and the first's phantoms gather few (5-9 for 36 of the 37 on make_scene seed
        2; the other 13)."""
        return 0 < self.sure_neighbors <= neighbors

    def verified(self, grey: np.ndarray, box: Box) -> bool:
        """Whether the second cascade finds a face at ``box`` too (always, without one): in
        ``box`` grown by a quarter of its side, sizes 0.6-1.6x its side, with at least
        ``verify_neighbors`` agreeing detections, overlapping it by ``VERIFY_IOU``."""
        if self._verifier is None:
            return True
        pad = box.w // 4
        x0, y0 = max(box.x - pad, 0), max(box.y - pad, 0)
        part = grey[y0 : box.y + box.h + pad, x0 : box.x + box.w + pad]
        found, counts = self._verifier.detectMultiScale2(
            part,
            scaleFactor=self.scale_factor,
            minNeighbors=max(self.verify_neighbors - 1, 1),
            minSize=(int(0.6 * box.w), int(0.6 * box.h)),
            maxSize=(int(1.6 * box.w) + 1, int(1.6 * box.h) + 1),
        )
        return any(
            n >= self.verify_neighbors
            and iou(Box(int(bx) + x0, int(by) + y0, int(bw), int(bh)), box) >= VERIFY_IOU
            for (bx, by, bw, bh), n in zip(found, counts, strict=True)
        )


KNOWN_IOU = 0.3  # a box overlapping a known face this much is that face, found again
NESTED = 0.5  # a box with this much of its area inside a larger box is dropped
VERIFY_IOU = 0.4  # the second cascade's box must overlap the first's this much
