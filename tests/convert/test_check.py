"""``python -m convert check``: a clean model passes; each known trap fails with its reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from convert import rules
from convert.check import check_model
from convert.cli import main
from convert.tflite_file import read_model
from tests.synthetic import synthetic_faces

from .conftest import TINY_STAGES


def _tflite(model, path: Path, *, float_io: bool = False, allow_float_ops: bool = False) -> Path:
    """Convert as the traps happen in practice: float I/O, dynamic batch, float fallback."""
    import tensorflow as tf

    images, _ = synthetic_faces(2, seed=3, full_range=True)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)  # batch stays None (dynamic)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [im[None, ..., None].astype(np.float32)] for im in images
    )
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.target_spec.supported_ops = ops + [tf.lite.OpsSet.TFLITE_BUILTINS] * allow_float_ops
    if not float_io:
        converter.inference_input_type = converter.inference_output_type = tf.uint8
    path.write_bytes(converter.convert())
    return path


def _text(capsys) -> str:
    return capsys.readouterr().out


@pytest.mark.slow
def test_shipped_style_model_passes(converted: Path, capsys):
    assert main(["check", str(converted / "emotion_int8.tflite")]) == 0
    out = _text(capsys)
    assert "NOT READY" not in out and "READY" in out and "FAIL" not in out
    assert "CONV_2D v" in out and "uint8 [1, 48, 48, 1]" in out


@pytest.mark.slow
def test_float_op_left_fails_naming_float_tensors_and_dequantize(tmp_path, capsys):
    from train.models import build_edge

    path = _tflite(build_edge(stages=TINY_STAGES), tmp_path / "float_io.tflite", float_io=True)
    assert main(["check", str(path)]) == 1
    out = _text(capsys)
    assert "FAIL  8-bit tensors" in out and "FLOAT32" in out
    assert "DEQUANTIZE not supported" in out and "NOT READY" in out


@pytest.mark.slow
def test_dynamic_batch_fails_naming_the_dynamic_dimension(tmp_path, capsys):
    from train.models import build_edge

    path = _tflite(build_edge(stages=TINY_STAGES), tmp_path / "dynamic.tflite")
    assert main(["check", str(path)]) == 1
    out = _text(capsys)
    assert "FAIL  static shapes, batch 1" in out and "dynamic [-1, 48, 48, 1]" in out


@pytest.mark.slow
def test_seed_network_fails_on_its_normalization_layer(tmp_path, capsys):
    import keras

    from train.models import build_seed

    seed = build_seed()
    # The seed up to its first pool: the LRN layer without the 56M-weight head (seconds, not
    # minutes); int8 where possible, float where TFLite has no int8 kernel (LRN has none).
    head = keras.Model(seed.input, seed.get_layer("pool1").output, name="seed_head")
    path = _tflite(head, tmp_path / "seed.tflite", allow_float_ops=True)
    assert main(["check", str(path)]) == 1
    out = _text(capsys)
    assert "LOCAL_RESPONSE_NORMALIZATION not supported" in out
    assert "FAIL  8-bit tensors" in out


@pytest.mark.slow
def test_seed_device_variant_without_the_normalization_converts_to_int8(tmp_path, capsys):
    import keras

    from train.models import build

    seed = build("seed-device")
    assert "lrn1" not in [layer.name for layer in seed.layers]
    # Its convolutional part, int8 only (no float fallback allowed); the FC head is plain.
    head = keras.Model(seed.input, seed.get_layer("conv3").output, name="seed_device_head")
    path = _tflite(head, tmp_path / "seed_device.tflite")
    main(["check", str(path)])
    out = _text(capsys)
    assert "PASS  supported ops" in out and "PASS  8-bit tensors" in out, out
    assert "LOCAL_RESPONSE_NORMALIZATION" not in out


@pytest.mark.slow
def test_known_rejected_op_version_fails_with_its_source(converted: Path):
    info = read_model(converted / "emotion_int8.tflite")
    ops = tuple(
        dataclasses.replace(op, version=6) if op.name == "CONV_2D" else op for op in info.ops
    )
    report = check_model(dataclasses.replace(info, ops=ops))
    versions = next(f for f in report.findings if f.rule == "op versions")
    assert not report.ready and versions.status == "FAIL"
    assert "CONV_2D v6" in versions.detail and "google-coral/edgetpu#631" in versions.detail


def test_version_rules_are_data_with_a_source_each():
    assert rules.rejected_rule("CONV_2D", 5) is None
    assert rules.rejected_rule("CONV_2D", 7).source == "google-coral/edgetpu#631"
    assert rules.rejected_rule("EXP", 2).source == "google-coral/libedgetpu#71"
    assert rules.rejected_rule("QUANTIZE", 3).source == "google-coral/edgetpu#879"
    assert rules.rejected_rule("TRANSPOSE_CONV", 4).source == "google-coral/edgetpu#845"
    assert all(rule.source and rule.note for rule in rules.KNOWN_REJECTED)


def test_check_of_a_missing_or_non_tflite_file_is_one_line(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.tflite")]) == 1
    assert "none.tflite: no such model file" in capsys.readouterr().err
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"0123456789abcdef")
    assert main(["check", str(junk)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a TFLite flatbuffer" in err[0]


def test_check_file_reads_without_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
        "import convert.check, convert.tflite_file, convert.cli"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def _tensor(index: int, shape: tuple[int, ...], dtype: str = "INT8", constant: bool = False):
    from convert.tflite_file import TensorInfo

    return TensorInfo(index, f"t{index}", dtype, shape, shape, constant, (0.1,), (0,))


def _graph(*ops, tensors) -> object:
    from convert.tflite_file import ModelInfo

    constants = {1: np.array([0, 1], dtype=np.int32), 4: np.array([1, 2], dtype=np.int32)}
    return ModelInfo(Path("hand.tflite"), 1, tuple(tensors), tuple(ops), (0,), (2,), constants)


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        (("MAX_POOL_2D", (0,), (2,), {"FusedActivationFunction": 1}), "has a fused activation"),
        (("MEAN", (0, 1), (2,), {}), "reduces the batch dimension (axes [0, 1])"),
        (("SOFTMAX", (3,), (2,), {}), "is not 1-D of <= 16000 elements"),
        (("FULLY_CONNECTED", (0,), (3,), {"WeightsFormat": 1}), "non-default weights format"),
        (("CONV_2D", (0,), (2,), {"DilationHFactor": 2, "DilationWFactor": 1}), "dilation"),
    ],
)
def test_supported_op_constraints_name_the_broken_rule(op, reason):
    from convert.tflite_file import OpInfo

    name, inputs, outputs, options = op
    tensors = [
        _tensor(0, (1, 8, 8, 4)),
        _tensor(1, (2,), "INT32", constant=True),
        _tensor(2, (1, 7)),
        _tensor(3, (1, 20_000)),
        _tensor(4, (2,), "INT32", constant=True),
    ]
    report = check_model(_graph(OpInfo(0, name, 1, inputs, outputs, options), tensors=tensors))
    ops = next(f for f in report.findings if f.rule == "supported ops")
    assert ops.status == "FAIL" and reason in ops.detail and f"#0 {name}" in ops.detail


def test_compiled_edgetpu_custom_op_is_accepted():
    from convert.tflite_file import OpInfo

    op = OpInfo(0, rules.EDGETPU_CUSTOM_OP, 1, (0,), (2,), {})
    tensors = [
        _tensor(0, (1, 48, 48, 1), "UINT8"),
        _tensor(1, (2,), "INT32", True),
        _tensor(2, (1, 7), "UINT8"),
    ]
    assert check_model(_graph(op, tensors=tensors)).ready
