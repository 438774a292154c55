"""Timing: ``StageTimer`` (``with timer("detect"): ...``), the stage names, and ``time_calls``.

Its own module so that both the pipeline, which times its stages, and the metrics sink, which
turns the samples into a histogram, can import it without importing each other.
``time_calls`` is the one loop that times an inference N times after an untimed warm-up
(``python -m convert latency``, ``python -m edge bench --model-only``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import numpy as np

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


def time_calls(call: Callable[[int], object], runs: int, warmup: int = 0) -> np.ndarray:
    """Seconds taken by each of ``call(0) .. call(runs - 1)``, after ``warmup`` untimed calls
    (the first inferences load the model, fill caches: pycoral's benchmark habit)."""
    for k in range(warmup):
        call(k)
    seconds = np.empty(runs, dtype=np.float64)
    for k in range(runs):
        start = time.perf_counter()
        call(k)
        seconds[k] = time.perf_counter() - start
    return seconds
