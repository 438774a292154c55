"""``python -m edge selftest``: on the Pi, check each part and print PASS / FAIL / SKIP.

Parts: TFLite runtime, CPU model, camera frames, Haar on the bundled sample, Edge TPU
delegate (probed in a child process), TPU vs CPU agreement on sample faces. Exit 1 if any FAIL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from edge.config import Config, SourceConfig
from edge.errors import EdgeError

log = logging.getLogger(__name__)

AGREEMENT_TOLERANCE = 0.1  # max |TPU - CPU| score difference on a face


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, fn: Callable[[], str]) -> str | None:
        """Run one check; its return is the detail; EdgeError = FAIL, SkipCheck = SKIP."""
        try:
            detail = fn()
        except SkipCheck as exc:
            print(f"SKIP  {name}: {exc}", flush=True)
            return None
        except (EdgeError, ValueError, OSError, RuntimeError) as exc:
            self.failed += 1
            print(f"FAIL  {name}: {exc}", flush=True)
            return None
        print(f"PASS  {name}: {detail}", flush=True)
        return detail


class SkipCheck(Exception):
    pass


def sample_faces(cfg: Config, limit: int = 8) -> list[np.ndarray]:
    """48x48 face crops from the bundled sample clip, cut as the pipeline does."""
    from edge.faces import HaarFaceDetector
    from edge.preprocess import crop_box, crop_face, detection_image
    from edge.sources import open_source

    f = cfg.faces
    detector = HaarFaceDetector(f.cascade, f.scale_factor, f.min_neighbors, f.min_size)
    source = open_source(SourceConfig(uri="sample"))
    faces: list[np.ndarray] = []
    try:
        while len(faces) < limit and (frame := source.read()) is not None:
            grey = detection_image(frame.bgr, f.detect_width)
            factor = frame.bgr.shape[1] / grey.shape[1]
            for box in detector.detect(grey):
                region = crop_box(box.scaled(factor), f.crop_margin, f.crop_shift_y)
                faces.append(crop_face(frame.bgr, region))
    finally:
        source.close()
    return faces[:limit]


def selftest(cfg: Config) -> int:
    from edge.backends.cpu import CpuClassifier
    from edge.backends.probe import probe_edgetpu
    from edge.backends.tflite import runtime

    report = Report()
    report.check("runtime", lambda: runtime().__name__)
    cpu: list[CpuClassifier] = []
    report.check("cpu model", lambda: _load_cpu(cfg, cpu))
    report.check("camera", lambda: _camera(cfg))
    faces = sample_faces(cfg)
    report.check("haar", lambda: _need(faces, f"{len(faces)} faces in the bundled sample"))
    report.check("edgetpu list", _list_edge_tpus)
    tpu_ok = report.check("edgetpu delegate", lambda: _probe(cfg, probe_edgetpu))
    if tpu_ok and cpu:
        report.check("tpu vs cpu", lambda: _agreement(cfg, cpu[0], faces))
    else:
        print("SKIP  tpu vs cpu: needs both the Edge TPU and the CPU model", flush=True)
    print("selftest: " + ("FAILED" if report.failed else "OK"), flush=True)
    return 1 if report.failed else 0


def _load_cpu(cfg: Config, out: list) -> str:
    from edge.backends.cpu import CpuClassifier

    clf = CpuClassifier(cfg.model.path, cfg.model.num_threads)
    out.append(clf)
    return f"{cfg.model.path} input {clf.input_dtype} scale {clf.input_scale:g}"


def _camera(cfg: Config, frames: int = 10) -> str:
    """Read frames from the configured camera (``auto``: picamera, else /dev/video0)."""
    from edge.sources import open_source

    uris = ["picamera", "/dev/video0"] if cfg.source.uri in ("auto", "sample") else [cfg.source.uri]
    for uri in uris:
        try:
            source = open_source(SourceConfig(**{**cfg.source.__dict__, "uri": uri}))
            break
        except EdgeError:
            if uri == uris[-1]:
                raise
    try:
        start = time.monotonic()
        shapes = {source.read().bgr.shape for _ in range(frames)}
        fps = frames / (time.monotonic() - start)
    finally:
        source.close()
    return f"{source.name}: {frames} frames {sorted(shapes)} at {fps:.1f} fps"


def _list_edge_tpus() -> str:
    try:
        from pycoral.utils.edgetpu import list_edge_tpus
    except ImportError as exc:
        raise SkipCheck(
            f"pycoral not importable ({exc}); the delegate check below suffices"
        ) from None
    tpus = list_edge_tpus()
    return _need(tpus, str(tpus))


def _probe(cfg: Config, probe: Callable[..., str | None]) -> str:
    if not cfg.model.edgetpu_path.is_file():
        raise EdgeError(f"no Edge TPU model at {cfg.model.edgetpu_path}")
    cause = probe(cfg.model.edgetpu_path, cfg.model.device)
    if cause:
        raise EdgeError(cause)
    return f"{cfg.model.edgetpu_path} on device {cfg.model.device or 'any'}"


def _agreement(cfg: Config, cpu, faces: list[np.ndarray]) -> str:
    from edge.backends.edgetpu import EdgeTpuClassifier

    tpu = EdgeTpuClassifier(cfg.model.edgetpu_path, cfg.model.device)
    _need(faces, "")
    diffs, same = [], 0
    for face in faces:
        a, b = tpu.classify(face), cpu.classify(face)
        diffs.append(float(np.abs(a - b).max()))
        same += int(np.argmax(a) == np.argmax(b))
    worst = max(diffs)
    detail = f"top-1 equal on {same}/{len(faces)} faces, max |diff| {worst:.3f}"
    if same < len(faces) or worst > AGREEMENT_TOLERANCE:
        raise EdgeError(detail)
    return detail


def _need(items, detail: str) -> str:
    if not len(items):
        raise EdgeError("none found")
    return detail
