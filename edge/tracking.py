"""Per-face tracks: stable ids across frames and smoothed labels that don't jitter.

Detections are matched to tracks greedily by IoU, then by centre distance for fast movers.
Each track keeps an exponential moving average of its scores; its smoothed label changes only
when another label's average beats the current one's by ``hysteresis``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.types import Box, Face

log = logging.getLogger(__name__)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when disjoint)."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: Box, b: Box) -> float:
    """Distance between box centres in units of the larger box's width."""
    dx = (a.x + a.w / 2) - (b.x + b.w / 2)
    dy = (a.y + a.h / 2) - (b.y + b.h / 2)
    return float(np.hypot(dx, dy)) / max(a.w, b.w, 1)


@dataclass
class Track:
    id: int
    box: Box
    ema: np.ndarray
    label: int
    missed: int = 0


class Tracker:
    """``update(boxes, scores) -> list[Face]`` once per frame (also with no faces)."""

    def __init__(
        self,
        labels: Sequence[str],
        iou_min: float = 0.3,
        max_missed: int = 5,
        ema_alpha: float = 0.3,
        hysteresis: float = 0.15,
        max_centre_distance: float = 0.75,
    ) -> None:
        self.labels = tuple(labels)
        self.iou_min = iou_min
        self.max_missed = max_missed
        self.alpha = ema_alpha
        self.hysteresis = hysteresis
        self.max_centre_distance = max_centre_distance
        self.tracks: list[Track] = []
        self._next_id = 0

    def update(self, boxes: Sequence[Box], scores: Sequence[np.ndarray]) -> list[Face]:
        """Match this frame's boxes (with their scores) to tracks; faces in ``boxes`` order."""
        matches = self._match(boxes)
        faces = []
        seen: set[int] = set()
        for i, (box, s) in enumerate(zip(boxes, scores, strict=True)):
            track = matches.get(i) or self._new_track(box, s)
            if i in matches:
                self._smooth(track, box, s)
            seen.add(track.id)
            top = int(np.argmax(s))
            faces.append(
                Face(track.id, box, self.labels[top], self.labels[track.label], s, track.ema.copy())
            )
        for track in self.tracks:
            track.missed = 0 if track.id in seen else track.missed + 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return faces

    def _match(self, boxes: Sequence[Box]) -> dict[int, Track]:
        pairs = [
            (iou(b, t.box), -centre_distance(b, t.box), i, t)
            for i, b in enumerate(boxes)
            for t in self.tracks
        ]
        pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
        matched: dict[int, Track] = {}
        used: set[int] = set()
        for overlap, neg_dist, i, t in pairs:
            if i in matched or t.id in used:
                continue
            if overlap >= self.iou_min or -neg_dist <= self.max_centre_distance:
                matched[i] = t
                used.add(t.id)
        return matched

    def _new_track(self, box: Box, s: np.ndarray) -> Track:
        track = Track(self._next_id, box, s.astype(np.float32), int(np.argmax(s)))
        self._next_id += 1
        self.tracks.append(track)
        log.debug("new track %d at %s", track.id, box)
        return track

    def _smooth(self, track: Track, box: Box, s: np.ndarray) -> None:
        track.box = box
        track.ema = self.alpha * s + (1.0 - self.alpha) * track.ema
        best = int(np.argmax(track.ema))
        if best != track.label and track.ema[best] - track.ema[track.label] > self.hysteresis:
            track.label = best
