"""Pure per-frame image helpers: the detection image and the model's face crop."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from edge.types import Box

LIMITED_RANGE_LUT = np.clip((np.arange(256) - 16) * 255.0 / 219.0 + 0.5, 0, 255).astype(np.uint8)
"""Stretches limited-range luma (16..235, e.g. picamera2's lores Y plane) to full 0..255."""


def detection_image(bgr: np.ndarray, width: int) -> np.ndarray:
    """A grey image at most ``width`` wide: ``downscale(to_grey(bgr), width)``."""
    return downscale(to_grey(bgr), width)


def to_grey(bgr: np.ndarray) -> np.ndarray:
    """The frame in grey, full size."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def downscale(grey: np.ndarray, width: int) -> np.ndarray:
    """``grey`` at most ``width`` wide (INTER_AREA: converting first and downscaling one
    channel is 2.2x faster than the other way at 640 -> 480, within one grey level)."""
    h, w = grey.shape[:2]
    if w <= width:
        return grey
    return cv2.resize(grey, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


class DetectionImage:
    """``downscale(grey, width)``, made only where Haar looks.

    Most frames Haar looks in a few windows, not the whole frame, and downscaling all of a
    640 x 480 frame costs about as much as a window's Haar run (0.7 ms at one thread here).
    ``part(region)`` downscales only a block around ``region``, its edges on the grid where
    source and detection pixels line up (every 4 source px = 3 detection px at 640 -> 480), so
    its pixels are those of the whole image's (INTER_AREA weighs each detection pixel by its own
    source pixels); a block that would cover much of the frame is cut from the whole image,
    made once. ``width``/``height``: the detection image's size; ``factor``: source pixels of
    ``grey`` per detection pixel.
    """

    def __init__(self, grey: np.ndarray, width: int) -> None:
        self._grey = grey
        h, w = grey.shape[:2]
        self.width, self.height = (w, h) if w <= width else (width, round(h * width / w))
        self.factor = w / self.width
        # (source px, detection px) of the smallest blocks that line up, across and down
        self._steps = [
            (f.numerator, f.denominator)
            for f in (Fraction(w, self.width), Fraction(h, self.height))
        ]
        self._whole: np.ndarray | None = None

    @property
    def box(self) -> Box:
        """The whole detection image, as a box."""
        return Box(0, 0, self.width, self.height)

    def whole(self) -> np.ndarray:
        """The whole detection image (made on the first call)."""
        if self._whole is None:
            self._whole = downscale(self._grey, self.width)
        return self._whole

    def part(self, region: Box) -> tuple[np.ndarray, Box]:
        """The detection image's pixels of a block (detection px) that holds ``region``
        (clipped to the image), and where that block lies: ``(pixels, block)``."""
        (sx, dx), (sy, dy) = self._steps
        x0, y0 = max(region.x, 0) // dx * dx, max(region.y, 0) // dy * dy
        x1 = min(-(-(region.x + region.w) // dx) * dx, self.width)
        y1 = min(-(-(region.y + region.h) // dy) * dy, self.height)
        block = Box(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))
        if not block.w or not block.h:
            return np.zeros((block.h, block.w), np.uint8), block
        if (
            self._whole is not None
            or self.factor == 1
            or block.w * block.h > WHOLE_AT * self.width * self.height
        ):
            return self.whole()[y0:y1, x0:x1], block
        h, w = self._grey.shape[:2]
        source = self._grey[
            y0 // dy * sy : (y1 // dy * sy if y1 < self.height else h),
            x0 // dx * sx : (x1 // dx * sx if x1 < self.width else w),
        ]
        return cv2.resize(source, (block.w, block.h), interpolation=cv2.INTER_AREA), block


WHOLE_AT = 0.5  # of the detection image: a block this big is cut from the whole image


def crop_box(box: Box, margin: float, shift_y: float) -> Box:
    """The square region the model expects around a Haar box (FER-2013 geometry)."""
    side = max(box.w, box.h) * (1.0 + 2.0 * margin)
    cx = box.x + box.w / 2.0
    cy = box.y + box.h / 2.0 + shift_y * box.h
    return Box(round(cx - side / 2), round(cy - side / 2), round(side), round(side))


def crop_face(image: np.ndarray, box: Box, size: int = 48) -> np.ndarray:
    """Cut ``box`` from a BGR or grey image, edge-padded where it leaves the frame.

    Only the crop is converted to grey, then resized to ``size`` x ``size`` uint8.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box.x, box.y, box.x + box.w, box.y + box.h
    crop = image[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)]
    if crop.size == 0:
        return np.zeros((size, size), np.uint8)
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    pads = (max(-y0, 0), max(y1 - h, 0), max(-x0, 0), max(x1 - w, 0))
    if any(pads):
        crop = cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE)
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def quantize(face: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """Raw 0..255 pixels → the input tensor's integer type (``q = x / scale + zp``)."""
    if scale == 0:  # not quantized: feed raw pixels as they are
        return face.astype(dtype)
    info = np.iinfo(dtype)
    q = np.rint(face.astype(np.float32) / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(raw: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Integer output tensor → float32 scores (``(q - zp) * scale``)."""
    if scale == 0:
        return raw.astype(np.float32)
    return (raw.astype(np.float32) - zero_point) * np.float32(scale)
