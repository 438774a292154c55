"""``python -m edge bench``: pick the backends (``--backend all``: Edge TPU, then CPU), time
each with ``edge.bench`` (the pipeline, or ``--model-only`` the classifier alone), and print,
store and compare the results with ``edge.bench_report``.

``cli.py`` parses the arguments (``add_bench_arguments``) and calls ``bench(cfg, args)``. A bad
``--truth``/``--compare`` file, an unwritable ``--out`` or no frames is an ``EdgeError``: one
line ``edge: error: bench: ...``.
"""

from __future__ import annotations

import argparse
import json
import logging

import edge.backends
from edge import bench as bench_mod
from edge.bench_report import append_csv, compare, read_csv, table
from edge.config import Config
from edge.daemon import load_labels
from edge.errors import BackendUnavailable, EdgeError, ModelError
from edge.paths import check_writable_file
from edge.pipeline import Pipeline

log = logging.getLogger(__name__)


def bench(cfg: Config, args: argparse.Namespace) -> int:
    """``python -m edge bench``: a table on stdout, ``--json`` a JSON object as the last line."""
    try:
        return _bench(cfg, args)
    except (ValueError, OSError, KeyError) as exc:  # a bad --truth/--compare file, no frames
        if args.debug:
            raise
        raise EdgeError(f"bench: {exc}") from exc


def _bench(cfg: Config, args: argparse.Namespace) -> int:
    labels = load_labels(cfg)
    if args.out:
        check_writable_file(args.out, "--out")
    if args.compare and not args.compare.is_file():  # read after the run: check it before
        raise EdgeError(f"--compare {args.compare}: no such CSV file")
    backends = ("edgetpu", "cpu") if args.backend == "all" else (cfg.model.backend,)
    opts = bench_mod.BenchOptions(args.frames, args.warmup, args.loop, args.preload, args.truth)
    results, skipped = [], {}
    for backend in backends:
        try:
            classifier = edge.backends.load_classifier(cfg.model, backend)  # looked up per call
        except (BackendUnavailable, ModelError) as exc:
            if len(backends) == 1:
                raise
            skipped[backend] = str(exc)
            log.warning("bench: skipping %s: %s", backend, exc)
            continue
        if args.model_only:
            results.append(bench_mod.model_only(classifier, args.runs, args.warmup))
        else:
            stages = Pipeline.from_config(cfg, classifier, labels)
            results.append(bench_mod.bench_pipeline(cfg, stages, labels, opts))
        results[-1]["model"] = bench_mod.model_name(classifier, cfg.model)
    if not results:
        raise BackendUnavailable(f"no backend to bench: {skipped}")
    print(table(results, skipped))
    if args.compare:
        print(compare(results, read_csv(args.compare)))
    if args.out:
        append_csv(args.out, results)
        print(f"appended {len(results)} row(s) to {args.out}")
    if args.json:
        summary = dict(results[0])
        if args.backend == "all":
            summary |= {"backend": results[0]["backend"], "runs": results, "skipped": skipped}
        print(json.dumps(summary, separators=(",", ":")))
    return 0
