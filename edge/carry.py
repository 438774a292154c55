"""Work the tracker carries between frames, so Haar doesn't scan every frame.

Haar runs on every ``every``-th frame, and on every frame while no face is tracked. In between,
the previous frame's boxes carry over, in its order, so the tracker keeps the ids: at 30 fps a
face moves a few pixels a frame, well within the tracker's IoU (a constant-velocity guess
measured worse on the benchmark clip).

Each carried face is checked for free: its 48x48 crop (needed for the classifier anyway) is
compared with the previous frame's. A mean absolute grey difference above ``max_change``
(the face left, turned or was covered) makes Haar run on this frame instead.

The same check bridges Haar's misses: a tracked face that Haar does not find again, but whose
crop still matches, is kept for up to ``max_coast`` consecutive Haar runs, then dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from edge.tracking import iou
from edge.types import Box

SAME_FACE_IOU = 0.3  # a Haar box overlapping a tracked box this much is that face, found again


class BoxCarry:
    """``boxes()`` before a frame, ``steady(crops)`` for carried ones, ``update`` after it."""

    def __init__(self, every: int = 1, max_change: float = 30.0, max_coast: int = 1) -> None:
        self.every = every
        self.max_change = max_change
        self.max_coast = max_coast
        self._since = 0  # frames since the last Haar run
        self._boxes: list[Box] = []
        self._crops: list[np.ndarray] = []
        self._coasted: list[int] = []  # per box: consecutive Haar runs that missed it

    def boxes(self) -> list[Box] | None:
        """The boxes to carry into this frame (source pixels), or None: run Haar."""
        if not self._boxes or self._since >= self.every - 1:
            return None
        return self._boxes

    def steady(self, crops: Sequence[np.ndarray]) -> bool:
        """Whether every carried crop looks like the previous frame's."""
        return all(self._same(a, b) for a, b in zip(crops, self._crops, strict=True))

    def coast(
        self, found: Sequence[Box], crop: Callable[[Box], np.ndarray]
    ) -> list[tuple[Box, np.ndarray]]:
        """The tracked faces Haar missed this time that still look the same (box, crop)."""
        kept = []
        for box, old, missed in zip(self._boxes, self._crops, self._coasted, strict=True):
            if missed >= self.max_coast or any(iou(box, f) >= SAME_FACE_IOU for f in found):
                continue
            face = crop(box)
            if self._same(face, old):
                kept.append((box, face))
        return kept

    def update(
        self,
        boxes: Sequence[Box],
        crops: Sequence[np.ndarray],
        detected: bool,
        coasted: Sequence[Box] = (),
    ) -> None:
        """After a frame: its boxes and crops, whether Haar ran, and which boxes coasted."""
        if detected:  # (carried frames keep the boxes, so the counts stay)
            before = dict(zip(self._boxes, self._coasted, strict=True))
            self._coasted = [before.get(b, 0) + 1 if b in coasted else 0 for b in boxes]
        self._boxes = list(boxes)
        self._crops = list(crops)
        self._since = 0 if detected else self._since + 1

    def _same(self, a: np.ndarray, b: np.ndarray) -> bool:
        return cv2.norm(a, b, cv2.NORM_L1) <= self.max_change * a.size
