"""One JSON line per frame: ``{"frame": n, "ts": ..., "faces": [...]}`` to a file or stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from edge.types import Frame, FrameResult


def to_event(result: FrameResult, labels: Sequence[str]) -> dict[str, Any]:
    """The event dict of one frame; boxes in source-frame pixels, scores rounded to 4 places."""
    return {
        "frame": result.frame,
        "ts": round(result.ts, 3),
        "faces": [
            {
                "id": f.id,
                "box": [int(v) for v in f.box],
                "emotion": f.emotion,
                "smoothed": f.smoothed,
                "scores": {n: round(float(s), 4) for n, s in zip(labels, f.scores, strict=True)},
            }
            for f in result.faces
        ],
        **({"capture": result.capture} if result.capture else {}),
    }


class EventWriter:
    """A sink: writes and flushes one line per ``FrameResult``."""

    def __init__(self, stream: IO[str], labels: Sequence[str], owned: bool = False) -> None:
        self.stream = stream
        self.labels = tuple(labels)
        self._owned = owned

    def handle(self, frame: Frame, result: FrameResult) -> None:
        self.stream.write(json.dumps(to_event(result, self.labels), separators=(",", ":")) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._owned:
            self.stream.close()


def open_events(path: str, labels: Sequence[str]) -> EventWriter | None:
    """``""`` → None, ``"-"`` → stdout, else the file (appended, parent folders made)."""
    if not path:
        return None
    if path == "-":
        return EventWriter(sys.stdout, labels)
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    return EventWriter(target.open("a", encoding="utf-8"), labels, owned=True)
