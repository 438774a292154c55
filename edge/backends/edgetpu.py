"""Edge TPU backend: ``load_delegate("libedgetpu.so.1")`` and the ``*_edgetpu.tflite`` model."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.backends.tflite import (
    DELEGATE_ERRORS,
    TfliteClassifier,
    check_model,
    first_line,
    load_delegate,
    make_interpreter,
)
from edge.errors import BackendUnavailable

log = logging.getLogger(__name__)

EDGETPU_LIB = "libedgetpu.so.1"


class EdgeTpuClassifier(TfliteClassifier):
    """The compiled model on a Coral Edge TPU (``device``: "", "usb", "usb:0", "pci", ...).

    Raises:
        ModelError: the model file is missing, corrupt, not 48x48x1 or not 8-bit.
        BackendUnavailable: the delegate cannot be loaded (no TPU, no libedgetpu).
    """

    def __init__(self, model_path: Path, device: str = "") -> None:
        self.model_path = Path(model_path)
        check_model(make_interpreter(self.model_path, allocate=False), True, self.model_path)
        if b"edgetpu-custom-op" not in self.model_path.read_bytes():
            log.warning("%s is not compiled for the Edge TPU; it will run on the CPU", model_path)
        try:
            delegate = load_delegate(EDGETPU_LIB, {"device": device} if device else {})
        except DELEGATE_ERRORS as exc:
            raise BackendUnavailable(f"no Edge TPU ({first_line(exc)})") from exc
        interp = make_interpreter(self.model_path, num_threads=1, delegates=[delegate])
        super().__init__(interp, name="edgetpu", require_int8=True, source=self.model_path)
