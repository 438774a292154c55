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
    """Load ``split`` (``train``/``val``/``test``) from a folder root or a ``fer2013.csv``."""
    data = Path(data)
    if data.suffix.lower() == ".csv":
        return load_csv(data, split)
    folder = data / split
    if not folder.is_dir() and _looks_like_split(data):
        folder = data  # the path given is already a split folder
    return load_folder(folder)


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
