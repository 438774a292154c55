"""Float vs int8 on the same faces: accuracy, top-1 agreement, the largest per-class recall change.

Predictions and metrics come from ``train.evaluate`` (the ``.tflite`` path runs the edge
daemon's CPU classifier), so the int8 figure is the one the device gets.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from edge.labels import EMOTIONS

log = logging.getLogger(__name__)

MAX_DROP_PP = 1.0


def parity_report(
    labels: np.ndarray,
    float_probs: np.ndarray,
    int8_probs: np.ndarray,
    max_drop_pp: float = MAX_DROP_PP,
) -> dict:
    """The parity figures; ``passed`` when int8 loses at most ``max_drop_pp`` accuracy points."""
    from train.evaluate import score

    labels = np.asarray(labels, dtype=np.int64)
    float_top1, int8_top1 = float_probs.argmax(axis=1), int8_probs.argmax(axis=1)
    float_acc = float(np.mean(float_top1 == labels))
    int8_acc = float(np.mean(int8_top1 == labels))
    float_score, int8_score = score(labels, float_probs), score(labels, int8_probs)
    changes = {n: int8_score["recall"][n] - float_score["recall"][n] for n in EMOTIONS}
    worst = max(EMOTIONS, key=lambda n: abs(changes[n]))
    drop_pp = round((float_acc - int8_acc) * 100, 2)
    return {
        "n": int(len(labels)),
        "float_accuracy": round(float_acc, 4),
        "int8_accuracy": round(int8_acc, 4),
        "accuracy_drop_pp": drop_pp,
        "top1_agreement": round(float(np.mean(float_top1 == int8_top1)), 4),
        "largest_recall_change": {
            "class": worst,
            "float": float_score["recall"][worst],
            "int8": int8_score["recall"][worst],
            "change_pp": round(changes[worst] * 100, 2),
        },
        "max_drop_pp": max_drop_pp,
        "passed": drop_pp <= max_drop_pp,
        "float": float_score,
        "int8": int8_score,
    }


def measure(
    float_model: Path,
    int8_model: Path,
    images: np.ndarray,
    labels: np.ndarray,
    max_drop_pp: float = MAX_DROP_PP,
) -> dict:
    """Predict ``images`` with both models and compare."""
    from train.evaluate import predict

    log.info("predicting %d faces with %s and %s", len(labels), float_model, int8_model)
    float_probs = predict(float_model, images)
    int8_probs = predict(int8_model, images)
    return parity_report(labels, float_probs, int8_probs, max_drop_pp)


def format_report(report: dict) -> str:
    worst = report["largest_recall_change"]
    verdict = "PASS" if report["passed"] else "FAIL"
    return "\n".join(
        [
            f"parity on {report['n']} val faces: float {report['float_accuracy']:.2%}, "
            f"int8 {report['int8_accuracy']:.2%} (drop {report['accuracy_drop_pp']:+.2f} pp, "
            f"limit {report['max_drop_pp']:.1f} pp) {verdict}",
            f"top-1 agreement {report['top1_agreement']:.2%}; largest recall change "
            f"{worst['class']} {worst['float']:.3f} -> {worst['int8']:.3f} "
            f"({worst['change_pp']:+.2f} pp)",
        ]
    )
