"""Build the seated clip: people who sit still for a long while, others walking past in front.

    python -m bench.make_seated --fer-val ../shared/datasets/fer2013/val \\
        --out bench/results/seated0 --seed 0

What the ``make_scene`` clips cannot show: there every face drifts and sways, so none holds
still long enough for the pipeline's backdrop (``edge/backdrop.py``) to take it for the wall,
and a rule that drops what looks like the learned wall is never tried on a person sitting
still. Here, in each of ``--slots`` lanes, a face sits without moving at all (no drift, no
sway: a person holding still, the hardest case) for 8-25 s, changing expression every 3-8 s
(the image swapped in place), then leaves for a 1-3 s gap before the next one sits down. Every
2-5 s someone walks past in front: a face crossing the whole frame, either way, in 1.5-3 s,
hiding what it passes. Sizes (70-190 px), rotation, brightness, contrast, blur, soft edges
and the room's drifting light are ``make_scene``'s, so some seated faces are ones Haar finds
only now and then: while it misses them they hold still, uncovered by any box.

Truth per frame (``truth.json``, ``make_scene``'s layout): a seated face's ``id`` is constant
through its expression changes; a seated face with ``HIDDEN`` or more of its box under a
passer is ``"ignore": true`` (half hidden, finding it is neither a hit nor a phantom), as is
a face less than 60% inside the frame or fading.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.make_clip import FPS, HEIGHT, PAD, WIDTH, list_faces, write
from bench.make_scene import (
    MAX_SIDE,
    MIN_SIDE,
    WAYS,
    Visit,
    _draw,
    lanes,
    parse_args,
    render,
    room,
    textured_background,
)
from edge.types import inside

log = logging.getLogger(__name__)

SIT = (8.0, 25.0)  # seconds a face sits
HOLD = (3.0, 8.0)  # seconds between its expression changes
GAP = (1.0, 3.0)  # seconds before the next one sits
PASS_EVERY = (2.0, 5.0)  # seconds between two people walking past
PASS_TAKES = (1.5, 3.0)  # seconds to cross the frame
HIDDEN = 0.3  # of a seated face's box under a passer: "ignore"


def _seconds(rng: np.random.Generator, span: tuple[float, float]) -> int:
    return int(rng.uniform(*span) * FPS)


def _look(rng: np.random.Generator, v: Visit) -> None:
    """``make_scene``'s rotation, contrast, brightness and blur for ``v``."""
    v.angle = float(rng.uniform(-12, 12))
    v.gain, v.offset = float(rng.uniform(0.6, 1.3)), float(rng.uniform(-30, 30))
    v.blur = float(rng.uniform(1.0, 2.5)) if rng.random() < 0.25 else 0.0


def plan_seats(rng, pool, lane: tuple[int, int], frames: int, next_id: int) -> list[Visit]:
    """The seated faces of one lane: each a run of still segments of one id (one per
    expression), with gaps between them, until ``frames``."""
    segments: list[Visit] = []
    t, person = _seconds(rng, (0.0, 1.0)), next_id
    while t < frames:
        end = min(t + _seconds(rng, SIT), frames)
        side = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
        pad = round(PAD * side)
        x = float(rng.uniform(lane[0] + pad, max(lane[0] + pad, lane[1] - pad - side)))
        y = float(rng.uniform(pad, HEIGHT - pad - side))
        arrive, leave = (str(w) for w in rng.choice(WAYS, 2))
        first = Visit(person, t, end, arrive, "cut", side, x, y, sway=0.0)
        _look(rng, first)
        parts, s, label = [first], t, ""
        while True:
            part = parts[-1]
            part.images.append(_draw(rng, pool, other_than=label))
            label = part.images[0][1]
            s = min(s + _seconds(rng, HOLD), end)
            part.end = s
            if s >= end:
                break
            parts.append(replace(part, start=s, end=end, arrive="cut", images=[]))
        parts[-1].leave = leave
        segments += parts
        person += 1
        t = end + _seconds(rng, GAP)
    return segments


def plan_passers(rng, pool, frames: int, next_id: int) -> list[Visit]:
    """People walking past in front, across the whole frame, either way."""
    passers: list[Visit] = []
    t = _seconds(rng, PASS_EVERY)
    while t < frames:
        takes = _seconds(rng, PASS_TAKES)
        side = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
        pad = round(PAD * side)
        y = float(rng.uniform(pad, HEIGHT - pad - side))
        x0, x1 = -side - pad, WIDTH + pad
        if rng.random() < 0.5:
            x0, x1 = x1, x0
        v = Visit(next_id + len(passers), t, min(t + takes, frames), "cut", "cut", side)
        v.x, v.y, v.vx = float(x0), y, (x1 - x0) / takes
        _look(rng, v)
        v.images.append(_draw(rng, pool))
        passers.append(v)
        t += _seconds(rng, PASS_EVERY)
    return passers


def make_seated(fer_val: Path, frames: int, slots: int, seed: int) -> tuple[list, dict]:
    """The frames (BGR) and the ground-truth dict."""
    rng = np.random.default_rng(seed)
    pool = list_faces(fer_val)
    bg = textured_background(rng)
    seated: list[Visit] = []
    for k, lane in enumerate(lanes(slots)):
        seated += plan_seats(rng, pool, lane, frames, 1000 * k)
    passers = plan_passers(rng, pool, frames, 1000 * slots)
    out, truth = [], []
    for t in range(frames):
        canvas = room(bg, t)
        sitting = [render(canvas, v, t) for v in seated if v.start <= t < v.end]
        walking = [render(canvas, v, t) for v in passers if v.start <= t < v.end]
        for face in sitting:
            if any(inside(face["box"], p["box"]) >= HIDDEN for p in walking):
                face["ignore"] = True
        out.append(canvas)
        truth.append({"frame": t, "faces": sitting + walking})
    names = {name for v in seated + passers for _, _, name in v.images}
    meta = {"width": WIDTH, "height": HEIGHT, "fps": FPS, "seed": seed, "slots": slots}
    meta |= {"kind": "seated", "seated": len({v.id for v in seated}), "passers": len(passers)}
    meta |= {"distinct_faces": len(names), "side_px": [MIN_SIDE, MAX_SIDE], "pad": PAD}
    return out, meta | {"frames": truth}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, "python -m bench.make_seated", __doc__, "bench/results/seated")
    frames, truth = make_seated(args.fer_val, args.frames, args.slots, args.seed)
    truth_path = write(frames, truth, args.out)
    log.info(
        "%d frames, %d seated, %d passers, %d distinct faces -> %s (truth %s)",
        len(frames), truth["seated"], truth["passers"], truth["distinct_faces"], args.out,
        truth_path,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
