"""Run ``edgetpu_compiler`` and judge its log: every op "Mapped to Edge TPU", one TPU subgraph.

Log format (coral.ai/docs/edgetpu/compiler; examples in google-coral/edgetpu#358 and the
``<model>_edgetpu.log`` files the compiler writes)::

    Edge TPU Compiler version 16.0.384591198
    Input: emotion_int8.tflite
    Output: emotion_int8_edgetpu.tflite
    Operator                       Count      Status
    CONV_2D                        4          Mapped to Edge TPU
    ...
    Number of Edge TPU subgraphs: 1
    Total number of operations: 12
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from convert.errors import ConvertError

log = logging.getLogger(__name__)

COMPILER = "edgetpu_compiler"
MAPPED = "Mapped to Edge TPU"
HOW_TO_GET = (
    "edgetpu_compiler not on PATH: install the 'edgetpu-compiler' apt package from Coral's "
    "repository (deb https://packages.cloud.google.com/apt coral-edgetpu-stable main; x86-64 "
    "Debian/Ubuntu only, not on the Pi), then rerun to compile"
)
TIMEOUT_S = 300

_ROW = re.compile(r"^(?P<op>[A-Z][A-Z0-9_]*)\s+(?P<count>\d+)\s+(?P<status>\S.*?)\s*$")
_SUMMARY = {
    "subgraphs": re.compile(r"Number of Edge TPU subgraphs:\s*(\d+)"),
    "total_ops": re.compile(r"Total number of operations:\s*(\d+)"),
    "tpu_ops": re.compile(r"Number of operations that will run on Edge TPU:\s*(\d+)"),
    "cpu_ops": re.compile(r"Number of operations that will run on CPU:\s*(\d+)"),
}
_VERSION = re.compile(r"Edge TPU Compiler version\s+(\S+)")


@dataclass(frozen=True)
class OpRow:
    op: str
    count: int
    status: str


@dataclass(frozen=True)
class CompileLog:
    version: str | None
    rows: tuple[OpRow, ...]
    summary: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """Why this compile is not "all on one Edge TPU subgraph" (empty when it is)."""
        found = [f"{r.op} x{r.count}: {r.status}" for r in self.rows if r.status != MAPPED]
        if not self.rows:
            found.append("no operator table in the compiler output (was -s given?)")
        subgraphs = self.summary.get("subgraphs")
        if subgraphs is None:
            found.append("no 'Number of Edge TPU subgraphs' line in the compiler output")
        elif subgraphs != 1:
            found.append(f"{subgraphs} Edge TPU subgraphs (want exactly 1)")
        if self.summary.get("cpu_ops", 0):
            found.append(f"{self.summary['cpu_ops']} operation(s) will run on CPU")
        return found


def parse_log(text: str) -> CompileLog:
    """Parse compiler stdout and/or its ``.log`` file (op table rows are de-duplicated)."""
    rows: list[OpRow] = []
    in_table = False
    for line in text.splitlines():
        if line.strip().startswith("Operator") and "Status" in line:
            in_table, rows = True, []  # a later table (stdout vs .log) replaces an earlier copy
            continue
        match = _ROW.match(line.strip()) if in_table else None
        if match:
            rows.append(OpRow(match["op"], int(match["count"]), match["status"]))
        elif in_table and line.strip():
            in_table = False
    summary = {}
    for key, pattern in _SUMMARY.items():
        hit = pattern.search(text)
        if hit:
            summary[key] = int(hit.group(1))
    version = _VERSION.search(text)
    return CompileLog(version.group(1) if version else None, tuple(rows), summary)


def find_compiler() -> str | None:
    return shutil.which(COMPILER)


@dataclass(frozen=True)
class Compiled:
    model: Path
    log_path: Path
    log: CompileLog


def compile_model(model: Path, out_dir: Path, compiler: str) -> Compiled:
    """Compile ``model`` into ``out_dir``; raise :class:`ConvertError` naming unmapped ops."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{model.stem}_edgetpu"
    with tempfile.TemporaryDirectory(prefix=".edgetpu.", dir=out_dir) as tmp:
        cmd = [compiler, "-s", "-o", tmp, str(model)]
        log.info("running %s", " ".join(cmd))
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConvertError(f"{compiler}: could not run ({exc})") from exc
        log_file = Path(tmp) / f"{stem}.log"
        text = done.stdout + "\n" + (log_file.read_text() if log_file.is_file() else "")
        transcript = out_dir / f"{stem}.log"
        _save_transcript(transcript, done, log_file)
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            raise ConvertError(
                f"{compiler} failed (exit {done.returncode}): {last}; see {transcript}"
            )
        parsed = parse_log(text)
        problems = parsed.problems()
        if problems:
            raise ConvertError(
                f"Edge TPU compile not whole: {'; '.join(problems)}; see {transcript}"
            )
        produced, target = Path(tmp) / f"{stem}.tflite", out_dir / f"{stem}.tflite"
        if not produced.is_file():
            raise ConvertError(f"{compiler} wrote no {produced.name}; see {transcript}")
        os.replace(produced, target)
    return Compiled(target, transcript, parsed)


def _save_transcript(path: Path, done: subprocess.CompletedProcess, log_file: Path) -> None:
    from edge.fsio import write_atomic

    parts = [f"$ {' '.join(map(str, done.args))}\n", done.stdout, done.stderr]
    if log_file.is_file():
        parts += [f"\n--- {log_file.name} ---\n", log_file.read_text()]
    write_atomic(path, "".join(parts), umask=False)
