"""Raspberry Pi camera through picamera2 (apt ``python3-picamera2``; imported only here).

Two streams from one request: ``main`` RGB888 (BGR in memory, what OpenCV wants) for crops and
captures, and a YUV420 ``lores`` stream whose Y plane is the grey detection image for free.
``capture_still()`` switches to the still configuration (full sensor resolution) for one frame
and back, for smile captures.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from edge.errors import SourceReadError, SourceUnavailable
from edge.preprocess import LIMITED_RANGE_LUT
from edge.types import Frame

log = logging.getLogger(__name__)


def lores_grey(buffer: np.ndarray, width: int, height: int, stride: int) -> np.ndarray:
    """The Y plane of a YUV420 buffer as a full-range (0..255) grey image.

    Rows are ``stride`` bytes (padded beyond ``width``), and the Y values are limited range
    (16..235), so they are cropped to ``width`` and stretched through a lookup table.
    """
    y = np.asarray(buffer, np.uint8).reshape(-1)[: stride * height].reshape(height, stride)
    return cv2.LUT(y[:, :width], LIMITED_RANGE_LUT)


class PicameraSource:
    """The first libcamera camera; ``read()`` raises ``SourceReadError`` on a failed capture."""

    def __init__(
        self,
        size: tuple[int, int],
        lores_size: tuple[int, int],
        still_size: tuple[int, int] | None = None,
    ) -> None:
        self.name = "picamera"
        try:
            from picamera2 import Picamera2
        except Exception as exc:  # ValueError too: "numpy.dtype size changed" (numpy ABI)
            cause = (str(exc).strip().splitlines() or [""])[0]
            raise SourceUnavailable(
                f"picamera2 is not importable ({type(exc).__name__}: {cause}): "
                "apt install python3-picamera2, make the venv with --system-site-packages and "
                "keep apt's numpy in it (systemd/install.sh does)"
            ) from None
        if not Picamera2.global_camera_info():
            raise SourceUnavailable("no Raspberry Pi camera found (libcamera lists none)")
        try:
            self._cam = Picamera2()
            config = self._cam.create_video_configuration(
                main={"size": size, "format": "RGB888"},
                lores={"size": lores_size, "format": "YUV420"},
            )
            self._cam.configure(config)
            still = {"format": "RGB888", **({"size": still_size} if still_size else {})}
            self._still_config = self._cam.create_still_configuration(main=still)
            self._cam.start()
        except (RuntimeError, OSError, ValueError) as exc:
            raise SourceUnavailable(f"cannot start the camera: {exc}") from exc
        lores = self._cam.stream_configuration("lores")
        self._lores = (*lores["size"], lores["stride"])
        log.info("picamera main %s, lores %s stride %d", size, lores["size"], lores["stride"])

    def read(self) -> Frame | None:
        try:
            with self._cam.captured_request() as request:
                bgr = request.make_array("main")
                grey = lores_grey(request.make_buffer("lores"), *self._lores)
        except (RuntimeError, OSError, TimeoutError) as exc:
            raise SourceReadError(f"picamera capture failed: {exc}") from exc
        return Frame(bgr, grey)

    def capture_still(self) -> np.ndarray | None:
        """One full-resolution BGR still (the camera pauses for the mode switch, ~0.5-1 s).

        Returns None (the caller saves the video frame instead) if the switch fails.
        """
        try:
            still = self._cam.switch_mode_and_capture_array(self._still_config, "main")
        except (RuntimeError, OSError, TimeoutError, ValueError) as exc:
            log.warning("still capture failed, saving the video frame instead: %s", exc)
            return None
        log.debug("still %s", still.shape)
        return still

    def close(self) -> None:
        try:
            self._cam.stop()
        finally:
            self._cam.close()
