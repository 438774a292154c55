import cv2
import numpy as np
import pytest

from edge.preprocess import (
    DetectionImage,
    crop_box,
    crop_face,
    dequantize,
    detection_image,
    downscale,
    quantize,
    to_grey,
)
from edge.sources.picamera import lores_grey
from edge.types import Box


def test_crop_box_grows_by_margin_around_the_centre():
    assert crop_box(Box(100, 100, 50, 50), 0.1, 0.0) == Box(95, 95, 60, 60)
    assert crop_box(Box(100, 100, 50, 50), 0.0, 0.2) == Box(100, 110, 50, 50)


def test_crop_face_pads_outside_the_frame_and_converts_only_the_crop():
    bgr = np.zeros((100, 100, 3), np.uint8)
    bgr[:, :, 1] = 200  # green
    face = crop_face(bgr, Box(-20, -20, 60, 60))
    assert face.shape == (48, 48) and face.dtype == np.uint8
    assert abs(int(face.mean()) - round(200 * 0.587)) <= 1  # BGR->grey weight of green


def test_detection_image_is_downscaled_grey():
    grey = detection_image(np.zeros((480, 640, 3), np.uint8), 320)
    assert grey.shape == (240, 320)


def test_a_grey_image_no_wider_than_the_detection_width_is_used_as_it_is():
    lores = np.arange(360 * 480, dtype=np.uint32).reshape(360, 480).astype(np.uint8)
    assert downscale(lores, 480) is lores  # picamera2's lores plane: no copy, no resampling
    assert downscale(lores, 240).shape == (180, 240)


def test_quantize_uses_scale_and_zero_point_for_both_8bit_types():
    px = np.array([[0, 128, 255]], np.uint8)
    assert quantize(px, 1.0, 0, np.dtype(np.uint8)).tolist() == [[0, 128, 255]]
    assert quantize(px, 1.0, -128, np.dtype(np.int8)).tolist() == [[-128, 0, 127]]
    assert quantize(px, 2.0, 10, np.dtype(np.uint8)).tolist() == [[10, 74, 138]]
    out = dequantize(np.array([0, 128, 255], np.uint8), 1 / 256, 0)
    assert out.dtype == np.float32 and np.allclose(out, [0, 0.5, 255 / 256])


def test_lores_grey_crops_stride_padding_and_stretches_limited_range():
    w, h, stride = 6, 4, 8
    y = np.full((h, stride), 255, np.uint8)  # padding bytes would read as white
    y[:, :w] = np.array([16, 235, 126, 16, 235, 126], np.uint8)
    uv = np.zeros((h // 2, stride), np.uint8)
    grey = lores_grey(np.concatenate([y, uv]).reshape(-1), w, h, stride)
    assert grey.shape == (h, w)
    assert grey[0].tolist() == [0, 255, 128, 0, 255, 128]


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (960, 720), (500, 375)])
def test_a_part_of_the_detection_image_has_the_pixels_of_the_whole_one(size):
    w, h = size
    rng = np.random.default_rng(w)
    grey = cv2.GaussianBlur(rng.integers(0, 256, (h, w), dtype=np.uint8), (5, 5), 0)
    whole = downscale(grey, 480)
    for _ in range(40):
        x, y = int(rng.integers(-20, 480)), int(rng.integers(-20, whole.shape[0]))
        region = Box(x, y, int(rng.integers(1, 300)), int(rng.integers(1, 300)))
        pixels, block = DetectionImage(grey, 480).part(region)  # a new one: not cut from whole
        x1, y1 = min(region.x + region.w, 480), min(region.y + region.h, whole.shape[0])
        assert block.x <= max(region.x, 0) and block.y <= max(region.y, 0)
        assert block.x + block.w >= x1 and block.y + block.h >= y1  # it holds the region
        assert pixels.shape == (block.h, block.w)
        expected = whole[block.y : block.y + block.h, block.x : block.x + block.w]
        assert pixels.shape == expected.shape  # (0, w) where the region lies outside
        assert np.abs(pixels.astype(int) - expected).max(initial=0) <= 1  # bit-exact on x86


def test_a_small_part_is_downscaled_alone_and_a_large_one_cut_from_the_whole_image():
    grey = np.random.default_rng(1).integers(0, 256, (480, 640), dtype=np.uint8)
    image = DetectionImage(grey, 480)
    assert (image.width, image.height, image.factor) == (480, 360, 640 / 480)
    _, block = image.part(Box(101, 50, 60, 60))
    assert block == Box(99, 48, 63, 63)  # out to the next 3 detection px (4 source px)
    assert image._whole is None  # 1/40 of the frame downscaled, not all of it
    image.part(Box(0, 0, 400, 300))
    assert image._whole is not None and image._whole.shape == (360, 480)
    lores = grey[:360, :480]
    assert DetectionImage(lores, 480).part(Box(10, 10, 20, 20))[0].base is not None  # a view


def test_a_crop_of_the_frame_made_grey_is_the_crop_of_the_colour_frame():
    """The pipeline cuts faces from the grey frame it made for Haar when it made one."""
    bgr = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for box in (Box(100, 80, 130, 130), Box(-30, 400, 120, 120), Box(590, -10, 70, 90)):
        assert np.array_equal(crop_face(to_grey(bgr), box), crop_face(bgr, box))
