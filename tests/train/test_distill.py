"""Distillation (train/distill.py): the loss, and smoke runs of ``fit --teacher`` on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from edge.labels import NUM_CLASSES
from tests.synthetic import synthetic_faces, write_folder
from train.cli import main
from train.distill import SOFT_FILE, DistillLoss, hard_accuracy
from train.models import build, count_macs


def _loss(y_true, y_pred, **kwargs) -> float:
    loss = DistillLoss(**kwargs)
    return float(loss(np.asarray(y_true, "float32"), np.asarray(y_pred, "float32")))


def test_fast_architecture_fits_the_cpu_budget():
    model = build("fast")
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, NUM_CLASSES)
    assert count_macs(model) <= 30_000_000


def test_alpha_zero_is_plain_cross_entropy_and_alpha_one_ignores_the_labels():
    onehot = np.eye(NUM_CLASSES)[[2]]
    student = np.array([[0.05, 0.05, 0.6, 0.1, 0.1, 0.05, 0.05]])
    teacher = np.array([[0.05, 0.05, 0.1, 0.6, 0.1, 0.05, 0.05]])
    y = np.concatenate([onehot, teacher], axis=1)
    ce = float(keras.losses.categorical_crossentropy(onehot, student)[0])
    assert _loss(y, student, alpha=0.0) == pytest.approx(ce, rel=1e-5)
    # Student equal to the teacher: nothing left to learn from it, whatever the label says.
    y_agree = np.concatenate([onehot, student], axis=1)
    assert _loss(y_agree, student, alpha=1.0) == pytest.approx(0.0, abs=1e-5)
    assert _loss(y, student, alpha=1.0) > 0.1


def test_temperature_softens_both_sides_and_is_scaled_by_t_squared():
    onehot = np.eye(NUM_CLASSES)[[0]]
    student = np.full((1, NUM_CLASSES), 0.1)
    student[0, 0] = 0.4
    teacher = np.full((1, NUM_CLASSES), 0.05)
    teacher[0, 1] = 0.7
    y = np.concatenate([onehot, teacher], axis=1)
    # KL between the tempered distributions, computed here by hand.
    t = 3.0
    pt = teacher[0] ** (1 / t) / (teacher[0] ** (1 / t)).sum()
    ps = student[0] ** (1 / t) / (student[0] ** (1 / t)).sum()
    kl = float((pt * np.log(pt / ps)).sum())
    assert _loss(y, student, alpha=1.0, temperature=t) == pytest.approx(t * t * kl, rel=1e-4)


def test_bad_alpha_and_temperature_are_refused():
    with pytest.raises(ValueError, match="alpha"):
        DistillLoss(alpha=1.5)
    with pytest.raises(ValueError, match="temperature"):
        DistillLoss(temperature=0)


def test_accuracy_reads_the_one_hot_half_not_the_teacher_half():
    onehot = np.eye(NUM_CLASSES)[[1, 4]]
    teacher = np.eye(NUM_CLASSES)[[3, 3]]
    pred = np.eye(NUM_CLASSES)[[1, 3]]
    y = np.concatenate([onehot, teacher], axis=1).astype("float32")
    assert np.asarray(hard_accuracy(y, pred.astype("float32"))).tolist() == [1.0, 0.0]


# --- smoke runs of the CLI -------------------------------------------------------------------

SHIFT = 1  # the hand-made teacher calls brightness level k class (k + 1) % 7


def _shifted_teacher(path: Path) -> Path:
    """A teacher that disagrees with the labels: it reads level k (mean 25 + 32k) as k + 1.

    Mean pixel m -> logits_j = (2 c_j m - c_j^2) / s, i.e. -(m - c_j)^2 / s up to a shift
    shared by all classes, so class j wins near its centre c_j.
    """
    centres = np.array([25.0 + 32.0 * ((j - SHIFT) % NUM_CLASSES) for j in range(NUM_CLASSES)])
    s = 60.0
    pixels = keras.Input((48, 48, 1))
    mean = keras.layers.GlobalAveragePooling2D()(pixels)
    scores = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="scores")(mean)
    model = keras.Model(pixels, scores, name="shifted_teacher")
    model.get_layer("scores").set_weights([(2 * centres / s)[None, :], -(centres**2) / s])
    model.save(path)
    return path


@pytest.fixture
def fer_and_teacher(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "fer"
    images, labels = synthetic_faces(40, seed=0)
    write_folder(data / "train", images, labels)
    write_folder(data / "val", *synthetic_faces(12, seed=2))
    return data, _shifted_teacher(tmp_path / "teacher.keras")


def _fit(data: Path, out: Path, teacher: Path | None, flags: str) -> int:
    args = ["fit", "--arch", "fast", "--data", str(data), "--out", str(out), "--quiet",
            "--batch-size", "32", *flags.split()]  # fmt: skip
    if teacher is not None:
        args += ["--teacher", str(teacher)]
    return main(args)


def _evaluate(model: Path, data: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(data)]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _agreement_with_teacher(result: dict) -> float:
    confusion = np.asarray(result["confusion"])
    hits = sum(confusion[k, (k + SHIFT) % NUM_CLASSES] for k in range(NUM_CLASSES))
    return hits / confusion.sum()


@pytest.mark.slow
def test_the_student_follows_the_teacher_as_alpha_says(fer_and_teacher, tmp_path, capsys):
    data, teacher = fer_and_teacher
    flags = "--epochs 8 --lr 3e-3 --no-augment --temperature 1"
    runs = {}
    for alpha in ("1.0", "0.0"):
        out = tmp_path / f"alpha{alpha}"
        assert _fit(data, out, teacher, f"{flags} --distill-alpha {alpha}") == 0
        assert np.load(out / SOFT_FILE).shape == (280, NUM_CLASSES)
        runs[alpha] = _evaluate(out / "last.keras", data, capsys)
    # alpha 1: the labels are ignored, the student learns the teacher's shifted reading.
    assert _agreement_with_teacher(runs["1.0"]) >= 0.8, runs["1.0"]["confusion"]
    assert runs["1.0"]["accuracy"] <= 0.2
    # alpha 0: the teacher is ignored, the student learns the labels.
    assert runs["0.0"]["accuracy"] >= 0.8, runs["0.0"]["confusion"]


@pytest.mark.slow
def test_distilled_run_resumes_and_scores_augmented_batches(fer_and_teacher, tmp_path, capsys):
    data, teacher = fer_and_teacher
    out = tmp_path / "run"
    assert _fit(data, out, teacher, "--epochs 1 --distill-on augmented") == 0
    assert not (out / SOFT_FILE).exists()  # scored per batch, nothing cached
    assert _fit(data, out, teacher, "--epochs 2 --distill-on augmented --resume") == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs_done"] == 2
    # The checkpoint is a plain student: it loads without the distillation code's loss.
    model = keras.models.load_model(out / "best.keras", compile=False)
    assert model.name == "fast" and model.output_shape == (None, NUM_CLASSES)


def test_missing_teacher_is_one_line_and_exit_1(fer_and_teacher, tmp_path, capsys):
    data, _ = fer_and_teacher
    assert _fit(data, tmp_path / "run", tmp_path / "nope.keras", "--epochs 1") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.keras" in err[0] and "Traceback" not in err[0]


def test_resume_refuses_to_drop_or_add_the_teacher(fer_and_teacher, tmp_path, capsys):
    data, teacher = fer_and_teacher
    out = tmp_path / "run"
    out.mkdir()
    # What a finished epoch of a distilled run leaves behind (no training needed to check).
    (out / "state.json").write_text(json.dumps({"epochs_done": 1, "best_val_accuracy": 0.5}))
    (out / "config.json").write_text(json.dumps({"teacher": str(teacher), "distill_on": "clean"}))
    assert _fit(data, out, None, "--epochs 2 --resume") == 1
    assert "resume it with the same distillation flags" in capsys.readouterr().err
    assert _fit(data, out, teacher, "--epochs 2 --resume --distill-on augmented") == 1
    assert "--distill-on clean" in capsys.readouterr().err
