"""``python -m edge bench`` with fakes: the JSON line, the table, CSV out/compare, backends."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import edge.backends
from edge.bench import percentiles
from edge.cli import main
from edge.errors import BackendUnavailable
from tests.edge.conftest import DATA
from tests.fakes import FakeClassifier, one_hot

STAGES = {"capture", "detect", "crop", "infer", "postprocess"}


def true_face(i: int) -> dict:
    """Frame i's face in the truth: happy for frames 0-5, then sad (the fake always says happy)."""
    return {"box": [20 + 4 * i + 50, 90, 110, 110], "label": "happy" if i < 6 else "sad"}


@pytest.fixture
def clip(tmp_path: Path, head_bgr: np.ndarray) -> Path:
    """Twelve frames with one head moving right, and a truth file in make_clip's format."""
    folder = tmp_path / "clip"
    folder.mkdir()
    truth = []
    for i in range(12):
        canvas = np.full((300, 400, 3), 120, np.uint8)
        x = 20 + 4 * i
        canvas[40 : 40 + head_bgr.shape[0], x : x + head_bgr.shape[1]] = head_bgr
        cv2.imwrite(str(folder / f"frame_{i:05d}.png"), canvas)
        truth.append({"frame": i, "faces": [true_face(i)]})
    (folder / "truth.json").write_text(json.dumps({"frames": truth}))
    return folder


@pytest.fixture
def fake_backends(monkeypatch):
    """cpu gives a FakeClassifier (always happy); edgetpu is unavailable."""

    def load(cfg, backend=None):
        if (backend or cfg.backend) == "edgetpu":
            raise BackendUnavailable("Edge TPU unavailable: no Edge TPU (test)")
        return FakeClassifier(lambda _f, _i: one_hot("happy"), name="cpu")

    monkeypatch.setattr(edge.backends, "load_classifier", load)


def bench(capsys, *argv: str) -> tuple[int, list[str]]:
    rc = main(["bench", "--log-level", "ERROR", *argv])
    return rc, capsys.readouterr().out.splitlines()


def test_json_last_line_has_the_documented_shape(capsys, clip, fake_backends):
    rc, out = bench(capsys, "--source", str(clip), "--backend", "cpu", "--warmup", "2", "--json")
    assert rc == 0
    result = json.loads(out[-1])
    assert result["frames"] == 10 and result["backend"] == "cpu"
    # fps = timed frames / their wall time: at most 1 / (mean frame time), and not far below
    per_frame = 1000.0 / result["frame_ms"]["mean_ms"]
    assert 0.5 * per_frame <= result["fps"] <= per_frame * 1.01
    assert set(result["stages"]) == STAGES
    for stage in result["stages"].values():
        assert {"p50_ms", "p95_ms", "p99_ms"} <= set(stage)
    for key in ("cpu_pct", "peak_rss_mb", "faces_per_frame", "machine", "cpu", "runtime"):
        assert key in result
    assert "stage (ms)" in out[0]  # the table for people comes first


def test_truth_adds_recall_phantoms_and_label_accuracy(capsys, clip, fake_backends):
    truth = clip / "truth.json"
    argv = ["--source", str(clip), "--backend", "cpu", "--truth", str(truth), "--json"]
    rc, out = bench(capsys, *argv, "--preload", "--warmup", "0")
    result = json.loads(out[-1])
    assert rc == 0 and result["truth_faces"] == 12 and result["recall"] == 1.0
    assert result["phantoms_per_100_frames"] == 0.0
    # 6 of 12 faces are happy: the always-happy fake is right on those only, smoothed or raw
    assert result["label_accuracy"] == result["label_accuracy_raw"] == 0.5
    assert result["changes"] == 1 and result["changes_unreached"] == 1  # happy never turns sad


def test_truth_as_bare_lists_of_faces_and_a_face_that_is_not_there(capsys, clip, fake_backends):
    frames = [[true_face(i)] for i in range(10)] + [[], []]  # the head is still in frames 10, 11
    truth = clip / "lists.json"
    truth.write_text(json.dumps({"frames": frames}))
    argv = ["--source", str(clip), "--backend", "cpu", "--truth", str(truth), "--json"]
    rc, out = bench(capsys, *argv, "--warmup", "0")
    result = json.loads(out[-1])
    assert rc == 0 and result["truth_faces"] == 10 and result["recall"] == 1.0
    assert result["phantoms_per_100_frames"] == pytest.approx(100 * 2 / 12, abs=1e-3)
    assert result["label_accuracy"] == 0.6


def test_loop_runs_past_the_end_of_the_source(capsys, clip, fake_backends):
    argv = ["--source", str(clip), "--backend", "cpu", "--frames", "30", "--loop", "--json"]
    rc, out = bench(capsys, *argv)
    assert rc == 0 and json.loads(out[-1])["frames"] == 30


def test_backend_all_skips_the_unavailable_with_a_note(capsys, clip, fake_backends):
    rc, out = bench(capsys, "--source", str(clip), "--backend", "all", "--json")
    result = json.loads(out[-1])
    assert rc == 0 and [r["backend"] for r in result["runs"]] == ["cpu"]
    assert "no Edge TPU" in result["skipped"]["edgetpu"]
    assert any(line.startswith("skipped edgetpu:") for line in out)


def test_out_appends_rows_and_compare_prints_deltas(capsys, clip, fake_backends, tmp_path):
    csv_path = tmp_path / "results" / "bench.csv"
    argv = ["--source", str(clip), "--backend", "cpu", "--out", str(csv_path)]
    assert bench(capsys, *argv)[0] == 0
    assert bench(capsys, *argv)[0] == 0
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and rows[0]["backend"] == "cpu" and float(rows[1]["fps"]) > 0
    assert {"capture_p50_ms", "infer_p99_ms", "postprocess_p95_ms"} <= set(rows[0])
    rc, out = bench(capsys, "--source", str(clip), "--backend", "cpu", "--compare", str(csv_path))
    text = "\n".join(out)
    assert rc == 0 and "cpu vs " in text and "fps" in text and "detect_p50_ms" in text


def test_model_only_times_a_real_tiny_model(capsys):
    argv = ["--model-only", "--backend", "cpu", "--model", str(DATA / "float32.tflite")]
    rc, out = bench(capsys, *argv, "--json")
    result = json.loads(out[-1])
    assert rc == 0 and result["mode"] == "model-only" and result["frames"] == 1000
    assert result["stages"]["infer"]["n"] == 1000 and result["backend"] == "cpu"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{}", '{"frames": [...]}'),
        ("[1, 2]", '{"frames": [...]}'),
        ("not json", "not JSON"),
        ('{"frames": [[{"box": [1, 2, 3], "label": "happy"}]]}', "frame 0 is not a list of faces"),
        ('{"frames": [[], [{"box": [1, 2, 3, 4]}]]}', "frame 1 is not a list of faces"),
        ('{"frames": [{"faces": {"box": [1, 2, 3, 4]}}]}', "frame 0 is not a list of faces"),
    ],
)
def test_a_bad_truth_file_is_one_line_naming_it(capsys, clip, fake_backends, tmp_path, text, why):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    rc = main(["bench", "--source", str(clip), "--backend", "cpu", "--truth", str(bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith(f"edge: error: bench: --truth {bad}: ") and why in err[0]


def test_percentiles_are_in_milliseconds():
    p = percentiles([0.001] * 98 + [0.010, 0.020])
    assert p["p50_ms"] == 1.0 and p["n"] == 100 and p["p99_ms"] > p["p95_ms"] >= 1.0
    assert percentiles([])["p50_ms"] == 0.0
