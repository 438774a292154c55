"""The real CPU TFLite backend on real face images, backend choice, fallback and failover."""

from __future__ import annotations

import csv
import hashlib
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.backends import FailoverClassifier, load_classifier
from edge.backends.cpu import CpuClassifier
from edge.backends.probe import probe_edgetpu
from edge.config import ModelConfig
from edge.errors import BackendUnavailable, ModelError
from tests.edge.conftest import DATA, SHIPPED, model_path
from tests.fakes import FakeClassifier, one_hot

TOLERANCE = 0.02  # one or two quantization steps of a uint8 softmax output
FLOAT_TOLERANCE = 0.03  # int8 vs float per score; measured 0.005 at most on these faces


@pytest.fixture(scope="module")
def edgetpu_present() -> bool:
    """Whether this machine runs the Edge TPU (the real probe, in a child process)."""
    return model_path() is not None and probe_edgetpu(model_path()) is None


@pytest.fixture
def no_edgetpu(edgetpu_present: bool) -> None:
    """For tests of the no-TPU path: they skip on the target hardware instead of failing."""
    if edgetpu_present:
        pytest.skip("an Edge TPU is present: this test is for machines without one")


@pytest.mark.parametrize("kind", SHIPPED)
def test_cpu_classifier_scores_real_faces(kind, faces48):
    keras = pytest.importorskip("keras", reason="the float reference needs keras (workstation)")
    model, float_path, _ = SHIPPED[kind]
    if not model.is_file() or not float_path.is_file():
        pytest.fail(f"the {kind} model ships as {model} and {float_path}")
    clf = CpuClassifier(model, num_threads=1)
    assert clf.name == "cpu" and clf.input_dtype in (np.uint8, np.int8)
    float_model = keras.models.load_model(float_path, compile=False)
    for face in faces48:
        scores = clf.classify(face)
        assert scores.shape == (7,) and scores.dtype == np.float32
        assert abs(float(scores.sum()) - 1.0) < 0.05  # softmax after dequantization
        # Independent reference: the float model the int8 file was converted from.
        want = float_model.predict(face[None, :, :, None].astype(np.float32), verbose=0)[0]
        assert np.argmax(scores) == np.argmax(want)
        assert np.abs(scores - want).max() < FLOAT_TOLERANCE, (scores, want)


@pytest.mark.parametrize("kind", SHIPPED)
def test_cpu_classifier_matches_golden_scores(kind, faces48):
    model, _, expected = SHIPPED[kind]
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    rows = list(csv.DictReader(expected.open())) if expected.is_file() else []
    if not rows or rows[0]["model_sha"] != digest:
        pytest.fail(f"{expected.name} is not for {model} ({digest}): "
                    f"python -m tests.edge.test_backends {model}")  # fmt: skip
    clf = CpuClassifier(model)
    for row, face in zip(rows, faces48, strict=True):
        want = np.array([float(row[f"s{i}"]) for i in range(7)])
        assert np.allclose(clf.classify(face), want, atol=TOLERANCE), row["image"]


@pytest.mark.parametrize("kind", SHIPPED)
def test_the_input_table_gives_what_quantizing_each_face_gives(kind, faces48):
    """uint8 faces are quantized through a 256-entry table: the same input tensor, so the same
    scores, as the formula on the face's pixels (the path for other dtypes)."""
    clf = CpuClassifier(SHIPPED[kind][0])
    assert clf._quantized.dtype == clf.input_dtype
    for face in faces48:
        by_table = clf.classify(face)
        by_formula = clf.classify(face.astype(np.float32))
        assert np.array_equal(by_table, by_formula)


def write_expected(model: Path) -> None:
    """Regenerate the golden scores of a shipped ``model`` (after checking them by eye)."""
    import cv2

    (expected,) = [g for m, _, g in SHIPPED.values() if m.resolve() == model.resolve()]
    clf = CpuClassifier(model)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    with expected.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "model_sha", *[f"s{i}" for i in range(7)]])
        for path in sorted(DATA.glob("face_*.png")):
            scores = clf.classify(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
            w.writerow([path.name, digest, *[f"{s:.6f}" for s in scores]])


def test_bad_models_are_rejected_with_the_reason(tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"not a flatbuffer" * 64)
    with pytest.raises(ModelError, match="not found"):
        CpuClassifier(tmp_path / "missing.tflite")
    with pytest.raises(ModelError, match="cannot load model"):
        CpuClassifier(corrupt)
    with pytest.raises(ModelError, match=r"wrong_shape_int8.tflite: input is \(1, 64, 64, 3\)"):
        CpuClassifier(DATA / "wrong_shape_int8.tflite")
    cfg = ModelConfig(path=DATA / "float32.tflite", edgetpu_path=DATA / "float32.tflite")
    with pytest.raises(ModelError, match="not 8-bit"):
        load_classifier(cfg, "edgetpu")


def test_auto_falls_back_to_cpu_with_one_warning(model, no_edgetpu, caplog):
    # Real probe in a child process: this machine has no libedgetpu / no TPU.
    cfg = ModelConfig(path=model, edgetpu_path=model)
    with caplog.at_level(logging.INFO):
        clf = load_classifier(cfg, "auto")
    assert clf.name == "cpu"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Edge TPU unavailable" in warnings[0].getMessage()
    assert "libedgetpu" in warnings[0].getMessage()  # the cause is named


def test_auto_falls_back_when_the_probe_crashes(model, caplog):
    crash = "Edge TPU probe crashed with SIGSEGV (libedgetpu/runtime version mismatch?)"
    cfg = ModelConfig(path=model, edgetpu_path=model)
    with caplog.at_level(logging.WARNING):
        clf = load_classifier(cfg, "auto", probe=lambda *_: crash)
    assert clf.name == "cpu"
    assert [r.getMessage() for r in caplog.records] == [
        f"Edge TPU unavailable, running on CPU: {crash}"
    ]


def test_forced_edgetpu_without_tpu_is_an_error(model, no_edgetpu):
    with pytest.raises(BackendUnavailable, match="Edge TPU unavailable"):
        load_classifier(ModelConfig(path=model, edgetpu_path=model), "edgetpu")


def test_probe_reports_a_child_that_dies_by_signal(monkeypatch, tmp_path):
    crasher = tmp_path / "python"
    crasher.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crasher.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(crasher))
    assert "SIGSEGV" in probe_edgetpu(Path("m_edgetpu.tflite"))


def test_tpu_failing_mid_run_switches_to_cpu(caplog):
    tpu = FakeClassifier(name="edgetpu", fail_at=3)
    cpu = FakeClassifier(lambda _f, _i: one_hot("happy"), name="cpu")
    clf = FailoverClassifier(tpu, lambda: cpu)
    face = np.zeros((48, 48), np.uint8)
    with caplog.at_level(logging.WARNING):
        names = []
        for _ in range(6):
            clf.classify(face)
            names.append(clf.name)
    assert names == ["edgetpu"] * 3 + ["cpu"] * 3
    assert tpu.calls == 3 and cpu.calls == 3
    assert len(caplog.records) == 1 and "switching to CPU" in caplog.records[0].getMessage()


def test_a_tpu_failing_mid_run_falls_back_to_the_fast_cpu_model(caplog):
    """The TPU runs the accurate model; its fallback is ``[model] path``, the fast one."""
    accurate, fast = SHIPPED["accurate"][0], SHIPPED["fast"][0]
    cfg = ModelConfig(path=fast, edgetpu_path=accurate)  # the compiled file's stand-in
    tpu = FakeClassifier(name="edgetpu", fail_at=0)  # USB pulled before the first face
    opened: list[tuple[Path, str]] = []

    def make_tpu(path: Path, device: str) -> FakeClassifier:
        opened.append((path, device))
        return tpu

    clf = load_classifier(cfg, "edgetpu", probe=lambda *_: None, make_tpu=make_tpu)
    assert clf.name == "edgetpu" and opened == [(accurate, "")]
    with caplog.at_level(logging.INFO):
        clf.classify(np.zeros((48, 48), np.uint8))
    assert clf.name == "cpu" and clf._current.model_path == fast
    assert any(f"backend: cpu ({fast}" in r.getMessage() for r in caplog.records)


def test_a_fallback_that_fails_too_raises_and_fails_over_only_once(caplog):
    tpu = FakeClassifier(name="edgetpu", fail_at=1)
    cpu = FakeClassifier(name="cpu", fail_at=2, fail_with=RuntimeError("XNNPACK: out of memory"))
    made: list[FakeClassifier] = []

    def make_cpu() -> FakeClassifier:
        made.append(cpu)
        return cpu

    clf = FailoverClassifier(tpu, make_cpu)
    face = np.zeros((48, 48), np.uint8)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # the TPU once, then (failing over) the CPU twice
            clf.classify(face)
        with pytest.raises(RuntimeError, match="XNNPACK: out of memory"):
            clf.classify(face)
    assert made == [cpu] and clf.name == "cpu" and clf.failed_over
    assert (tpu.calls, cpu.calls) == (1, 2)
    assert len(caplog.records) == 1 and "switching to CPU" in caplog.records[0].getMessage()


if __name__ == "__main__":
    write_expected(Path(sys.argv[1]))
