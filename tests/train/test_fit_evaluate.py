"""Smoke runs of the real training CLI on tiny synthetic data (seconds each)."""

import csv
import json

import pytest

from edge.labels import EMOTIONS
from train.cli import main
from train.models import EDGE_STAGES

from .conftest import make_dataset

pytestmark = pytest.mark.slow


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def fit(data, out, flags: str = "") -> int:
    """``python -m train fit`` on ``data`` into ``out``, batch 32, quiet, plus ``flags``."""
    return main(["fit", "--data", str(data), "--out", str(out), "--batch-size", "32", "--quiet",
                 *flags.split()])  # fmt: skip


@pytest.mark.parametrize("arch", ["seed", "edge"])
def test_fit_one_epoch_writes_checkpoints_and_history(arch, tiny_fer, tmp_path, capsys):
    out = tmp_path / arch
    assert fit(tiny_fer, out, f"--arch {arch} --optimizer momentum --epochs 1") == 0
    state = last_json(capsys)
    assert state["epochs_done"] == 1
    assert (out / "last.keras").is_file() and (out / "best.keras").is_file()
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert len(rows) == 1 and {"accuracy", "val_accuracy", "loss"} <= rows[0].keys()


def test_resume_continues_from_the_last_checkpoint(tiny_fer, tmp_path, capsys):
    out = tmp_path / "run"
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 1") == 0
    capsys.readouterr()
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 2") == 1  # no overwrite
    assert "pass --resume" in capsys.readouterr().err
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 2 --resume") == 0
    assert last_json(capsys)["epochs_done"] == 2
    epochs = [int(r["epoch"]) for r in csv.DictReader((out / "history.csv").open())]
    assert epochs == [0, 1]


def test_a_resumed_run_is_not_fed_its_first_epochs_batches_again(tiny_fer, tmp_path, monkeypatch):
    """Each process's shuffle and augmentation streams start afresh: seeded alike, a resume
    replays the first epoch's exact batches (the seed network learnt them by heart)."""
    import numpy as np

    import train.fit as fit_module

    first_batches = []
    make = fit_module.make_dataset

    def recording(split, batch_size, training, seed, augment=True, soft=None):
        ds = make(split, batch_size, training, seed, augment, soft)
        if training:
            first_batches.append(next(iter(ds))[0].numpy())
        return ds

    monkeypatch.setattr(fit_module, "make_dataset", recording)
    out = tmp_path / "run"
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 1") == 0
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 2 --resume") == 0
    assert fit(tiny_fer, tmp_path / "again", "--arch edge --optimizer adam --epochs 1") == 0
    first, resumed, again = first_batches
    assert np.array_equal(first, again)  # the same seed from scratch: the same batches
    assert not np.array_equal(first, resumed)  # a resume: other batches


def test_easy_task_learns_and_shuffled_labels_do_not(tmp_path, capsys):
    """The same training on an easy task and on its shuffled labels: a wide gap between the two.

    Batch 16 (18 steps an epoch) reached 100% val accuracy by epoch 3 to 6 for seeds 0-2 (seed
    0, the one used, gives the same history on 1 and 2 cores), while shuffled labels stayed at
    0.14-0.29 (chance is 1/7): the gap asserted is 0.5, not an edge.
    """
    results = {}
    for name, shuffle in (("easy", False), ("shuffled", True)):
        data = make_dataset(
            tmp_path / name, train_per_class=40, val_per_class=12, shuffle_train_labels=shuffle
        )
        out = tmp_path / f"run-{name}"
        flags = "--arch edge --optimizer adam --epochs 6 --lr 3e-3 --no-augment --batch-size 16"
        assert fit(data, out, flags) == 0
        capsys.readouterr()
        assert main(["evaluate", "--model", str(out / "last.keras"), "--data", str(data)]) == 0
        results[name] = last_json(capsys)
    easy, shuffled = results["easy"], results["shuffled"]
    n_val = len(list((tmp_path / "easy" / "val").rglob("*.png")))
    assert set(easy) == {"n", "accuracy", "macro_f1", "recall", "confusion"}
    assert easy["n"] == n_val and len(easy["confusion"]) == len(EMOTIONS)
    assert all(len(row) == len(EMOTIONS) for row in easy["confusion"])
    assert sum(map(sum, easy["confusion"])) == n_val
    assert tuple(easy["recall"]) == EMOTIONS
    assert easy["accuracy"] - shuffled["accuracy"] >= 0.5, results  # learns the easy task
    assert shuffled["accuracy"] <= 0.45, shuffled  # chance is 1/7: labels that mean nothing


def test_evaluate_plot_and_tta(tiny_fer, tmp_path, capsys):
    out = tmp_path / "run"
    assert fit(tiny_fer, out, "--arch edge --epochs 1") == 0
    capsys.readouterr()
    plot = tmp_path / "confusion.png"
    model = str(out / "best.keras")
    args = ["evaluate", "--model", model, "--data", str(tiny_fer), "--tta", "flip"]
    assert main([*args, "--plot", str(plot)]) == 0
    output = capsys.readouterr().out.strip().splitlines()
    assert output[0].split() == ["class", "n", "recall"]
    assert json.loads(output[-1])["n"] == len(list((tiny_fer / "val").rglob("*.png")))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --paper: the per-class panel beside Figure 4 makes the figure twice as wide.
    import cv2

    wide = tmp_path / "paper.png"
    assert main([*args, "--plot", str(wide), "--paper"]) == 0
    assert cv2.imread(str(wide)).shape[1] > 1.8 * cv2.imread(str(plot)).shape[1]


def edge_params_and_macs() -> tuple[int, int]:
    """Counted by hand from ``EDGE_STAGES``: 3x3 convs without bias, 4 BN numbers per channel,
    a 2x2 pool per stage, then the dense head on the flattened map (48 -> 3 after 4 pools)."""
    params = macs = 0
    side, c_in = 48, 1
    for widths in EDGE_STAGES:
        for c_out in widths:
            params += 9 * c_in * c_out + 4 * c_out
            macs += side * side * 9 * c_in * c_out
            c_in = c_out
        side //= 2
    flat = side * side * c_in
    return params + flat * len(EMOTIONS) + len(EMOTIONS), macs + flat * len(EMOTIONS)


def test_export_drops_optimizer_state_and_keeps_predictions(tiny_fer, tmp_path, capsys):
    import keras
    import numpy as np

    out = tmp_path / "run"
    assert fit(tiny_fer, out, "--arch edge --optimizer adam --epochs 1") == 0
    capsys.readouterr()
    dest = tmp_path / "models" / "emotion.keras"
    assert main(["export", str(out / "best.keras"), str(dest)]) == 0
    report = last_json(capsys)
    assert report["bytes"] == dest.stat().st_size < (out / "best.keras").stat().st_size
    params, macs = edge_params_and_macs()
    assert report["params"] == params and report["macs"] == macs
    assert [p.name for p in dest.parent.iterdir()] == ["emotion.keras"]  # no temporary left
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype("float32")
    shipped = keras.models.load_model(dest)
    original = keras.models.load_model(out / "best.keras")
    assert getattr(shipped, "optimizer", None) is None
    np.testing.assert_allclose(shipped.predict(faces, verbose=0),
                               original.predict(faces, verbose=0), atol=1e-6)  # fmt: skip


def test_export_names_a_missing_checkpoint(tmp_path, capsys):
    missing = tmp_path / "runs" / "nope" / "best.keras"
    assert main(["export", str(missing), str(tmp_path / "emotion.keras")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(missing) in err


def test_init_starts_from_the_given_weights_and_refuses_another_arch(tiny_fer, tmp_path, capsys):
    import keras
    import numpy as np

    first = tmp_path / "first"
    assert fit(tiny_fer, first, "--arch edge --optimizer adam --epochs 1") == 0

    def weights(path):  # trainable only: BatchNorm's moving statistics move at any rate
        model = keras.models.load_model(path, compile=False)
        return [np.asarray(w) for w in model.trainable_weights]

    # A learning rate of ~0: the second stage's weights are the first stage's, not a new init.
    tiny_lr = "--arch edge --optimizer adam --epochs 1 --lr 1e-12 --weight-decay 0"
    assert fit(tiny_fer, tmp_path / "second", f"{tiny_lr} --init {first / 'best.keras'}") == 0
    assert fit(tiny_fer, tmp_path / "fresh", tiny_lr) == 0
    want = weights(first / "best.keras")
    got, fresh = weights(tmp_path / "second/last.keras"), weights(tmp_path / "fresh/last.keras")
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(got, want, strict=True))
    assert not all(np.allclose(a, b, atol=1e-6) for a, b in zip(fresh, want, strict=True))
    capsys.readouterr()
    assert fit(tiny_fer, tmp_path / "other", f"--arch fast --init {first / 'best.keras'}") == 1
    assert "layers do not match --arch" in capsys.readouterr().err


def test_sweep_lr_picks_the_rate_that_learns(tmp_path, capsys):
    """Two peak rates on the easy task above: 3e-3 learns it (100% by epoch 3-6), 1e-9 cannot
    move the weights, so it stays at the initial guess; the sweep must pick 3e-3."""
    data = make_dataset(tmp_path / "easy", train_per_class=40, val_per_class=12)
    out = tmp_path / "sweep"
    flags = ["--arch", "edge", "--epochs", "6", "--no-augment", "--batch-size", "16"]
    args = ["sweep-lr", "--data", str(data), "--out", str(out), "--optimizer", "adam"]
    assert main([*args, *flags, "--lrs", "1e-9,3e-3"]) == 0
    result = last_json(capsys)
    assert result["best_lr"] == 3e-3, result
    by_lr = {r["lr"]: r["best_val_accuracy"] for r in result["runs"]}
    assert by_lr[3e-3] - by_lr[1e-9] >= 0.5, by_lr
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [float(r["lr"]) for r in rows] == [1e-9, 3e-3]
    assert (out / "lr-1e-09" / "best.keras").is_file() and (out / "lr-0.003").is_dir()


def test_optimizer_lrs_and_protocol_flags_parse():
    from train import cli, models
    from train.cli import build_parser, optimizer_lrs
    from train.fit import FitConfig

    assert cli.ARCHITECTURES == models.ARCHITECTURES  # the CLI's copy avoids importing TF

    assert optimizer_lrs("momentum=0.01,adam=1e-3") == {"momentum": 0.01, "adam": 1e-3}
    for bad in ("sgd=0.1", "adam", "adam=-1"):
        with pytest.raises(Exception, match="OPT=LR|must be > 0"):
            optimizer_lrs(bad)
    args = build_parser().parse_args(["fit", "--data", "d", "--out", "o", "--protocol", "paper"])
    assert args.protocol == "paper"
    assert FitConfig("seed", "momentum", "d", "o", 1, protocol="paper").splits == (
        "paper-train",
        "paper-test",
    )
    assert FitConfig("seed", "momentum", "d", "o", 1).splits == ("train", "val")
