"""Probe the Edge TPU in a child process: ``python -m edge.backends.probe MODEL [DEVICE]``.

A mismatched libedgetpu can segfault the process that loads it, so the daemon never loads the
delegate for the first time in its own process. The child loads it, runs one inference and exits
0; otherwise it prints the cause on stderr and exits 2 (or dies by a signal).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

PROBE_TIMEOUT_S = 60.0
MARK = "probe-error: "


def probe_edgetpu(model_path: Path, device: str = "") -> str | None:
    """None when the Edge TPU works with ``model_path``; else a one-line cause."""
    cmd = [sys.executable, "-m", "edge.backends.probe", str(model_path), device]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"Edge TPU probe timed out after {PROBE_TIMEOUT_S:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return f"Edge TPU probe crashed with {name} (libedgetpu/runtime version mismatch?)"
    causes = [ln[len(MARK) :] for ln in done.stderr.splitlines() if ln.startswith(MARK)]
    return causes[-1] if causes else f"Edge TPU probe exited {done.returncode}"


def main(argv: list[str]) -> int:
    from edge.backends.edgetpu import EdgeTpuClassifier
    from edge.errors import EdgeError

    try:
        clf = EdgeTpuClassifier(Path(argv[0]), device=argv[1] if len(argv) > 1 else "")
        clf.classify(np.full((48, 48), 128, np.uint8))
    except (EdgeError, ValueError, OSError, RuntimeError) as exc:
        text = str(exc).strip()
        print(MARK + (text.splitlines()[0] if text else repr(exc)), file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
