"""The sources ``open_source`` gives: auto-detection order, image folders, the Pi camera's read.

Cameras only through the fakes in tests/fakes.py: ``picamera2`` in ``sys.modules`` and
``cv2.VideoCapture`` (the V4L2 seam); ``/dev/video0`` exists when a test says so.
"""

from __future__ import annotations

import logging
import re
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

import edge.sources.opencv
from edge.config import SourceConfig
from edge.errors import SourceReadError
from edge.sources import SAMPLE_PATH, open_source
from edge.sources.files import ImageFolderSource
from tests.fakes import FakePicamera2, FakeV4L2

VIDEO0 = "/dev/video0"


@pytest.fixture
def cameras(monkeypatch):
    """Set up the fake camera world: ``cameras(pi=..., v4l2=...)`` returns the fake V4L2."""

    def setup(pi: bool | None, v4l2: bool) -> FakeV4L2:
        if pi is None:  # picamera2 not installed: importing it fails
            monkeypatch.setitem(sys.modules, "picamera2", None)
        else:
            module = types.SimpleNamespace(Picamera2=FakePicamera2)
            monkeypatch.setitem(sys.modules, "picamera2", module)
            monkeypatch.setattr(FakePicamera2, "cameras", [{"Model": "fake"}] if pi else [])
        fake = FakeV4L2([VIDEO0] if v4l2 else [])
        v4l2_cv2 = types.SimpleNamespace(**{k: getattr(cv2, k) for k in dir(cv2) if k.isupper()})
        v4l2_cv2.VideoCapture = fake  # only edge.sources.opencv sees the fake capture
        monkeypatch.setattr(edge.sources.opencv, "cv2", v4l2_cv2)
        real_exists = Path.exists

        def exists(path: Path, *args, **kwargs) -> bool:
            return (v4l2 and str(path) == VIDEO0) or real_exists(path, *args, **kwargs)

        monkeypatch.setattr(Path, "exists", exists)
        return fake

    return setup


def test_auto_takes_the_pi_camera_first(cameras):
    v4l2 = cameras(pi=True, v4l2=True)
    source = open_source(SourceConfig(uri="auto"))
    assert source.name == "picamera" and v4l2.tried == []
    source.close()


@pytest.mark.parametrize("pi", [False, None], ids=["no-camera-listed", "no-picamera2"])
def test_auto_takes_dev_video0_when_there_is_no_pi_camera(cameras, caplog, pi):
    v4l2 = cameras(pi=pi, v4l2=True)
    with caplog.at_level(logging.INFO, logger="edge.sources"):
        source = open_source(SourceConfig(uri="auto"))
    assert source.name == VIDEO0 and v4l2.tried == [VIDEO0]
    assert re.search("Raspberry Pi camera|picamera2", caplog.text)  # the miss, with its cause
    source.close()


def test_auto_plays_the_sample_when_no_camera_answers(cameras, caplog):
    cameras(pi=False, v4l2=False)
    with caplog.at_level(logging.INFO, logger="edge.sources"):
        source = open_source(SourceConfig(uri="auto"))
    assert source.name == str(SAMPLE_PATH)
    assert source.read().bgr.ndim == 3
    assert "no camera found" in caplog.text
    source.close()


def test_folder_source_skips_unreadable_images_with_a_warning(tmp_path, caplog):
    for i, value in enumerate((10, 20)):
        cv2.imwrite(str(tmp_path / f"frame_{2 * i}.png"), np.full((30, 40, 3), value, np.uint8))
    (tmp_path / "frame_1.png").write_bytes(b"not a png")  # between the two good ones
    (tmp_path / "notes.txt").write_text("not an image")  # not an image suffix: never read
    source = open_source(SourceConfig(uri=str(tmp_path)))
    assert isinstance(source, ImageFolderSource)
    with caplog.at_level(logging.WARNING, logger="edge.sources.files"):
        frames = [source.read(), source.read(), source.read()]
    assert [int(f.bgr[0, 0, 0]) for f in frames[:2]] == [10, 20] and frames[2] is None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and str(tmp_path / "frame_1.png") in warnings[0]


def test_picamera_read_gives_the_main_frame_and_the_cropped_full_range_lores(cameras):
    cameras(pi=True, v4l2=False)
    from edge.sources.picamera import PicameraSource

    source = PicameraSource((640, 480), FakePicamera2.LORES_SIZE)
    cam = FakePicamera2.instances[-1]
    frame = source.read()
    width, height = FakePicamera2.LORES_SIZE
    assert frame.bgr is cam.main and cam.released == 1  # the request went back to the camera
    assert frame.grey.shape == (height, width)  # the stride padding is cropped away
    assert frame.grey[:, 0].max() == 0 and frame.grey[:, -1].min() == 255  # 16..235 stretched
    assert np.all(np.diff(frame.grey[0].astype(int)) >= 0)
    cam.fail = True
    with pytest.raises(SourceReadError, match="picamera capture failed: camera timed out"):
        source.read()
    source.close()
