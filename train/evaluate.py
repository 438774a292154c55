"""Scoring: predictions from ``.keras`` or ``.tflite`` models, metrics, table and confusion plot.

The ``.tflite`` path runs through the edge daemon's own CPU classifier, so a figure measured here
is the figure the device gets (same runtime, same quantization handling).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge.labels import EMOTIONS, NUM_CLASSES


def predict(model_path: Path, images: np.ndarray, tta: str = "none") -> np.ndarray:
    """Class probabilities ``(N, 7)`` for uint8 faces ``(N, 48, 48)``; ``tta="flip"`` averages
    each face with its mirror image."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file")
    run = (
        _tflite_runner(model_path) if model_path.suffix == ".tflite" else _keras_runner(model_path)
    )
    probs = run(images)
    if tta == "flip":
        probs = (probs + run(images[:, :, ::-1])) / 2.0
    elif tta != "none":
        raise ValueError(f"unknown --tta '{tta}' (choose none or flip)")
    return probs


def _keras_runner(model_path: Path):
    if model_path.suffix != ".keras":
        raise ValueError(f"{model_path}: expected a .keras or .tflite model")
    import keras

    import train.models  # noqa: F401  (registers the custom LRN layer)

    model = keras.models.load_model(model_path, compile=False)

    def run(images: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(images[..., None], dtype=np.float32)
        return np.asarray(model.predict(batch, batch_size=256, verbose=0), dtype=np.float32)

    return run


def _tflite_runner(model_path: Path):
    from edge.backends.cpu import CpuClassifier

    classifier = CpuClassifier(model_path, num_threads=os.cpu_count() or 1)

    def run(images: np.ndarray) -> np.ndarray:
        return np.stack([classifier.classify(np.ascontiguousarray(face)) for face in images])

    return run


def score(labels: np.ndarray, probs: np.ndarray) -> dict:
    """n, accuracy, macro_f1, recall per class name, and the 7x7 confusion (rows = truth)."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(probs).argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    true_per_class = confusion.sum(axis=1)
    predicted_per_class = confusion.sum(axis=0)
    hits = np.diag(confusion)
    recall = np.divide(hits, true_per_class, out=np.zeros(NUM_CLASSES), where=true_per_class > 0)
    precision = np.divide(
        hits, predicted_per_class, out=np.zeros(NUM_CLASSES), where=predicted_per_class > 0
    )
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(NUM_CLASSES), where=denom > 0)
    present = true_per_class > 0
    return {
        "n": int(len(labels)),
        "accuracy": round(float(hits.sum() / max(len(labels), 1)), 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "recall": {name: round(float(r), 4) for name, r in zip(EMOTIONS, recall, strict=True)},
        "confusion": confusion.tolist(),
    }


def format_table(result: dict) -> str:
    lines = [f"{'class':<10}{'n':>6}{'recall':>9}"]
    for i, name in enumerate(EMOTIONS):
        lines.append(f"{name:<10}{sum(result['confusion'][i]):>6}{result['recall'][name]:>9.3f}")
    lines.append(
        f"{'all':<10}{result['n']:>6}{result['accuracy']:>9.3f}  (accuracy; "
        f"macro-F1 {result['macro_f1']:.3f})"
    )
    return "\n".join(lines)


# The seed paper's Figure 4 (Momentum): per-class accuracy, in FER-2013 order (its "surprised").
PAPER_FIGURE4 = {
    "angry": 0.91,
    "disgust": 0.92,
    "fear": 0.87,
    "happy": 0.97,
    "sad": 0.85,
    "surprise": 0.95,
    "neutral": 0.90,
}


def plot_confusion(result: dict, path: Path, title: str = "", paper: bool = False) -> Path:
    """A row-normalized confusion matrix like the seed paper's Figure 4, written atomically.

    ``paper``: a second panel puts this model's per-class recall beside Figure 4's values.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.asarray(result["confusion"], dtype=np.float64)
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    if paper:
        fig, (ax, bars) = plt.subplots(1, 2, figsize=(12.4, 5.6))
        _paper_bars(bars, np.diag(rates))
    else:
        fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(rates):
        ax.text(
            j,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            color="white" if value > 0.5 else "black",
            fontsize=8,
        )
    ax.set_xticks(range(NUM_CLASSES), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(NUM_CLASSES), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"accuracy {result['accuracy']:.3f}")
    fig.tight_layout()
    return save_figure(fig, Path(path))


def _paper_bars(ax, recall: np.ndarray) -> None:
    x = np.arange(NUM_CLASSES)
    ax.bar(x - 0.2, recall, 0.4, label="this model")
    ax.bar(x + 0.2, [PAPER_FIGURE4[name] for name in EMOTIONS], 0.4, label="paper, Figure 4")
    ax.set_xticks(x, EMOTIONS, rotation=45, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("per-class accuracy (recall)")
    ax.set_title("beside the paper's Figure 4 (Momentum)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)


def save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path
