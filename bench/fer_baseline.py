"""The ``fer`` package's pipeline (its Haar cascade + its TFLite model) on the benchmark clip.

Run it in the separate venv made by ``bench/setup_fer_venv.sh`` (fer needs TensorFlow)::

    .venv-fer/bin/python -m bench.fer_baseline bench/results/clip --warmup 10

Frames are decoded into memory first; only ``FER(mtcnn=False).detect_emotions(frame)`` is timed,
per frame, after ``--warmup`` untimed frames (recall and labels count every frame). Prints one
JSON line: fps, mean/p50/p95 ms per frame, CPU ms per frame (all threads: less sensitive to
other load than fps), face recall/precision and phantoms per 100 frames
(IoU >= 0.3 against the ground truth), label accuracy on the matched faces and frames from an
expression change to the right label (``bench/score.py``), plus the machine and CPU governor.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from bench.score import ClipScore, timing_summary, truth_faces
from edge.bench import machine_info  # the same machine fields as ours, beside each run


def load_clip(clip: Path) -> tuple[list[np.ndarray], dict]:
    """The frames (BGR, in memory) and truth dict of a PNG folder or ``.avi`` made by make_clip."""
    if clip.is_dir():
        frames = [cv2.imread(str(p)) for p in sorted(clip.glob("frame_*.png"))]
        truth = json.loads((clip / "truth.json").read_text())
    else:
        video = cv2.VideoCapture(str(clip))
        frames = []
        while (item := video.read())[0]:
            frames.append(item[1])
        video.release()
        truth = json.loads(clip.with_suffix(".truth.json").read_text())
    if len(frames) != len(truth["frames"]):
        raise SystemExit(f"{clip}: {len(frames)} frames but truth for {len(truth['frames'])}")
    return frames, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fer_baseline", description=__doc__)
    parser.add_argument("clip", type=Path, help="PNG folder or .avi from bench/make_clip.py")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first frames")
    parser.add_argument("--limit", type=int, help="only the first N frames of the clip")
    args = parser.parse_args(argv)

    import fer
    from fer.fer import FER

    frames, truth = load_clip(args.clip)
    frames = frames[: args.limit]
    detector = FER(mtcnn=False)
    seconds, scored, cpu = [], ClipScore(), 0.0
    for i, frame in enumerate(frames):
        start, cpu0 = time.perf_counter(), time.process_time()
        found = detector.detect_emotions(frame)
        elapsed = time.perf_counter() - start
        if i >= args.warmup:
            seconds.append(elapsed)
            cpu += time.process_time() - cpu0
        pred = [(f["box"], max(f["emotions"], key=f["emotions"].get)) for f in found]
        scored.add(pred, truth_faces(truth["frames"][i]))
    result = {"pipeline": f"fer {fer.__version__} FER(mtcnn=False)", "clip": str(args.clip)}
    result |= {"frames": len(frames), "timed_frames": len(seconds), "warmup": args.warmup}
    result |= timing_summary(seconds) | scored.report() | machine_info()
    result["cpu_ms_per_frame"] = round(1000 * cpu / len(seconds), 3)  # all threads
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
