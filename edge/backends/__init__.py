"""Backend choice: ``load_classifier(model_cfg, backend)``.

Two models: the Edge TPU runs ``edgetpu_path`` (the accurate model, compiled), the CPU runs
``path`` (the fast model by default). ``auto`` probes the Edge TPU in a child process and, on any
failure, logs one WARNING with the cause and runs the CPU model; when a Coral is plugged in but
left unused (no compiled model, or a delegate that does not load) the WARNING says so and why. A
TPU classifier is wrapped in ``FailoverClassifier``, so a TPU that fails mid-run (USB pulled)
switches to the CPU model without stopping the daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.backends.base import Classifier
from edge.backends.cpu import CpuClassifier
from edge.backends.probe import compile_command, find_coral, probe_edgetpu
from edge.backends.tflite import DELEGATE_ERRORS, check_model, first_line, make_interpreter
from edge.config import ModelConfig
from edge.errors import BackendUnavailable

log = logging.getLogger(__name__)

__all__ = ["Classifier", "CpuClassifier", "FailoverClassifier", "load_classifier"]


class FailoverClassifier:
    """Runs ``primary`` until it raises a runtime error, then ``make_fallback()`` for good."""

    def __init__(self, primary: Classifier, make_fallback: Callable[[], Classifier]) -> None:
        self._current = primary
        self._make_fallback = make_fallback
        self.failed_over = False

    @property
    def name(self) -> str:
        return self._current.name

    def classify(self, face: np.ndarray) -> np.ndarray:
        try:
            return self._current.classify(face)
        except DELEGATE_ERRORS as exc:
            if self.failed_over:
                raise
            log.warning(
                "%s backend failed mid-run (%s); switching to CPU", self.name, first_line(exc)
            )
            self._current = self._make_fallback()
            self.failed_over = True
            log.info("backend: %s", self._current.name)
            return self._current.classify(face)


def load_classifier(
    cfg: ModelConfig,
    backend: str | None = None,
    probe: Callable[..., str | None] = probe_edgetpu,
    coral: Callable[[], str | None] = find_coral,
    make_tpu: Callable[[Path, str], Classifier] | None = None,
) -> Classifier:
    """The classifier for ``backend`` (default ``cfg.backend``): auto | edgetpu | cpu.

    ``probe``, ``coral`` and ``make_tpu`` (default ``EdgeTpuClassifier``) are the hardware seams.

    Raises:
        ModelError: a model file is missing, corrupt or of the wrong shape/type.
        BackendUnavailable: ``edgetpu`` was asked for and the probe failed.
    """
    backend = backend or cfg.backend

    def make_cpu() -> Classifier:
        clf = CpuClassifier(cfg.path, num_threads=cfg.num_threads)
        log.info("backend: cpu (%s, %d threads)", cfg.path, cfg.num_threads)
        return clf

    if backend == "cpu":
        return make_cpu()
    if backend == "auto" and not cfg.edgetpu_path.is_file():
        if found := coral():
            log.warning(
                "a Coral is present (%s) but unused: no compiled model at %s; running on CPU. "
                "Make it on an x86-64 machine with: %s",
                found,
                cfg.edgetpu_path,
                compile_command(cfg.tpu_source, cfg.edgetpu_path),
            )
        else:
            log.warning("no Edge TPU model at %s; running on CPU", cfg.edgetpu_path)
        return make_cpu()
    if make_tpu is None:
        from edge.backends.edgetpu import EdgeTpuClassifier as make_tpu

    # Shape/type errors are the user's to fix: check in-process (no delegate, no allocation).
    check_model(make_interpreter(cfg.edgetpu_path, allocate=False), True, cfg.edgetpu_path)
    cause = probe(cfg.edgetpu_path, cfg.device)
    if cause is None:
        try:
            tpu = make_tpu(cfg.edgetpu_path, cfg.device)
        except BackendUnavailable as exc:
            cause = str(exc)
        else:
            log.info("backend: edgetpu (%s, device %r)", cfg.edgetpu_path, cfg.device or "any")
            return FailoverClassifier(tpu, make_cpu)
    if backend == "edgetpu":
        raise BackendUnavailable(f"Edge TPU unavailable: {cause} (try --backend cpu or auto)")
    if found := coral():
        cause += f" (a Coral is present but unused: {found})"
    log.warning("Edge TPU unavailable, running on CPU: %s", cause)
    return make_cpu()
