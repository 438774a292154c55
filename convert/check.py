"""Edge TPU readiness of a ``.tflite`` file, without the compiler (and without TensorFlow).

Each check gives PASS, WARN or FAIL with the reason; the file is ready when nothing FAILs.
The compiler stays the final judge: a clean report means "nothing known to be rejected".
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert import rules
from convert.tflite_file import ModelInfo, OpInfo, TensorInfo, read_model

log = logging.getLogger(__name__)

EIGHT_BIT = ("INT8", "UINT8")
MAX_LISTED = 6


@dataclass(frozen=True)
class Finding:
    status: str  # PASS, WARN or FAIL
    rule: str
    detail: str


@dataclass(frozen=True)
class Readiness:
    path: Path
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return all(f.status != "FAIL" for f in self.findings)

    def text(self) -> str:
        lines = [f"Edge TPU readiness: {self.path}"]
        lines += [f"  {f.status:<4}  {f.rule}: {f.detail}" for f in self.findings]
        verdict = "READY" if self.ready else "NOT READY"
        lines.append(
            f"{verdict} (checked without edgetpu_compiler; the compiler is the final judge)"
        )
        return "\n".join(lines)


def check_file(path: Path) -> Readiness:
    """Read ``path`` and run every check."""
    return check_model(read_model(path))


def check_model(model: ModelInfo) -> Readiness:
    findings = (
        _subgraphs(model),
        _eight_bit(model),
        _static_shapes(model),
        _supported_ops(model),
        _versions(model),
        _io(model),
    )
    return Readiness(model.path, findings)


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else "")


def _subgraphs(model: ModelInfo) -> Finding:
    if model.subgraphs != 1:
        return Finding("FAIL", "one subgraph", f"{model.subgraphs} subgraphs (compiler maps one)")
    return Finding("PASS", "one subgraph", "1 subgraph")


def _eight_bit(model: ModelInfo) -> Finding:
    """Activations and weights 8-bit; int32 only as constants (biases, shape/axis operands)."""
    bad = [
        f"{t.name or t.index} {t.dtype}"
        for t in model.tensors
        if t.dtype not in EIGHT_BIT and not (t.dtype == "INT32" and t.constant)
    ]
    unquantized = [
        t.name or str(t.index) for t in model.tensors if t.dtype in EIGHT_BIT and not t.scale
    ]
    if bad:
        return Finding("FAIL", "8-bit tensors", f"{len(bad)} not 8-bit: {_listed(bad)}")
    if unquantized:
        return Finding("FAIL", "8-bit tensors", f"no quantization scale: {_listed(unquantized)}")
    n32 = sum(t.dtype == "INT32" for t in model.tensors)
    return Finding(
        "PASS",
        "8-bit tensors",
        f"{len(model.tensors) - n32} int8/uint8, {n32} int32 constants (bias/shape)",
    )


def _static_shapes(model: ModelInfo) -> Finding:
    """No dynamic dimension; above 3-D only the 3 innermost dims may exceed 1 (so batch 1)."""
    problems: list[str] = []
    for t in model.tensors:
        if t.constant:
            continue  # weights are laid out by the op, the rule is about feature maps
        if any(d < 0 for d in t.shape_signature):
            problems.append(f"{t.name or t.index} dynamic {list(t.shape_signature)}")
        elif len(t.shape) > 3 and any(d > 1 for d in t.shape[:-3]):
            problems.append(f"{t.name or t.index} {list(t.shape)} (batch/outer dim > 1)")
    if problems:
        return Finding("FAIL", "static shapes, batch 1", _listed(problems))
    shapes = [list(model.tensors[i].shape) for i in model.inputs]
    return Finding("PASS", "static shapes, batch 1", f"input {shapes}, all dims fixed")


def _supported_ops(model: ModelInfo) -> Finding:
    problems: list[str] = []
    for op in model.ops:
        if op.name == rules.EDGETPU_CUSTOM_OP:
            continue  # already compiled: this op is the Edge TPU part of the graph
        if op.name not in rules.SUPPORTED_OPS:
            problems.append(f"#{op.index} {op.name} not supported")
            continue
        reason = _constraint(model, op)
        if reason:
            problems.append(f"#{op.index} {op.name} {reason}")
    counts = Counter(op.name for op in model.ops)
    summary = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
    if problems:
        first = problems[0].split()[0]
        detail = f"{_listed(problems)}; the compiler sends op {first} and all after it to the CPU"
        return Finding("FAIL", "supported ops", f"{detail} [{rules.SUPPORTED_SOURCE}]")
    return Finding("PASS", "supported ops", summary)


def _shape(model: ModelInfo, index: int) -> tuple[int, ...]:
    return model.tensors[index].shape


def _constraint(model: ModelInfo, op: OpInfo) -> str:
    """The broken constraint of the supported-op table, or ''."""
    opts = op.options
    if op.name in ("MAX_POOL_2D", "AVERAGE_POOL_2D", "CONCATENATION"):
        if opts.get("FusedActivationFunction", 0) != 0:
            return "has a fused activation"
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        if opts.get("DilationHFactor", 1) != opts.get("DilationWFactor", 1):
            return "has different x/y dilation"
    if op.name == "FULLY_CONNECTED":
        if opts.get("WeightsFormat", 0) != 0:
            return "uses a non-default weights format"
        if _non_unit(_shape(model, op.outputs[0])) > 1:
            return f"output {list(_shape(model, op.outputs[0]))} is not 1-D"
    if op.name == "SOFTMAX":
        shape = _shape(model, op.inputs[0])
        if _non_unit(shape) > 1 or int(np.prod(shape)) > rules.SOFTMAX_MAX_ELEMENTS:
            return f"input {list(shape)} is not 1-D of <= {rules.SOFTMAX_MAX_ELEMENTS} elements"
    if op.name in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN") and len(op.inputs) > 1:
        axes = model.constants.get(op.inputs[1])
        rank = len(_shape(model, op.inputs[0]))
        if rank == 4 and axes is not None and any(int(a) in (0, -rank) for a in axes):
            return f"reduces the batch dimension (axes {axes.tolist()})"
    if op.name == "STRIDED_SLICE" and len(op.inputs) > 3:
        strides = model.constants.get(op.inputs[3])
        if strides is not None and any(int(s) != 1 for s in strides):
            return f"has stride {strides.tolist()} (only 1 is supported)"
    return ""


def _non_unit(shape: tuple[int, ...]) -> int:
    return sum(d > 1 for d in shape)


def _versions(model: ModelInfo) -> Finding:
    seen = sorted({(op.name, op.version) for op in model.ops})
    rejected = [
        f"{name} v{version} (>= v{rule.min_version}, {rule.source}: {rule.note})"
        for name, version in seen
        if (rule := rules.rejected_rule(name, version))
    ]
    listed = ", ".join(f"{name} v{version}" for name, version in seen)
    if rejected:
        fix = "pin an older TF converter or change the op; then compile to confirm"
        detail = f"known rejected by {rules.COMPILER}: {'; '.join(rejected)}; {fix}"
        return Finding("FAIL", "op versions", detail)
    return Finding(
        "PASS",
        "op versions",
        f"none known rejected by compiler 16.0 ({listed}); known-rejected is a short list "
        "from bug reports, so the others are not proven accepted either",
    )


def _io(model: ModelInfo) -> Finding:
    parts = [
        f"{role} {_describe(model.tensors[i])}"
        for role, ids in (("input", model.inputs), ("output", model.outputs))
        for i in ids
    ]
    return Finding("PASS", "I/O (read by consumers)", "; ".join(parts))


def _describe(t: TensorInfo) -> str:
    quant = f"scale {t.scale[0]:.6g} zero_point {t.zero_point[0]}" if t.scale else "unquantized"
    return f"{t.dtype.lower()} {list(t.shape)} {quant}"
