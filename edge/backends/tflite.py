"""The only module that imports the TFLite runtime (``ai_edge_litert``, else ``tflite_runtime``).

``make_interpreter`` builds an interpreter once; ``TfliteClassifier`` checks the model's I/O
contract ((1, 48, 48, 1) raw grey pixels in, 7 scores out, quantization read from the file) and
turns a 48x48 uint8 face into dequantized float32 scores. CPU and Edge TPU differ only in the
delegates they pass.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import BackendUnavailable, ModelError
from edge.labels import NUM_CLASSES
from edge.preprocess import dequantize, quantize

log = logging.getLogger(__name__)

INPUT_SHAPE = (1, 48, 48, 1)
DELEGATE_ERRORS = (ValueError, OSError, RuntimeError)
"""What ``load_delegate`` raises: ValueError (no device), OSError (no .so), RuntimeError."""


def runtime() -> Any:
    """The interpreter module: ai_edge_litert.interpreter, else tflite_runtime.interpreter."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        try:
            from tflite_runtime import interpreter
        except ImportError:
            raise BackendUnavailable(
                "no TFLite runtime: pip install ai-edge-litert (see requirements-edge.txt)"
            ) from None
    return interpreter


def load_delegate(library: str, options: dict[str, str] | None = None) -> Any:
    """``load_delegate`` of the runtime; raises ValueError/OSError/RuntimeError on failure."""
    return runtime().load_delegate(library, options or {})


def make_interpreter(
    model_path: Path, num_threads: int = 1, delegates: Sequence[Any] = (), allocate: bool = True
) -> Any:
    """An interpreter for ``model_path``; ModelError for a missing or corrupt file.

    With ``allocate=False`` the tensors are not allocated: enough to read the I/O details of a
    model whose custom ops (edgetpu-custom-op) this process cannot run.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelError(f"model file not found: {model_path}")
    try:
        interp = runtime().Interpreter(
            model_path=str(model_path),
            num_threads=num_threads,
            experimental_delegates=list(delegates) or None,
        )
        if allocate:
            interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load model {model_path}: {first_line(exc)}") from exc
    return interp


def check_model(interpreter: Any, require_int8: bool = False, source: object = "model") -> None:
    """Raise ModelError unless the I/O is (1, 48, 48, 1) in, 7 scores out (8-bit if required);
    the message starts with ``source`` (the model's path)."""
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    shape = tuple(int(v) for v in inp["shape"])
    if shape != INPUT_SHAPE:
        raise ModelError(f"{source}: input is {shape}, expected {INPUT_SHAPE} (48x48 grey)")
    if int(np.prod(out["shape"])) != NUM_CLASSES:
        shape = tuple(out["shape"])
        raise ModelError(f"{source}: output is {shape}, expected {NUM_CLASSES} scores")
    in_dtype, out_dtype = np.dtype(inp["dtype"]), np.dtype(out["dtype"])
    if require_int8 and not (_is_8bit(in_dtype) and _is_8bit(out_dtype)):
        raise ModelError(
            f"{source}: not 8-bit (input {in_dtype}, output {out_dtype}); "
            "the Edge TPU needs a full-integer model compiled with edgetpu_compiler"
        )


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for one-line logs."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class TfliteClassifier:
    """A 48x48 grey face → 7 dequantized scores, through one interpreter built once.

    Args:
        interpreter: an allocated interpreter (see ``make_interpreter``).
        name: the backend name reported in logs and events ("cpu", "edgetpu").
        require_int8: reject models whose input/output is not 8-bit (Edge TPU).
        source: the model's path, named in errors.
    """

    def __init__(
        self, interpreter: Any, name: str, require_int8: bool = False, source: object = "model"
    ) -> None:
        self.name = name
        self._interp = interpreter
        check_model(interpreter, require_int8, source)
        self.input_details = interpreter.get_input_details()[0]
        self.output_details = interpreter.get_output_details()[0]
        self.input_dtype = np.dtype(self.input_details["dtype"])
        self.input_scale, self.input_zero_point = _quant(self.input_details)
        self.output_scale, self.output_zero_point = _quant(self.output_details)
        self._in_index = self.input_details["index"]
        self._out_index = self.output_details["index"]
        # every 0..255 pixel's input value, once: a table lookup per face, not float maths
        levels, dtype = np.arange(256, dtype=np.uint8), self.input_dtype
        self._quantized = quantize(levels, self.input_scale, self.input_zero_point, dtype)

    @property
    def input_size(self) -> tuple[int, int]:
        return (INPUT_SHAPE[2], INPUT_SHAPE[1])

    def classify(self, face: np.ndarray) -> np.ndarray:
        """Scores (float32, shape (7,)) for one uint8 (48, 48) face of raw 0..255 pixels."""
        if face.dtype == np.uint8:
            q = self._quantized[face]
        else:
            q = quantize(face, self.input_scale, self.input_zero_point, self.input_dtype)
        self._interp.set_tensor(self._in_index, q.reshape(INPUT_SHAPE))
        self._interp.invoke()
        raw = self._interp.get_tensor(self._out_index).reshape(NUM_CLASSES)
        return dequantize(raw, self.output_scale, self.output_zero_point)


def _is_8bit(dtype: np.dtype) -> bool:
    return dtype in (np.dtype(np.uint8), np.dtype(np.int8))


def _quant(details: dict[str, Any]) -> tuple[float, int]:
    scale, zero_point = details.get("quantization", (0.0, 0))
    return float(scale), int(zero_point)
