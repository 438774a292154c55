"""On the Pi (camera, Coral): the same checks as ``python -m edge selftest``; skipped elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from edge.config import Config, ModelConfig, SourceConfig
from edge.selftest import AGREEMENT_TOLERANCE, sample_faces

pytestmark = pytest.mark.hardware
SAMPLE_FACES = 8


def open_picamera():
    """The Pi camera source, or a skip naming why it is not there."""
    pytest.importorskip("picamera2")
    from edge.errors import SourceUnavailable
    from edge.sources import open_source

    try:
        return open_source(SourceConfig(uri="picamera"))
    except SourceUnavailable as exc:
        pytest.skip(str(exc))


def test_picamera_gives_bgr_frames_and_a_full_range_grey_lores():
    source = open_picamera()
    try:
        frame = source.read()
    finally:
        source.close()
    cfg = SourceConfig()
    assert frame.bgr.shape == (cfg.height, cfg.width, 3)
    assert frame.grey.shape == (cfg.lores_height, cfg.lores_width)


def test_picamera_still_is_full_resolution_bgr_and_video_goes_on():
    source = open_picamera()
    try:
        still = source.capture_still()
        frame = source.read()  # the video configuration is back after the still
    finally:
        source.close()
    assert still is not None and still.ndim == 3 and still.shape[2] == 3
    assert still.shape[1] > 640 and frame.bgr.shape == (480, 640, 3)


def test_edgetpu_agrees_with_cpu_on_sample_faces(model):
    from edge.backends.cpu import CpuClassifier
    from edge.backends.probe import probe_edgetpu

    tpu_model = model.with_name(model.stem + "_edgetpu.tflite")
    cfg = Config(model=ModelConfig(path=model, edgetpu_path=tpu_model))
    faces = sample_faces(cfg, limit=SAMPLE_FACES)  # before the skips: this part runs anywhere
    assert len(faces) == SAMPLE_FACES, "the sample clip gave too few faces to compare on"
    if not tpu_model.is_file():
        pytest.skip(f"no {tpu_model}")
    if cause := probe_edgetpu(tpu_model):
        pytest.skip(cause)
    from edge.backends.edgetpu import EdgeTpuClassifier

    tpu, cpu = EdgeTpuClassifier(tpu_model), CpuClassifier(model)
    for face in faces:
        a, b = tpu.classify(face), cpu.classify(face)
        assert np.argmax(a) == np.argmax(b)
        assert np.abs(a - b).max() <= AGREEMENT_TOLERANCE
