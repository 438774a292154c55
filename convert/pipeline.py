"""``python -m convert MODEL.keras --data DIR --out DIR``: quantize, check, parity, compile.

Writes (atomically) into ``out``, for ``--name NAME`` (default ``emotion``, the accurate model;
``emotion_fast`` is the fast CPU model): ``NAME_int8.tflite``, ``emotion.labels.txt``,
``NAME_int8.parity.json`` and, when ``edgetpu_compiler`` is on PATH (and not ``--no-compile``),
``NAME_int8_edgetpu.tflite`` with its ``NAME_int8_edgetpu.log``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from convert import compiler, parity, quantize
from convert.check import check_file
from convert.errors import ConvertError
from convert.tflite_file import read_model
from edge.fsio import write_atomic

log = logging.getLogger(__name__)

DEFAULT_NAME = "emotion"
LABELS_NAME = "emotion.labels.txt"  # one label order for every model (edge/labels.py)
NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
CALIBRATION_SIZE = 700  # 100 per class; the PTQ guide suggests ~100-500 samples


@dataclass(frozen=True)
class ConvertOptions:
    model: Path
    data: Path
    out: Path
    calibration_size: int = CALIBRATION_SIZE
    io_dtype: str = "uint8"
    max_drop_pp: float = parity.MAX_DROP_PP
    require_edgetpu: bool = False
    name: str = DEFAULT_NAME  # output stem: NAME_int8.tflite, NAME_int8.parity.json
    compile: bool = True  # run edgetpu_compiler when it is on PATH

    @property
    def model_file(self) -> Path:
        return self.out / f"{self.name}_int8.tflite"

    @property
    def parity_file(self) -> Path:
        return self.out / f"{self.name}_int8.parity.json"


def validate(opts: ConvertOptions) -> None:
    """Fail fast, before TensorFlow loads, on a missing model or data folder."""
    if not opts.model.is_file():
        raise ConvertError(f"{opts.model}: no such model file")
    if opts.model.suffix != ".keras":
        raise ConvertError(f"{opts.model}: not a Keras model file (expected .keras)")
    if not opts.data.exists():
        raise ConvertError(f"{opts.data}: no such data folder")
    if opts.out.exists() and not opts.out.is_dir():
        raise ConvertError(f"{opts.out}: exists and is not a folder")
    if not NAME_RE.fullmatch(opts.name):
        raise ConvertError(f"--name {opts.name!r}: use letters, digits, '_' or '-'")
    if opts.require_edgetpu and not opts.compile:
        raise ConvertError("--require-edgetpu and --no-compile contradict each other")
    if opts.require_edgetpu and compiler.find_compiler() is None:  # fail before minutes of work
        raise ConvertError(f"--require-edgetpu: {compiler.HOW_TO_GET}")


def run_convert(opts: ConvertOptions) -> int:
    """The whole conversion; returns the exit code (reports printed on stdout)."""
    from edge.labels import labels_text
    from train.data import DataError, load_split

    validate(opts)
    model = quantize.load_keras(opts.model)
    try:
        train = load_split(opts.data, "train")
        val = load_split(opts.data, "val")
    except DataError as exc:
        raise ConvertError(str(exc)) from None
    picked = quantize.balanced_sample(train.labels, opts.calibration_size)
    log.info("calibrating on %d training images", len(picked))
    flatbuffer = quantize.to_int8_tflite(model, train.images[picked], opts.io_dtype)
    target = write_atomic(opts.model_file, flatbuffer, umask=False)
    write_atomic(opts.out / LABELS_NAME, labels_text(), umask=False)
    print(f"wrote {target} ({len(flatbuffer):,} bytes)")

    readiness = check_file(target)
    print(readiness.text())
    if not readiness.ready:
        raise ConvertError(f"{target}: not Edge TPU ready (see the FAIL lines above)")

    report = parity.measure(opts.model, target, val.images, val.labels, opts.max_drop_pp)
    report["provenance"] = provenance(opts, target, train.labels[picked])
    write_atomic(opts.parity_file, json.dumps(report, indent=2) + "\n", umask=False)
    print(parity.format_report(report))
    if not report["passed"]:
        raise ConvertError(
            f"int8 loses {report['accuracy_drop_pp']:.2f} pp (> {opts.max_drop_pp} pp); "
            "use quantization-aware training or change the architecture"
        )
    if not opts.compile:
        print(f"--no-compile: kept the CPU model {target}")
        return 0
    return compile_if_available(target, opts.out, opts.require_edgetpu)


def compile_if_available(model: Path, out: Path, require: bool) -> int:
    found = compiler.find_compiler()
    if found is None:
        if require:
            raise ConvertError(f"--require-edgetpu: {compiler.HOW_TO_GET}")
        print(f"{compiler.HOW_TO_GET}; kept the CPU model {model}")
        return 0
    compiled = compiler.compile_model(model, out, found)
    summary = compiled.log.summary
    print(
        f"compiled {compiled.model} (compiler {compiled.log.version}): all "
        f"{summary.get('total_ops', '?')} ops mapped to the Edge TPU, "
        f"{summary.get('subgraphs')} subgraph; log {compiled.log_path}"
    )
    return 0


def provenance(opts: ConvertOptions, target: Path, calibration_labels: object) -> dict:
    import numpy as np

    from edge.labels import EMOTIONS

    info = read_model(target)
    io = {
        role: {
            "dtype": t.dtype.lower(),
            "shape": list(t.shape),
            "scale": t.scale[0] if t.scale else None,
            "zero_point": t.zero_point[0] if t.zero_point else None,
        }
        for role, t in (
            ("input", info.tensors[info.inputs[0]]),
            ("output", info.tensors[info.outputs[0]]),
        )
    }
    counts = np.bincount(np.asarray(calibration_labels), minlength=len(EMOTIONS))
    return {
        "float_model": str(opts.model),
        "float_model_sha256": _sha256(opts.model),
        "int8_model": str(target),
        "int8_model_sha256": _sha256(target),
        "converter": {"tensorflow": quantize.converter_version(), "runtime": _runtime_version()},
        "calibration": {
            "split": "train",
            "size": int(counts.sum()),
            "seed": quantize.SEED,
            "per_class": dict(zip(EMOTIONS, counts.tolist(), strict=True)),
        },
        "io": io,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _runtime_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ai-edge-litert {version('ai-edge-litert')}"
    except PackageNotFoundError:
        return "unknown"
