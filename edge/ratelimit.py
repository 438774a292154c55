"""``RateLimitedLog``: a fault that repeats (a full disk, a flood of refused clients) logs its first
occurrence at once, then at most one line per ``interval_s`` saying how many more there were."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RateLimitedLog:
    """``log(level, msg, *args)`` writes the first call, then at most one per ``interval_s``.

    A suppressed call is counted; the next written line ends with ``(N more since)``.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock = clock
        self.suppressed = 0
        self._last: float | None = None

    def log(self, level: int, msg: str, *args: object) -> bool:
        """Log unless a line went out less than ``interval_s`` ago; True if it was written."""
        now = self.clock()
        if self._last is not None and now - self._last < self.interval_s:
            self.suppressed += 1
            return False
        if self.suppressed:
            msg, args = f"{msg} (%d more since)", (*args, self.suppressed)
        self.logger.log(level, msg, *args)
        self._last, self.suppressed = now, 0
        return True

    def reset(self) -> None:
        """The fault is over: the next occurrence is logged at once."""
        self._last, self.suppressed = None, 0
