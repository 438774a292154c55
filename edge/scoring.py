"""Scoring a face+emotion pipeline against clip ground truth, and the one percentile.

Boxes are ``(x, y, w, h)`` in pixels. Per frame, predictions are matched one-to-one to the true
faces greedily by IoU (``edge.types.iou``, highest first, IoU >= ``min_iou``). Recall = matched /
true faces; precision = matched / predicted faces; label accuracy = correct labels / matched
faces; phantoms = predicted faces matching no true face, per 100 frames, of which those with
at least ``ON_FACE`` of their area inside a true face's box (counted or ignored) are also
counted apart: a box on a face but sized or placed too far from its truth box to match (Haar
finding a face that fills a small part of its image, or part of a face), as against a box on
the background, which no face explains. A true face marked
``"ignore"`` (fading, half out of frame: ``bench/make_scene.py``) counts for neither: a
prediction on it is dropped. ``ChangeLatency`` measures, for each expression change of a true
face (same ``id``, new label), the frames until a matched prediction shows the new label.

``percentile`` is the project's one definition (``edge bench``'s stage times, ``bench/``'s
timing summary, the change latency): linear between the closest ranks, numpy's default, so the
50th is the median. ``python -m edge bench --truth`` scores with this module; ``bench/score.py``
re-exports it for the workstation scripts, which run in the project venv and in the separate
``fer`` venv alike, so it needs only the stdlib and ``edge.types``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.types import inside, iou

BoxT = Sequence[float]
ON_FACE = 0.5  # an unmatched box with this much of its area inside a true face is on a face
Labeled = tuple[BoxT, str]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linear between the closest ranks (numpy's
    default); an exact rank gives the value itself (an int stays an int).

    Raises:
        ValueError: no values.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    if rank == low:
        return ordered[low]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (rank - low)


def match(
    pred: Sequence[BoxT], truth: Sequence[BoxT], min_iou: float = 0.3
) -> list[tuple[int, int]]:
    """One-to-one ``(pred_index, truth_index)`` pairs, greedily by IoU, each >= ``min_iou``."""
    pairs = sorted(
        ((iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for overlap, i, j in pairs:
        if overlap < min_iou:
            break
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        out.append((i, j))
    return sorted(out)


@dataclass(frozen=True)
class Tally:
    """Counts over a clip; the rates are derived."""

    truth: int = 0
    predicted: int = 0
    matched: int = 0
    correct: int = 0
    frames: int = 0
    on_faces: int = 0  # unmatched predictions lying on a true face (``ON_FACE``)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.truth + other.truth,
            self.predicted + other.predicted,
            self.matched + other.matched,
            self.correct + other.correct,
            self.frames + other.frames,
            self.on_faces + other.on_faces,
        )

    @property
    def phantoms_per_100(self) -> float:
        """Predicted faces that match no true face, per 100 frames."""
        return 100 * (self.predicted - self.matched) / self.frames if self.frames else 0.0

    @property
    def on_faces_per_100(self) -> float:
        """The phantoms lying on a true face (mis-sized or misplaced boxes), per 100 frames."""
        return 100 * self.on_faces / self.frames if self.frames else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 0.0

    @property
    def label_accuracy(self) -> float:
        return self.correct / self.matched if self.matched else 0.0


def score_frame(
    pred: Sequence[Labeled],
    truth: Sequence[Labeled],
    min_iou: float = 0.3,
    ignore: Sequence[BoxT] = (),
) -> Tally:
    """The tally of one frame's ``(box, label)`` predictions against its true faces; a
    prediction left unmatched that overlaps an ``ignore`` box is not counted at all."""
    boxes = [b for b, _ in pred]
    pairs = match(boxes, [b for b, _ in truth], min_iou)
    correct = sum(pred[i][1] == truth[j][1] for i, j in pairs)
    rest = phantoms(boxes, [b for b, _ in truth], min_iou, ignore, pairs)
    faces = [*(b for b, _ in truth), *ignore]
    on_faces = sum(on_a_face(boxes[i], faces) for i in rest)
    counted = len(pairs) + len(rest)  # a box on an ignored face is not counted
    return Tally(len(truth), counted, len(pairs), correct, 1, on_faces)


def phantoms(
    pred: Sequence[BoxT],
    truth: Sequence[BoxT],
    min_iou: float = 0.3,
    ignore: Sequence[BoxT] = (),
    pairs: Sequence[tuple[int, int]] | None = None,
) -> list[int]:
    """The indexes of the predicted boxes that match no true face (``match``) and no
    ``ignore`` box left over: the phantoms of ``score_frame``. ``pairs``: ``match``'s, if
    already made."""
    used = {i for i, _ in (match(pred, truth, min_iou) if pairs is None else pairs)}
    rest = [i for i in range(len(pred)) if i not in used]
    if not ignore:
        return rest
    hits = {rest[k] for k, _ in match([pred[i] for i in rest], ignore, min_iou)}
    return [i for i in rest if i not in hits]


def on_a_face(box: BoxT, faces: Sequence[BoxT]) -> bool:
    """Whether ``box`` has at least ``ON_FACE`` of its area inside one of ``faces``."""
    return any(inside(box, f) >= ON_FACE for f in faces)


@dataclass
class ChangeLatency:
    """Frames from a true face's label change to the first frame a prediction shows it.

    A change still unmet when that face changes again or leaves counts as ``unreached``.
    Also the jitter: how often the label shown on a face changes from one frame to the next
    (``flips`` of the ``pairs`` of consecutive frames where the face was found on both; a
    true expression change accounts for one).
    """

    latencies: list[int] = field(default_factory=list)
    unreached: int = 0
    flips: int = 0
    pairs: int = 0
    _last: dict[Hashable, str] = field(default_factory=dict)
    _said: dict[Hashable, str | None] = field(default_factory=dict)
    _pending: dict[Hashable, tuple[str, int]] = field(default_factory=dict)
    _frame: int = 0

    def add(self, faces: Mapping[Hashable, tuple[str, str | None]]) -> None:
        """One frame: ``{face id: (true label, predicted label or None)}``."""
        for key in list(self._pending):
            if key not in faces:
                self.unreached += 1
                del self._pending[key]
        for key, (label, said) in faces.items():
            before = self._last.get(key)
            shown = self._said.get(key)
            if said is not None and shown is not None:
                self.pairs += 1
                self.flips += said != shown
            if before is not None and before != label:
                if key in self._pending:
                    self.unreached += 1
                self._pending[key] = (label, self._frame)
            if key in self._pending and said == label:
                self.latencies.append(self._frame - self._pending.pop(key)[1])
        self._last = {k: label for k, (label, _) in faces.items()}
        self._said = {k: said for k, (_, said) in faces.items()}
        self._frame += 1

    def report(self) -> dict[str, float | int | None]:
        ms = self.latencies
        return {
            "changes": len(ms) + self.unreached + len(self._pending),
            "change_frames_p50": round(percentile(ms, 50), 1) if ms else None,
            "change_frames_p95": round(percentile(ms, 95), 1) if ms else None,
            "changes_unreached": self.unreached + len(self._pending),
            "label_changes_per_100": round(100 * self.flips / self.pairs, 2)
            if self.pairs
            else None,
        }


@dataclass
class ClipScore:
    """Frame by frame: the tally and the expression-change latency of one labelling."""

    min_iou: float = 0.3
    tally: Tally = field(default_factory=Tally)
    changes: ChangeLatency = field(default_factory=ChangeLatency)

    def add(self, pred: Sequence[Labeled], faces: Sequence[Mapping]) -> None:
        """One frame: predictions and the true faces (dicts with box, label, optional id and
        ignore; a face without ``id`` is keyed by its place in the list)."""
        counted = [(k, f) for k, f in enumerate(faces) if not f.get("ignore")]
        truth = [(f["box"], f["label"]) for _, f in counted]
        ignore = [f["box"] for f in faces if f.get("ignore")]
        self.tally = self.tally + score_frame(pred, truth, self.min_iou, ignore)
        pairs = {j: i for i, j in match([b for b, _ in pred], [b for b, _ in truth], self.min_iou)}
        self.changes.add(
            {f.get("id", k): (f["label"], pred[pairs[j]][1] if j in pairs else None)
             for j, (k, f) in enumerate(counted)}
        )  # fmt: skip

    def report(self) -> dict[str, float | int | None]:
        return report(self.tally) | self.changes.report()


def report(tally: Tally) -> dict[str, float | int]:
    """The accuracy fields of a benchmark JSON line."""
    return {
        "truth_faces": tally.truth,
        "predicted_faces": tally.predicted,
        "matched": tally.matched,
        "recall": round(tally.recall, 4),
        "precision": round(tally.precision, 4),
        "phantoms_per_100_frames": round(tally.phantoms_per_100, 3),
        "phantoms_on_faces_per_100_frames": round(tally.on_faces_per_100, 3),
        "label_accuracy": round(tally.label_accuracy, 4),
    }


def load_truth(path: Path | None) -> list[list[dict[str, Any]]]:
    """Per frame, the true faces (dicts with ``box`` and ``label``), from either shape:
    ``{"frames": [{"faces": [...]}, ...]}`` (``bench/make_clip.py``) or ``{"frames": [[...]]}``.

    Raises:
        ValueError: one line naming the file and what is wrong with it.
    """
    if path is None:
        return []
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"--truth {path}: not JSON ({exc})") from None
    frames = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(frames, list) or not frames:
        raise ValueError(f'--truth {path}: expected {{"frames": [...]}}, a non-empty list')
    out = []
    for i, entry in enumerate(frames):
        faces = entry.get("faces") if isinstance(entry, dict) else entry
        if not isinstance(faces, list) or not all(_is_face(f) for f in faces):
            raise ValueError(
                f'--truth {path}: frame {i} is not a list of faces (or {{"faces": [...]}}) '
                'with "box": [x, y, w, h] and "label"'
            )
        out.append(faces)
    return out


def _is_face(face: Any) -> bool:
    box = face.get("box") if isinstance(face, dict) else None
    return (
        isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        and isinstance(face.get("label"), str)
    )


Scored = tuple[list[tuple[BoxT, str, str]], list[dict[str, Any]]]


def accuracy(scored: Iterable[Scored]) -> dict[str, Any]:
    """Recall, phantoms, label accuracy and expression-change latency of the smoothed label,
    and (``*_raw``) of each frame's top-1, from ``([(box, smoothed, raw), ...], true faces)``
    per frame."""
    smoothed, raw = ClipScore(), ClipScore()
    for pred, truth in scored:
        smoothed.add([(b, s) for b, s, _ in pred], truth)
        raw.add([(b, r) for b, _, r in pred], truth)
    out = smoothed.report()
    raw_report = raw.report()
    keys = ("label_accuracy", "change_frames_p50", "change_frames_p95", "changes_unreached")
    for key in (*keys, "label_changes_per_100"):
        out[f"{key}_raw"] = raw_report[key]
    return out
