"""Fakes for the edge daemon's seams (source, classifier, detector); no hardware, no mocks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from edge.errors import SourceReadError
from edge.labels import EMOTIONS
from edge.types import Box, Frame


class FakeSource:
    """Plays ``frames``; an item that is an Exception is raised from ``read`` instead."""

    def __init__(self, frames: Iterable[np.ndarray | Exception], name: str = "fake") -> None:
        self.name = name
        self._items = list(frames)
        self.reads = 0
        self.closed = False

    def read(self) -> Frame | None:
        if self.closed:
            raise SourceReadError("read after close")
        if self.reads >= len(self._items):
            return None
        item = self._items[self.reads]
        self.reads += 1
        if isinstance(item, Exception):
            raise item
        return Frame(item)

    def close(self) -> None:
        self.closed = True


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    """Scores with ``p`` on ``label`` and the rest spread evenly."""
    scores = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), np.float32)
    scores[EMOTIONS.index(label)] = p
    return scores


class FakeClassifier:
    """Returns ``scores_for(face, call_index)``; raises ``fail_with`` from call ``fail_at`` on."""

    def __init__(
        self,
        scores_for: Callable[[np.ndarray, int], np.ndarray] | None = None,
        name: str = "fake",
        fail_at: int | None = None,
        fail_with: Exception | None = None,
    ) -> None:
        self.name = name
        self.scores_for = scores_for or (lambda _face, _i: one_hot("neutral"))
        self.fail_at = fail_at
        self.fail_with = fail_with or RuntimeError("Edge TPU: USB transfer error")
        self.calls = 0
        self.faces: list[np.ndarray] = []

    def classify(self, face: np.ndarray) -> np.ndarray:
        assert face.shape == (48, 48) and face.dtype == np.uint8
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise self.fail_with
        self.faces.append(face)
        self.calls += 1
        return self.scores_for(face, self.calls - 1)


class FakeFaces:
    """A detector returning scripted boxes per call (the last entry repeats)."""

    def __init__(self, boxes_per_frame: Sequence[Sequence[Box]]) -> None:
        self._boxes = [list(b) for b in boxes_per_frame]
        self.calls = 0

    def detect(self, grey: np.ndarray) -> list[Box]:
        boxes = self._boxes[min(self.calls, len(self._boxes) - 1)]
        self.calls += 1
        return boxes
