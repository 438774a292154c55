"""Fakes for the edge daemon's seams (source, classifier, detector); no hardware, no mocks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from edge.errors import SourceReadError
from edge.labels import EMOTIONS
from edge.types import Box, Frame


class FakeSource:
    """Plays ``frames``; an item that is an Exception is raised from ``read`` instead."""

    def __init__(self, frames: Iterable[np.ndarray | Exception], name: str = "fake") -> None:
        self.name = name
        self._items = list(frames)
        self.reads = 0
        self.closed = False

    def read(self) -> Frame | None:
        if self.closed:
            raise SourceReadError("read after close")
        if self.reads >= len(self._items):
            return None
        item = self._items[self.reads]
        self.reads += 1
        if isinstance(item, Exception):
            raise item
        return Frame(item)

    def close(self) -> None:
        self.closed = True


class FakeRequest:
    """One ``captured_request()``: the main BGR array and the lores YUV420 buffer."""

    def __init__(self, main: np.ndarray, lores: np.ndarray) -> None:
        self.main, self.lores = main, lores

    def make_array(self, name: str) -> np.ndarray:
        assert name == "main"
        return self.main

    def make_buffer(self, name: str) -> np.ndarray:
        assert name == "lores"
        return self.lores


class FakePicamera2:
    """The slice of picamera2.Picamera2 that PicameraSource uses (put it in
    ``sys.modules["picamera2"]``); records mode switches and released requests.

    Each request's lores Y plane ramps from 16 (left) to 235 (right) over ``LORES_SIZE``, and
    the stride padding beyond the width holds 255s (junk the source must crop away).
    """

    instances: list[FakePicamera2] = []
    cameras: list[dict] = [{"Model": "fake"}]  # what libcamera lists; [] = no camera
    LORES_SIZE, LORES_STRIDE = (320, 240), 384

    def __init__(self) -> None:
        self.switches: list[dict] = []
        self.fail = False
        self.released = 0
        self.main = np.full((480, 640, 3), 7, np.uint8)
        FakePicamera2.instances.append(self)

    @classmethod
    def global_camera_info(cls) -> list[dict]:
        return cls.cameras

    def create_video_configuration(self, **streams: dict) -> dict:
        return {"use": "video", **streams}

    def create_still_configuration(self, **streams: dict) -> dict:
        return {"use": "still", **streams}

    def configure(self, config: dict) -> None:
        self.config = config

    def start(self) -> None: ...

    def stream_configuration(self, name: str) -> dict:
        return {"size": self.LORES_SIZE, "stride": self.LORES_STRIDE}

    @contextlib.contextmanager
    def captured_request(self) -> Iterator[FakeRequest]:
        if self.fail:
            raise RuntimeError("camera timed out")
        (w, h), stride = self.LORES_SIZE, self.LORES_STRIDE
        y = np.full((h, stride), 255, np.uint8)
        y[:, :w] = np.linspace(16, 235, w).round().astype(np.uint8)
        uv = np.full((h // 2, stride), 128, np.uint8)
        try:
            yield FakeRequest(self.main, np.concatenate([y, uv]).reshape(-1))
        finally:
            self.released += 1

    def switch_mode_and_capture_array(self, config: dict, name: str = "main") -> np.ndarray:
        if self.fail:
            raise RuntimeError("camera timed out")
        self.switches.append(config)
        return np.full((1944, 2592, 3), 7, np.uint8)

    def stop(self) -> None: ...

    def close(self) -> None: ...


class FakeV4L2:
    """Stands in for ``cv2.VideoCapture``: only ``present`` devices open; ``tried`` records all."""

    def __init__(self, present: Iterable[str | int] = ()) -> None:
        self.present = set(present)
        self.tried: list[str | int] = []

    def __call__(self, device: str | int, api: int | None = None) -> FakeCapture:
        self.tried.append(device)
        return FakeCapture(device in self.present)


class FakeCapture:
    """The slice of ``cv2.VideoCapture`` that OpenCVSource uses."""

    def __init__(self, opened: bool) -> None:
        self.opened = opened

    def isOpened(self) -> bool:  # noqa: N802  (OpenCV's name)
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        return self.opened, np.zeros((480, 640, 3), np.uint8) if self.opened else None

    def release(self) -> None:
        self.opened = False


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    """Scores with ``p`` on ``label`` and the rest spread evenly."""
    scores = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), np.float32)
    scores[EMOTIONS.index(label)] = p
    return scores


class FakeClassifier:
    """Returns ``scores_for(face, call_index)``; raises ``fail_with`` from call ``fail_at`` on."""

    def __init__(
        self,
        scores_for: Callable[[np.ndarray, int], np.ndarray] | None = None,
        name: str = "fake",
        fail_at: int | None = None,
        fail_with: Exception | None = None,
    ) -> None:
        self.name = name
        self.scores_for = scores_for or (lambda _face, _i: one_hot("neutral"))
        self.fail_at = fail_at
        self.fail_with = fail_with or RuntimeError("Edge TPU: USB transfer error")
        self.calls = 0
        self.faces: list[np.ndarray] = []

    def classify(self, face: np.ndarray) -> np.ndarray:
        assert face.shape == (48, 48) and face.dtype == np.uint8
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise self.fail_with
        self.faces.append(face)
        self.calls += 1
        return self.scores_for(face, self.calls - 1)


class FakeFaces:
    """A detector returning scripted boxes per call (the last entry repeats); with a window,
    as Haar, only those wholly inside it (and of ``sides``, if given). ``windows`` records each
    call's (None: whole image), ``known`` each call's tracked boxes (those Haar may find on
    weaker evidence), ``confirming`` each call's new faces being confirmed, ``sides`` each
    call's size limit."""

    def __init__(self, boxes_per_frame: Sequence[Sequence[Box]]) -> None:
        self._boxes = [list(b) for b in boxes_per_frame]
        self.calls = 0
        self.windows: list[Box | None] = []
        self.known: list[list[Box]] = []
        self.confirming: list[list[Box]] = []
        self.sides: list[tuple[int, int] | None] = []

    def detect(
        self,
        grey: np.ndarray,
        window: Box | None = None,
        known: Sequence[Box] = (),
        sides: tuple[int, int] | None = None,
        confirming: Sequence[Box] = (),
    ) -> list[Box]:
        boxes = self._boxes[min(self.calls, len(self._boxes) - 1)]
        self.calls += 1
        self.windows.append(window)
        self.known.append(list(known))
        self.confirming.append(list(confirming))
        self.sides.append(sides)
        found = within(boxes, window)
        return [b for b in found if sides is None or sides[0] <= b.w <= sides[1]]


def within(boxes: Sequence[Box], window: Box | None) -> list[Box]:
    """The boxes wholly inside ``window`` (all of them for None): what Haar can find there."""
    if window is None:
        return list(boxes)
    return [
        b
        for b in boxes
        if window.x <= b.x
        and b.x + b.w <= window.x + window.w
        and window.y <= b.y
        and b.y + b.h <= window.y + window.h
    ]
