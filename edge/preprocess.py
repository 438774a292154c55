"""Pure per-frame image helpers: the detection image and the model's face crop."""

from __future__ import annotations

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
