"""Edge TPU facts as data: the supported-op table and the op versions compiler 16.0 rejects.

Kept apart from the checking code so a new compiler report is a one-line change here, and every
rule carries where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPILER = "edgetpu_compiler 16.0.384591198 (the last release)"

SUPPORTED_SOURCE = (
    "coral.ai/docs/edgetpu/models-intro#supported-operations "
    "(mirror: developer.axis.com/computer-vision/on-device/system-on-chip/artpec-7/supported-ops)"
)

# TFLite builtin name -> the table's constraint ("" when none). Runtime 13 / compiler 2.0 added
# EXPAND_DIMS, PACK, QUANTIZE, SUM and TRANSPOSE_CONV (google-coral/edgetpu CHANGES.md).
SUPPORTED_OPS: dict[str, str] = {
    "ADD": "",
    "AVERAGE_POOL_2D": "no fused activation function",
    "CONCATENATION": "no fused activation; a constant input must be all zeros (2 inputs only)",
    "CONV_2D": "same dilation in x and y",
    "DEPTHWISE_CONV_2D": "same dilation in x and y",
    "EXPAND_DIMS": "",
    "FULLY_CONNECTED": "default weights format only; output is one-dimensional",
    "L2_NORMALIZATION": "",
    "LOGISTIC": "",
    "LSTM": "unidirectional only",
    "MAXIMUM": "",
    "MAX_POOL_2D": "no fused activation function",
    "MEAN": "no reduction in the batch dimension; a z-reduction needs z % 4 == 0",
    "MINIMUM": "",
    "MUL": "",
    "PACK": "no packing in the batch dimension",
    "PAD": "no padding in the batch dimension",
    "PRELU": "alpha is one-dimensional",
    "QUANTIZE": "",
    "REDUCE_MAX": "not on the batch dimension",
    "REDUCE_MIN": "not on the batch dimension",
    "RELU": "",
    "RELU6": "",
    "RELU_N1_TO_1": "",
    "RESHAPE": "large reshapes may not be mapped",
    "RESIZE_BILINEAR": "3-D input/output",
    "RESIZE_NEAREST_NEIGHBOR": "3-D input/output",
    "RSQRT": "",
    "SLICE": "",
    "SOFTMAX": "1-D input, at most 16,000 elements",
    "SPACE_TO_DEPTH": "",
    "SPLIT": "",
    "SQUARED_DIFFERENCE": "",
    "SQUEEZE": "leading 1s only",
    "STRIDED_SLICE": "stride 1 only",
    "SUB": "",
    "SUM": "",
    "TANH": "",
    "TRANSPOSE": "",
    "TRANSPOSE_CONV": "",
}

SOFTMAX_MAX_ELEMENTS = 16_000
EDGETPU_CUSTOM_OP = "CUSTOM:edgetpu-custom-op"  # what edgetpu_compiler puts in its output


@dataclass(frozen=True)
class VersionRule:
    """``op`` at ``min_version`` or above was reported rejected by ``COMPILER``."""

    op: str
    min_version: int
    source: str
    note: str


KNOWN_REJECTED: tuple[VersionRule, ...] = (
    VersionRule(
        "CONV_2D",
        6,
        "google-coral/edgetpu#631",
        "emitted by TF 2.9.1; maintainers suggested TF 2.8.2",
    ),
    VersionRule("EXP", 2, "google-coral/libedgetpu#71", "emitted by TF 2.16 (Python 3.11)"),
    VersionRule("QUANTIZE", 3, "google-coral/edgetpu#879", "reported on newer TF converters"),
    VersionRule(
        "TRANSPOSE_CONV",
        4,
        "google-coral/edgetpu#845",
        "worked around with converter.experimental_new_converter = False",
    ),
)


def rejected_rule(op: str, version: int) -> VersionRule | None:
    """The rule that says ``op`` v``version`` is known rejected, if any."""
    for rule in KNOWN_REJECTED:
        if rule.op == op and version >= rule.min_version:
            return rule
    return None
