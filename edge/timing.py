"""Per-stage timing: ``StageTimer`` (``with timer("detect"): ...``) and the stage names.

Its own module so that both the pipeline, which times its stages, and the metrics sink, which
turns the samples into a histogram, can import it without importing each other.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

STAGES = ("detect", "crop", "infer", "track")


class StageTimer:
    """``with timer("detect"): ...`` records seconds per stage when ``enabled``."""

    def __init__(self, enabled: bool = False, clock: Callable[[], float] = time.perf_counter):
        self.enabled = enabled
        self.clock = clock
        self.samples: dict[str, list[float]] = {s: [] for s in STAGES}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        start = self.clock()
        yield
        self.samples.setdefault(stage, []).append(self.clock() - start)
