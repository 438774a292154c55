"""The benchmark's sources: ``MemorySource`` (frames decoded up front, handed out again and
again with ``loop``) and ``LoopingSource`` (reopens a finite source when it ends).

Both wrap another ``Source``; ``python -m edge bench --preload`` / ``--loop`` use them.
"""

from __future__ import annotations

from collections.abc import Callable

from edge.sources.base import Source
from edge.types import Frame


class MemorySource:
    """Frames decoded up front, handed out in order (again and again with ``loop``)."""

    def __init__(self, source: Source, loop: bool) -> None:
        self.name = f"{source.name} (preloaded)"
        self.frames: list[Frame] = []
        while (frame := source.read()) is not None:
            self.frames.append(frame)
        source.close()
        self.loop = loop
        self._next = 0

    def read(self) -> Frame | None:
        if self._next >= len(self.frames):
            if not self.loop or not self.frames:
                return None
            self._next = 0
        self._next += 1
        return self.frames[self._next - 1]

    def close(self) -> None:
        self.frames = []


class LoopingSource:
    """Reopens a finite source (file or folder) with ``reopen()`` when it ends, so long runs
    decode every frame."""

    def __init__(self, reopen: Callable[[], Source]) -> None:
        self._reopen = reopen
        self._source = reopen()
        self.name = f"{self._source.name} (looped)"

    def read(self) -> Frame | None:
        frame = self._source.read()
        if frame is None:
            self._source.close()
            self._source = self._reopen()
            frame = self._source.read()
        return frame

    def close(self) -> None:
        self._source.close()
