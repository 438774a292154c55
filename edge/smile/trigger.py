"""Smile shutter: fire once every face in view has smiled for N consecutive frames.

``SmileTrigger.update(happy, now)`` is called once per frame (also with no faces) with each
face's *smoothed* "happy" score. It fires on the ``frames``-th consecutive frame in which at
least ``min_faces`` faces are present and every one of them is above ``threshold``; any other
frame resets the streak. After firing it stays quiet for ``cooldown_s`` seconds, and frames
seen during the cooldown don't count towards the next streak. Pure logic: no I/O, and the
clock is passed in, so tests script score sequences without sleeping.

Given a mapping ``track_id -> score``, each face must itself have smiled for ``frames`` frames:
a face that joins a smiling group mid-streak must catch up before the shutter fires. A plain
sequence has no identities, so only the frame streak counts.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from edge.errors import config_check

log = logging.getLogger(__name__)


_check = config_check("trigger")


@dataclass(frozen=True)
class TriggerConfig:
    """The ``[trigger]`` section.

    Attributes:
        threshold: a face smiles when its smoothed happy score is strictly above this.
        frames: consecutive all-smiling frames needed to fire (N).
        cooldown_s: seconds after firing during which the trigger can't fire again.
        min_faces: fewest faces in view for a frame to count (a group shot: 2, 3...).
    """

    threshold: float = 0.6
    frames: int = 5
    cooldown_s: float = 5.0
    min_faces: int = 1

    def __post_init__(self) -> None:
        _check(0.0 <= self.threshold < 1.0, "threshold", "in [0, 1)")
        _check(self.frames >= 1, "frames", ">= 1")
        _check(self.cooldown_s > 0, "cooldown_s", "> 0")
        _check(self.min_faces >= 1, "min_faces", ">= 1")


class SmileTrigger:
    """``update(happy, now) -> bool`` once per frame; True means "take the still now"."""

    def __init__(self, config: TriggerConfig | None = None) -> None:
        self.config = config or TriggerConfig()
        self.streak = 0
        self.fired_at: float | None = None
        self._runs: dict[Hashable, int] = {}

    def cooling_down(self, now: float) -> bool:
        """Whether ``now`` is within ``cooldown_s`` of the last firing."""
        return self.fired_at is not None and now - self.fired_at < self.config.cooldown_s

    def update(self, happy: Sequence[float] | Mapping[Hashable, float], now: float) -> bool:
        """Feed one frame's smoothed happy scores (per face); True on the firing frame.

        Args:
            happy: one score per face, or ``{track_id: score}`` so that a face joining
                mid-streak must smile for ``frames`` frames of its own.
            now: this frame's time in seconds (any monotonic clock).
        """
        if self.cooling_down(now):
            self.reset()
            return False
        scores = dict(happy) if isinstance(happy, Mapping) else dict(enumerate(happy))
        if not self._all_smiling(scores.values()):
            self.reset()
            return False
        self.streak += 1
        if isinstance(happy, Mapping):
            self._runs = {k: self._runs.get(k, 0) + 1 for k in scores}
            ready = min(self._runs.values()) >= self.config.frames
        else:
            ready = self.streak >= self.config.frames
        if not ready:
            return False
        log.info(
            "smile: %d face(s) above %.2f for %d frames",
            len(scores),
            self.config.threshold,
            self.config.frames,
        )
        self.fired_at = now
        self.reset()
        return True

    def reset(self) -> None:
        """Forget the current streak (the cooldown, if any, stays)."""
        self.streak = 0
        self._runs = {}

    def _all_smiling(self, scores: Iterable[float]) -> bool:
        values = [float(v) for v in scores]
        # ``v > threshold`` is False for NaN: a face with unusable scores holds the shutter.
        return len(values) >= self.config.min_faces and all(
            v > self.config.threshold for v in values
        )
