"""CaptureWriter: atomic JPEG + sidecar, budget, leftovers, and errors that never reach the loop."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.errors import ConfigError
from edge.smile.capture import CaptureConfig, CaptureWriter, capture_event, capture_name

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 2, 3, 4, 5, 678000).timestamp()


def frame(seed: int = 0, h: int = 120, w: int = 160) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def writer(directory: Path, **kwargs: object) -> CaptureWriter:
    return CaptureWriter(CaptureConfig(directory=directory, **kwargs))  # type: ignore[arg-type]


def check_capture(jpg: Path, shape: tuple[int, int, int]) -> None:
    """A final-name JPEG is whole: its sidecar's size and sha256 match, and it decodes."""
    data = jpg.read_bytes()
    sidecar = json.loads(jpg.with_suffix(".json").read_text())
    assert sidecar["image"] == jpg.name
    assert (len(data), hashlib.sha256(data).hexdigest()) == (sidecar["bytes"], sidecar["sha256"])
    assert data.endswith(b"\xff\xd9"), f"{jpg.name}: no JPEG end marker"
    image = cv2.imread(str(jpg))
    assert image is not None and image.shape == shape


def test_save_writes_jpeg_then_sidecar_with_meta(tmp_path: Path) -> None:
    w = writer(tmp_path / "caps")
    meta = {"faces": 2, "boxes": np.array([[1, 2, 3, 4]]), "scores": [np.float32(0.75)]}
    path = w.save(frame(), T0, {**meta, "backend": "cpu", "model": Path("m.tflite")})
    assert path == tmp_path / "caps" / "smile-20260102-030405-678.jpg"
    check_capture(path, (120, 160, 3))
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["boxes"] == [[1, 2, 3, 4]] and sidecar["scores"] == [0.75]
    assert (sidecar["backend"], sidecar["model"], sidecar["faces"]) == ("cpu", "m.tflite", 2)
    assert (sidecar["width"], sidecar["height"]) == (160, 120)
    assert sidecar["time"] == "2026-01-02T03:04:05.678"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.stem + ".json"]


def test_names_sort_in_time_order_and_clashes_get_a_number(tmp_path: Path) -> None:
    w = writer(tmp_path)
    paths = [w.save(frame(i), when, {}) for i, when in enumerate((T0, T0, T0, T0 + 0.001))]
    assert [p.name for p in paths] == [
        "smile-20260102-030405-678.jpg",
        "smile-20260102-030405-678_1.jpg",
        "smile-20260102-030405-678_2.jpg",
        "smile-20260102-030405-679.jpg",
    ]
    assert w.captures() == paths
    assert capture_name(datetime(2026, 12, 31, 23, 59, 59, 999999)) == (
        "smile-20261231-235959-999.jpg"
    )


def test_budget_max_files_keeps_the_newest(tmp_path: Path) -> None:
    w = writer(tmp_path, max_files=3)
    paths = [w.save(frame(i), T0 + i, {"i": i}) for i in range(8)]
    assert w.captures() == paths[-3:]
    assert sorted(tmp_path.glob("*.json")) == [p.with_suffix(".json") for p in paths[-3:]]


def test_a_restart_applies_the_budget_a_killed_writer_left_unapplied(tmp_path: Path) -> None:
    """Killed between a save and its pruning, a writer leaves one capture too many: the next
    writer prunes on start (deterministic form of the kill test below)."""
    paths = [writer(tmp_path, max_files=0).save(frame(i), T0 + i, {"i": i}) for i in range(6)]
    w = writer(tmp_path, max_files=4)
    assert w.captures() == paths[-4:]
    assert sorted(tmp_path.glob("*.json")) == [p.with_suffix(".json") for p in paths[-4:]]


def test_budget_max_mb_keeps_the_newest(tmp_path: Path) -> None:
    first = writer(tmp_path / "probe").save(frame(0), T0, {})
    one = first.stat().st_size + first.with_suffix(".json").stat().st_size
    w = writer(tmp_path / "caps", max_files=0, max_mb=3.5 * one / 2**20)
    paths = [w.save(frame(0), T0 + i, {}) for i in range(10)]
    assert w.captures() == paths[-3:]


def test_a_capture_bigger_than_the_budget_is_kept(tmp_path: Path, caplog) -> None:
    w = writer(tmp_path, max_mb=0.001)
    paths = [w.save(frame(i), T0 + i, {}) for i in range(2)]
    assert w.captures() == paths[-1:]
    assert "alone exceeds capture.max_mb" in caplog.text


def test_leftovers_of_a_crash_are_removed_at_start(tmp_path: Path) -> None:
    kept = writer(tmp_path).save(frame(), T0, {})
    (tmp_path / ".smile-20260102-030406-000.jpg.tmp").write_bytes(b"\xff\xd8partial")
    (tmp_path / ".smile-20260102-030406-000.json.tmp").write_text("{")
    (tmp_path / "smile-20260102-030407-000.json").write_text("{}")  # JPEG never landed
    (tmp_path / "notes.txt").write_text("not ours")
    writer(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["notes.txt", kept.name, kept.stem + ".json"]


def test_unwritable_directory_logs_one_error_and_recovers(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a regular file where the parent directory should be")
    target = blocker / "sub"  # mkdir fails even as root (chmod would not stop root)
    with caplog.at_level(logging.INFO, logger="edge.smile.capture"):
        w = writer(target)
        results = [w.save(frame(), T0 + i, {}) for i in range(20)]
        assert results == [None] * 20
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        assert str(target) in errors[0].getMessage() and errors[0].exc_info is None
        blocker.unlink()
        path = w.save(frame(), T0 + 30, {})
    assert path is not None and path.parent == target
    assert "saved again" in caplog.text
    assert (w.saved, w.failed) == (1, 21)


def test_the_same_error_is_repeated_after_the_interval_only(tmp_path: Path, caplog) -> None:
    now = [0.0]
    (tmp_path / "file").write_text("")
    config = CaptureConfig(directory=tmp_path / "file" / "sub", error_interval_s=60)
    w = CaptureWriter(config, clock=lambda: now[0])
    for t in range(0, 200, 10):
        now[0] = float(t)
        assert w.save(frame(), T0 + t, {}) is None
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 4  # at 0 (start), 60, 120, 180


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_logs_one_error_and_leaves_no_files(tmp_path: Path, caplog) -> None:
    w = writer(tmp_path)
    name = capture_name(datetime.fromtimestamp(T0))
    (tmp_path / f".{name}.tmp").symlink_to("/dev/full")  # the JPEG's write hits ENOSPC
    assert w.save(frame(), T0, {}) is None
    assert "No space left on device" in caplog.text
    assert list(tmp_path.iterdir()) == []
    assert w.save(frame(), T0, {}) is not None


def test_bad_frames_and_meta_are_logged_not_raised(tmp_path: Path, caplog) -> None:
    w = writer(tmp_path)
    assert w.save(np.zeros((0, 0, 3), np.uint8), T0, {}) is None
    assert w.save(frame(), T0, {"x": object()}) is None
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2
    assert list(tmp_path.iterdir()) == []


def test_capture_event_names_both_files() -> None:
    event = capture_event(Path("/c/smile-1.jpg"), 12.34567)
    assert event == {
        "event": "capture",
        "ts": 12.346,
        "image": "/c/smile-1.jpg",
        "sidecar": "/c/smile-1.json",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_files", -1), ("max_mb", -0.5), ("jpeg_quality", 0), ("jpeg_quality", 101)],
)
def test_bad_config_names_the_key(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=rf"^capture\.{key} must be "):
        CaptureConfig(**{key: value})  # type: ignore[arg-type]


KILL_LOOP = """
import os, sys, time
from pathlib import Path
import numpy as np
from edge.smile.capture import CaptureConfig, CaptureWriter
real_write = os.write
def sd_card_write(fd, data):  # 64 KiB per call, ~30 MB/s: a Pi's SD card, not a page cache
    written = real_write(fd, data[:65536])
    time.sleep(0.002)
    return written
os.write = sd_card_write
directory, seed = Path(sys.argv[1]), int(sys.argv[2])
w = CaptureWriter(CaptureConfig(directory=directory, max_files=4))
big = np.random.default_rng(seed).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
print("ready", flush=True)
i = 0
while True:
    big[:4] = i % 256
    w.save(big, 1.7e9 + seed * 1000 + i, {"i": i})
    i += 1
"""


def test_captures_survive_a_kill_mid_write(tmp_path: Path) -> None:
    """SIGKILL a writer at random moments: no final-name JPEG is ever partial."""
    rand = random.Random(1234)
    seen: set[str] = set()
    for round_ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_LOOP, str(tmp_path), str(round_)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(rand.uniform(0.3, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        for path in tmp_path.iterdir():
            if path.suffix == ".jpg":
                check_capture(path, (1200, 1600, 3))
                seen.add(path.name)
            else:
                tmp = path.name.startswith(".") and path.name.endswith(".tmp")
                assert tmp or re.fullmatch(r"smile-[\d_-]+\.json", path.name), path.name
    assert seen, "the writer never finished a capture: make the sleeps longer"
    writer(tmp_path, max_files=4)  # a restart cleans up
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in left if n.endswith(".tmp")]
    assert len([n for n in left if n.endswith(".jpg")]) <= 4
    assert {Path(n).stem for n in left if n.endswith(".json")} == {
        Path(n).stem for n in left if n.endswith(".jpg")
    }
