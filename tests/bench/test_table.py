"""``bench.table``: ours against ``fer`` per clip, and the clips meeting each target."""

from __future__ import annotations

import json
from pathlib import Path

from bench.table import main, table


def _fer(recall: float, phantoms: float) -> dict:
    return {
        "recall": recall,
        "phantoms_per_100_frames": phantoms,
        "phantoms_on_faces_per_100_frames": phantoms / 2,
        "label_accuracy": 0.6,
        "label_changes_per_100": 9.0,
        "change_frames_p95": 30.0,
    }


def _ours(recall: float, phantoms: float, smoothed: float, raw: float) -> dict:
    row = _fer(recall, phantoms) | {"label_accuracy": smoothed, "label_accuracy_raw": raw}
    return row | {"label_changes_per_100": 1.5, "label_changes_per_100_raw": 6.0}


def _write(out: Path, side: str, name: str, row: dict) -> None:
    (out / side).mkdir(parents=True, exist_ok=True)
    (out / side / f"{name}.json").write_text("INFO: a log line\n" + json.dumps(row) + "\n")


def test_rows_in_clip_order_and_the_targets_counted(tmp_path: Path, capsys):
    # scene10: recall above fer's, phantoms 0.5 (met), smoothed under raw;
    # scene2: recall under fer's, phantoms 0.6 (not met), smoothed equal to raw (met).
    _write(tmp_path, "ours", "scene10", _ours(0.701, 0.5, 0.69, 0.70))
    _write(tmp_path, "fer", "scene10", _fer(0.700, 3.0))
    _write(tmp_path, "ours", "scene2", _ours(0.650, 0.6, 0.71, 0.71))
    _write(tmp_path, "fer", "scene2", _fer(0.660, 1.0))
    assert main([str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" | ")[0] for line in lines[2:4]] == ["| scene2", "| scene10"]
    assert lines[2].startswith("| scene2 | 0.650 / 0.660 | 0.60 (0.30) / 1.00 (0.50) |")
    assert "| 0.710 / 0.710 / 0.600 | 1.5 / 6.0 / 9.0 | 30.0 / 30.0 |" in lines[2]
    assert lines[-1] == (
        "| targets met | >= `fer` on 1 of 2 | <= 0.5 on 1 of 2 | smoothed >= raw on 1 of 2 | | |"
    )


def test_a_run_without_truth_is_one_line_naming_the_file_and_key(tmp_path: Path, capsys):
    ours = _ours(0.7, 0.0, 0.7, 0.7)
    del ours["label_accuracy_raw"]
    _write(tmp_path, "ours", "scene0", ours)
    _write(tmp_path, "fer", "scene0", _fer(0.7, 0.0))
    assert main([str(tmp_path), "scene0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ours/scene0.json" in err and "label_accuracy_raw" in err


def test_a_missing_fer_run_is_named(tmp_path: Path, capsys):
    _write(tmp_path, "ours", "scene0", _ours(0.7, 0.0, 0.7, 0.7))
    assert main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fer/scene0.json: cannot read" in err


def test_table_has_one_row_per_clip_and_the_targets(tmp_path: Path):
    for name in ("clip", "scene0"):
        _write(tmp_path, "ours", name, _ours(0.8, 0.0, 0.7, 0.6))
        _write(tmp_path, "fer", name, _fer(0.8, 0.0))
    lines = table(tmp_path, ["clip", "scene0"]).splitlines()
    assert len(lines) == 2 + 2 + 2  # the header, the clips, the means and the targets
    assert lines[-1].startswith("| targets met | >= `fer` on 2 of 2 | <= 0.5 on 2 of 2 |")
