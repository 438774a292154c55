"""Build the benchmark clip: FER-2013 val faces moving over a smooth synthetic background.

    python -m bench.make_clip --fer-val ../shared/datasets/fer2013/val \\
        --out bench/results/clip --frames 300 --faces 2 --seed 0

``--out DIR`` writes lossless PNG frames ``DIR/frame_00000.png...`` (an image-folder source for
``python -m edge run --source DIR``); ``--out FILE.avi`` writes MJPG at quality 95. The ground
truth goes to ``DIR/truth.json`` or ``FILE.truth.json``: per frame, each face's box (the pasted
face region, i.e. the 48x48 FER image scaled to 110-170 px) and its true label. Each face
changes to another random val image every ``--hold`` frames. FER crops are tight, which often
defeats Haar, so each face is pasted with a margin of blurred edge-replicated context feathered
into the background. The output is made from FER-2013 images: never commit it (the default
folder ``bench/results/`` is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.labels import EMOTIONS

log = logging.getLogger(__name__)

LABELS = EMOTIONS  # the product's one label order
WIDTH, HEIGHT, FPS = 640, 480, 30.0
MIN_SIDE, MAX_SIDE = 110, 170
PAD = 0.3  # context around the face, as a fraction of its side on each side


def list_faces(fer_val: Path) -> list[tuple[Path, str]]:
    """Every ``<label>/<image>`` under the val folder, sorted (FER label folder names)."""
    items = [
        (p, label)
        for label in LABELS
        for p in sorted((fer_val / label).glob("*"))
        if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    ]
    if not items:
        raise SystemExit(f"make_clip: error: no images under {fer_val}/<label>/")
    return items


def background(rng: np.random.Generator) -> np.ndarray:
    """A smooth colour field: low-frequency noise upscaled, plus a gentle gradient."""
    coarse = rng.uniform(60, 200, (6, 8, 3)).astype(np.float32)
    field = cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(-20, 20, WIDTH, dtype=np.float32)[None, :, None]
    return np.clip(cv2.GaussianBlur(field + ramp, (0, 0), 15), 0, 255).astype(np.uint8)


def padded_face(grey48: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The face scaled to ``side`` with blurred context around it, its alpha, and the pad."""
    face = cv2.resize(grey48, (side, side), interpolation=cv2.INTER_CUBIC)
    pad = round(PAD * side)
    big = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(big, (0, 0), side / 12)
    big[:pad] = blurred[:pad]
    big[-pad:] = blurred[-pad:]
    big[:, :pad] = blurred[:, :pad]
    big[:, -pad:] = blurred[:, -pad:]
    n = big.shape[0]
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    r = np.maximum(np.abs(xx - n / 2), np.abs(yy - n / 2)) / (n / 2)  # 0 centre, 1 edge
    inner = side / 2 / (n / 2)
    alpha = np.clip((1.0 - r) / (1.0 - inner), 0.0, 1.0)  # 1 on the face, 0 at the edge
    return cv2.cvtColor(big, cv2.COLOR_GRAY2BGR), alpha[..., None], pad


@dataclass
class Mover:
    """One face slot: its lane, a bouncing position and a slowly breathing size."""

    lane: tuple[int, int]
    x: float
    y: float
    vx: float
    vy: float
    phase: float
    image: np.ndarray | None = None
    label: str = ""
    name: str = ""

    def side(self, t: int) -> int:
        mid, amp = (MIN_SIDE + MAX_SIDE) / 2, (MAX_SIDE - MIN_SIDE) / 2
        return round(mid + amp * math.sin(self.phase + t / 40))

    def step(self, side: int) -> tuple[int, int]:
        """Advance one frame; the face's top-left, keeping face + context inside its lane."""
        pad = round(PAD * side)
        lo_x, hi_x = self.lane[0] + pad, self.lane[1] - pad - side
        lo_y, hi_y = pad, HEIGHT - pad - side
        self.x, self.vx = _bounce(self.x + self.vx, self.vx, lo_x, hi_x)
        self.y, self.vy = _bounce(self.y + self.vy, self.vy, lo_y, hi_y)
        return round(self.x), round(self.y)


def _bounce(pos: float, v: float, lo: float, hi: float) -> tuple[float, float]:
    if hi <= lo:
        return (lo + hi) / 2, v
    if pos < lo:
        return lo + (lo - pos), abs(v)
    if pos > hi:
        return hi - (pos - hi), -abs(v)
    return pos, v


def paste(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    canvas[y : y + h, x : x + w] = (alpha * patch + (1 - alpha) * region).astype(np.uint8)


def make_clip(fer_val: Path, frames: int, faces: int, seed: int, hold: int) -> tuple[list, dict]:
    """The frames (BGR) and the ground-truth dict."""
    rng = np.random.default_rng(seed)
    pool = list_faces(fer_val)
    bg = background(rng)
    lane_w = WIDTH // faces
    movers = [
        Mover(
            lane=(k * lane_w, (k + 1) * lane_w),
            x=k * lane_w + lane_w / 2 - MAX_SIDE / 2,
            y=rng.uniform(60, HEIGHT - 60 - MAX_SIDE),
            vx=rng.choice((-1, 1)) * rng.uniform(0.5, 2.0),
            vy=rng.choice((-1, 1)) * rng.uniform(1.0, 3.0),
            phase=rng.uniform(0, 2 * math.pi),
        )
        for k in range(faces)
    ]
    out, truth = [], []
    for t in range(frames):
        canvas = bg.copy()
        entries = []
        for m in movers:
            if t % hold == 0:
                path, m.label = pool[int(rng.integers(len(pool)))]
                m.image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
                m.name = f"{m.label}/{path.name}"
            side = m.side(t)
            x, y = m.step(side)
            patch, alpha, pad = padded_face(m.image, side)
            paste(canvas, patch, alpha, x - pad, y - pad)
            entries.append({"box": [x, y, side, side], "label": m.label, "image": m.name})
        out.append(canvas)
        truth.append({"frame": t, "faces": entries})
    meta = {"width": WIDTH, "height": HEIGHT, "fps": FPS, "seed": seed, "faces": faces}
    meta |= {"hold": hold, "side_px": [MIN_SIDE, MAX_SIDE], "pad": PAD, "frames": truth}
    return out, meta


def write(frames: list[np.ndarray], truth: dict, out: Path) -> Path:
    """Write the frames (PNG folder or MJPG .avi) and the truth JSON; the truth's path."""
    if out.suffix.lower() == ".avi":
        out.parent.mkdir(parents=True, exist_ok=True)
        video = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
        video.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        for f in frames:
            video.write(f)
        video.release()
        truth_path = out.with_suffix(".truth.json")
    else:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("frame_*.png"):
            old.unlink()
        for i, f in enumerate(frames):
            cv2.imwrite(str(out / f"frame_{i:05d}.png"), f)
        truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, separators=(",", ":")) + "\n")
    return truth_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.make_clip", description=__doc__)
    parser.add_argument("--fer-val", type=Path, required=True, help="FER-2013 val/ folder")
    parser.add_argument("--out", type=Path, default=Path("bench/results/clip"))
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--faces", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hold", type=int, default=30, help="frames before a face changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    frames, truth = make_clip(args.fer_val, args.frames, args.faces, args.seed, args.hold)
    truth_path = write(frames, truth, args.out)
    log.info(
        "%d frames, %d faces each -> %s (truth %s)", len(frames), args.faces, args.out, truth_path
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
