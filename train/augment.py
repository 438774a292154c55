"""Batch augmentation for 48x48 faces, the recipe known to matter on FER-2013.

Horizontal flip, small rotation, shift and zoom (one affine warp per image, so one resample),
then random erasing. Runs inside ``tf.data`` on whole batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    rotate_deg: float = 10.0
    shift: float = 0.1  # fraction of the side
    zoom: float = 0.1  # +- fraction
    erase_p: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.2)


def _affine_params(batch: int, side: float, cfg: AugmentConfig) -> tf.Tensor:
    """Per-image output->input transforms ``[a0 a1 a2 b0 b1 b2 0 0]`` about the image centre."""
    angle = tf.random.uniform([batch], -1.0, 1.0) * (cfg.rotate_deg * math.pi / 180.0)
    scale = 1.0 + tf.random.uniform([batch], -cfg.zoom, cfg.zoom)
    flip = tf.where(tf.random.uniform([batch]) < 0.5, -1.0, 1.0) if cfg.flip else tf.ones([batch])
    dx = tf.random.uniform([batch], -cfg.shift, cfg.shift) * side
    dy = tf.random.uniform([batch], -cfg.shift, cfg.shift) * side
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    c = (side - 1.0) / 2.0
    a0, a1 = cos * flip, -sin
    b0, b1 = sin * flip, cos
    a2 = c - a0 * c - a1 * c + dx
    b2 = c - b0 * c - b1 * c + dy
    zeros = tf.zeros([batch])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def _erase(images: tf.Tensor, cfg: AugmentConfig) -> tf.Tensor:
    shape = tf.shape(images)
    batch, h, w = shape[0], shape[1], shape[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    area = tf.random.uniform([batch], *cfg.erase_area) * hf * wf
    aspect = tf.exp(tf.random.uniform([batch], math.log(0.3), math.log(3.3)))
    eh = tf.minimum(tf.sqrt(area * aspect), hf)
    ew = tf.minimum(tf.sqrt(area / aspect), wf)
    y0 = tf.random.uniform([batch]) * (hf - eh)
    x0 = tf.random.uniform([batch]) * (wf - ew)
    ys = tf.cast(tf.range(h), tf.float32)[None, :, None]
    xs = tf.cast(tf.range(w), tf.float32)[None, None, :]
    inside = (
        (ys >= y0[:, None, None])
        & (ys < (y0 + eh)[:, None, None])
        & (xs >= x0[:, None, None])
        & (xs < (x0 + ew)[:, None, None])
    )
    apply = (tf.random.uniform([batch]) < cfg.erase_p)[:, None, None]
    noise = tf.random.uniform(tf.shape(images)[:3], 0.0, 255.0)
    mask = (inside & apply)[..., None]
    return tf.where(mask, noise[..., None], images)


def augment_batch(images: tf.Tensor, cfg: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """Augment a float32 batch ``(B, H, W, 1)`` of 0..255 pixels."""
    batch = tf.shape(images)[0]
    side = tf.cast(tf.shape(images)[1], tf.float32)
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=_affine_params(batch, side, cfg),
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )
    if cfg.erase_p > 0:
        warped = _erase(warped, cfg)
    return warped
