"""Scoring a face+emotion pipeline against clip ground truth: ``edge/scoring.py``, re-exported
for the workstation scripts, plus what only they use (``score_clip``, ``truth_faces``,
``timing_summary``).

The matching, the tally, the change latency and the percentile live in ``edge.scoring``, so
``python -m edge bench --truth`` and ``bench/fer_baseline.py`` score (and take p95s) one way
without the daemon importing ``bench/``. This module runs in the project venv and in the
separate ``fer`` venv alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence

from edge.scoring import (
    BoxT,
    ChangeLatency,
    ClipScore,
    Labeled,
    Tally,
    match,
    percentile,
    report,
    score_frame,
)
from edge.types import iou

__all__ = [
    "BoxT",
    "ChangeLatency",
    "ClipScore",
    "Labeled",
    "Tally",
    "iou",
    "match",
    "percentile",
    "report",
    "score_clip",
    "score_frame",
    "timing_summary",
    "truth_faces",
]


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


def timing_summary(seconds: Sequence[float]) -> dict[str, float]:
    """fps (frames / total time), mean/p50/p95 milliseconds per frame (``edge.scoring``'s
    percentile, as ``python -m edge bench`` reports them)."""
    if not seconds:
        raise ValueError("no timed frames")
    ms = [s * 1000 for s in seconds]
    return {
        "fps": round(len(ms) / sum(seconds), 2),
        "ms_mean": round(statistics.fmean(ms), 3),
        "ms_p50": round(percentile(ms, 50), 3),
        "ms_p95": round(percentile(ms, 95), 3),
    }
