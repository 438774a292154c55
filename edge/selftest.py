"""``python -m edge selftest``: on the Pi, check each part and print PASS / FAIL / SKIP.

Parts: TFLite runtime (and where numpy comes from), CPU model, camera frames, Haar on the
bundled sample, the Coral (sysfs USB ids or /dev/apex_0, no pycoral needed), the Edge TPU
delegate (probed in a child process), TPU vs CPU agreement on sample faces (the compiled model
against the int8 file it was compiled from, ``[model] tpu_source``: the accurate model, not the
fast CPU one). Exit 1 if any FAIL.

The delegate check: no Coral -> SKIP; a Coral but no compiled model -> SKIP with the command
that makes one; a Coral and a compiled model but a delegate that does not load -> FAIL.
"""

from __future__ import annotations

import importlib.metadata
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
    from edge.detection import load_detector
    from edge.preprocess import crop_box, crop_face, detection_image
    from edge.sources import open_source

    f = cfg.faces
    detector = load_detector(f)
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


def selftest(
    cfg: Config,
    probe: Callable[..., str | None] | None = None,
    coral: Callable[[], str | None] | None = None,
) -> int:
    """Print one PASS/FAIL/SKIP line per part; 1 if any FAIL. ``probe``/``coral``: test seams."""
    from edge.backends.probe import find_coral, probe_edgetpu

    report = Report()
    report.check("runtime", _runtime)
    report.check("cpu model", lambda: _load_cpu(cfg))
    report.check("camera", lambda: _camera(cfg))
    faces = sample_faces(cfg)
    report.check("haar", lambda: _need(faces, f"{len(faces)} faces in the bundled sample"))
    found = (coral or find_coral)()
    report.check("coral", lambda: _coral(found))
    tpu_ok = report.check("edgetpu delegate", lambda: _probe(cfg, probe or probe_edgetpu, found))
    if tpu_ok and cfg.model.tpu_source.is_file():
        report.check("tpu vs cpu", lambda: _agreement(cfg, faces))
    else:
        print(
            f"SKIP  tpu vs cpu: needs the Edge TPU and {cfg.model.tpu_source} on the CPU",
            flush=True,
        )
    print("selftest: " + ("FAILED" if report.failed else "OK"), flush=True)
    return 1 if report.failed else 0


def _load_cpu(cfg: Config) -> str:
    from edge.backends.cpu import CpuClassifier

    clf = CpuClassifier(cfg.model.path, cfg.model.num_threads)
    return f"{cfg.model.path} input {clf.input_dtype} scale {clf.input_scale:g}"


def _camera(cfg: Config, frames: int = 10) -> str:
    """Read frames from the configured camera (``auto``: picamera, else /dev/video0)."""
    from edge.sources import open_camera, open_source

    auto = cfg.source.uri in ("auto", "sample")
    source = open_camera(cfg.source) if auto else open_source(cfg.source)
    try:
        start = time.monotonic()
        shapes = {source.read().bgr.shape for _ in range(frames)}
        fps = frames / (time.monotonic() - start)
    finally:
        source.close()
    return f"{source.name}: {frames} frames {sorted(shapes)} at {fps:.1f} fps"


def _runtime() -> str:
    import numpy

    from edge.backends.tflite import runtime

    module = runtime()
    try:
        version = importlib.metadata.version(module.__name__.split(".")[0].replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return f"{module.__name__} {version}; numpy {numpy.__version__} from {numpy.__path__[0]}"


def _coral(found: str | None) -> str:
    if not found:
        raise SkipCheck("no Coral found (USB 1a6e:089a / 18d1:9302 in sysfs, /dev/apex_0)")
    return found


def _probe(cfg: Config, probe: Callable[..., str | None], coral: str | None) -> str:
    from edge.backends.probe import compile_command

    model = cfg.model.edgetpu_path
    if not model.is_file():
        if coral:
            command = compile_command(cfg.model.tpu_source, model)
            raise SkipCheck(
                f"no compiled model at {model}; make it on an x86-64 Debian machine with "
                f"Coral's edgetpu-compiler: {command}"
            )
        raise SkipCheck(f"no Coral and no compiled model at {model}")
    cause = probe(model, cfg.model.device)
    if cause and coral:
        raise EdgeError(f"{cause}; see systemd/INSTALL.md for the libedgetpu/runtime pairs")
    if cause:
        raise SkipCheck(f"no Coral found; the delegate says: {cause}")
    return f"{model} on device {cfg.model.device or 'any'}"


def _agreement(cfg: Config, faces: list[np.ndarray]) -> str:
    from edge.backends.cpu import CpuClassifier
    from edge.backends.edgetpu import EdgeTpuClassifier

    tpu = EdgeTpuClassifier(cfg.model.edgetpu_path, cfg.model.device)
    cpu = CpuClassifier(cfg.model.tpu_source, cfg.model.num_threads)
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
