"""Pipeline fps with and without HTTP clients on loopback (issue: < 10% drop at 100 clients).

Runs the real frame loop (Haar detector, tracker, ``Metrics`` + ``WebSink`` with the preview on)
over the bundled sample clip, preloaded and looped, in this process. Rounds alternate without
and with load (A B A B ...) so drift from other work on the machine hits both; the load is a
child process with ``--stream-clients`` readers of ``/stream.mjpg`` and ``--metrics-clients``
pollers of ``/metrics`` (each one request per ``--metrics-interval`` s: a bounded load).

    python -m bench.web_load                       # 50 + 50 clients, 3 rounds of 10 s each
    python -m bench.web_load --model models/emotion_int8.tflite   # real CPU classifier

Without ``--model`` the classifier is a constant stand-in (Haar detection dominates anyway).
The client process shares the CPU with the loop, so on a small machine this overstates the
cost of remote clients. Prints one line per round and a summary; ``--csv`` appends rows.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import logging
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]

log = logging.getLogger("bench.web_load")


class ConstantClassifier:
    name = "constant"

    def classify(self, face: np.ndarray) -> np.ndarray:
        return np.array([0.05, 0.05, 0.05, 0.6, 0.1, 0.05, 0.1], np.float32)


def load_frames(path: Path, limit: int = 150) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    cap.release()
    if not frames:
        raise SystemExit(f"no frames in {path}")
    return frames


def run_loop(frames, stages, sinks, seconds: float, start_index: int) -> tuple[int, float]:
    """Process frames for ``seconds``; returns (frames, elapsed)."""
    from edge.types import Frame

    n, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        frame = Frame(frames[(start_index + n) % len(frames)])
        result = stages.process(frame, start_index + n, time.time())
        for sink in sinks:
            sink.handle(frame, result)
        n += 1
    return n, elapsed


def client_main(args: argparse.Namespace) -> None:
    """The load: stream readers and metrics pollers until ``--duration`` is over."""
    stats = {"stream_bytes": 0, "stream_ok": 0, "stream_refused": 0, "metrics_ok": 0, "errors": 0}
    lock = threading.Lock()
    end = time.monotonic() + args.duration

    def add(key: str, value: int = 1) -> None:
        with lock:
            stats[key] += value

    def stream() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.client, timeout=10)
        try:
            conn.request("GET", "/stream.mjpg")
            r = conn.getresponse()
            if r.status != 200:
                add("stream_refused")
                return
            add("stream_ok")
            while time.monotonic() < end:
                add("stream_bytes", len(r.read1(65536)))
        except OSError:
            add("errors")
        finally:
            conn.close()

    def metrics() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", args.client, timeout=10)
        next_at = time.monotonic()
        while time.monotonic() < end:
            try:
                conn.request("GET", "/metrics")
                r = conn.getresponse()
                r.read()
                add("metrics_ok" if r.status == 200 else "errors")
            except OSError:
                add("errors")
                conn.close()
            next_at += args.metrics_interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        conn.close()

    threads = [threading.Thread(target=stream) for _ in range(args.stream_clients)]
    threads += [threading.Thread(target=metrics) for _ in range(args.metrics_clients)]
    for t in threads:
        t.start()
    print("started", flush=True)
    for t in threads:
        t.join()
    print(json.dumps(stats), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stream-clients", type=int, default=50)
    p.add_argument("--metrics-clients", type=int, default=50)
    p.add_argument("--metrics-interval", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=10.0, help="per round")
    p.add_argument("--rounds", type=int, default=3, help="pairs of (no load, load)")
    p.add_argument("--model", type=Path, help="a CPU int8 .tflite (default: constant stand-in)")
    p.add_argument("--clip", type=Path, default=REPO / "edge" / "data" / "sample.mp4")
    p.add_argument("--csv", type=Path, help="append the rounds to this CSV")
    p.add_argument("--client", type=int, help=argparse.SUPPRESS)  # child mode: server port
    p.add_argument("--duration", type=float, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.client:
        client_main(args)
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return bench(args)


def bench(args: argparse.Namespace) -> int:
    from edge.config import FacesConfig
    from edge.detection import load_detector
    from edge.labels import EMOTIONS
    from edge.pipeline import Pipeline
    from edge.sinks.http import HttpConfig, WebSink
    from edge.sinks.metrics import Metrics
    from edge.tracking import Tracker

    if args.model:
        from edge.backends.cpu import CpuClassifier

        classifier = CpuClassifier(args.model, num_threads=1)
    else:
        classifier = ConstantClassifier()
    cv2.setNumThreads(1)  # the loop's CPU is then its own thread's: the rest is HTTP
    frames = load_frames(args.clip)
    metrics = Metrics(classifier)
    faces = FacesConfig()
    stages = Pipeline(
        load_detector(faces), classifier, Tracker(EMOTIONS), faces, metrics.stage_timer()
    )
    clients = args.stream_clients + args.metrics_clients
    cfg = HttpConfig(
        enabled=True,
        port=0,
        preview=True,
        max_stream_clients=max(1, args.stream_clients),
        max_clients=max(2, args.stream_clients) + clients + 8,
    )
    web = WebSink(cfg, EMOTIONS, metrics, backend=lambda: classifier.name)
    sinks = (metrics, web)
    run_loop(frames, stages, sinks, 2.0, 0)  # warm-up
    rows = []
    try:
        for r in range(args.rounds):
            for loaded in (False, True):
                rows.append(one_round(args, frames, stages, sinks, web, loaded, r))
    finally:
        web.close()
    summarize(args, rows, clients)
    return 0


def one_round(args, frames, stages, sinks, web, loaded: bool, r: int) -> dict:
    child, stats = None, {}
    if loaded:
        cmd = [sys.executable, "-m", "bench.web_load", "--client", str(web.address[1])]
        cmd += ["--duration", str(args.seconds + 2)]
        cmd += ["--stream-clients", str(args.stream_clients)]
        cmd += ["--metrics-clients", str(args.metrics_clients)]
        cmd += ["--metrics-interval", str(args.metrics_interval)]
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert child.stdout is not None and child.stdout.readline().strip() == "started"
        run_loop(frames, stages, sinks, 1.0, 0)  # let the clients connect (loop keeps going)
    cpu, loop_cpu = time.process_time(), time.thread_time()
    n, elapsed = run_loop(frames, stages, sinks, args.seconds, 0)
    others = (time.process_time() - cpu) - (time.thread_time() - loop_cpu)
    while child is not None and child.poll() is None:  # keep frames flowing to the end
        run_loop(frames, stages, sinks, 0.2, 0)
    if child is not None:
        stats = json.loads(child.communicate(timeout=60)[0].strip().splitlines()[-1])
    row = {
        "round": r,
        "loaded": loaded,
        "frames": n,
        "fps": round(n / elapsed, 2),
        "other_threads_cpu_pct": round(100 * others / elapsed, 1),
        **stats,
    }
    print(json.dumps(row), flush=True)
    return row


def summarize(args, rows: list[dict], clients: int) -> None:
    base = statistics.median(r["fps"] for r in rows if not r["loaded"])
    load = statistics.median(r["fps"] for r in rows if r["loaded"])
    drop = 100 * (base - load) / base
    cpu = statistics.median(r["other_threads_cpu_pct"] for r in rows if r["loaded"])
    idle_cpu = statistics.median(r["other_threads_cpu_pct"] for r in rows if not r["loaded"])
    print(
        f"{platform.node()} ({platform.machine()}): pipeline {base:.1f} fps alone, "
        f"{load:.1f} fps with {args.stream_clients} stream + {args.metrics_clients} metrics "
        f"clients ({clients} total): {drop:+.1f}% drop (median of {args.rounds} rounds each); "
        f"daemon CPU outside the loop thread {idle_cpu:.1f}% of a core alone, {cpu:.1f}% loaded"
    )
    if args.csv:
        new = not args.csv.exists()
        with args.csv.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=sorted({k for r in rows for k in r}))
            if new:
                writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
