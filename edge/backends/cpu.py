"""CPU backend: the plain full-int8 model on TFLite's CPU kernels (XNNPACK, ``num_threads``)."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.backends.tflite import TfliteClassifier, make_interpreter

log = logging.getLogger(__name__)


class CpuClassifier(TfliteClassifier):
    """``CpuClassifier(model_path, num_threads=1).classify(face48) -> scores (7,) float32``."""

    def __init__(self, model_path: Path, num_threads: int = 1) -> None:
        self.model_path = Path(model_path)
        interp = make_interpreter(self.model_path, num_threads=num_threads)
        super().__init__(interp, name="cpu", source=self.model_path)
