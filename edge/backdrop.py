"""The room without its people: a Haar box that shows only what was there when nobody was.

Haar takes some patches of a textured wall for a face, and now and then both cascades agree
(``bench/make_scene.py`` seed 27: the same 170 px patch in mid-frame found on frames 29, 37,
649, 1,173 and 1,264, the last carried on for 16 frames after the face in front of it faded).
A face is never the wall behind it. So the pipeline keeps a *backdrop*: each cell of the
frame (``CELL`` px of a ``WIDTH`` px wide grey copy) as it looked when it last held still with
no face near it. Every ``STEP`` frames each cell is compared with itself ``STEP`` frames
before (the standard deviation of the difference: a light that drifts moves its mean only). A
cell that changed by less than ``STILL`` grey levels, with no tracked face or Haar box within
half a side of it (``COVER``) in between, on ``HOLD`` looks in a row (about a second at 30 fps)
is *at rest*, and copied into the backdrop. A cell that comes to rest looking as it did when it
last rested (within ``RECUR``) is *trusted*: the wall, seen bare before and after something
passed in front of it. A face that Haar missed while it sat still rests once, and differs from
the wall that rested there before: not trusted. A tracked face covers its cells, so a person
sitting still is never learned.

A Haar box is the wall and not a face, whether new or the box of a tracked face found again
(a face that fades leaves its box on the wall), when half its cells (``BARE``) still show the
wall's own pattern as learned there: a face hides the wall behind it. (Seed 30: a box half on
the grey surround of a face and half on the wall beside it, found by both cascades for 27
frames.) A cell of wall too flat to show a pattern (``MIN_PATTERN``) counts for nothing, so
before a plain wall this never fires. Or when nearly all its cells (``TRUSTED``) are trusted
and its detail (grey less its blur: the pattern, not the light) correlates with the wall's
there at ``match`` or more. A camera noisier than ``STILL`` never holds still: then nothing is
trusted and nothing is dropped (the behaviour without a backdrop). So is a face on a poster,
found on the first frame and tracked from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

from edge.preprocess import downscale
from edge.scan import grow
from edge.types import Box

log = logging.getLogger(__name__)

WIDTH = 320  # px of the backdrop's grey copy of the frame
CELL = 8  # px of that copy: 16 px of a 640 px frame
STEP = 8  # frames between two looks at what held still
HOLD = 3  # looks in a row a cell must hold still, uncovered, to be learned
STILL = 2.0  # grey levels: the most the std of a still cell's change between two looks
COVER = 0.5  # of a face's side: the cells around it that it covers (hair, shoulders)
RECUR = 4.0  # grey levels: the most a cell may differ from its last rest to be trusted
BARE = 0.5  # of a box's cells: where this many are the bare wall, it is no face
BARE_CHANGE = 0.5  # of the wall's pattern (std): the most a bare cell differs from it
MIN_PATTERN = 2.0  # grey levels (std): a flatter cell of wall tells a face from the wall no more
TRUSTED = 0.9  # of a box's cells must be trusted for it to be compared
SIDE = 32  # px: boxes are compared at this size
MIN_SIDE = 8  # px of the copy: a smaller box is never compared
MIN_DETAIL = 1.0  # grey levels (std of the detail): a flatter box is never compared


class Backdrop:
    """``shows(grey, box)`` for each Haar box, then ``observe(grey, covered)`` once a frame."""

    def __init__(self, match: float) -> None:
        self.match = match
        self._frames = 0
        self._copy: tuple[np.ndarray, np.ndarray] | None = None  # (grey, its small copy)
        self._last: np.ndarray | None = None  # the small copy at the last look
        self._image: np.ndarray | None = None  # the backdrop
        self._learned: np.ndarray | None = None  # cells learned (bool)
        self._trusted: np.ndarray | None = None  # ...and found the same when at rest again
        self._still: np.ndarray | None = None  # looks in a row each cell held still
        self._covered: np.ndarray | None = None  # cells near a face since the last look

    def shows(self, grey: np.ndarray, box: Box, width: int) -> bool:
        """Whether ``box`` (pixels of a frame ``width`` wide) shows the learned backdrop: half
        its cells are the bare wall, or its detail is the wall's."""
        if self._trusted is None or self._image is None or self._last is None:
            return False
        small = self._small(grey)
        if small.shape != self._last.shape:
            return False  # the frame changed size: learned afresh on the next look
        x0, y0, x1, y1 = self._span(box, width)
        if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
            return False
        rows, cols = slice(-(-y0 // CELL), y1 // CELL), slice(-(-x0 // CELL), x1 // CELL)
        trusted = self._trusted[rows, cols]  # the cells wholly inside the box
        if trusted.size and trusted.any():
            ys, xs = (
                slice(rows.start * CELL, rows.stop * CELL),
                slice(cols.start * CELL, cols.stop * CELL),
            )
            wall = self._image[ys, xs]
            pattern = cell_spread(wall, trusted.shape)  # where the wall shows a pattern...
            change = cell_change(small[ys, xs], wall, trusted.shape)  # ...still there?
            bare = trusted & (pattern >= MIN_PATTERN) & (change < BARE_CHANGE * pattern)
            if bare.mean() >= BARE:
                log.debug("box %s is %.0f%% bare wall", tuple(box), 100 * bare.mean())
                return True
        cells = self._trusted[y0 // CELL : -(-y1 // CELL), x0 // CELL : -(-x1 // CELL)]
        if not cells.size or cells.mean() < TRUSTED:
            return False
        now = detail(small[y0:y1, x0:x1])
        then = detail(self._image[y0:y1, x0:x1])
        if min(cv2.meanStdDev(now)[1][0, 0], cv2.meanStdDev(then)[1][0, 0]) < MIN_DETAIL:
            return False  # a flat box: nothing to compare
        score = float(cv2.matchTemplate(now, then, cv2.TM_CCOEFF_NORMED)[0, 0])
        if score >= self.match:
            log.debug("box %s is the backdrop (%.2f)", tuple(box), score)
            return True
        return False

    def observe(self, grey: np.ndarray, covered: Sequence[Box], width: int) -> None:
        """Each frame, before ``shows``: ``covered``, the boxes of the faces tracked or found
        on it (pixels of a frame ``width`` wide); every ``STEP`` frames, learn the cells that
        held still and were not covered since the last look, this frame included."""
        self._copy = None  # a new frame (a source may reuse its buffer)
        if self._covered is not None:
            self._cover(covered, width)
        self._frames += 1
        if (self._frames - 1) % STEP:
            return
        small = self._small(grey)
        grid = (small.shape[0] // CELL, small.shape[1] // CELL)
        if self._last is None or self._last.shape != small.shape:
            self._last, self._image = small, small.copy()
            self._learned = np.zeros(grid, bool)
            self._trusted = np.zeros(grid, bool)
            self._still = np.zeros(grid, np.int32)
            self._covered = np.zeros(grid, bool)
            return
        assert self._still is not None and self._learned is not None and self._trusted is not None
        assert self._image is not None and self._covered is not None
        still = (cell_change(small, self._last, grid) < STILL) & ~self._covered
        self._still = np.where(still, self._still + 1, 0)
        ready = self._still >= HOLD
        if ready.any():
            # a cell that comes to rest again is trusted when it looks as it did the last
            # time it rested: the wall between visits, not a face that sat still unseen
            back = self._still == HOLD
            if back.any():
                same = cell_change(small, self._image, grid) < RECUR
                self._trusted = np.where(back, self._learned & same, self._trusted)
            h, w = grid[0] * CELL, grid[1] * CELL
            mask = cv2.resize(ready.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            np.copyto(self._image[:h, :w], small[:h, :w], where=mask.view(bool))
            self._learned |= ready
        self._last = small
        self._covered[:] = False

    def _cover(self, boxes: Sequence[Box], width: int) -> None:
        assert self._covered is not None and self._last is not None
        for b in boxes:
            x0, y0, x1, y1 = self._span(grow(b, COVER), width)
            self._covered[y0 // CELL : -(-y1 // CELL), x0 // CELL : -(-x1 // CELL)] = True

    def _span(
        self, box: Box, width: int, shape: tuple[int, ...] | None = None
    ) -> tuple[int, int, int, int]:
        """``box`` in the small copy's pixels, clipped to it."""
        h, w = (shape or self._last.shape)[:2]  # type: ignore[union-attr]
        k = w / width
        x0, y0 = max(round(box.x * k), 0), max(round(box.y * k), 0)
        return x0, y0, min(round((box.x + box.w) * k), w), min(round((box.y + box.h) * k), h)

    def _small(self, grey: np.ndarray) -> np.ndarray:
        """``grey`` at ``WIDTH`` px wide (computed once a frame: ``observe`` drops it)."""
        if self._copy is None or self._copy[0] is not grey:
            self._copy = (grey, downscale(grey, WIDTH))
        return self._copy[1]


def detail(image: np.ndarray) -> np.ndarray:
    """``image`` at ``SIDE`` x ``SIDE`` less its Gaussian blur (float32): the pattern without
    the light on it."""
    image = cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    return image - cv2.GaussianBlur(image, (0, 0), SIDE / 8)


def cell_spread(image: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The standard deviation of ``image`` (grey, or a difference of two) in each ``CELL`` x
    ``CELL`` cell of ``grid``."""
    a = image[: grid[0] * CELL, : grid[1] * CELL].astype(np.float32, copy=False)
    mean = cv2.resize(a, (grid[1], grid[0]), interpolation=cv2.INTER_AREA)
    square = cv2.resize(a * a, (grid[1], grid[0]), interpolation=cv2.INTER_AREA)
    return np.sqrt(np.maximum(square - mean * mean, 0))


def cell_change(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Per ``CELL`` x ``CELL`` cell of two grey images: the standard deviation of their
    difference (an even change of light over a cell is no change)."""
    h, w = grid[0] * CELL, grid[1] * CELL
    return cell_spread(cv2.subtract(a[:h, :w], b[:h, :w], dtype=cv2.CV_32F), grid)
