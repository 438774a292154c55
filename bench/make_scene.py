"""Build the harder benchmark clip: faces that arrive, stay, change expression and leave.

    python -m bench.make_scene --fer-val ../shared/datasets/fer2013/val \\
        --out bench/results/scene --frames 1800 --slots 3 --seed 0

Each of ``--slots`` lanes alternates a gap with no face (0.3-1.5 s) and a visit (1-3 s) of a
FER-2013 val face over a textured background whose light drifts by +-15%. A visit arrives and
leaves in one of three ways (cut, 8-frame fade, slide across the top or bottom edge), has its
own size (70-190 px), in-plane rotation (up to +-12 degrees, slowly swaying), brightness and
contrast, in a quarter of visits blur (sigma 1-2.5 px), and a soft (feathered) edge. Three in
five visits longer than 1.6 s change expression once, at least 0.8 s from either end (the face
image is swapped in place for one with another label, as in ``make_clip``). Every visit and swap
draws a new image.

Truth per frame (``truth.json``, same layout as ``make_clip``'s): each face's box (the face
region, axis-aligned), label, image and ``id`` (the visit, constant through an expression
change). A face that is fading (alpha < 0.5) or less than 60% inside the frame is marked
``"ignore": true``: finding it is neither a hit nor a phantom (see ``bench/score.py``).
"""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bench.make_clip import FPS, HEIGHT, PAD, WIDTH, list_faces, padded_face, write

log = logging.getLogger(__name__)

MIN_SIDE, MAX_SIDE = 70, 190
FADE = 8  # frames of a fade or slide
WAYS = ("cut", "fade", "slide")
SHOWN, INSIDE = 0.5, 0.6  # below these alpha / in-frame fractions a face is "ignore"


def textured_background(rng: np.random.Generator) -> np.ndarray:
    """Colour noise at three scales (a blotchy wall, no edges sharper than a few pixels) and a
    gradient: texture for the crop checks, without Haar bait that no pipeline could avoid."""
    bg = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    for cells, amp in ((6, 60.0), (24, 25.0), (96, 10.0)):
        coarse = rng.uniform(-amp, amp, (cells * 3 // 4, cells, 3)).astype(np.float32)
        bg += cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    bg += 128 + np.linspace(-25, 25, WIDTH, dtype=np.float32)[None, :, None]
    bg = cv2.GaussianBlur(bg, (0, 0), 1.5)
    return np.clip(bg, 0, 255).astype(np.uint8)


@dataclass
class Visit:
    """One face's stay in a lane: frames [start, end), where it sits and how it looks."""

    id: int
    start: int
    end: int
    arrive: str
    leave: str
    side: int
    x: float = 0.0
    y: float = 0.0
    vx: float = 0.0  # drift, pixels per frame
    vy: float = 0.0
    angle: float = 0.0  # in-plane rotation, degrees
    gain: float = 1.0  # contrast
    offset: float = 0.0  # brightness
    blur: float = 0.0  # Gaussian sigma on screen, px (0: sharp)
    images: list[tuple[np.ndarray, str, str]] = field(default_factory=list)  # (grey, label, name)
    swap_at: int | None = None  # frame of the expression change
    sway: float = 3.0  # degrees the face sways about ``angle`` (0: it holds still)

    def image_at(self, t: int) -> tuple[np.ndarray, str, str]:
        return self.images[1] if self.swap_at is not None and t >= self.swap_at else self.images[0]

    def alpha_at(self, t: int) -> float:
        """1 while in view; ramps over FADE frames for a fade-in or fade-out."""
        a = 1.0
        if self.arrive == "fade":
            a = min(a, (t - self.start + 1) / FADE)
        if self.leave == "fade":
            a = min(a, (self.end - t) / FADE)
        return max(0.0, min(1.0, a))

    def position(self, t: int) -> tuple[int, int]:
        """Top-left of the face; a slide moves it in from (or out past) the nearer top/bottom
        edge, so it never crosses another lane."""
        k = t - self.start
        x, y = self.x + self.vx * k, self.y + self.vy * k
        edge = -self.side * (1 + PAD) if self.y < HEIGHT / 2 else HEIGHT + self.side * PAD
        if self.arrive == "slide" and k < FADE:
            y = edge + (y - edge) * (k + 1) / FADE
        if self.leave == "slide" and self.end - t <= FADE:
            y = edge + (y - edge) * (self.end - t - 1) / FADE
        return round(x), round(y)


def plan_lane(rng, pool, lane: tuple[int, int], frames: int, next_id: int) -> list[Visit]:
    """The visits of one lane, with gaps between them, until ``frames``."""
    visits, t = [], int(rng.integers(0, int(1.5 * FPS)))
    while t < frames:
        length = int(rng.integers(int(1 * FPS), int(3 * FPS) + 1))
        side = int(rng.integers(MIN_SIDE, MAX_SIDE + 1))
        pad = round(PAD * side)
        lo, hi = lane[0] + pad, max(lane[0] + pad, lane[1] - pad - side)
        x0, x1 = (float(v) for v in rng.uniform(lo, hi, 2))  # drifts x0 -> x1 in its lane
        y0, y1 = (float(v) for v in rng.uniform(pad, HEIGHT - pad - side, 2))
        arrive, leave = (str(w) for w in rng.choice(WAYS, 2))
        v = Visit(next_id + len(visits), t, min(t + length, frames), arrive, leave, side)
        v.x, v.y, v.vx, v.vy = x0, y0, (x1 - x0) / length, (y1 - y0) / length
        v.angle = float(rng.uniform(-12, 12))
        v.gain, v.offset = float(rng.uniform(0.6, 1.3)), float(rng.uniform(-30, 30))
        v.blur = float(rng.uniform(1.0, 2.5)) if rng.random() < 0.25 else 0.0
        v.images.append(_draw(rng, pool))
        first = v.images[0]
        if length > 2 * int(0.8 * FPS) and rng.random() < 0.6:
            v.swap_at = t + int(rng.integers(int(0.8 * FPS), length - int(0.8 * FPS)))
            v.images.append(_draw(rng, pool, other_than=first[1]))
        visits.append(v)
        t += length + int(rng.integers(int(0.3 * FPS), int(1.5 * FPS) + 1))
    return visits


def _draw(rng, pool, other_than: str = "") -> tuple[np.ndarray, str, str]:
    while True:
        path, label = pool[int(rng.integers(len(pool)))]
        if label != other_than:
            grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            return grey, label, f"{label}/{path.name}"


def render(canvas: np.ndarray, v: Visit, t: int) -> dict:
    """Paste visit ``v`` at frame ``t``; its truth entry."""
    grey, label, name = v.image_at(t)
    sway = v.angle + v.sway * math.sin((t - v.start) / 15)
    look = np.clip(grey.astype(np.float32) * v.gain + v.offset, 0, 255).astype(np.uint8)
    if v.blur:
        look = cv2.GaussianBlur(look, (0, 0), v.blur * 48 / v.side)
    patch, alpha, pad = padded_face(look, v.side)
    n = patch.shape[0]
    turn = cv2.getRotationMatrix2D((n / 2, n / 2), sway, 1.0)
    patch = cv2.warpAffine(patch, turn, (n, n), borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(alpha[..., 0], turn, (n, n))[..., None] * v.alpha_at(t)
    x, y = v.position(t)
    _paste_clipped(canvas, patch, alpha, x - pad, y - pad)
    box = [x, y, v.side, v.side]
    visible = _inside(box)
    entry = {"box": _clip(box), "label": label, "image": name, "id": v.id}
    if v.alpha_at(t) < SHOWN or visible < INSIDE:
        entry["ignore"] = True
    return entry


def _inside(box: list[int]) -> float:
    x, y, w, h = box
    ix = max(0, min(x + w, WIDTH) - max(x, 0))
    iy = max(0, min(y + h, HEIGHT) - max(y, 0))
    return ix * iy / (w * h)


def _clip(box: list[int]) -> list[int]:
    x, y, w, h = box
    x0, y0 = min(max(x, 0), WIDTH), min(max(y, 0), HEIGHT)
    return [x0, y0, max(0, min(x + w, WIDTH) - x0), max(0, min(y + h, HEIGHT) - y0)]


def _paste_clipped(canvas, patch, alpha, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, WIDTH), min(y + h, HEIGHT)
    if x1 <= x0 or y1 <= y0:
        return
    p = patch[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (a * p + (1 - a) * region).astype(np.uint8)


def lanes(slots: int) -> list[tuple[int, int]]:
    """The frame split into ``slots`` side-by-side lanes: (left, right) in pixels."""
    lane_w = WIDTH // slots
    return [(k * lane_w, (k + 1) * lane_w) for k in range(slots)]


def room(bg: np.ndarray, t: int) -> np.ndarray:
    """The background at frame ``t``: the room's light drifts by +-15%."""
    light = 1.0 + 0.15 * math.sin(t / 90)
    return np.clip(bg.astype(np.float32) * light, 0, 255).astype(np.uint8)


def make_scene(fer_val: Path, frames: int, slots: int, seed: int) -> tuple[list, dict]:
    """The frames (BGR) and the ground-truth dict."""
    rng = np.random.default_rng(seed)
    pool = list_faces(fer_val)
    bg = textured_background(rng)
    visits: list[Visit] = []
    for lane in lanes(slots):
        visits += plan_lane(rng, pool, lane, frames, len(visits))
    out, truth = [], []
    for t in range(frames):
        canvas = room(bg, t)
        entries = [render(canvas, v, t) for v in visits if v.start <= t < v.end]
        out.append(canvas)
        truth.append({"frame": t, "faces": entries})
    names = {name for v in visits for _, _, name in v.images}
    meta = {"width": WIDTH, "height": HEIGHT, "fps": FPS, "seed": seed, "slots": slots}
    meta |= {"kind": "scene", "visits": len(visits), "distinct_faces": len(names)}
    meta |= {"side_px": [MIN_SIDE, MAX_SIDE], "pad": PAD, "frames": truth}
    return out, meta


def parse_args(argv: list[str] | None, prog: str, doc: str, out: str) -> argparse.Namespace:
    """The scene makers' arguments (this one's and ``make_seated``'s), logging set up."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    parser.add_argument("--fer-val", type=Path, required=True, help="FER-2013 val/ folder")
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--slots", type=int, default=3, choices=(1, 2, 3, 4))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, "python -m bench.make_scene", __doc__, "bench/results/scene")
    frames, truth = make_scene(args.fer_val, args.frames, args.slots, args.seed)
    truth_path = write(frames, truth, args.out)
    log.info(
        "%d frames, %d visits, %d distinct faces -> %s (truth %s)",
        len(frames), truth["visits"], truth["distinct_faces"], args.out, truth_path,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
