"""``python -m edge``: bad input gives one line and exit 1; the demo run; SIGTERM (subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main
from tests.edge.conftest import DATA, REPO


def run_main(capsys, *argv: str) -> tuple[int, list[str]]:
    rc = main(["run", "--log-level", "ERROR", *argv])
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.strip()]


def assert_one_line_error(rc: int, lines: list[str], text: str) -> None:
    assert rc == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("edge: error: ") and text in lines[0]


def test_missing_model(capsys, tmp_path):
    rc, lines = run_main(capsys, "--backend", "cpu", "--model", str(tmp_path / "nope.tflite"))
    assert_one_line_error(rc, lines, "model file not found")


def test_corrupt_model(capsys, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(os.urandom(4096))
    rc, lines = run_main(capsys, "--backend", "cpu", "--model", str(bad))
    assert_one_line_error(rc, lines, "cannot load model")


def test_model_input_not_48x48x1(capsys):
    rc, lines = run_main(
        capsys, "--backend", "cpu", "--model", str(DATA / "wrong_shape_int8.tflite")
    )
    assert_one_line_error(rc, lines, "expected (1, 48, 48, 1)")


def test_float_model_for_the_edgetpu_backend(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[model]\nedgetpu_path = "{DATA / "float32.tflite"}"\n')
    rc, lines = run_main(capsys, "--config", str(cfg), "--backend", "edgetpu")
    assert_one_line_error(rc, lines, "not 8-bit")


def test_bad_config_value(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[faces]\nmin_neighbors = -1\n")
    rc, lines = run_main(capsys, "--config", str(cfg))
    assert_one_line_error(rc, lines, "faces.min_neighbors must be")


def test_missing_camera(capsys, model):
    rc, lines = run_main(
        capsys, "--backend", "cpu", "--model", str(model), "--source", "/dev/video97"
    )
    assert_one_line_error(rc, lines, "no camera at /dev/video97")


def test_unreadable_video(capsys, model, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00not a video" * 100)
    rc, lines = run_main(capsys, "--backend", "cpu", "--model", str(model), "--source", str(video))
    assert_one_line_error(rc, lines, "cannot read video")


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="model file not found"):
        main(["run", "--debug", "--backend", "cpu", "--model", str(tmp_path / "nope.tflite")])


def edge_cmd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "edge", "run", *argv]


def sample_frames() -> int:
    """The frames in the bundled sample clip, counted through its own source."""
    from edge.sources import SAMPLE_PATH
    from edge.sources.files import VideoFileSource

    source, n = VideoFileSource(SAMPLE_PATH), 0
    while source.read() is not None:
        n += 1
    source.close()
    return n


def test_demo_runs_the_bundled_sample_to_the_end(model, tmp_path):
    events = tmp_path / "events.jsonl"
    done = subprocess.run(
        edge_cmd("--model", str(model), "--events", str(events)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = events.read_text().splitlines()
    frames = sample_frames()
    assert len(lines) == frames and lines[0].startswith('{"frame":0,')
    assert f"done: {frames} frames" in done.stderr and "backend cpu" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigterm_exits_cleanly_and_quickly(model, tmp_path, head_bgr):
    clip = tmp_path / "long.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for i in range(3000):
        frame = np.full((240, 320, 3), 120, np.uint8)
        frame[10:230, 10 + i % 90 : 220 + i % 90] = head_bgr
        writer.write(frame)
    writer.release()
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        edge_cmd("--model", str(model), "--source", str(clip), "--events", str(events)),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (events.exists() and events.read_text().count("\n") >= 5):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill() if proc.poll() is None else None
    err = proc.stderr.read()
    assert rc == 0, err
    assert took < 5.0  # the requirement is 2 s; slack for a loaded test machine
    assert "SIGTERM received" in err and "done:" in err and "Traceback" not in err
    assert events.read_text().count("\n") < 3000  # stopped early, not at the end


def test_selftest_reports_each_part(model, capsys):
    rc = main(
        ["selftest", "--model", str(model), "--source", "/dev/video97", "--log-level", "ERROR"]
    )
    out = capsys.readouterr().out
    assert "PASS  cpu model" in out and "PASS  haar" in out
    assert "FAIL  camera" in out and rc == 1
    assert Path(REPO / "edge" / "data" / "sample.mp4").is_file()
