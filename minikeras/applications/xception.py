"""Xception (Chollet, 2017, https://arxiv.org/abs/1610.02357), Keras's
`keras.applications.xception`.

Depthwise-separable convolutions (SeparableConv2D) all the way: an entry flow that halves the
image four times, each block with a strided 1×1 convolution on its shortcut; a middle flow
of eight residual blocks of three separable convolutions; an exit flow widening to 2048
channels. Layers are created in Keras's order, so the unnamed ones (the shortcuts' Conv2D,
BatchNormalization and Add) get Keras's automatic names.
"""

from minikeras import backend, layers
from minikeras.applications import imagenet_utils, model_inputs
from minikeras.models import Functional

# Keras's wording of the `weights` checks in this family
WEIGHTS_MESSAGE = (
    "The `weights` argument should be either `None` (random initialization), "
    "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
    "loaded."
)

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "xception/xception_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
)
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _separable(x, filters, name, channel_axis):
    """SeparableConv2D 3×3 ('same', no bias) → BatchNormalization."""
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=channel_axis, name=f"{name}_bn")(x)


def _downsampling_block(x, filters, block, channel_axis, first_relu=True, filters2=None):
    """[relu →] sep → relu → sep → 3×3/2 max pooling, plus a strided 1×1 conv shortcut."""
    residual = layers.Conv2D(
        filters2 or filters, (1, 1), strides=(2, 2), padding="same", use_bias=False
    )(x)
    residual = layers.BatchNormalization(axis=channel_axis)(residual)
    if first_relu:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _separable(x, filters, f"block{block}_sepconv1", channel_axis)
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _separable(x, filters2 or filters, f"block{block}_sepconv2", channel_axis)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    """The Xception model (a Functional model), for images of at least 71×71."""
    model_inputs.check_weights_argument(weights, include_top, classes, WEIGHTS_MESSAGE)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=299,
        min_size=71,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = model_inputs.image_input(input_tensor, input_shape)
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=channel_axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _downsampling_block(x, 128, 2, channel_axis, first_relu=False)
    x = _downsampling_block(x, 256, 3, channel_axis)
    x = _downsampling_block(x, 728, 4, channel_axis)
    for block in range(5, 13):  # the middle flow
        residual = x
        for conv in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{conv}_act")(x)
            x = _separable(x, 728, f"block{block}_sepconv{conv}", channel_axis)
        x = layers.add([x, residual])
    x = _downsampling_block(x, 728, 13, channel_axis, filters2=1024)
    x = _separable(x, 1536, "block14_sepconv1", channel_axis)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _separable(x, 2048, "block14_sepconv2", channel_axis)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    model = Functional(model_inputs.model_inputs(input_tensor, img_input), x, name=name)
    origin = WEIGHTS_PATH if include_top else WEIGHTS_PATH_NO_TOP
    return model_inputs.load_weights(
        model, weights, origin.rsplit("/", 1)[1], origin, WEIGHTS_HASHES[0 if include_top else 1]
    )


def preprocess_input(x, data_format=None):
    """Scale pixels in [0, 255] into [−1, 1] (the "tf" mode of `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The `top` ImageNet classes of each prediction (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
