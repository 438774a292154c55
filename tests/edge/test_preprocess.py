import numpy as np

from edge.preprocess import crop_box, crop_face, dequantize, detection_image, downscale, quantize
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
