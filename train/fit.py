"""Training: augmentation, a cosine schedule, a checkpoint every epoch, resume, best-on-val."""

from __future__ import annotations

import csv
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from edge.fsio import replace_synced, write_atomic
from edge.labels import NUM_CLASSES, labels_text
from train import models
from train.augment import AugmentConfig, augment_batch
from train.data import Split, load_split

log = logging.getLogger(__name__)

OPTIMIZERS = ("momentum", "rmsprop", "adam")
DEFAULT_LR = {"momentum": 0.05, "rmsprop": 5e-4, "adam": 2e-3}
# Decoupled decay as Keras applies it (var -= lr * wd * var): L2-like for SGD/RMSprop;
# AdamW for Adam.
DEFAULT_WD = {"momentum": 5e-4, "rmsprop": 5e-4, "adam": 0.05}
STATE_FILE = "state.json"
LAST, BEST = "last.keras", "best.keras"


@dataclass(frozen=True)
class FitConfig:
    arch: str
    optimizer: str
    data: str
    out: str
    epochs: int
    batch_size: int = 128
    lr: float | None = None
    warmup_epochs: float = 1.0
    weight_decay: float | None = None
    label_smoothing: float = 0.1
    seed: int = 0
    augment: bool = True
    limit: int | None = None  # use only the first N training images (smoke runs)
    teacher: str | None = None  # a .keras model to distill from (train/distill.py)
    distill_alpha: float = 0.5
    temperature: float = 4.0
    distill_on: str = "clean"  # teacher scores on clean images (cached) or each augmented batch
    init: str | None = None  # start from this .keras model's weights (fresh optimizer, schedule)
    protocol: str = "fer"  # fer: train/ + val/; paper: the seed paper's paper-train/paper-test

    @property
    def splits(self) -> tuple[str, str]:
        """The (training, scoring) split names for ``load_split``."""
        return ("paper-train", "paper-test") if self.protocol == "paper" else ("train", "val")

    @property
    def base_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    @property
    def decay(self) -> float:
        return self.weight_decay if self.weight_decay is not None else DEFAULT_WD[self.optimizer]


def make_optimizer(name: str, schedule, weight_decay: float) -> keras.optimizers.Optimizer:
    if name == "momentum":
        return keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=weight_decay
        )
    if name == "rmsprop":
        return keras.optimizers.RMSprop(schedule, rho=0.9, weight_decay=weight_decay)
    if name == "adam":
        return keras.optimizers.AdamW(schedule, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})")


def make_schedule(cfg: FitConfig, steps_per_epoch: int) -> keras.optimizers.schedules.CosineDecay:
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    total = max(cfg.epochs * steps_per_epoch - warmup, 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.base_lr * 0.1 if warmup else cfg.base_lr,
        decay_steps=total,
        warmup_target=cfg.base_lr if warmup else None,
        warmup_steps=warmup,
    )


def make_dataset(
    split: Split,
    batch_size: int,
    training: bool,
    seed: int,
    augment: bool = True,
    soft: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Batches of (0..255 pixels, one-hot), or (pixels, [one-hot | soft]) when ``soft`` is given."""
    images = split.images[..., None].astype(np.float32)
    labels = keras.utils.to_categorical(split.labels, NUM_CLASSES).astype(np.float32)
    if soft is not None:
        labels = np.concatenate([labels, soft.astype(np.float32)], axis=1)
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if training:
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if training and augment:
        cfg = AugmentConfig()
        ds = ds.map(lambda x, y: (augment_batch(x, cfg), y), num_parallel_calls=1)
    return ds.prefetch(2)


class EpochState(keras.callbacks.Callback):
    """Saves ``last.keras`` + ``state.json`` each epoch, ``best.keras`` on best val accuracy."""

    def __init__(self, out: Path, best_val: float, started: float) -> None:
        super().__init__()
        self.out, self.best_val, self.started = out, best_val, started

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        val = float(logs.get("val_accuracy", 0.0))
        if val > self.best_val:
            self.best_val = val
            _save_atomic(self.model, self.out / BEST)
            log.info("epoch %d: new best val accuracy %.4f", epoch + 1, val)
        _save_atomic(self.model, self.out / LAST)
        state = {
            "epochs_done": epoch + 1,
            "best_val_accuracy": self.best_val,
            "wall_s": time.time() - self.started,
        }
        write_atomic(self.out / STATE_FILE, json.dumps(state, indent=2))


def _save_atomic(model: keras.Model, path: Path) -> None:
    """``model.save`` to a temporary name (keras wants the ``.keras`` ending), then fsync and
    rename it into place (``edge.fsio``)."""
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    replace_synced(tmp, path)


def export_model(source: Path, dest: Path) -> dict:
    """Copy a run's checkpoint for shipping: weights and graph only, no optimizer state.

    Written to a temporary name and renamed, so ``dest`` is never half-written. Returns what the
    model card reports: parameters, MACs per face, bytes and sha256 of the written file.
    """
    import hashlib

    model = keras.models.load_model(source, compile=False)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _save_atomic(model, dest)
    return {
        "model": str(dest),
        "source": str(source),
        "params": int(model.count_params()),
        "macs": models.count_macs(model),
        "bytes": dest.stat().st_size,
        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
    }


def data_seed(seed: int, epochs_done: int) -> int:
    """The seed of the shuffle order and augmentation for a process that starts after
    ``epochs_done`` epochs. Their random streams restart with the process: seeded alike, a
    resumed run would be fed the very batches of its first epochs again (same images, same
    warps and erasures) and learn them by heart (seen as a jump in train accuracy and a drop
    in val after each resume of the seed network's 30 epochs). A run never resumed is seeded
    with ``seed`` as before."""
    return seed + epochs_done


def read_state(out: Path) -> dict:
    path = out / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def fit(cfg: FitConfig, resume: bool = False, verbose: int | str = "auto") -> dict:
    """Train ``cfg.arch`` and return the final state (epochs done, best val accuracy, wall time)."""
    out = Path(cfg.out)
    state = read_state(out) if resume else {}
    if resume and not state:
        raise FileNotFoundError(f"{out / STATE_FILE}: nothing to resume (no finished epoch)")
    if not resume and (out / STATE_FILE).exists():
        raise FileExistsError(f"{out}: already holds a run; pass --resume or choose another --out")
    if resume:
        _check_same_distillation(cfg, out)
    out.mkdir(parents=True, exist_ok=True)
    stream = data_seed(cfg.seed, int(state.get("epochs_done", 0)))
    keras.utils.set_random_seed(stream)

    train_split, val_split = (load_split(Path(cfg.data), name) for name in cfg.splits)
    if cfg.limit:
        keep = np.random.default_rng(cfg.seed).permutation(len(train_split))[: cfg.limit]
        train_split = Split(train_split.images[keep], train_split.labels[keep], train_split.source)
    if cfg.teacher:
        train_ds, val_ds = _distill_datasets(cfg, train_split, val_split, out, stream)
    else:
        train_ds = make_dataset(train_split, cfg.batch_size, True, stream, cfg.augment)
        val_ds = make_dataset(val_split, 256, False, stream)
    steps = int(np.ceil(len(train_split) / cfg.batch_size))

    if resume:
        from train import distill  # noqa: F401  (registers the distillation loss and metric)

        model = keras.models.load_model(out / LAST)
        # The schedule follows the optimizer's step count, so rebuilding it for this --epochs
        # continues the same curve, or re-plans it when a run is lengthened or shortened.
        model.optimizer.learning_rate = make_schedule(cfg, steps)
        log.info("resuming %s after epoch %d of %d", out, state["epochs_done"], cfg.epochs)
    else:
        model = models.build(cfg.arch)
        if cfg.init:
            init_weights(model, Path(cfg.init))
        model.compile(
            optimizer=make_optimizer(cfg.optimizer, make_schedule(cfg, steps), cfg.decay),
            **_loss_and_metrics(cfg),
        )
        (out / "labels.txt").write_text(labels_text())
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    initial_epoch = int(state.get("epochs_done", 0))
    started = time.time() - float(state.get("wall_s", 0.0))
    callbacks = [
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=resume),
        EpochState(out, float(state.get("best_val_accuracy", -1.0)), started),
    ]
    if initial_epoch < cfg.epochs:
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=cfg.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the dataset reshuffles itself each epoch
        )
    return read_state(out)


def init_weights(model: keras.Model, source: Path) -> None:
    """Copy ``source``'s weights into ``model`` (a second stage of training, e.g. a fine-tune
    with another schedule or distillation recipe). The layer shapes must match."""
    if not source.is_file():
        raise FileNotFoundError(f"--init {source}: no such model file")
    weights = keras.models.load_model(source, compile=False).get_weights()
    have = [w.shape for w in model.get_weights()]
    if [w.shape for w in weights] != have:
        raise ValueError(f"--init {source}: its layers do not match --arch (weights differ)")
    model.set_weights(weights)
    log.info("weights from %s", source)


def _check_same_distillation(cfg: FitConfig, out: Path) -> None:
    """A resumed run keeps its compiled loss, so its targets must keep the same shape.

    (Alpha and temperature come back with the checkpoint's loss; the flags only choose the data.)
    """
    path = out / "config.json"
    before = json.loads(path.read_text()) if path.is_file() else {}
    if bool(before.get("teacher")) != bool(cfg.teacher):
        was = (
            f"with --teacher {before['teacher']}" if before.get("teacher") else "without --teacher"
        )
        raise ValueError(f"{out} was trained {was}; resume it with the same distillation flags")
    if cfg.teacher and before.get("distill_on", "clean") != cfg.distill_on:
        raise ValueError(f"{out} was trained with --distill-on {before.get('distill_on')}")


def _loss_and_metrics(cfg: FitConfig) -> dict:
    if not cfg.teacher:
        return {
            "loss": keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
            "metrics": ["accuracy"],
        }
    from train.distill import DistillLoss, accuracy_metric

    loss = DistillLoss(cfg.distill_alpha, cfg.temperature, cfg.label_smoothing)
    return {"loss": loss, "metrics": [accuracy_metric()]}


def _distill_datasets(
    cfg: FitConfig, train_split: Split, val_split: Split, out: Path, seed: int
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Targets ``[one-hot | teacher scores]``; ``val`` repeats its one-hot (scored on labels)."""
    from train import distill

    if cfg.distill_on not in distill.DISTILL_ON:
        raise ValueError(f"--distill-on must be one of {', '.join(distill.DISTILL_ON)}")
    teacher = distill.load_teacher(Path(cfg.teacher))  # fails fast on a bad path
    val_onehot = keras.utils.to_categorical(val_split.labels, NUM_CLASSES)
    val_ds = make_dataset(val_split, 256, False, seed, soft=val_onehot)
    if cfg.distill_on == "clean":
        soft = distill.cached_teacher_scores(teacher, train_split.images, out)
        train_ds = make_dataset(train_split, cfg.batch_size, True, seed, cfg.augment, soft=soft)
    else:
        train_ds = make_dataset(train_split, cfg.batch_size, True, seed, cfg.augment)
        train_ds = distill.with_teacher(train_ds, teacher).prefetch(2)
    return train_ds, val_ds


def read_history(path: Path) -> list[dict[str, float]]:
    with Path(path).open(newline="") as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]
