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

from .conftest import TINY_STAGES, synthetic_faces


def _tflite(model, path: Path, *, float_io: bool = False, allow_float_ops: bool = False) -> Path:
    """Convert as the traps happen in practice: float I/O, dynamic batch, float fallback."""
    import tensorflow as tf

    images, _ = synthetic_faces(2, seed=3)
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
