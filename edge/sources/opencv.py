"""A V4L2 camera (USB webcam, ``/dev/videoN``) through ``cv2.VideoCapture``."""

from __future__ import annotations

import logging

import cv2

from edge.errors import SourceReadError, SourceUnavailable
from edge.types import Frame

log = logging.getLogger(__name__)


class OpenCVSource:
    """A live camera: ``read()`` raises ``SourceReadError`` on a failed grab, never ends."""

    def __init__(self, device: str | int, width: int = 640, height: int = 480) -> None:
        self.name = str(device)
        self._cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceUnavailable(f"no camera at {device} (is it plugged in, user in 'video'?)")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        log.info(
            "camera %s at %dx%d",
            device,
            self._cap.get(cv2.CAP_PROP_FRAME_WIDTH),
            self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT),
        )

    def read(self) -> Frame | None:
        ok, bgr = self._cap.read()
        if not ok:
            raise SourceReadError(f"camera {self.name}: read failed")
        return Frame(bgr)

    def close(self) -> None:
        self._cap.release()
