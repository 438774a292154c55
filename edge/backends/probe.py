"""Probe the Edge TPU in a child process: ``python -m edge.backends.probe MODEL [DEVICE]``.

A mismatched libedgetpu can segfault the process that loads it, so the daemon never loads the
delegate for the first time in its own process. The child loads it, runs one inference and exits
0; otherwise it prints the cause on stderr and exits 2 (or dies by a signal).

``find_coral()`` tells whether a Coral is plugged in without pycoral or libedgetpu: a USB
Accelerator from its sysfs ids (1a6e:089a before its firmware is loaded, 18d1:9302 after), a
PCIe/M.2 Coral from ``/dev/apex_0``. Both roots are parameters, so tests use a fake tree.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

PROBE_TIMEOUT_S = 60.0
MARK = "probe-error: "
SYSFS_USB = Path("/sys/bus/usb/devices")
DEV = Path("/dev")
CORAL_USB_IDS = {
    ("1a6e", "089a"): "before firmware load",
    ("18d1", "9302"): "firmware loaded",
}


def find_coral(sysfs_usb: Path = SYSFS_USB, dev: Path = DEV) -> str | None:
    """A one-line description of the first Coral found, else None."""
    if (dev / "apex_0").exists():
        return f"PCIe Coral at {dev / 'apex_0'}"
    try:
        devices = sorted(sysfs_usb.iterdir())
    except OSError:
        return None
    for path in devices:
        try:
            ids = (
                (path / "idVendor").read_text().strip(),
                (path / "idProduct").read_text().strip(),
            )
        except OSError:
            continue
        if ids in CORAL_USB_IDS:
            return f"USB Coral {ids[0]}:{ids[1]} ({CORAL_USB_IDS[ids]}) at {path}"
    return None


def compile_command(model: Path, edgetpu_model: Path) -> str:
    """The command that makes ``edgetpu_model`` from the int8 ``model`` (x86-64 Debian only)."""
    made = edgetpu_model.parent / f"{model.stem}_edgetpu.tflite"
    cmd = f"edgetpu_compiler -s -o {edgetpu_model.parent} {model}"
    return cmd if made == edgetpu_model else f"{cmd} && mv {made} {edgetpu_model}"


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
