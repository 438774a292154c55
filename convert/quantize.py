"""Keras model -> full-integer TFLite (int8 inside, uint8/int8 at the edges), batch fixed at 1.

Post-training quantization with a class-balanced representative set drawn from the training
images (fixed seed, so the same inputs give the same file).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from convert.errors import ConvertError
from edge.labels import NUM_CLASSES

log = logging.getLogger(__name__)

INPUT_SHAPE = (1, 48, 48, 1)
IO_DTYPES = ("uint8", "int8")
SEED = 20130  # FER-2013; any fixed value keeps the calibration sample reproducible


def balanced_sample(labels: np.ndarray, size: int, seed: int = SEED) -> np.ndarray:
    """Indices of ``size`` examples, as equal per class as the class counts allow."""
    if size < NUM_CLASSES:
        raise ConvertError(f"calibration size {size} is below one image per class ({NUM_CLASSES})")
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)) for c in range(NUM_CLASSES)]
    empty = [c for c, pool in enumerate(pools) if len(pool) == 0]
    if empty:
        raise ConvertError(f"calibration data has no image of class id(s) {empty}")
    picked: list[int] = []
    taken = [0] * NUM_CLASSES
    while len(picked) < size and any(taken[c] < len(pools[c]) for c in range(NUM_CLASSES)):
        for c in range(NUM_CLASSES):  # round-robin: small classes run out, the rest fill in
            if len(picked) < size and taken[c] < len(pools[c]):
                picked.append(int(pools[c][taken[c]]))
                taken[c] += 1
    return np.sort(np.asarray(picked, dtype=np.int64))


def representative(images: np.ndarray) -> Iterator[list[np.ndarray]]:
    """Yield one float32 ``(1, 48, 48, 1)`` batch of raw 0..255 pixels per image."""
    for image in images:
        yield [image.reshape(INPUT_SHAPE).astype(np.float32)]


def to_int8_tflite(model: object, calibration: np.ndarray, io_dtype: str = "uint8") -> bytes:
    """Convert ``model`` (Keras, raw-pixel input) to a full-int8 flatbuffer.

    ``TFLITE_BUILTINS_INT8`` only: the converter raises instead of leaving a float op.
    """
    import tensorflow as tf

    if io_dtype not in IO_DTYPES:
        raise ConvertError(f"io dtype '{io_dtype}' is not one of {', '.join(IO_DTYPES)}")
    import keras

    # Re-wrap with a batch-1 input: the Keras input has a None batch, which would leave
    # shape_signature [-1, 48, 48, 1] (dynamic) in the file. (A tf.function concrete
    # function does not freeze Keras 3 variables: READ_VARIABLE fails at calibration.)
    pixels = keras.Input(batch_shape=INPUT_SHAPE, name="pixels")
    try:
        fixed = keras.Model(pixels, model(pixels, training=False), name=f"{model.name}_b1")
    except Exception as exc:
        raise ConvertError(
            f"model does not take a {INPUT_SHAPE} pixel input: {_first_error_line(exc)}"
        ) from exc
    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: representative(calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = getattr(tf, io_dtype)
    converter.inference_output_type = getattr(tf, io_dtype)
    try:
        with contextlib.redirect_stdout(_LogWriter()):  # keep the converter's chatter in the log
            return converter.convert()
    except Exception as exc:  # the converter raises many types; report the first useful line
        raise ConvertError(f"int8 conversion failed: {_first_error_line(exc)}") from exc


class _LogWriter(io.TextIOBase):
    def write(self, text: str) -> int:
        if text.strip():
            log.debug("converter: %s", text.rstrip())
        return len(text)


def _first_error_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if "error" in line.lower() and "op" in line.lower()]
    return (useful or lines or [type(exc).__name__])[0][:300]


def load_keras(path: Path) -> object:
    """Load a ``.keras`` file (custom layers of ``train.models`` registered)."""
    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"{path}: no such model file")
    if path.suffix != ".keras":
        raise ConvertError(f"{path}: not a Keras model file (expected a .keras file)")
    import keras

    import train.models  # noqa: F401  (registers LocalResponseNorm for deserialization)

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:
        raise ConvertError(f"{path}: cannot load Keras model ({_first_error_line(exc)})") from exc


def converter_version() -> str:
    import tensorflow as tf

    return tf.__version__
