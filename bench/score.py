"""Scoring a face+emotion pipeline against clip ground truth: pure functions, stdlib only.

Boxes are ``(x, y, w, h)`` in pixels. Per frame, predictions are matched one-to-one to the true
faces greedily by IoU (highest first, IoU >= ``min_iou``). Recall = matched / true faces;
precision = matched / predicted faces; label accuracy = correct labels / matched faces. This
module runs in the project venv and in the separate ``fer`` venv alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.truth + other.truth,
            self.predicted + other.predicted,
            self.matched + other.matched,
            self.correct + other.correct,
        )

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 0.0

    @property
    def label_accuracy(self) -> float:
        return self.correct / self.matched if self.matched else 0.0


def score_frame(pred: Sequence[Labeled], truth: Sequence[Labeled], min_iou: float = 0.3) -> Tally:
    """The tally of one frame's ``(box, label)`` predictions against its true faces."""
    pairs = match([b for b, _ in pred], [b for b, _ in truth], min_iou)
    correct = sum(pred[i][1] == truth[j][1] for i, j in pairs)
    return Tally(len(truth), len(pred), len(pairs), correct)


def score_clip(
    frames: Iterable[tuple[Sequence[Labeled], Sequence[Labeled]]], min_iou: float = 0.3
) -> Tally:
    """Sum of ``score_frame`` over ``(pred, truth)`` pairs, one per frame."""
    total = Tally()
    for pred, truth in frames:
        total = total + score_frame(pred, truth, min_iou)
    return total


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
        "label_accuracy": round(tally.label_accuracy, 4),
    }
