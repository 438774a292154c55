"""The conversion CLI end to end on a tiny model, and its pieces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convert.check import check_file
from convert.cli import main
from convert.compiler import HOW_TO_GET
from convert.errors import ConvertError
from convert.parity import MAX_DROP_PP
from convert.quantize import balanced_sample
from convert.tflite_file import read_model
from edge.fsio import write_atomic
from edge.labels import labels_text


def test_balanced_sample_is_even_deterministic_and_fills_from_big_classes():
    labels = np.array([0] * 50 + [1] * 2 + [2] * 50 + [3] * 50 + [4] * 50 + [5] * 50 + [6] * 50)
    picked = balanced_sample(labels, 70)
    counts = np.bincount(labels[picked], minlength=7)
    assert len(picked) == len(set(picked.tolist())) == 70
    assert counts[1] == 2 and counts.max() - counts[counts != 2].min() <= 1
    assert np.array_equal(picked, balanced_sample(labels, 70))
    with pytest.raises(ConvertError, match="below one image per class"):
        balanced_sample(labels, 3)


def test_write_atomic_leaves_no_temp_file_on_failure(tmp_path):
    target = write_atomic(tmp_path / "a.txt", "one\n")
    assert target.read_text() == "one\n"
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "b.bin", 42)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.slow
def test_convert_writes_full_int8_model_labels_and_parity(converted: Path):
    model = converted / "emotion_int8.tflite"
    info = read_model(model)
    inp, out = info.tensors[info.inputs[0]], info.tensors[info.outputs[0]]
    assert (inp.dtype, inp.shape, inp.shape_signature) == ("UINT8", (1, 48, 48, 1), (1, 48, 48, 1))
    assert out.dtype == "UINT8" and out.scale and out.shape == (1, 7)
    assert not [t.name for t in info.tensors if t.dtype.startswith("FLOAT")]
    assert check_file(model).ready
    assert (converted / "emotion.labels.txt").read_text() == labels_text()
    assert not list(converted.glob("*.tmp"))


@pytest.mark.slow
def test_parity_json_has_the_figures(converted: Path, fer_dir: Path):
    report = json.loads((converted / "emotion_int8.parity.json").read_text())
    assert report["n"] == len(list((fer_dir / "val").rglob("*.png")))
    # The tiny model learned the easy task, and int8 kept it (at the default 1 pp limit).
    assert report["float_accuracy"] >= 0.9 and report["int8_accuracy"] >= 0.9, report
    assert report["top1_agreement"] >= 0.9
    drop = (report["float_accuracy"] - report["int8_accuracy"]) * 100
    assert report["accuracy_drop_pp"] == pytest.approx(drop, abs=0.01)
    assert report["passed"] is True and report["max_drop_pp"] == MAX_DROP_PP
    assert set(report["largest_recall_change"]) == {"class", "float", "int8", "change_pp"}
    confusion = np.array(report["int8"]["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == report["n"]
    assert np.trace(confusion) / report["n"] == pytest.approx(report["int8_accuracy"], abs=1e-4)
    prov = report["provenance"]
    assert prov["converter"]["tensorflow"] and prov["calibration"]["size"] == 21
    assert prov["io"]["input"]["dtype"] == "uint8" and prov["io"]["input"]["scale"] > 0


def near_tie_model(path: Path) -> Path:
    """A float model that is right on every synthetic face by a hair, and int8 cannot keep it.

    Class k's score is ``-EPS * (mean brightness - centre_k)**2`` (up to a term shared by all
    classes), so the nearest class centre of ``tests.synthetic`` wins. With EPS this small every
    softmax output is 1/7 within 1e-4, below the uint8 output step (1/256): int8 ties them all.
    """
    import keras

    eps, pixels_per_face = 1e-8, 48 * 48
    centres = 25.0 + 32.0 * np.arange(7)  # tests.synthetic: class k has mean 25 + 32k
    pixels = keras.Input((48, 48, 1))
    dense = keras.layers.Dense(7, activation="softmax")
    model = keras.Model(pixels, dense(keras.layers.Flatten()(pixels)))
    kernel = np.tile(2 * eps * centres / pixels_per_face, (pixels_per_face, 1))
    dense.set_weights([kernel.astype(np.float32), (-eps * centres**2).astype(np.float32)])
    model.save(path)
    return path


@pytest.mark.slow
def test_parity_gate_fails_a_conversion_that_loses_accuracy(tmp_path, fer_dir, monkeypatch, capsys):
    model = near_tie_model(tmp_path / "near_tie.keras")
    out = tmp_path / "out"
    monkeypatch.setenv("PATH", str(tmp_path))  # no edgetpu_compiler, whatever the machine has
    args = [str(model), "--data", str(fer_dir), "--out", str(out), "--calibration-size", "21"]
    code = main(args)
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "int8 loses" in err[0], captured.err
    report = json.loads((out / "emotion_int8.parity.json").read_text())
    assert report["float_accuracy"] >= 0.9 and report["int8_accuracy"] <= 0.5, report
    assert report["passed"] is False and report["accuracy_drop_pp"] > MAX_DROP_PP
    assert f"{report['accuracy_drop_pp']:.2f} pp" in err[0]
    assert "FAIL" in captured.out and HOW_TO_GET not in captured.out  # stopped before compiling


@pytest.mark.slow
def test_missing_compiler_is_one_line_and_exit_0(converted: Path):
    lines = (converted / "stdout.txt").read_text().splitlines()
    missing = [line for line in lines if "edgetpu_compiler not on PATH" in line]
    assert len(missing) == 1 and "coral-edgetpu-stable" in missing[0]
    assert not (converted / "emotion_int8_edgetpu.tflite").exists()


def test_require_edgetpu_without_compiler_exits_1_before_converting(
    tmp_path, fer_dir, monkeypatch, capsys
):
    model = tmp_path / "m.keras"
    model.write_bytes(b"not used")
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(
        [str(model), "--data", str(fer_dir), "--out", str(tmp_path / "o"), "--require-edgetpu"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "edgetpu_compiler not on PATH" in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp / "nope.keras", "nope.keras: no such model file"),
        (lambda tmp: _touch(tmp / "model.h5"), "model.h5: not a Keras model file"),
        (lambda tmp: _touch(tmp / "model.keras"), "nodata: no such data folder"),
    ],
)
def test_bad_input_is_one_line_exit_1(tmp_path, capsys, make, expected):
    model = make(tmp_path)
    code = main([str(model), "--data", str(tmp_path / "nodata"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and expected in err[0]
    assert "Traceback" not in err[0]


def _touch(path: Path) -> Path:
    path.write_bytes(b"x")
    return path


@pytest.mark.slow
def test_latency_reports_median_and_p95(converted: Path, capsys):
    assert main(["latency", str(converted / "emotion_int8.tflite"), "--runs", "20"]) == 0
    out = capsys.readouterr().out
    assert "median" in out and "p95" in out and "1 thread" in out


@pytest.mark.slow
def test_model_with_the_wrong_input_is_one_clear_error():
    import keras

    from convert.quantize import to_int8_tflite

    pixels = keras.Input((32, 32, 3))
    model = keras.Model(pixels, keras.layers.Dense(7)(keras.layers.Flatten()(pixels)))
    with pytest.raises(ConvertError, match=r"does not take a \(1, 48, 48, 1\) pixel input"):
        to_int8_tflite(model, np.zeros((7, 48, 48), dtype=np.uint8))
