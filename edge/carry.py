"""Carrying faces between Haar runs, only while there is evidence that they are still there.

Haar (the costly stage) scans the whole frame on every ``every``-th frame. In between, each
tracked face is *followed*: its 48x48 reference crop (taken when Haar last found it) is matched
(normalised cross-correlation, ``cv2.TM_CCOEFF_NORMED``) against a window ``search`` x its side
larger on each side, cut and scaled like the crop. The best match moves the box with the face
and is the classifier's crop, so it costs about one crop. Its score is the evidence: at or
above ``min_match`` the face is there; below it (it left, faded, turned, was covered or
changed) Haar runs on this frame in a window around the face (``edge.scan``), and a face Haar
does not find again there is dropped on this frame. A match that fell by more than
``MATCH_DROP`` since the last frame, though still above ``min_match``, is checked by Haar too
(a face that jumped out of the search window leaves its box on whatever matched best around
it: seen left on a background blob at 0.86 for 5 frames); missed there, it coasts as below
and is looked for again on the next frame. A face half out of the frame is dropped.

A face Haar finds that is not a tracked one must be found again on ``confirm`` more frames
(in its window) before its match alone may carry it: a Haar false positive on a textured wall
is rarely found three times, and would match itself forever. A look that misses it is one of
its ``confirm_misses``: while it has some left it is kept *hidden* (not reported, not
classified) and looked for again on the next frame; reported again when found. Haar finds some
real faces on only about every other frame (4-8 agreeing detections): with no miss allowed
such a face was dropped on its first miss and looked for again only at the next periodic scan,
while ``fer`` (Haar on every frame) reported it on half the frames.
A tracked face found again with another look (its match had dropped) is confirmed anew. Only
established faces that still match are ``known``: Haar may find them on weaker evidence.
A tracked face that a Haar run misses but that still matches its reference is kept, for up
to ``max_coast`` consecutive runs that looked at it (Haar misses blurred and rotated faces now
and then), and Haar looks for it again on the next frame, in its window: a box left where a
face faded out, whose reference was taken mid-fade, matches the wall behind it, and must not
be carried to the next full scan. The reference is always the crop Haar confirmed, never the
previous frame's, so a box left on the background after a face slid or faded away cannot match
itself into staying.

Arrivals are watched for as cheaply: a 1/``CELL`` thumbnail of the frame is compared with the
one from when Haar last looked there, away from the carried faces (half a side around each);
each group of cells whose mean grey changed by more than ``arrival_change`` (something came
into view) makes Haar run on this frame in a window around it, grown so that a face only
partly changed is wholly inside. So nothing tracked no longer means Haar on every frame.
With ``windowed`` False every such run scans the whole frame (the behaviour before windows).

The periodic scan, every ``every``-th frame, is the safety net for what the watch misses (a
face fading in or turning slowly changes its cells by less than ``arrival_change`` per look).
With ``rescan_change`` > 0 it too looks only at the cells whose mean grey changed by more than
that since Haar last looked there, faces included: Haar gives the same answer on the same
pixels, so a wall that did not change needs no second look. Camera noise moves a 16x16 cell's
mean by a few tenths of a grey level. A change of the light (or of the camera's exposure)
scales them all: the median cell's gain is taken out first, since Haar scales each window's
contrast and sees the same. Around a tracked face that still matches, the scan looks only for
a face of about its side (there is no other face on a face): a face that moved or changed
changed its cells, and a scan of them at every size cost as much as one of the whole frame.

A box Haar finds within a face at least 1/``PART_SIDE`` its side (found on this frame, or a
tracked face where it was followed to) is part of that face, not another one: the chin, the
mouth, a hand on it, which both cascades can take for a small face. It is dropped before it
is tracked; kept, it matched itself and was reported beside the face, or took the face's
track id when the face's own match dropped on an expression change (make_scene seeds 4, 9).
The other way round too: a followed box that lies so within a face Haar finds is dropped
when the face is found (Haar had found only the chin of a face it missed after an expression
change, and the chin matched itself for 18 frames beside the face: make_scene seed 9).
But a box Haar finds with a tracked face that still matches in its upper half, at under half
its side (``surrounds``), is no face: where a face has its eyes and forehead there is no other
face; Haar took the face and the wall around it for a larger one (make_scene seed 22: a
327-px box around a 112-px face was reported in its place for 17 frames). The box is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from edge.preprocess import crop_face
from edge.scan import (
    Scan,
    Sides,
    changed_regions,
    clip,
    grow,
    merge_sized,
    overlap,
    sides_near,
    union,
)
from edge.types import Box, inside, iou

SIZE = 48  # the crop side (the classifier's input)
SAME_FACE_IOU = 0.3  # a Haar box overlapping a carried box this much is that face, found again
MIN_CONTRAST = 2.0  # grey std below which a crop has nothing to match
CELL = 16  # pixels per thumbnail cell, for the arrival watch
WEAKER = 0.75  # a crop with less than this x its reference's grey std is a weaker view
LOST_GROW = 0.5  # a face whose match dropped is looked for in its region grown by this x side
ARRIVAL_GROW = 0.5  # changed cells are looked at grown by this x their longer side...
MIN_WINDOW = 6 * CELL  # ...to at least this side (source pixels)
RESCAN_GROW = 0.25  # the periodic scan's changed cells (a face that moved changed all of it)
HELD_ZONE = 0.5  # x its side about a tracked face that matches: its own changes (it moved)
HELD_GROW = 0.25  # ...where the periodic scan looks for it, in its box grown by this x side,
HELD_SIDES = 1.25  # ...at 1/1.25..1.25x its side (a face that grew more no longer matches)
DARK = 8.0  # grey: cells darker than this tell nothing of the light's gain
FULL_AREA = 0.75  # windows covering more of the frame than this: one full-frame scan instead
IN_FRAME = 0.5  # a carried face with less of its box inside the frame has left: dropped
CHECKED = 0.9  # a face with this much of its box in a scanned window was checked there
MATCH_DROP = 0.15  # a match this much below the last frame's no longer holds
SIDES = 1.5  # a face is looked for again at 1/SIDES..SIDES x its side (an arrival: any side)
PART_SIDE = 0.6  # a box at most this x a face's side, with PART_INSIDE of its area in that
PART_BELOW = 0.35  # face's box lengthened downwards by PART_BELOW x its side (the chin and jaw
PART_INSIDE = 0.7  # below a Haar box; not sideways: a face in the next lane), is part of it
SURROUND_SIDE = 0.5  # a tracked face this small in a new box's upper half: the box is no face


@dataclass
class Carried:
    """One tracked face: its box, its crop region, the confirmed crop, Haar runs missed, and
    how many more frames Haar must find it on before it is carried on its match alone."""

    box: Box
    region: Box  # the crop region (``crop_box`` of ``box``), source pixels
    ref: np.ndarray
    missed: int = 0
    unproven: int = 0
    score: float = 1.0  # its match on the last frame (1: Haar found it there, the reference)
    misses_left: int = 0  # while unproven: looks it may still be missed on (hidden then)
    contrast: float = -1.0  # the reference's grey std (measured once, when -1)

    def __post_init__(self) -> None:
        if self.contrast < 0:
            self.contrast = float(self.ref.std())


@dataclass(frozen=True)
class Followed:
    """Where a carried face is in this frame, its crop there, and how well it matched."""

    box: Box
    region: Box
    crop: np.ndarray
    score: float
    inside: float = 1.0  # the fraction of the box inside the frame


class Kept(NamedTuple):
    """A carried face that stays after a frame's Haar run (``BoxCarry.kept``)."""

    index: int  # in ``BoxCarry.faces``
    followed: Followed  # where it was followed to on this frame
    checked: bool  # a Haar run looked for it on this frame (and missed it)
    shown: bool = True  # False: a new face missed while being confirmed, kept hidden


class BoxCarry:
    """``due()`` before a frame; ``follow(image)`` on carried frames; ``update`` after it."""

    def __init__(
        self,
        every: int = 8,
        min_match: float = 0.7,
        max_coast: int = 1,
        search: float = 0.25,
        arrival_change: float = 20.0,
        windowed: bool = True,
        confirm: int = 2,
        rescan_change: float = 0.0,
        confirm_misses: int = 0,
        whole_every: int = 0,
    ) -> None:
        self.every = every
        self.whole_every = whole_every
        self._unseen = 0  # frames since Haar last looked at the whole frame
        self.rescan_change = rescan_change
        self.windowed = windowed
        self.confirm = confirm
        self.confirm_misses = confirm_misses
        self.arrival_change = arrival_change
        self._thumb: np.ndarray | None = None  # at the last Haar run
        self._now: tuple[np.ndarray, np.ndarray] | None = None  # (image, its thumbnail)
        self._watched: list[Box] = []  # the face regions then
        self.min_match = min_match
        self.max_coast = max_coast
        self.search = search
        self._since = every  # frames since the last full scan (the first frame gets one)
        self.faces: list[Carried] = []

    def due(self) -> bool:
        """Whether the periodic Haar scan is due (the whole frame, or with ``rescan_change``
        what changed since Haar last looked): its turn, or nothing is tracked and nothing else
        would find arrivals (no window scans, or no arrival watch)."""
        blind = not self.windowed or self.arrival_change <= 0
        return (blind and not self.faces) or self._since >= self.every - 1

    def follow(self, image: np.ndarray) -> list[Followed]:
        """Each carried face matched in ``image`` (BGR or grey, source pixels), in order."""
        return [self.follow_one(image, face) for face in self.faces]

    def scan(
        self, image: np.ndarray, followed: Sequence[Followed], grey: np.ndarray | None = None
    ) -> Scan:
        """Where Haar looks in this frame (source pixels): the whole frame when due; else a
        window around each face whose match dropped (for faces of about its side) and around
        each group of changed cells (any side); the whole frame without window scans, or when
        the windows cover most of it, or when the periodic scan has looked only at what changed
        for ``whole_every`` frames (a change slower than it sees, e.g. a face fading in over
        seconds, is found then). ``grey``: the frame in grey at any size, if there is one
        (the arrival watch's thumbnail is cheaper from it than from ``image``)."""
        scan = self._where(image, followed, grey)
        self._unseen = 0 if scan.full else self._unseen + 1
        return scan

    def _where(
        self, image: np.ndarray, followed: Sequence[Followed], grey: np.ndarray | None
    ) -> Scan:
        if grey is not None and self.arrival_change > 0:
            self._now = (image, thumbnail(image, grey))  # read by the watch, now and in ``watch``
        h, w = image.shape[:2]
        doubtful = [self._doubtful(face, f) for face, f in zip(self.faces, followed, strict=True)]
        lost = [
            (grow(f.region, LOST_GROW), sides_near(f.box.w, SIDES))
            for f, doubt in zip(followed, doubtful, strict=True)
            if doubt
        ]
        rescan = self.windowed and self.due() and self._thumb is not None
        rescan = rescan and self.rescan_change > 0
        if rescan and 0 < self.whole_every <= self._unseen + 1:  # N frames since the last whole
            return Scan(full=True, windows=[Box(0, 0, w, h)])
        if rescan:
            held = [f.box for f, doubt in zip(followed, doubtful, strict=True) if not doubt]
            wanted = lost + self.changed(image, self.rescan_change, held)
        else:
            wanted = lost + [(b, None) for b in self.arrivals(image, followed)]
            if self.due() or (wanted and not self.windowed):
                return Scan(full=True, windows=[Box(0, 0, w, h)])
        windows = [(c, s) for b, s in merge_sized(wanted) if (c := clip(b, w, h))]
        if sum(b.w * b.h for b, _ in windows) > FULL_AREA * w * h:
            return Scan(full=True, windows=[Box(0, 0, w, h)])
        sides = [s for _, s in windows]
        return Scan(windows=[b for b, _ in windows], sides=sides, periodic=rescan)

    def changed(
        self, image: np.ndarray, threshold: float, held: Sequence[Box] = ()
    ) -> list[tuple[Box, Sides]]:
        """The periodic scan's windows (with the face sides each is searched for; None: any):
        around each group of cells whose mean grey changed by more than ``threshold`` since
        Haar last looked at them, beyond what the light did to the whole frame. Haar gives the
        same answer on the same pixels, and on the same pixels lit otherwise (it scales each
        window's contrast), so what did not change needs no second look; its reference takes
        this frame's light. Around each ``held`` box, a tracked face that still matches
        (``HELD_ZONE``: where it moved from, its hair), only a face of about its side is
        looked for: no other face is on a face, and one that grew more would no longer match.
        A change beside that zone (someone arriving next to a face) is looked at for any face
        over the zone too: the newcomer may reach under it."""
        now, then = self._thumbnail(image), self._thumb
        lit = then > DARK
        gain = float(np.median(now[lit] / then[lit])) if lit.any() else 1.0
        change = np.abs(now - gain * then)
        same = change <= threshold  # only the light changed there: what Haar last saw holds
        then[same] = now[same]  # (so a change under the line per scan never adds up to a look
        # here: ``whole_every`` bounds how long it goes unseen; bench/README.md, "Speed")
        windows: list[tuple[Box, Sides]] = []
        zones = [grow(b, HELD_ZONE) for b in held]  # where it moved from, hair, shoulders
        for b, zone in zip(held, zones, strict=True):
            if (change[cells_of(zone)] > threshold).any():
                windows.append((grow(b, HELD_GROW), sides_near(b.w, HELD_SIDES)))
            change[cells_of(zone)] = 0
        for group in changed_regions(change > threshold, CELL):
            window = grow(group, RESCAN_GROW, MIN_WINDOW)
            for zone in zones:  # a change beside a face (groups are a cell wider than their
                if overlap(group, zone):  # cells): a face that came may reach under the zone
                    window = union(window, zone)
            windows.append((window, None))
        return windows

    def arrivals(self, image: np.ndarray, followed: Sequence[Followed]) -> list[Box]:
        """Windows around what changed, since the last full scan, away from the carried
        faces: each group of changed cells grown by ``ARRIVAL_GROW``."""
        if self._thumb is None or self.arrival_change <= 0:
            return []
        change = np.abs(self._thumbnail(image) - self._thumb)
        for r in [*self._watched, *(f.region for f in followed)]:
            m = r.w // 2  # hair, background and shoulders move with a face
            change[cells_of(Box(r.x - m, r.y - m, r.w + 2 * m, r.h + 2 * m))] = 0
        changed = change > self.arrival_change
        if not changed.any():
            return []
        return [grow(b, ARRIVAL_GROW, MIN_WINDOW) for b in changed_regions(changed, CELL)]

    def recognised(self, box: Box, followed: Sequence[Followed]) -> bool:
        """Whether a face Haar found at ``box`` is a carried face that still matched its
        reference this frame (else it is another face, or one that changed: the tracker
        restarts its smoothing)."""
        return any(iou(box, f.box) >= SAME_FACE_IOU and f.score >= self.min_match for f in followed)

    def kept(self, followed: Sequence[Followed], found: Sequence[Box], scan: Scan) -> list[Kept]:
        """The carried faces that stay, Haar's own finds aside, and the parts of them
        (``is_part``). A face whose box lies in a scanned window was checked: if Haar missed
        it, it stays only while it still matches, for ``max_coast`` runs; a face outside every
        window stays as followed (its match held). A new face missed while being confirmed
        stays hidden (``shown`` False) while it has ``confirm_misses`` left."""
        out = []
        for k, (face, f) in enumerate(zip(self.faces, followed, strict=True)):
            if any(iou(f.box, b) >= SAME_FACE_IOU or is_part(f.box, b) for b in found):
                continue  # found again (Haar's box replaces it), or part of a face Haar found
            if f.inside < IN_FRAME:
                continue  # it has left the frame
            checked = self._doubtful(face, f) or any(
                inside(f.box, w) >= CHECKED for w in scan.windows
            )
            may_coast = face.missed < self.max_coast and f.score >= self.min_match
            if not checked or (may_coast and not face.unproven):
                out.append(Kept(k, f, checked))
            elif face.misses_left > 0:  # only a face being confirmed has some
                out.append(Kept(k, f, checked, shown=False))
        return out

    def update(
        self,
        found: Sequence[tuple[Box, Box, np.ndarray]],
        kept: Sequence[Kept] = (),
        full: bool = True,
        followed: Sequence[Followed] = (),
    ) -> None:
        """After a frame: the faces Haar ``found`` (box, region, crop), the carried faces
        ``kept`` (see ``kept``), whether the scan was a full-frame one, and ``followed``."""
        faces = [self._found(b, r, c, followed) for b, r, c in found]
        for k, f, checked, shown in kept:
            old = self.faces[k]
            face = Carried(
                f.box, f.region, old.ref, old.missed + checked, score=f.score, contrast=old.contrast
            )
            if not shown:  # still being confirmed, with one miss fewer left
                face.unproven, face.misses_left = old.unproven, old.misses_left - 1
            faces.append(face)
        self.faces = faces
        self._since = 0 if full else self._since + 1

    def watch(self, image: np.ndarray, scan: Scan) -> None:
        """After a Haar run: what arrivals are looked for against, where it looked (the whole
        frame, or its windows): the thumbnail there now, and the face regions there now."""
        cached, self._now = self._now, None  # this frame's, from ``scan``: used once more
        if self.arrival_change <= 0 or not scan.windows:
            return
        now = cached[1] if cached is not None and cached[0] is image else thumbnail(image)
        if scan.full or self._thumb is None:
            self._thumb, self._watched = now, [f.region for f in self.faces]
            return
        for w in scan.windows:
            cells = np.s_[
                w.y // CELL : -(-(w.y + w.h) // CELL), w.x // CELL : -(-(w.x + w.w) // CELL)
            ]
            self._thumb[cells] = now[cells]
        looked = [r for r in self._watched if any(inside(r, w) >= CHECKED for w in scan.windows)]
        self._watched = [r for r in self._watched if r not in looked]
        self._watched += [
            f.region for f in self.faces if any(inside(f.box, w) >= CHECKED for w in scan.windows)
        ]

    def _thumbnail(self, image: np.ndarray) -> np.ndarray:
        """This frame's thumbnail, computed once: ``scan`` makes it (from the grey frame when
        given), ``watch`` (the frame's last step) takes it and drops it, so a buffer reused by
        a source is never read stale."""
        if self._now is None or self._now[0] is not image:
            self._now = (image, thumbnail(image))
        return self._now[1]

    def _holds(self, face: Carried, f: Followed) -> bool:
        """Whether the match needs no Haar check: at least ``min_match``, and not fallen by
        more than ``MATCH_DROP`` since the last frame."""
        return f.score >= self.min_match and f.score >= face.score - MATCH_DROP

    def _doubtful(self, face: Carried, f: Followed) -> bool:
        """Whether Haar must look for this face now: its match no longer holds, the last Haar
        run that looked at it missed it, or it is new and was not yet found again on each of
        the ``confirm`` frames after the first."""
        return not self._holds(face, f) or face.missed > 0 or face.unproven > 0

    def _found(
        self, box: Box, region: Box, crop: np.ndarray, followed: Sequence[Followed]
    ) -> Carried:
        """A face Haar found, carried on: the carried face it was (the first at about its
        box), if any, decides its reference, the frames it must still be found on (``confirm``
        unless it is a tracked face that still matched: a face that changed is confirmed anew)
        and the looks it may still be missed on meanwhile (``confirm_misses``, unless it was
        already being confirmed)."""
        old = next((f for f in self.faces if iou(f.box, box) >= SAME_FACE_IOU), None)
        same = old if old is not None and self.recognised(box, followed) else None  # unchanged
        unproven = max(same.unproven - 1, 0) if same is not None else self.confirm
        misses_left = 0
        if unproven:
            misses_left = old.misses_left if old and old.unproven else self.confirm_misses
        ref, contrast = self._reference(same, crop)
        return Carried(box, region, ref, 0, unproven, misses_left=misses_left, contrast=contrast)

    def known(self, followed: Sequence[Followed]) -> list[Box]:
        """The boxes of the established faces that still match: Haar may find them again on
        weaker evidence (``faces.known_neighbors``)."""
        pairs = zip(self.faces, followed, strict=True)
        return [f.box for face, f in pairs if f.score >= self.min_match and not face.unproven]

    def confirming(self, followed: Sequence[Followed]) -> list[Box]:
        """The boxes of the new faces being confirmed, where they are now: Haar may find them
        again on fewer agreeing detections than a new face (``faces.known_neighbors``), still
        with the second cascade's look."""
        pairs = zip(self.faces, followed, strict=True)
        return [f.box for face, f in pairs if face.unproven]

    def _reference(self, old: Carried | None, crop: np.ndarray) -> tuple[np.ndarray, float]:
        """The reference for a face Haar found, and its contrast (grey std): its crop, unless
        it is a carried face that still matched (``old``) found again with clearly less
        contrast (fading out, blurring, half gone): then the older, stronger reference stays,
        so that what is left behind cannot become the reference. A face that no longer
        matched changed (a new expression, another person in its place): its old reference
        shows someone else, and kept, the face never matched it again, so it was never
        confirmed and Haar looked for it on every frame (the old clip: 20 frames in a row)."""
        contrast = float(crop.std())
        if old is not None and contrast < WEAKER * old.contrast:
            return old.ref, old.contrast
        return crop, contrast

    def follow_one(self, image: np.ndarray, face: Carried) -> Followed:
        """Where ``face`` is in ``image``: the best match in a window around its region."""
        r = face.region
        pad = round(r.w * self.search)
        n = SIZE + 2 * round(SIZE * self.search)
        window = crop_face(image, Box(r.x - pad, r.y - pad, r.w + 2 * pad, r.h + 2 * pad), n)
        if face.contrast < MIN_CONTRAST:  # a flat reference matches anything: no evidence
            best, lx, ly = 0.0, (n - SIZE) // 2, (n - SIZE) // 2
        else:
            scores = cv2.matchTemplate(window, face.ref, cv2.TM_CCOEFF_NORMED)
            _, best, _, (lx, ly) = cv2.minMaxLoc(scores)
        step = (r.w + 2 * pad) / n  # source pixels per window pixel
        dx, dy = round((lx - (n - SIZE) / 2) * step), round((ly - (n - SIZE) / 2) * step)
        crop = np.ascontiguousarray(window[ly : ly + SIZE, lx : lx + SIZE])
        box, region = face.box.shifted(dx, dy), r.shifted(dx, dy)
        score = float(best) if np.isfinite(best) else 0.0
        frame = Box(0, 0, image.shape[1], image.shape[0])
        return Followed(box, region, crop, score, inside(box, frame))


def is_part(box: Box, face: Box) -> bool:
    """Whether ``box`` lies within ``face`` and is much smaller: a part of it (``PART_*``)."""
    side = max(face.w, face.h)
    below = Box(face.x, face.y, face.w, face.h + round(PART_BELOW * side))
    return max(box.w, box.h) <= PART_SIDE * side and inside(box, below) >= PART_INSIDE


def surrounds(box: Box, face: Box) -> bool:
    """Whether ``face`` lies within ``box``, at most ``SURROUND_SIDE`` its side, in its upper
    half, where a face has its eyes and forehead, not another face: ``box`` is then no face
    but Haar taking a face and what is around it for a larger one. (A face box up to 0.6 of a
    FER image's side, in its upper half, is the same face framed tighter: not this.)"""
    small = max(face.w, face.h) <= SURROUND_SIDE * max(box.w, box.h)
    upper = 2 * face.y + face.h < 2 * box.y + box.h
    return small and upper and inside(face, box) >= PART_INSIDE


def without_parts(
    found: Sequence[Box], followed: Sequence[Followed], known: Sequence[Box] = ()
) -> list[Box]:
    """Haar's ``found`` boxes less those that are part of a face found or ``followed`` this
    frame (``is_part``): one face is reported once; and less those that would have a
    ``known`` face (established, still matching) in their upper half (``surrounds``)."""
    faces = [*found, *(f.box for f in followed)]
    return [
        b
        for b in found
        if not any(is_part(b, f) for f in faces) and not any(surrounds(b, k) for k in known)
    ]


def cells_of(box: Box) -> tuple[slice, slice]:
    """The thumbnail cells (rows, columns) that ``box`` (source pixels) touches."""
    x0, y0 = max(box.x // CELL, 0), max(box.y // CELL, 0)
    return slice(y0, (box.y + box.h) // CELL + 1), slice(x0, (box.x + box.w) // CELL + 1)


def thumbnail(image: np.ndarray, grey: np.ndarray | None = None) -> np.ndarray:
    """The mean grey of each ``CELL`` x ``CELL`` cell of ``image`` (float32), taken from
    ``grey`` when given: the same frame in grey, at its size or another (a third of the cost of
    averaging a BGR frame's three channels)."""
    h, w = image.shape[:2]
    source = image if grey is None else grey
    small = cv2.resize(source, (w // CELL, h // CELL), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32).mean(axis=2) if small.ndim == 3 else small.astype(np.float32)
