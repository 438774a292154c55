"""``python -m edge bench``: per-stage latency, end-to-end fps, CPU and memory of the pipeline.

The daemon's own stages run on a source (a clip folder or video from ``bench/make_clip.py``,
the sample, a camera) with the events sink writing to /dev/null. The first ``warmup`` frames
are processed but not timed. Stages, per frame unless noted:

    capture      source.read() (file decode or camera wait)
    detect       Haar on the downscaled grey image (~0 on frames whose boxes are carried)
    crop         crop + grey + resize to 48x48, per face
    infer        classifier.classify, per face
    postprocess  tracking + sinks (the events line)

``frame_ms`` is the whole frame, read to sinks; ``fps`` = timed frames / their wall time;
``haar_scans`` counts the timed frames by Haar scan (full frame, the periodic scan limited to
what changed, windows only, none).
``model_only`` times ``classify`` alone on random faces (pycoral's benchmark habit: fixed seed,
warm-up excluded). With ``--truth`` the frames are scored by ``edge.scoring``; ``--preload`` and
``--loop`` read through ``edge.sources.memory``. Results are plain dicts;
``edge.bench_command`` runs this per backend and ``edge.bench_report`` prints and stores them.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import resource
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.backends.base import Classifier
from edge.config import Config, ModelConfig
from edge.pipeline import Pipeline, StageTimer
from edge.scoring import accuracy, load_truth, percentile
from edge.sinks.events import EventWriter
from edge.sources import open_source
from edge.sources.base import Source
from edge.sources.memory import LoopingSource, MemorySource
from edge.timing import time_calls

STAGES = ("capture", "detect", "crop", "infer", "postprocess")
CHECKPOINT = 1000  # frame at which memory is sampled, to compare with the end of a long run


@dataclass(frozen=True)
class BenchOptions:
    """What to run: ``frames`` timed frames (None: to the end of the source) after ``warmup``;
    ``loop`` restarts a finite source; ``preload`` decodes it into memory first (capture ~0,
    as in ``bench/fer_baseline.py``); ``truth`` is the clip's ground-truth JSON."""

    frames: int | None = None
    warmup: int = 10
    loop: bool = False
    preload: bool = False
    truth: Path | None = None


def percentiles(seconds: Sequence[float] | array) -> dict[str, float]:
    """p50/p95/p99 (``edge.scoring.percentile``) and mean in milliseconds; zeros for none."""
    if not len(seconds):
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0, "n": 0}
    ms = sorted(s * 1000.0 for s in seconds)
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    out = {"p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "mean_ms": sum(ms) / len(ms)}
    return {k: round(float(v), 4) for k, v in out.items()} | {"n": len(ms)}


def rss_mb() -> float:
    """The resident set size now, MiB (/proc/self/statm; 0 where absent)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def peak_rss_mb() -> float:
    """The process's peak RSS so far, MiB, never below ``rss_mb()`` now.

    ``ru_maxrss`` (KiB on Linux) can read ~0.1 MiB below /proc/self/statm's resident size, so a
    report's peak would sit under its own final ``rss_mb``; the larger of the two is the peak.
    """
    return max(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), rss_mb())


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


SPEED_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp")


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, bool]:
    """Which of ``SPEED_FLAGS`` (what decides int8 speed) the CPU reports: x86 ``flags`` or
    Arm ``Features``; {} when there is no cpuinfo."""
    return _flags(_cpuinfo(cpuinfo))


def _flags(text: str) -> dict[str, bool]:
    if not text:
        return {}
    words: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            words.update(value.split())
    return {flag: flag in words for flag in SPEED_FLAGS}


def machine_info() -> dict[str, Any]:
    """Host, CPU model and speed flags, governor, load, and the versions behind the figures."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = _cpuinfo()
    for line in cpuinfo.splitlines():
        if line.split(":")[0].strip() in ("model name", "Model"):
            cpu = line.split(":", 1)[1].strip()
    governor = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    runtime = next(
        (f"{d} {v}" for d in ("ai-edge-litert", "tflite-runtime") if (v := _version(d))), None
    )
    return {
        "machine": platform.node(),
        "cpu": cpu,
        "cpu_flags": [flag for flag, on in _flags(cpuinfo).items() if on],
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "load1": round(os.getloadavg()[0], 2),
        "governor": governor.read_text().strip() if governor.exists() else "unknown",
        "python": platform.python_version(),
        "runtime": runtime or "none",
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


class CompactTimer(StageTimer):
    """A ``StageTimer`` keeping samples as 8-byte doubles, so long runs measure the daemon's
    memory rather than the benchmark's own lists of Python floats."""

    def __init__(self) -> None:
        super().__init__(enabled=True)
        self.samples = {s: array("d") for s in self.samples}  # type: ignore[misc]

    def clear(self) -> None:
        self.samples = {s: array("d") for s in self.samples}  # type: ignore[misc]


def open_bench_source(cfg: Config, opts: BenchOptions) -> Source:
    if opts.preload:
        return MemorySource(open_source(cfg.source), opts.loop)
    if opts.loop:
        return LoopingSource(lambda: open_source(cfg.source))
    return open_source(cfg.source)


def bench_pipeline(
    cfg: Config, pipeline: Pipeline, labels: Sequence[str], opts: BenchOptions
) -> dict[str, Any]:
    """Run the pipeline over the configured source; the result dict (see module docstring)."""
    truth = load_truth(opts.truth)  # a bad file fails before the source is decoded
    source = open_bench_source(cfg, opts)
    timer = pipeline.timer = CompactTimer()
    samples = {"capture": array("d"), "postprocess": array("d"), "frame": array("d")}
    faces_per_frame = array("H")
    scored: list[tuple[list, list]] = []
    memory: dict[str, Any] = {"rss_mb_every_1k": []}
    total = opts.warmup + opts.frames if opts.frames else None
    with open(os.devnull, "w") as null:
        sink = EventWriter(null, labels)
        i = 0
        started = cpu0 = 0.0
        while total is None or i < total:
            if i == opts.warmup:
                timer.clear()
                pipeline.scans.clear()
                started, cpu0 = time.perf_counter(), time.process_time()
            t0 = time.perf_counter()
            frame = source.read()
            t1 = time.perf_counter()
            if frame is None:
                break
            result = pipeline.process(frame, i, t1)
            t2 = time.perf_counter()
            sink.handle(frame, result)
            t3 = time.perf_counter()
            if i >= opts.warmup:
                samples["capture"].append(t1 - t0)
                samples["postprocess"].append(t3 - t2 + timer.samples["track"][-1])
                samples["frame"].append(t3 - t0)
                faces_per_frame.append(len(result.faces))
            if truth:
                scored.append(_scored(result, truth[i % len(truth)]))
            i += 1
            if i % CHECKPOINT == 0:
                memory["rss_mb_every_1k"].append(rss_mb())
            if i == CHECKPOINT:
                memory |= {"rss_mb_at_1k": rss_mb(), "peak_rss_mb_at_1k": peak_rss_mb()}
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
    rss = rss_mb()  # before the statistics; no sample of the run is above its peak
    memory |= {"rss_mb": rss, "peak_rss_mb": max(peak_rss_mb(), rss, *memory["rss_mb_every_1k"])}
    source.close()
    timed = len(faces_per_frame)
    if timed == 0:
        raise ValueError(f"no timed frames: the source gave {i} (warm-up {opts.warmup})")
    stages = {s: percentiles(samples.get(s) or timer.samples.get(s, [])) for s in STAGES}
    result: dict[str, Any] = {
        "fps": round(timed / wall, 2),
        "frames": timed,
        "warmup": opts.warmup,
        "backend": pipeline.classifier.name,
        "source": source.name,
        "detect_width": cfg.faces.detect_width,
        "detect_every": cfg.faces.detect_every,
        "faces_per_frame": round(float(np.mean(faces_per_frame)), 3),
        "cpu_pct": round(100.0 * cpu / wall, 1),
        "cpu_ms_per_frame": round(1000.0 * cpu / timed, 3),  # all threads: load-independent
        "stages": stages,
        "haar_scans": {k: pipeline.scans[k] for k in ("full", "rescan", "window", "none")},
        "frame_ms": percentiles(samples["frame"]),  # end to end, read to sinks
        **memory,
    }
    if truth:
        result |= accuracy(scored)
    return result | machine_info()


def _scored(result: Any, truth: list) -> tuple[list, list]:
    return [(list(f.box), f.smoothed, f.emotion) for f in result.faces], truth


def model_name(classifier: Classifier, model: ModelConfig) -> str:
    """The model file in use (the compiled one on the Edge TPU)."""
    path = model.edgetpu_path if classifier.name == "edgetpu" else model.path
    return str(path)


def model_only(classifier: Classifier, runs: int = 1000, warmup: int = 10) -> dict[str, Any]:
    """Per-inference latency of ``classifier.classify`` on random 48x48 uint8 faces (seed 0)."""
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (16, 48, 48), dtype=np.uint8)
    seconds = time_calls(lambda k: classifier.classify(faces[k % len(faces)]), runs, warmup)
    infer = percentiles(seconds)
    return {
        "mode": "model-only",
        "fps": round(runs / float(seconds.sum()), 1),  # inferences per second
        "frames": runs,
        "warmup": warmup,
        "backend": classifier.name,
        "stages": {"infer": infer},
        "peak_rss_mb": peak_rss_mb(),
    } | machine_info()
