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
from tests.edge.conftest import DATA, SHIPPED_MODEL
from tests.fakes import FakeClassifier, one_hot

EXPECTED = DATA / "expected.csv"
TOLERANCE = 0.02  # one or two quantization steps of a uint8 softmax output


def reference_scores(model: Path, face: np.ndarray) -> np.ndarray:
    """Independent path: the runtime's interpreter fed by hand from the tensor details."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = inp["quantization"]
    info = np.iinfo(inp["dtype"])
    q = np.clip(np.round(face / scale + zp), info.min, info.max).astype(inp["dtype"])
    interp.set_tensor(inp["index"], q[None, :, :, None])
    interp.invoke()
    oscale, ozp = out["quantization"]
    return (interp.get_tensor(out["index"]).reshape(-1).astype(np.float64) - ozp) * oscale


def test_cpu_classifier_scores_real_faces(model, faces48):
    clf = CpuClassifier(model, num_threads=1)
    assert clf.name == "cpu" and clf.input_dtype in (np.uint8, np.int8)
    for face in faces48:
        scores = clf.classify(face)
        assert scores.shape == (7,) and scores.dtype == np.float32
        assert abs(float(scores.sum()) - 1.0) < 0.05  # softmax after dequantization
        assert np.array_equal(scores, clf.classify(face))  # deterministic
        assert np.allclose(scores, reference_scores(model, face), atol=1e-6)


def test_cpu_classifier_matches_golden_scores(model, faces48):
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    rows = list(csv.DictReader(EXPECTED.open())) if EXPECTED.is_file() else []
    stale = f"{EXPECTED.name} is not for model {digest}: python -m tests.edge.test_backends"
    if not rows or rows[0]["model_sha"] != digest:
        if model.resolve() == SHIPPED_MODEL.resolve():
            pytest.fail(f"the shipped model changed; {stale}")
        pytest.skip(stale)  # a stand-in model (EDGE_TEST_MODEL) has no golden scores
    clf = CpuClassifier(model)
    for row, face in zip(rows, faces48, strict=True):
        want = np.array([float(row[f"s{i}"]) for i in range(7)])
        assert np.allclose(clf.classify(face), want, atol=TOLERANCE), row["image"]


def write_expected(model: Path) -> None:
    """Regenerate tests/data/expected.csv for ``model`` (after checking its scores by eye)."""
    import cv2

    clf = CpuClassifier(model)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    with EXPECTED.open("w", newline="") as f:
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
    with pytest.raises(ModelError, match=r"input is \(1, 64, 64, 3\)"):
        CpuClassifier(DATA / "wrong_shape_int8.tflite")
    cfg = ModelConfig(path=DATA / "float32.tflite", edgetpu_path=DATA / "float32.tflite")
    with pytest.raises(ModelError, match="not 8-bit"):
        load_classifier(cfg, "edgetpu")


def test_auto_falls_back_to_cpu_with_one_warning(model, caplog):
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


def test_forced_edgetpu_without_tpu_is_an_error(model):
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


if __name__ == "__main__":
    from tests.edge.conftest import model_path

    write_expected(model_path() or Path(sys.argv[1]))
