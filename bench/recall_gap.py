"""Where our recall and `fer`'s part: the true faces `fer`'s detector finds on a frame and we
do not, and the other way round, by face.

    python -m edge run --source bench/results/scene6 --events /tmp/scene6.jsonl
    python -m bench.recall_gap /tmp/scene6.jsonl bench/results/scene6

`fer` (``FER(mtcnn=False)``) finds faces with OpenCV's default Haar cascade on every whole
frame in grey, scale factor 1.1, 5 neighbours, faces of 50 px and more; this runs that same
call here (no TensorFlow, no `fer` package), so its recall is `fer`'s on the clip
(``bench/fer_baseline.py``). Each frame's boxes, ours from the events file and `fer`'s, are
matched to the true faces as ``edge bench --truth`` matches them (``edge.scoring.match``, IoU
>= 0.3; faces marked ``ignore`` are left out). Prints the totals and the faces with the most
frames found by `fer` only: a face `fer` finds on about half its frames and we seldom is one
Haar finds only now and then, which a detector on every frame catches more often than a
tracker that must find a new face on three frames running.
Frames are read as ``python -m edge run --source CLIP`` reads them (the image-folder source).
A bad file or folder stops with one line naming it and exit status 1; events whose faces
mostly match no true face (another clip's run?) get a warning.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.phantom_tracks import load_run, warn_if_foreign
from edge.scoring import match
from edge.sources.files import ImageFolderSource

BoxList = list[list[int]]


@dataclass
class FaceGap:
    """One true face (by id): frames it counts on, found by `fer`, by us, by `fer` only, by us
    only."""

    id: Any
    frames: int = 0
    fer: int = 0
    ours: int = 0
    fer_only: int = 0
    ours_only: int = 0


def recall_gap(
    truth: Sequence[Sequence[dict[str, Any]]],
    ours: Iterable[BoxList],
    fers: Iterable[BoxList],
) -> list[FaceGap]:
    """Per true face, most frames found by `fer` only first: ``ours[i]`` and ``fers[i]`` are
    frame i's boxes."""
    gaps: dict[Any, FaceGap] = {}
    for true, our, fer in zip(truth, ours, fers, strict=False):
        counted = [f for f in true if not f.get("ignore")]
        boxes = [f["box"] for f in counted]
        found_ours = {j for _, j in match(our, boxes)}
        found_fer = {j for _, j in match(fer, boxes)}
        for j, face in enumerate(counted):
            gap = gaps.setdefault(face.get("id", j), FaceGap(face.get("id", j)))
            gap.frames += 1
            gap.fer += j in found_fer
            gap.ours += j in found_ours
            gap.fer_only += j in found_fer and j not in found_ours
            gap.ours_only += j in found_ours and j not in found_fer
    return sorted(gaps.values(), key=lambda g: (-g.fer_only, str(g.id)))


def fer_detector() -> Callable[[np.ndarray], BoxList]:
    """`fer`'s face detection: the default cascade on the whole frame in grey, 1.1, 5, 50 px."""
    import cv2

    from edge.faces import find_cascade

    cascade = cv2.CascadeClassifier(str(find_cascade("")))

    def detect(bgr: np.ndarray) -> BoxList:
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
        return [[int(v) for v in box] for box in found]

    return detect


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recall_gap", description=__doc__)
    parser.add_argument("events", type=Path, help="events JSON lines (edge run --events)")
    parser.add_argument("clip", type=Path, help="the clip folder (frames and truth.json)")
    parser.add_argument("--top", type=int, default=10, help="faces listed (default 10)")
    args = parser.parse_args(argv)
    try:
        frames = ImageFolderSource(args.clip)  # what `edge run --source CLIP` reads
        events, truth = load_run(args.events, args.clip / "truth.json")
    except OSError:  # no folder, or no images in it (SourceUnavailable)
        print(
            f"recall_gap: error: {args.clip}: no frame_*.png (a make_scene folder?)",
            file=sys.stderr,
        )
        return 1
    except ValueError as exc:
        print(f"recall_gap: error: {exc}", file=sys.stderr)
        return 1
    warn_if_foreign(events, truth, "recall_gap")
    detect = fer_detector()
    fers = (detect(frame.bgr) for frame in iter(frames.read, None))
    ours = ([f["box"] for f in faces] for faces in events)
    gaps = recall_gap(truth[: len(events)], ours, fers)
    frames.close()
    total = FaceGap("all")
    for g in gaps:
        for key in ("frames", "fer", "ours", "fer_only", "ours_only"):
            setattr(total, key, getattr(total, key) + getattr(g, key))
    print(
        f"{total.frames} true face-frames: fer's detector finds {total.fer} "
        f"(recall {total.fer / max(total.frames, 1):.4f}), ours {total.ours} "
        f"({total.ours / max(total.frames, 1):.4f}); fer only {total.fer_only}, "
        f"ours only {total.ours_only}"
    )
    for g in gaps[: args.top]:
        print(
            f"  face {g.id}: {g.frames} frames, fer {g.fer}, ours {g.ours}, "
            f"fer only {g.fer_only}, ours only {g.ours_only}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
