"""Scoring a face+emotion pipeline against clip ground truth: pure functions, stdlib only.

Boxes are ``(x, y, w, h)`` in pixels. Per frame, predictions are matched one-to-one to the true
faces greedily by IoU (highest first, IoU >= ``min_iou``). Recall = matched / true faces;
precision = matched / predicted faces; label accuracy = correct labels / matched faces;
phantoms = predicted faces matching no true face, per 100 frames. A true face marked
``"ignore"`` (fading, half out of frame: ``bench/make_scene.py``) counts for neither: a
prediction on it is dropped. ``ChangeLatency`` measures, for each expression change of a true
face (same ``id``, new label), the frames until a matched prediction shows the new label. This
module runs in the project venv and in the separate ``fer`` venv alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

BoxT = Sequence[float]
Labeled = tuple[BoxT, str]


def iou(a: BoxT, b: BoxT) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes (0 when disjoint or empty)."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


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

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.truth + other.truth,
            self.predicted + other.predicted,
            self.matched + other.matched,
            self.correct + other.correct,
            self.frames + other.frames,
        )

    @property
    def phantoms_per_100(self) -> float:
        """Predicted faces that match no true face, per 100 frames."""
        return 100 * (self.predicted - self.matched) / self.frames if self.frames else 0.0

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
    pairs = match([b for b, _ in pred], [b for b, _ in truth], min_iou)
    correct = sum(pred[i][1] == truth[j][1] for i, j in pairs)
    used = {i for i, _ in pairs}
    rest = [b for i, (b, _) in enumerate(pred) if i not in used]
    dropped = len(match(rest, ignore, min_iou)) if ignore else 0
    return Tally(len(truth), len(pred) - dropped, len(pairs), correct, 1)


def score_clip(
    frames: Iterable[tuple[Sequence[Labeled], Sequence[Labeled]]], min_iou: float = 0.3
) -> Tally:
    """Sum of ``score_frame`` over ``(pred, truth)`` pairs, one per frame."""
    total = Tally()
    for pred, truth in frames:
        total = total + score_frame(pred, truth, min_iou)
    return total


def truth_faces(entry: Mapping | Sequence) -> list[dict]:
    """One frame's true faces: ``{"faces": [...]}`` (make_clip) or the bare list of faces."""
    return list(entry["faces"] if isinstance(entry, Mapping) else entry)


@dataclass
class ChangeLatency:
    """Frames from a true face's label change to the first frame a prediction shows it.

    A change still unmet when that face changes again or leaves counts as ``unreached``.
    """

    latencies: list[int] = field(default_factory=list)
    unreached: int = 0
    _last: dict[Hashable, str] = field(default_factory=dict)
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
            if before is not None and before != label:
                if key in self._pending:
                    self.unreached += 1
                self._pending[key] = (label, self._frame)
            if key in self._pending and said == label:
                self.latencies.append(self._frame - self._pending.pop(key)[1])
        self._last = {k: label for k, (label, _) in faces.items()}
        self._frame += 1

    def report(self) -> dict[str, float | int | None]:
        ms = sorted(self.latencies)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))] if ms else None
        return {
            "changes": len(ms) + self.unreached + len(self._pending),
            "change_frames_p50": statistics.median(ms) if ms else None,
            "change_frames_p95": p95,
            "changes_unreached": self.unreached + len(self._pending),
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


def timing_summary(seconds: Sequence[float]) -> dict[str, float]:
    """fps (frames / total time), mean/p50/p95 milliseconds per frame."""
    if not seconds:
        raise ValueError("no timed frames")
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {
        "fps": round(len(ms) / sum(seconds), 2),
        "ms_mean": round(statistics.fmean(ms), 3),
        "ms_p50": round(statistics.median(ms), 3),
        "ms_p95": round(p95, 3),
    }


def report(tally: Tally) -> dict[str, float | int]:
    """The accuracy fields of a benchmark JSON line."""
    return {
        "truth_faces": tally.truth,
        "predicted_faces": tally.predicted,
        "matched": tally.matched,
        "recall": round(tally.recall, 4),
        "precision": round(tally.precision, 4),
        "phantoms_per_100_frames": round(tally.phantoms_per_100, 3),
        "label_accuracy": round(tally.label_accuracy, 4),
    }
