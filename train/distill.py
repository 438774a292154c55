"""Knowledge distillation: a small student learns from the accurate model's scores.

The loss is Hinton's: ``(1 - alpha) * CE(hard labels, student)`` plus
``alpha * T^2 * KL(teacher_T || student_T)``, where ``_T`` are the softmax scores at
temperature ``T``. The student is compiled with this loss as a plain Keras model, so its
checkpoints load, evaluate, export and convert like any other run's; the targets carry both
halves side by side: ``y = [one-hot (7) | teacher scores (7)]``.

Both models end in a softmax, so tempered scores are taken from log-probabilities:
``softmax(log p / T) == softmax(logits / T)`` (the log-sum-exp shift cancels).

Two ways to get the teacher's scores (``distill_on``):

- ``clean`` (default): once per run, on the un-augmented training images, averaged with their
  mirror images (the recipe flips half the batches, so the target is flip-invariant), and cached
  in the run folder. Measured here: one teacher forward pass of a 128-image batch costs ~0.77x a
  ``fast`` training step, so this costs ~2 passes over ``train`` once instead of ~+77% per epoch.
- ``augmented``: the teacher scores each augmented batch inside the input pipeline, so the
  target matches what the student sees (erased patches, rotations), at that per-epoch cost.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from edge.labels import NUM_CLASSES

log = logging.getLogger(__name__)

DISTILL_ON = ("clean", "augmented")
SOFT_FILE = "teacher_soft.npy"
_EPS = 1e-7


@keras.saving.register_keras_serializable(package="emotion")
class DistillLoss(keras.losses.Loss):
    """Hard-label cross-entropy blended with the tempered KL to the teacher's scores."""

    def __init__(
        self,
        alpha: float = 0.5,
        temperature: float = 4.0,
        label_smoothing: float = 0.0,
        name: str = "distill",
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"distill alpha {alpha} is outside 0..1")
        if temperature <= 0:
            raise ValueError(f"temperature {temperature} must be > 0")
        self.alpha, self.temperature, self.label_smoothing = alpha, temperature, label_smoothing

    def call(self, y_true, y_pred):
        hard, soft = y_true[:, :NUM_CLASSES], y_true[:, NUM_CLASSES:]
        ce = keras.losses.categorical_crossentropy(
            hard, y_pred, label_smoothing=self.label_smoothing
        )
        t = self.temperature
        log_student = ops.log_softmax(ops.log(ops.clip(y_pred, _EPS, 1.0)) / t, axis=-1)
        log_teacher = ops.log_softmax(ops.log(ops.clip(soft, _EPS, 1.0)) / t, axis=-1)
        kl = ops.sum(ops.exp(log_teacher) * (log_teacher - log_student), axis=-1)
        return (1.0 - self.alpha) * ce + self.alpha * (t * t) * kl

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "temperature": self.temperature,
            "label_smoothing": self.label_smoothing,
        }


@keras.saving.register_keras_serializable(package="emotion")
def hard_accuracy(y_true, y_pred):
    """Top-1 accuracy against the one-hot half of ``[one-hot | teacher scores]``."""
    truth = ops.argmax(y_true[:, :NUM_CLASSES], axis=-1)
    return ops.cast(ops.equal(truth, ops.argmax(y_pred, axis=-1)), "float32")


def accuracy_metric() -> keras.metrics.Metric:
    # Named "accuracy" so the logs keep "accuracy"/"val_accuracy" (best-epoch choice, history).
    return keras.metrics.MeanMetricWrapper(hard_accuracy, name="accuracy")


def load_teacher(path: Path) -> keras.Model:
    path = Path(path)
    if not path.is_file() or path.suffix != ".keras":
        raise FileNotFoundError(f"{path}: no such teacher model (expected a .keras file)")
    import train.models  # noqa: F401  (registers the custom layers)

    return keras.models.load_model(path, compile=False)


def teacher_scores(teacher: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The teacher's scores on uint8 faces ``(N, 48, 48)``, averaged with the mirrored faces."""
    x = images[..., None].astype(np.float32)
    plain = teacher.predict(x, batch_size=batch_size, verbose=0)
    mirrored = teacher.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0)
    return ((plain + mirrored) / 2.0).astype(np.float32)


def cached_teacher_scores(teacher: keras.Model, images: np.ndarray, out: Path) -> np.ndarray:
    """``teacher_scores``, cached as ``out/teacher_soft.npy`` so a resumed run reuses them."""
    cache = Path(out) / SOFT_FILE
    if cache.is_file():
        soft = np.load(cache)
        if soft.shape == (len(images), NUM_CLASSES):
            log.info("teacher scores from %s", cache)
            return soft
    log.info("scoring %d training images with the teacher %s", len(images), teacher.name)
    soft = teacher_scores(teacher, images)
    tmp = cache.with_name(cache.stem + ".tmp.npy")
    np.save(tmp, soft)
    tmp.replace(cache)
    return soft


def with_teacher(ds: tf.data.Dataset, teacher: keras.Model) -> tf.data.Dataset:
    """Append the teacher's scores on each (augmented) batch to its one-hot targets."""

    def score(x, y):
        return x, tf.concat([y, teacher(x, training=False)], axis=-1)

    return ds.map(score, num_parallel_calls=1)
