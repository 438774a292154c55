"""The one label order of the product: FER-2013's emotion ids.

Everything that maps a model output index to a name (training, conversion, the edge daemon)
imports ``EMOTIONS`` from here. It needs nothing but the standard library, so the Pi daemon
reads it without TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER-2013 ids 0..6, in order."""

NUM_CLASSES = len(EMOTIONS)


def read_labels(path: Path) -> tuple[str, ...]:
    """Read a ``*.labels.txt`` file (one name per line, index = line number)."""
    names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if len(names) != NUM_CLASSES:
        raise ValueError(f"{path}: expected {NUM_CLASSES} labels, found {len(names)}")
    return names


def labels_text() -> str:
    """The contents of a labels file for ``EMOTIONS``."""
    return "".join(f"{name}\n" for name in EMOTIONS)
