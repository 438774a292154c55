"""The one label order of the product: FER-2013's emotion ids.

Everything that maps a model output index to a name (training, conversion, the edge daemon)
imports ``EMOTIONS`` from here. It needs nothing but the standard library, so the Pi daemon
reads it without TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from edge.errors import ModelError

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER-2013 ids 0..6, in order."""

NUM_CLASSES = len(EMOTIONS)


def read_labels(path: Path) -> tuple[str, ...]:
    """Read a ``*.labels.txt`` file (one name per line, index = line number).

    Raises:
        ModelError: (a ``ValueError``) the file is unreadable, or its names are not the 7
            emotions each once, in any order; the message names the file and the line.
    """
    where = f"labels file {path} (model.labels)"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != NUM_CLASSES:
        raise ModelError(f"{where}: expected {NUM_CLASSES} labels, found {len(names)}")
    for number, name in enumerate(names, 1):
        if name not in EMOTIONS:
            known = ", ".join(EMOTIONS)
            raise ModelError(f"{where}: label {number} {name!r} is not one of {known}")
        if names.index(name) != number - 1:
            raise ModelError(f"{where}: label {number} {name!r} appears twice")
    return names


def labels_text() -> str:
    """The contents of a labels file for ``EMOTIONS``."""
    return "".join(f"{name}\n" for name in EMOTIONS)
