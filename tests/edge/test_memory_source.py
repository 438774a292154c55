"""edge.sources.memory: the bench's preloaded and looping sources, on fakes."""

from __future__ import annotations

import numpy as np

from edge.sources.memory import LoopingSource, MemorySource
from tests.fakes import FakeSource

FRAMES = [np.full((4, 4, 3), v, np.uint8) for v in (1, 2, 3)]


def values(source, n: int) -> list[int | None]:
    return [None if (f := source.read()) is None else int(f.bgr[0, 0, 0]) for _ in range(n)]


def test_memory_source_reads_everything_first_and_loops_on_request() -> None:
    inner = FakeSource(FRAMES)
    once = MemorySource(inner, loop=False)
    assert inner.closed and once.name == "fake (preloaded)"
    assert values(once, 4) == [1, 2, 3, None]
    assert values(MemorySource(FakeSource(FRAMES), loop=True), 5) == [1, 2, 3, 1, 2]
    assert values(MemorySource(FakeSource([]), loop=True), 1) == [None]


def test_looping_source_reopens_at_the_end() -> None:
    opened: list[FakeSource] = []

    def reopen() -> FakeSource:
        opened.append(FakeSource(FRAMES))
        return opened[-1]

    looped = LoopingSource(reopen)
    assert looped.name == "fake (looped)"
    assert values(looped, 7) == [1, 2, 3, 1, 2, 3, 1]
    assert len(opened) == 3 and opened[0].closed and opened[1].closed
    looped.close()
    assert opened[-1].closed
