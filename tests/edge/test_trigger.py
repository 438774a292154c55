"""SmileTrigger: scripted smoothed-happy sequences and an injected clock (8 frames per second)."""

from __future__ import annotations

import math
import re

import pytest

from edge.errors import ConfigError
from edge.smile.trigger import SmileTrigger, TriggerConfig

FPS = 8.0  # frame times are exact binary fractions
HI, LO = 0.9, 0.2


def play(trigger: SmileTrigger, frames: list, start: float = 0.0) -> list[int]:
    """Feed one entry per frame at 8 fps; the indices of the frames that fired."""
    return [i for i, happy in enumerate(frames) if trigger.update(happy, start + i / FPS)]


def test_fires_exactly_on_the_nth_smiling_frame() -> None:
    trigger = SmileTrigger(TriggerConfig(threshold=0.6, frames=5, cooldown_s=5.0))
    assert play(trigger, [[HI]] * 5) == [4]


def test_group_fires_when_every_face_has_smiled_for_n_frames() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=3, min_faces=3))
    frames = [[HI, HI, LO], [HI, LO, HI], [HI, HI, HI], [HI, HI, HI], [HI, HI, HI], [HI, HI, HI]]
    assert play(trigger, frames) == [4]


def test_one_frowning_face_of_three_holds_the_shutter() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=3, min_faces=1))
    assert play(trigger, [[HI, LO, HI]] * 50) == []
    assert play(trigger, [{1: 0.95, 2: 0.59, 3: 0.99}] * 50, start=10.0) == []


def test_any_failing_frame_restarts_the_streak() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=4))
    frames = [[HI]] * 3 + [[LO]] + [[HI]] * 3 + [[]] + [[HI]] * 4
    assert play(trigger, frames) == [11]


def test_threshold_is_strict_and_nan_does_not_smile() -> None:
    trigger = SmileTrigger(TriggerConfig(threshold=0.6, frames=2))
    assert play(trigger, [[0.6], [0.6], [math.nan], [math.nan]]) == []
    assert play(trigger, [[0.61], [0.61]], start=1.0) == [1]


def test_too_few_faces_never_fire() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=2, min_faces=2))
    assert play(trigger, [[HI]] * 20 + [[]] * 5) == []
    assert play(trigger, [[HI, HI]] * 2, start=5.0) == [1]


def test_never_fires_during_cooldown_and_the_streak_restarts_after() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=5, cooldown_s=5.0))
    fired = play(trigger, [[HI]] * 160)  # 20 s of smiling at 8 fps
    # Fires at frame 4 (t=0.5); quiet until t=5.5 (frame 44), then needs 5 new frames: 48.
    assert fired == [4, 48, 92, 136]


def test_cooldown_uses_the_clock_not_the_frame_count() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=2, cooldown_s=5.0))
    assert trigger.update([HI], 100.0) is False
    assert trigger.update([HI], 100.25) is True
    assert [trigger.update([HI], t) for t in (104.0, 105.125)] == [False, False]
    assert trigger.cooling_down(105.125)
    assert not trigger.cooling_down(105.25)
    assert [trigger.update([HI], t) for t in (105.25, 105.5)] == [False, True]


def test_a_face_joining_mid_streak_must_smile_n_frames_itself() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=3))
    frames = [{7: HI}, {7: HI}, {7: HI, 9: HI}, {7: HI, 9: HI}, {7: HI, 9: HI}]
    # Alone, face 7 would fire at frame 2; face 9 arrives then and needs frames 2, 3, 4.
    assert play(trigger, [{7: HI}] * 3) == [2]
    assert play(SmileTrigger(TriggerConfig(frames=3)), frames) == [4]


def test_a_face_leaving_does_not_reset_the_others() -> None:
    trigger = SmileTrigger(TriggerConfig(frames=3))
    assert play(trigger, [{1: HI, 2: HI}, {1: HI, 2: HI}, {1: HI}]) == [2]


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("threshold", 1.0, "in [0, 1)"),
        ("threshold", -0.1, "in [0, 1)"),
        ("frames", 0, ">= 1"),
        ("cooldown_s", 0.0, "> 0"),
        ("min_faces", 0, ">= 1"),
    ],
)
def test_bad_config_names_the_key(key: str, value: float, rule: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(f"trigger.{key} must be {rule}")):
        TriggerConfig(**{key: value})
    with pytest.raises(ValueError):  # ConfigError is also a ValueError
        TriggerConfig(**{key: value})
