"""The phantom faces of a run, by track: which reported faces matched no true face, and where.

    python -m edge run --source bench/results/scene4 --events /tmp/scene4.jsonl
    python -m bench.phantom_tracks /tmp/scene4.jsonl bench/results/scene4/truth.json

Each frame of the events file (one JSON line per frame, ``python -m edge run --events``) is
scored against the clip's truth as ``python -m edge bench --truth`` scores it
(``edge.scoring.phantoms``: matched one-to-one by IoU >= 0.3; a box on a face marked
``ignore`` is neither), and the phantoms are grouped by track id, longest first: frames, first
and last frame, the box then, whether it lies on a true face (``edge.scoring.ON_FACE``: a box
too small or off-centre to match the face it is on) or on the background, and the true face
it overlaps most, and how many of its frames come after the last frame its box matched a true
face: of those, the frames on which that face (its truth ``id``) was no longer in view are a
face that left and is still reported (issue 11's complaint); on the others the face is still
there and the box is off it (slid off, or shifted onto the face that replaced it in place).
Truth without face ids counts every such frame as gone. The totals are ``edge bench``'s
``phantoms_per_100_frames`` and ``phantoms_on_faces_per_100_frames`` for the same run (the
pipeline is deterministic), and those frames after a match.
A bad file stops with one line naming it, the line and what is wrong, and exit status 1;
events whose faces mostly match no true face (another clip's run?) get a warning.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.scoring import load_truth, match, on_a_face, phantoms
from edge.types import iou


@dataclass
class PhantomTrack:
    """One track's phantom frames: (frame, box, on a face, the most overlapped true face)."""

    id: int
    frames: list[tuple[int, list[int], bool, dict[str, Any] | None]] = field(default_factory=list)
    last_match: int = -1  # the last frame on which the track's box matched a true face
    last_face: Hashable | None = None  # that face's truth "id" (None: truth without ids)
    in_view: dict[int, frozenset] = field(default_factory=dict)  # phantom frame: true ids

    @property
    def on_faces(self) -> int:
        return sum(on for _, _, on, _ in self.frames)

    @property
    def after_match(self) -> int:
        """Phantom frames after the track's last match: a face gone (or its box gone off
        it) and still reported. Faces that leave must not leave these (issue 11)."""
        if self.last_match < 0:
            return 0
        return sum(frame > self.last_match for frame, *_ in self.frames)

    @property
    def after_gone(self) -> int:
        """Of ``after_match``, the frames on which the face it last matched was no longer in
        view (as a counted or an ignored face): a face that left, still reported. On the rest
        that face is still there and the box is off it."""
        if self.last_match < 0:
            return 0
        return sum(
            frame > self.last_match
            and (self.last_face is None or self.last_face not in self.in_view[frame])
            for frame, *_ in self.frames
        )


def read_events(path: Path) -> list[list[dict[str, Any]]]:
    """The faces of each frame of an events file, in frame order.

    Raises:
        ValueError: one line naming the file, the line and what is wrong.
    """
    frames: dict[int, list[dict[str, Any]]] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for n, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
            faces = event["faces"]
            frames[int(event["frame"])] = [
                {"id": int(f["id"]), "box": [int(v) for v in f["box"]]} for f in faces
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f'{path}: line {n} is not an events line ({{"frame": N, "faces": [{{"id", '
                f'"box"}}, ...]}}): {exc}'
            ) from None
    if not frames:
        raise ValueError(f"{path}: no events")
    return [frames.get(i, []) for i in range(max(frames) + 1)]


def load_run(events_path: Path, truth_path: Path) -> tuple[list, list]:
    """A run's events and its clip's truth (``load_truth``), per frame.

    Raises:
        ValueError: one line naming the bad file (a truth face id that is not a number or a
            string among them), or events longer than the truth.
    """
    truth = load_truth(truth_path)
    for i, faces in enumerate(truth):
        for face in faces:  # ids are compared as sets: a number or a string
            if "id" in face and not isinstance(face["id"], int | str):
                raise ValueError(
                    f"{truth_path}: frame {i}: face id {face['id']!r} is not a number or a string"
                )
    events = read_events(events_path)
    if len(events) > len(truth):
        raise ValueError(
            f"{events_path} has {len(events)} frames, more than the {len(truth)} of "
            f"{truth_path}: another clip's events?"
        )
    return events, truth


def warn_if_foreign(events: Sequence, truth: Sequence, prog: str) -> float:
    """Warn on stderr when most reported faces match no true face (``FOREIGN``): events of
    a run on another clip of the same length, which frame numbers alone cannot tell apart
    (our runs match 97-100% of their boxes). Returns that share."""
    boxes = phantom = 0
    for faces, true in zip(events, truth, strict=False):
        counted = [f["box"] for f in true if not f.get("ignore")]
        ignored = [f["box"] for f in true if f.get("ignore")]
        boxes += len(faces)
        phantom += len(phantoms([f["box"] for f in faces], counted, ignore=ignored))
    share = phantom / boxes if boxes else 0.0
    if boxes >= FOREIGN_MIN and share > FOREIGN:
        print(
            f"{prog}: warning: {phantom} of the {boxes} faces reported match no true face: "
            "are these the events of a run on this clip?",
            file=sys.stderr,
        )
    return share


FOREIGN, FOREIGN_MIN = 0.5, 20  # more than this share of at least this many boxes: warn


def phantom_tracks(
    events: Sequence[Sequence[dict[str, Any]]], truth: Sequence[Sequence[dict[str, Any]]]
) -> list[PhantomTrack]:
    """The tracks with phantom frames, most frames first (ties: the earliest first)."""
    tracks: dict[int, PhantomTrack] = {}
    last_match: dict[int, tuple[int, Hashable | None]] = {}  # track: (frame, true face id)
    for i, (faces, true) in enumerate(zip(events, truth, strict=False)):
        counted_faces = [f for f in true if not f.get("ignore")]
        counted = [f["box"] for f in counted_faces]
        ignored = [f["box"] for f in true if f.get("ignore")]
        in_view = frozenset(f["id"] for f in true if "id" in f)
        boxes = [f["box"] for f in faces]
        pairs = match(boxes, counted)
        last_match.update((faces[k]["id"], (i, counted_faces[j].get("id"))) for k, j in pairs)
        for k in phantoms(boxes, counted, ignore=ignored, pairs=pairs):
            near = max(true, key=lambda t: iou(boxes[k], t["box"]), default=None)
            on = on_a_face(boxes[k], counted + ignored)
            track = tracks.setdefault(faces[k]["id"], PhantomTrack(faces[k]["id"]))
            track.frames.append((i, boxes[k], on, near))
            track.in_view[i] = in_view
    for track in tracks.values():
        track.last_match, track.last_face = last_match.get(track.id, (-1, None))
    return sorted(tracks.values(), key=lambda t: (-len(t.frames), t.frames[0][0]))


def describe(track: PhantomTrack) -> str:
    first, last = track.frames[0], track.frames[-1]
    where = "on a face" if track.on_faces * 2 >= len(track.frames) else "on the background"
    near = first[3]
    nearest = (
        f"; nearest true face {near['box']} ({near['label']}, IoU {iou(first[1], near['box']):.2f})"
        if near
        else ""
    )
    n = len(track.frames)
    after = (
        f", {track.after_match} after its last match, {track.after_gone} with that face gone"
        if track.after_match
        else ""
    )
    return (
        f"track {track.id}: {n} frame{'s' * (n != 1)}, {first[0]}-{last[0]}, {where} "
        f"({track.on_faces} of them on a face{after}); box {first[1]} -> {last[1]}{nearest}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phantom_tracks", description=__doc__)
    parser.add_argument("events", type=Path, help="events JSON lines (edge run --events)")
    parser.add_argument("truth", type=Path, help="the clip's truth.json")
    args = parser.parse_args(argv)
    try:
        events, truth = load_run(args.events, args.truth)
    except ValueError as exc:
        print(f"phantom_tracks: error: {exc}", file=sys.stderr)
        return 1
    warn_if_foreign(events, truth, "phantom_tracks")
    tracks = phantom_tracks(events, truth)
    for track in tracks:
        print(describe(track))
    total = sum(len(t.frames) for t in tracks)
    on_faces = sum(t.on_faces for t in tracks)
    after = sum(t.after_match for t in tracks)
    gone = sum(t.after_gone for t in tracks)
    frames = len(events)
    print(
        f"{total} phantom faces in {frames} frames: {100 * total / frames:.3f} per 100 frames, "
        f"{100 * on_faces / frames:.3f} on a face, in {len(tracks)} track{'s' * (len(tracks) != 1)}"
        f"; {after} after their track's last match, {gone} of them with that face gone (a "
        "face that left, still reported)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
