"""Per-face tracks: stable ids across frames and smoothed labels that don't jitter.

Detections are matched to tracks greedily by IoU, then by centre distance for fast movers.
Each track keeps an exponential moving average (EMA) of its scores. Its smoothed label moves
to the EMA's top class when that class leads by more than ``hysteresis`` (so one-frame flips
never show), or when it has led for ``follow_frames`` frames in a row by any margin: an
absolute margin alone could hold the label forever on a class the scores no longer favour,
when two close classes share the scores.

The bound: once a class leads the EMA it becomes the smoothed label within ``follow_frames``
frames. After a switch of the raw top class it leads from the k-th frame of the new class,
the first k with (1 - ema_alpha)^k < 1/2 (k = 2 for ema_alpha 0.3), so the label follows by
frame k + follow_frames - 2 (frame 0 = the first of the new class; 4 for the defaults), and
sooner when the change is clear. ``change_frames`` gives the bound; ``python -m edge bench
--truth`` measures it on a clip (``change_frames_p50/p95``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.types import Box, Face, iou

log = logging.getLogger(__name__)


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
    leader: int = -1  # the EMA's top class, and for how many frames in a row it has led
    lead: int = 0


class Tracker:
    """``update(boxes, scores) -> list[Face]`` once per frame (also with no faces)."""

    def __init__(
        self,
        labels: Sequence[str],
        iou_min: float = 0.3,
        max_missed: int = 5,
        ema_alpha: float = 0.3,
        hysteresis: float = 0.15,
        follow_frames: int = 4,
        max_centre_distance: float = 0.75,
    ) -> None:
        self.labels = tuple(labels)
        self.iou_min = iou_min
        self.max_missed = max_missed
        self.alpha = ema_alpha
        self.hysteresis = hysteresis
        self.follow_frames = follow_frames
        self.max_centre_distance = max_centre_distance
        self.tracks: list[Track] = []
        self._next_id = 0

    def update(
        self, boxes: Sequence[Box], scores: Sequence[np.ndarray], fresh: Sequence[bool] = ()
    ) -> list[Face]:
        """Match this frame's boxes (with their scores) to tracks; faces in ``boxes`` order.

        ``fresh[i]`` says box i shows a new appearance (another face, or the same one changed
        past recognition): its track keeps the id but restarts its average from these scores.
        """
        matches = self._match(boxes)
        faces = []
        seen: set[int] = set()
        for i, (box, s) in enumerate(zip(boxes, scores, strict=True)):
            track = matches.get(i) or self._new_track(box, s)
            if i in matches and i < len(fresh) and fresh[i]:
                track.box, track.ema, track.label = box, s.astype(np.float32), int(np.argmax(s))
                track.lead = 0
            elif i in matches:
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
        track.lead = track.lead + 1 if best == track.leader else 1
        track.leader = best
        margin = track.ema[best] - track.ema[track.label]
        if margin > self.hysteresis or track.lead >= self.follow_frames:
            track.label = best


def change_frames(ema_alpha: float, follow_frames: int) -> int:
    """The latest frame, after a switch of the raw top class that then holds, from which the
    smoothed label shows the new class (0 = the first frame of the new class)."""
    # the first k with (1 - alpha)^k < 1/2: the old class's share of the EMA below the new one's
    crossing = math.floor(math.log(0.5) / math.log(1.0 - ema_alpha)) + 1 if ema_alpha < 1 else 1
    return crossing + follow_frames - 2
