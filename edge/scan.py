"""Where Haar looks: the whole frame, or windows around what needs checking.

A Haar run triggered between the periodic full-frame scans has a place to look: the box of a
followed face whose match dropped (is it still there?), or the cells of the arrival watch that
changed (did someone come?). Haar's cost grows with the pixels scanned, so those runs scan only
windows around those places, each grown by a margin so that a face reaching past them is wholly
inside (Haar finds only faces wholly inside the image it scans). Pure functions on ``Box``es in
one image's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.types import Box

Sides = tuple[int, int] | None  # the face sides (min, max) a window is searched for; None: any


@dataclass(frozen=True)
class Scan:
    """This frame's Haar run: ``full`` (the whole frame), else ``windows`` (none: no run);
    ``sides[i]``, where given, limits window i to faces of those sides (source pixels)."""

    full: bool = False
    windows: list[Box] = field(default_factory=list)
    sides: list[Sides] = field(default_factory=list)
    periodic: bool = False  # the periodic scan, limited to what changed since Haar looked

    @property
    def kind(self) -> str:
        if self.periodic and not self.full:
            return "rescan"
        return "full" if self.full else "window" if self.windows else "none"

    def sides_of(self, i: int) -> Sides:
        return self.sides[i] if i < len(self.sides) else None


def grow(box: Box, by: float, min_side: int = 0) -> Box:
    """``box`` grown by ``by`` x its longer side on each side, each side at least ``min_side``
    (centred)."""
    pad = round(max(box.w, box.h) * by)
    w, h = max(box.w + 2 * pad, min_side), max(box.h + 2 * pad, min_side)
    return Box(box.x + (box.w - w) // 2, box.y + (box.h - h) // 2, w, h)


def clip(box: Box, width: int, height: int) -> Box | None:
    """``box`` cut to a ``width`` x ``height`` image; None if nothing is left."""
    x0, y0 = max(box.x, 0), max(box.y, 0)
    x1, y1 = min(box.x + box.w, width), min(box.y + box.h, height)
    return Box(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def union(a: Box, b: Box) -> Box:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    return Box(x0, y0, max(a.x + a.w, b.x + b.w) - x0, max(a.y + a.h, b.y + b.h) - y0)


def merge(boxes: Sequence[Box]) -> list[Box]:
    """Overlapping boxes joined into their bounding box, until none overlap (so a face seen
    in two windows is found once, in their union)."""
    return [b for b, _ in merge_sized([(b, None) for b in boxes])]


def merge_sized(windows: Sequence[tuple[Box, Sides]]) -> list[tuple[Box, Sides]]:
    """``merge`` for windows with the face sides each is searched for: a joined window
    searches for the sides of both (any size if either searched for any)."""
    out = list(windows)
    joined = True
    while joined:
        joined = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if overlap(out[i][0], out[j][0]):
                    (a, sa), (b, sb) = out[i], out.pop(j)
                    both = (min(sa[0], sb[0]), max(sa[1], sb[1])) if sa and sb else None
                    out[i] = (union(a, b), both)
                    joined = True
                    break
            if joined:
                break
    return out


def sides_near(side: int, by: float) -> tuple[int, int]:
    """The face sides from ``side / by`` to ``side * by``: where a face of that side is looked
    for again (Haar's cost is mostly in the small scales a window search can skip)."""
    return round(side / by), round(side * by)


def changed_regions(changed: np.ndarray, cell: int) -> list[Box]:
    """The bounding boxes (pixels) of the groups of changed cells in a boolean cell map;
    cells one cell apart are one group (the parts of one face that changed)."""
    mask = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [Box(*(int(v) * cell for v in stats[k, :4])) for k in range(1, n)]


def to_detection(box: Box, factor: float, width: int, height: int) -> Box | None:
    """A source-pixel window in the detection image's pixels (``factor`` source pixels per
    detection pixel), rounded outwards and clipped to it."""
    x0, y0 = math.floor(box.x / factor), math.floor(box.y / factor)
    x1, y1 = math.ceil((box.x + box.w) / factor), math.ceil((box.y + box.h) / factor)
    return clip(Box(x0, y0, x1 - x0, y1 - y0), width, height)
