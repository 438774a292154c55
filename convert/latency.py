"""Per-face inference latency of a ``.tflite`` model on the CPU: a benchmark, not a test.

Times ``set_tensor + invoke + get_tensor`` (what one face costs the daemon), after a separate
warm-up, on fixed-seed random input of the model's own dtype and shape. Works on any
single-input model, so the ``fer`` package's model is timed with the same code.
"""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import numpy as np

from convert.errors import ConvertError
from edge.timing import time_calls

log = logging.getLogger(__name__)


def _interpreter_class() -> type:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from tflite_runtime.interpreter import Interpreter
    return Interpreter


def measure_latency(model_path: Path, runs: int = 1000, threads: int = 1, warmup: int = 50) -> dict:
    """Median/p95/mean milliseconds per face over ``runs`` timed invocations."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ConvertError(f"{model_path}: no such model file")
    interp = _interpreter_class()(model_path=str(model_path), num_threads=threads)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    face = _random_input(inp["shape"], np.dtype(inp["dtype"]))
    one = lambda _k: _one(interp, inp["index"], out["index"], face)  # noqa: E731
    times = time_calls(one, runs, warmup) * 1e3
    return {
        "model": str(model_path),
        "input": f"{np.dtype(inp['dtype']).name} {[int(d) for d in inp['shape']]}",
        "runs": runs,
        "threads": threads,
        "median_ms": round(float(np.median(times)), 4),
        "p95_ms": round(float(np.percentile(times, 95)), 4),
        "mean_ms": round(float(times.mean()), 4),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }


def _random_input(shape: np.ndarray, dtype: np.dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=tuple(shape), endpoint=True, dtype=dtype)
    return rng.uniform(-1.0, 1.0, size=tuple(shape)).astype(dtype)


def _one(interp: object, in_index: int, out_index: int, face: np.ndarray) -> np.ndarray:
    interp.set_tensor(in_index, face)
    interp.invoke()
    return interp.get_tensor(out_index)


def format_latency(result: dict) -> str:
    return (
        f"{result['model']}: median {result['median_ms']:.3f} ms, p95 {result['p95_ms']:.3f} ms, "
        f"mean {result['mean_ms']:.3f} ms over {result['runs']} runs, "
        f"{result['threads']} thread(s), "
        f"input {result['input']}"
    )
