"""The sink protocol and ``FanOut``, which hands each frame to every sink.

Each sink gets ``handle(frame, result)`` once per frame, on the frame loop's thread, so it must
return quickly: anything slow (network, disk beyond one small write) belongs on its own thread
behind a bounded queue. A sink that fails logs and carries on; it never stops the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from edge.types import Frame, FrameResult

log = logging.getLogger(__name__)


class Sink(Protocol):
    def handle(self, frame: Frame, result: FrameResult) -> None: ...

    def close(self) -> None: ...


class FanOut:
    """Hands each frame to every sink in order; closes them all, last first."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = tuple(sinks)

    def handle(self, frame: Frame, result: FrameResult) -> None:
        for sink in self.sinks:
            sink.handle(frame, result)

    def close(self) -> None:
        for sink in reversed(self.sinks):
            try:
                sink.close()
            except Exception:  # closing must not hide the error that ended the loop
                log.exception("closing %s failed", type(sink).__name__)
