"""Per-face latency of several ``.tflite`` models, alternating, in one process: a benchmark.

    python -m bench.model_latency models/emotion_fast_int8.tflite models/emotion_int8.tflite \
        FER_VENV/lib/python3.11/site-packages/fer/data/emotion_model_quantized.tflite \
        --runs 2000 --rounds 3 --threads 1

Each round times every model once (``convert.latency.measure_latency``: set_tensor + invoke +
get_tensor, after a warm-up), so all of them see the same machine load; the figure per model is
the median of its round medians, and the ratio is to the last model named (put the reference,
e.g. ``fer``'s model, last). The CPU's flags that decide int8 speed (AVX-512, VNNI) are printed
first, because the ratios change with them.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from edge.bench import SPEED_FLAGS, cpu_flags
from edge.cliargs import OneLineParser, positive_int


def alternate(models: list[Path], runs: int, rounds: int, threads: int) -> list[dict]:
    """The median per-face latency of each model over ``rounds`` alternating rounds."""
    from convert.latency import measure_latency

    medians: list[list[float]] = [[] for _ in models]  # by position: a model may repeat
    for _ in range(rounds):
        for i, model in enumerate(models):
            medians[i].append(measure_latency(model, runs=runs, threads=threads)["median_ms"])
    reference = statistics.median(medians[-1])
    return [
        {
            "model": str(m),
            "median_ms": round(statistics.median(times), 4),
            "round_medians_ms": times,
            "vs_last": round(statistics.median(times) / reference, 3),
        }
        for m, times in zip(models, medians, strict=True)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m bench.model_latency", description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help=".tflite files; the reference last")
    parser.add_argument("--runs", type=positive_int, default=2000)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = parser.parse_args(argv)
    for model in args.models:
        if not model.is_file():
            print(f"model_latency: error: {model}: no such model file", file=sys.stderr)
            return 1
    flags = cpu_flags()
    rows = alternate(args.models, args.runs, args.rounds, args.threads)
    if args.json:
        print(json.dumps({"cpu_flags": flags, "threads": args.threads, "models": rows}))
        return 0
    have = [f for f, on in flags.items() if on] or ["none of " + ", ".join(SPEED_FLAGS)]
    runs = f"{args.threads} thread(s), {args.runs} runs x {args.rounds} rounds"
    print(f"CPU flags: {' '.join(have)}; {runs}")
    for row in rows:
        print(f"{row['median_ms']:8.4f} ms  {row['vs_last']:5.2f}x  {row['model']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
