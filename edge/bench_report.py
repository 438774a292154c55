"""Benchmark results for people (a table), for files (CSV rows) and against an earlier CSV."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FIELDS = (
    "time",
    "mode",
    "machine",
    "cpu",
    "load1",
    "governor",
    "runtime",
    "backend",
    "model",
    "source",
    "detect_width",
    "detect_every",
    "frames",
    "fps",
    "faces_per_frame",
    "cpu_pct",
    "peak_rss_mb",
    "recall",
    "label_accuracy",
)
PCTS = ("p50_ms", "p95_ms", "p99_ms")


def table(results: Sequence[dict[str, Any]], skipped: dict[str, str] | None = None) -> str:
    """Stages down, runs (backends) across; then totals and the machine."""
    stages = list(dict.fromkeys(s for r in results for s in r["stages"]))
    head = f"{'stage (ms)':<12}" + "".join(f"{r['backend'] + ' p50/p95/p99':>26}" for r in results)
    lines = [head]
    for s in stages:
        cells = []
        for r in results:
            st = r["stages"].get(s)
            cells.append("/".join(f"{st[p]:.2f}" for p in PCTS) if st else "-")
        lines.append(f"{s:<12}" + "".join(f"{c:>26}" for c in cells))
    for key, label in (
        ("fps", "fps"),
        ("frames", "frames"),
        ("faces_per_frame", "faces/frame"),
        ("cpu_pct", "CPU %"),
        ("peak_rss_mb", "peak RSS MB"),
        ("recall", "recall"),
        ("label_accuracy", "label acc"),
    ):
        if any(key in r for r in results):
            lines.append(f"{label:<12}" + "".join(f"{r.get(key, '-')!s:>26}" for r in results))
    for r in results:
        lines.append(f"{r['backend']}: model {r['model']}, source {r.get('source', '-')}")
    m = results[0]
    lines.append(
        f"machine {m['machine']}: {m['cpu']} ({m['arch']}, {m['cpus']} cpus, load {m['load1']}, "
        f"governor {m['governor']}); python {m['python']}, {m['runtime']}, opencv {m['opencv']}"
    )
    for backend, why in (skipped or {}).items():
        lines.append(f"skipped {backend}: {why}")
    return "\n".join(lines)


def row(result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: the FIELDS plus ``<stage>_<pct>`` for every stage."""
    out = {k: result.get(k, "") for k in FIELDS}
    out["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    out["mode"] = result.get("mode", "pipeline")
    for stage, st in result["stages"].items():
        out |= {f"{stage}_{p}": st[p] for p in PCTS}
    return out


def append_csv(path: Path, results: Sequence[dict[str, Any]]) -> None:
    """Append one row per result; a new file (or one with other columns) gets a header."""
    rows = [row(r) for r in results]
    fields = list(dict.fromkeys(k for r in rows for k in r))
    old = read_csv(path) if path.exists() else []
    if old and list(old[0]) != fields:
        rows = old + rows  # columns changed (another stage set): rewrite with a union header
        fields = list(dict.fromkeys([*old[0], *fields]))
        mode = "w"
    else:
        mode = "a"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        if mode == "w" or not old:
            writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))


def compare(results: Sequence[dict[str, Any]], old_rows: Sequence[dict[str, str]]) -> str:
    """fps and per-stage p50 against the last earlier row of the same mode and backend."""
    lines = []
    for r in results:
        new = row(r)
        match = [
            o for o in old_rows if o.get("backend") == new["backend"] and o["mode"] == new["mode"]
        ]
        if not match:
            lines.append(f"{new['backend']}: no earlier {new['mode']} row to compare with")
            continue
        old = match[-1]
        lines.append(f"{new['backend']} vs {old['time']} ({old.get('machine', '?')}):")
        keys = ["fps"] + [f"{s}_p50_ms" for s in r["stages"]] + ["peak_rss_mb", "recall"]
        for key in keys:
            a, b = _number(old.get(key)), _number(new.get(key))
            if a is None or b is None:
                continue
            pct = f" ({(b - a) / a * 100:+.1f}%)" if a else ""
            lines.append(f"  {key:<18} {a:>10.3f} -> {b:>10.3f}  {b - a:+.3f}{pct}")
    return "\n".join(lines)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
