"""`python -m train curves`: runs trained apart in one plot, with the figures the paper's
Figure 5 is read for (best val accuracy, epochs to reach 90% of it)."""

import csv
import json

from train.cli import main


def write_history(run, val: list[float]) -> None:
    run.mkdir(parents=True)
    with (run / "history.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", "accuracy", "loss", "val_accuracy", "val_loss"])
        for epoch, v in enumerate(val):
            writer.writerow([epoch, v - 0.05, 1.5 - v, v, 1.6 - v])


def test_curves_report_best_and_epochs_to_90_percent_per_run(tmp_path, capsys):
    # slow: 90% of 0.60 is 0.54, first reached at epoch 4; fast: 90% of 0.50 at epoch 1
    write_history(tmp_path / "slow", [0.30, 0.40, 0.50, 0.55, 0.60, 0.58])
    write_history(tmp_path / "fast", [0.46, 0.50, 0.49])
    out = tmp_path / "fig" / "curves.png"
    rc = main(
        ["curves", f"slow={tmp_path / 'slow'}", f"fast={tmp_path / 'fast'}", "--out", str(out)]
    )
    assert rc == 0
    runs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"]
    assert runs["slow"] == {
        "epochs": 6,
        "best_val_accuracy": 0.6,
        "best_epoch": 5,
        "epochs_to_90pct": 4,
    }
    assert runs["fast"]["best_epoch"] == 2 and runs["fast"]["epochs_to_90pct"] == 1
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    assert [(r["optimizer"], r["epoch"]) for r in rows][:2] == [("slow", "1"), ("slow", "2")]
    assert len(rows) == 9


def test_curves_name_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["curves", f"x={tmp_path / 'empty'}", "--out", str(tmp_path / "c.png")])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no history.csv" in err[0] and "empty" in err[0]
    assert not (tmp_path / "c.png").exists()
