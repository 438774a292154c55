"""FER-2013 loaders: the image-folder layout and the original ``fer2013.csv``.

Both return a :class:`Split`: ``images`` uint8 ``(N, 48, 48)`` and ``labels`` int ``(N,)`` in
FER-2013 order (``edge.labels.EMOTIONS``). Bad input raises :class:`DataError` with one line
naming the file (and row).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.labels import EMOTIONS, NUM_CLASSES

log = logging.getLogger(__name__)

IMAGE_SIDE = 48
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm")
CSV_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
# The seed paper's protocol: 11,214 training and 2,804 test samples of FER-2013 (its section 4).
PAPER_SIZES = {"paper-train": 11_214, "paper-test": 2_804}
PAPER_SEED = 0


class DataError(ValueError):
    """A data set on disk is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # int64 (N,)
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=NUM_CLASSES)


def load_split(data: Path, split: str) -> Split:
    """Load ``split`` (``train``/``val``/``test``) from a folder root or a ``fer2013.csv``.

    ``paper-train`` / ``paper-test``: the seed paper's protocol (see :func:`paper_protocol`).
    """
    data = Path(data)
    if split in PAPER_SIZES:
        return paper_protocol(data)[split]
    if data.suffix.lower() == ".csv":
        return load_csv(data, split)
    folder = data / split
    if not folder.is_dir() and _looks_like_split(data):
        folder = data  # the path given is already a split folder
    return load_folder(folder)


def paper_protocol(
    data: Path, seed: int = PAPER_SEED, sizes: dict[str, int] = PAPER_SIZES
) -> dict[str, Split]:
    """The paper's 11,214 / 2,804 samples, drawn from ``train`` and ``val`` pooled.

    Stratified (each class in proportion to the pool, largest remainders), fixed ``seed``, exact
    duplicate images dropped from the pool first (FER-2013 holds a few), so no image is in both.
    The same ``data`` and ``seed`` give the same two splits on any machine.
    """
    parts = [load_split(data, "train"), load_split(data, "val")]
    images = np.concatenate([p.images for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    _, first = np.unique(images.reshape(len(images), -1), axis=0, return_index=True)
    keep = np.sort(first)
    images, labels = images[keep], labels[keep]
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    rng = np.random.default_rng(seed)
    if sum(sizes.values()) > len(labels):
        raise DataError(f"{data}: {len(labels)} unique images, fewer than {sum(sizes.values())}")
    chosen: dict[str, list[np.ndarray]] = {name: [] for name in sizes}
    quotas = {name: _stratified(counts, size) for name, size in sizes.items()}
    for label in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == label))
        start = 0
        for name in sizes:
            take = quotas[name][label]
            chosen[name].append(members[start : start + take])
            start += take
    source = f"{Path(data)} (train+val pooled, {len(keep)} unique, seed {seed})"
    out = {}
    for name in sizes:
        idx = np.sort(np.concatenate(chosen[name]))
        out[name] = Split(images[idx], labels[idx], f"{name} of {source}")
    return out


def _stratified(counts: np.ndarray, size: int) -> np.ndarray:
    """``size`` split across classes in proportion to ``counts`` (largest remainder)."""
    exact = counts * size / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: size - quota.sum()]] += 1
    return quota


def _looks_like_split(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_dir() for name in EMOTIONS)


def load_folder(folder: Path) -> Split:
    """Load ``folder/<emotion>/*.jpg`` (48x48 grayscale; other sizes are resized)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such data folder")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, name in enumerate(EMOTIONS):
        class_dir = folder / name
        if not class_dir.is_dir():
            raise DataError(f"{class_dir}: missing class folder '{name}'")
        files = sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataError(f"{class_dir}: class '{name}' has no images")
        for path in files:
            images.append(read_face(path))
            labels.append(label)
    log.info("loaded %d images from %s", len(labels), folder)
    return Split(np.stack(images), np.asarray(labels, dtype=np.int64), str(folder))


def read_face(path: Path) -> np.ndarray:
    """Read one face image as uint8 48x48 grayscale."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(f"{path}: not an image file (expected one of {', '.join(IMAGE_SUFFIXES)})")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataError(f"{path}: cannot decode image")
    if image.shape != (IMAGE_SIDE, IMAGE_SIDE):
        image = cv2.resize(image, (IMAGE_SIDE, IMAGE_SIDE), interpolation=cv2.INTER_AREA)
    return image


def load_csv(path: Path, split: str) -> Split:
    """Load the rows of ``fer2013.csv`` whose ``Usage`` matches ``split``."""
    path = Path(path)
    usage = CSV_USAGE.get(split, split)
    if not path.is_file():
        raise DataError(f"{path}: no such CSV file")
    images: list[np.ndarray] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        try:
            _read_rows(reader, path, usage, images, labels)
        except (csv.Error, UnicodeDecodeError) as exc:  # a NUL byte, a huge field, not text
            raise DataError(f"{path}:{reader.line_num}: not a readable CSV row ({exc})") from None
    if not labels:
        raise DataError(f"{path}: no rows with Usage '{usage}'")
    split_labels = np.asarray(labels, dtype=np.int64)
    empty = [EMOTIONS[i] for i, n in enumerate(np.bincount(split_labels, minlength=7)) if n == 0]
    if empty:
        raise DataError(f"{path}: Usage '{usage}' has no rows of class {', '.join(empty)}")
    return Split(np.stack(images), split_labels, f"{path}:{usage}")


def _read_rows(reader: csv.DictReader, path: Path, usage: str, images: list, labels: list) -> None:
    missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    for row in reader:
        line = reader.line_num
        extra = row.pop(None, None) or []  # DictReader: surplus fields under None
        found = sum(v is not None for v in row.values()) + len(extra)
        if found != len(reader.fieldnames or ()):
            raise DataError(f"{path}:{line}: expected {len(row)} fields, found {found}")
        if row["Usage"] != usage:
            continue
        images.append(_parse_pixels(row["pixels"], path, line))
        labels.append(_parse_label(row["emotion"], path, line))


def _parse_pixels(text: str, path: Path, row: int) -> np.ndarray:
    values = text.split()
    if len(values) != IMAGE_SIDE * IMAGE_SIDE:
        raise DataError(
            f"{path}:{row}: expected {IMAGE_SIDE * IMAGE_SIDE} pixels, found {len(values)}"
        )
    try:
        pixels = np.array([int(v) for v in values])
    except ValueError:
        raise DataError(f"{path}:{row}: pixels must be integers 0..255") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{path}:{row}: pixels must be integers 0..255")
    return pixels.astype(np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)


def _parse_label(text: str, path: Path, row: int) -> int:
    try:
        label = int(text)
    except ValueError:
        raise DataError(f"{path}:{row}: emotion '{text}' is not an integer") from None
    if not 0 <= label < NUM_CLASSES:
        raise DataError(f"{path}:{row}: emotion {label} is outside 0..{NUM_CLASSES - 1}")
    return label
