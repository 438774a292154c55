"""The architectures: the seed paper's network, our Edge TPU design and the fast CPU model.

All take a fixed ``(48, 48, 1)`` input of raw 0..255 pixels and end in a 7-way softmax in
FER-2013 order. Normalization lives inside the graph, so the device feeds camera pixels as is.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from edge.labels import NUM_CLASSES

INPUT_SHAPE = (48, 48, 1)
ARCHITECTURES = ("seed", "seed-device", "edge", "fast")


@keras.saving.register_keras_serializable(package="emotion")
class LocalResponseNorm(layers.Layer):
    """Local response normalization across channels (the seed's stand-in for local contrast norm).

    TFLite has only a float kernel for it and the Edge TPU none at all: this is why ``seed``
    stays a float workstation model.
    """

    def __init__(
        self,
        depth_radius: int = 5,
        bias: float = 1.0,
        alpha: float = 1e-4,
        beta: float = 0.75,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha, beta=self.beta
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_radius": self.depth_radius,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }


def _pixels_in(name: str) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    pixels = keras.Input(INPUT_SHAPE, batch_size=None, name="pixels")
    # 0..255 -> -1..1 inside the graph (one int8 MUL/ADD on the device, nothing on the host).
    return pixels, layers.Rescaling(1 / 127.5, offset=-1.0, name=f"{name}_normalize")(pixels)


def build_seed(lrn: bool = True) -> keras.Model:
    """Gudi 2015 as re-implemented by Correa et al. (tflearn ``Gudi_Network.py``).

    conv 64@5x5 -> LRN -> maxpool 3x3/2 -> conv 64@5x5 -> maxpool 3x3/2 -> conv 128@4x4 ->
    dropout -> FC 3072 -> softmax 7. tflearn's ``dropout(0.3)`` is a keep probability,
    so the Keras rate is 0.7. 56.9M parameters, almost all in the FC layer.

    ``lrn=False`` (``--arch seed-device``): the same without the normalization layer, which has
    no int8 or Edge TPU kernel; everything else converts. With these LRN parameters the layer
    is nearly the identity once trained (it divides by at most 1.004 on ``val``), so the
    trained ``seed`` weights score the same in ``seed-device`` (models/README.md).
    """
    pixels, x = _pixels_in("seed")
    x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv1")(x)
    if lrn:
        x = LocalResponseNorm(name="lrn1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    x = layers.Conv2D(128, 4, padding="same", activation="relu", name="conv3")(x)
    x = layers.Dropout(0.7, name="dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(3072, activation="relu", name="fc1")(x)
    scores = layers.Dense(NUM_CLASSES, activation="softmax", name="scores")(x)
    return keras.Model(pixels, scores, name="seed" if lrn else "seed_device")


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


EDGE_STAGES: tuple[tuple[int, ...], ...] = ((32,), (64, 64), (128, 128), (256, 256))


def build_edge(
    stages: tuple[tuple[int, ...], ...] = EDGE_STAGES, dropout: float = 0.4
) -> keras.Model:
    """Our device model: VGG-style 3x3 conv+BN+ReLU stages, each closed by a 2x2 max-pool.

    Only ops the Edge TPU maps (conv with BN folded, ReLU, max-pool, reshape, dense, softmax).
    The last 3x3 map is flattened rather than averaged, so the head keeps where on the face a
    feature fired (brows vs. mouth).
    """
    pixels, x = _pixels_in("edge")
    for s, widths in enumerate(stages, start=1):
        for c, filters in enumerate(widths, start=1):
            x = _conv_bn_relu(x, filters, f"s{s}c{c}")
        x = layers.MaxPooling2D(2, name=f"s{s}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    scores = layers.Dense(NUM_CLASSES, activation="softmax", name="scores")(x)
    return keras.Model(pixels, scores, name="edge")


def _sep_bn_relu(x, filters: int, name: str):
    """MobileNet-v1 block: depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU.

    BN and ReLU after each half (not Keras' SeparableConv2D) keep both int8 tensors bounded.
    """
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(name=f"{name}_dw_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_pw_bn")(x)
    return layers.ReLU(name=f"{name}_pw_relu")(x)


# (block, widths) per stage; "c" = full 3x3 conv, "s" = depthwise-separable. Each stage ends in
# a 2x2 max-pool: 48 -> 24 -> 12 -> 6 -> 3. Chosen by measurement (issue 14): ``edge`` at about
# half width, the last stage a little wider (27.9 M MACs, 404 k parameters). Depthwise-separable
# candidates of equal MACs were no faster per face here and 1.5-4x slower to train on the CPU.
FAST_STAGES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("c", (16,)),
    ("c", (32, 32)),
    ("c", (64, 64)),
    ("c", (160, 160)),
)


def build_fast(
    stages: tuple[tuple[str, tuple[int, ...]], ...] = FAST_STAGES,
    dropout: float = 0.3,
    name: str = "fast",
) -> keras.Model:
    """The CPU model (budget 30 M MACs): ``edge``'s layout with configurable stages and blocks.

    The first stage is always a full conv (one input channel). With "s" stages the graph adds
    DEPTHWISE_CONV_2D, also on the Edge TPU list; the last 3x3 map is flattened as in ``edge``.
    """
    pixels, x = _pixels_in(name)
    for s, (kind, widths) in enumerate(stages, start=1):
        for c, filters in enumerate(widths, start=1):
            block = _conv_bn_relu if kind == "c" or s == 1 else _sep_bn_relu
            x = block(x, filters, f"s{s}c{c}")
        x = layers.MaxPooling2D(2, name=f"s{s}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    scores = layers.Dense(NUM_CLASSES, activation="softmax", name="scores")(x)
    return keras.Model(pixels, scores, name=name)


def build(arch: str) -> keras.Model:
    if arch == "seed":
        return build_seed()
    if arch == "seed-device":
        return build_seed(lrn=False)
    if arch == "edge":
        return build_edge()
    if arch == "fast":
        return build_fast()
    raise ValueError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHITECTURES)})")


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates for one face: conv and dense layers (BN folds, pools are free)."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            macs += h * w * c_out * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            macs += h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            macs += layer.input.shape[-1] * layer.units
    return int(macs)
