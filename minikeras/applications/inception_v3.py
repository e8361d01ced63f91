"""InceptionV3 (Szegedy et al., 2015, https://arxiv.org/abs/1512.00567), Keras's
`keras.applications.inception_v3`.

A stem of convolutions and poolings, then eleven "mixed" modules: each runs several branches
side by side on the same input (1×1; 1×1 then 5×5; two 3×3; pooling then 1×1; later 7×7
factorised into 1×7 and 7×1) and concatenates them along the channels. Every convolution is
followed by a BatchNormalization without scale and a ReLU (`conv2d_bn`). Layers are created
in Keras's order, so their automatic names (conv2d_12, ...) are Keras's.
"""

from minikeras import backend, layers
from minikeras.applications import imagenet_utils, model_inputs
from minikeras.models import Functional

# Keras's wording of the `weights` checks in this family
WEIGHTS_MESSAGE = (
    "The `weights` argument should be either `None` (random initialization), "
    "`imagenet` (pre-training on ImageNet), or the path to the weights file to be "
    "loaded; Received: weights={weights}"
)
CLASSES_MESSAGE = (
    'If using `weights="imagenet"` with `include_top=True`, `classes` should be 1000. '
    "Received classes={classes}"
)

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
)
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Conv2D (no bias) → BatchNormalization(scale=False) → ReLU."""
    conv_name = None if name is None else f"{name}_conv"
    bn_name = None if name is None else f"{name}_bn"
    bn_axis = 1 if backend.image_data_format() == "channels_first" else 3
    x = layers.Conv2D(
        filters,
        (num_row, num_col),
        strides=strides,
        padding=padding,
        use_bias=False,
        name=conv_name,
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def _average_pool_branch(x, filters):
    branch = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def _mixed_35(x, pool_filters, name, channel_axis):
    """mixed0-2 (35×35): 1×1 | 1×1 → 5×5 | 1×1 → 3×3 → 3×3 | avg pool → 1×1."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    branch3x3dbl = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
    branch_pool = _average_pool_branch(x, pool_filters)
    return layers.concatenate(
        [branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=channel_axis, name=name
    )


def _mixed_17(x, width, name, channel_axis):
    """mixed4-7 (17×17): the 7×7 convolutions factorised into 1×7 and 7×1."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, width, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, width, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, width, 1, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 1, 7)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _average_pool_branch(x, 192)
    return layers.concatenate(
        [branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=channel_axis, name=name
    )


def _mixed_8(x, i, channel_axis):
    """mixed9, mixed10 (8×8): the 3×3 convolutions split into parallel 1×3 and 3×1."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = layers.concatenate(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)],
        axis=channel_axis,
        name=f"mixed9_{i}",
    )
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    branch3x3dbl = layers.concatenate(
        [conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)],
        axis=channel_axis,
    )
    branch_pool = _average_pool_branch(x, 192)
    return layers.concatenate(
        [branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=channel_axis, name=f"mixed{9 + i}"
    )


def InceptionV3(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_v3",
):
    """The InceptionV3 model (a Functional model), for images of at least 75×75."""
    model_inputs.check_weights_argument(
        weights, include_top, classes, WEIGHTS_MESSAGE, CLASSES_MESSAGE
    )
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=299,
        min_size=75,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = model_inputs.image_input(input_tensor, input_shape)
    channel_axis = 1 if backend.image_data_format() == "channels_first" else 3

    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = _mixed_35(x, 32, "mixed0", channel_axis)
    x = _mixed_35(x, 64, "mixed1", channel_axis)
    x = _mixed_35(x, 64, "mixed2", channel_axis)
    # mixed3: 35×35 → 17×17
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch3x3dbl, branch_pool], axis=channel_axis, name="mixed3")
    x = _mixed_17(x, 128, "mixed4", channel_axis)
    x = _mixed_17(x, 160, "mixed5", channel_axis)
    x = _mixed_17(x, 160, "mixed6", channel_axis)
    x = _mixed_17(x, 192, "mixed7", channel_axis)
    # mixed8: 17×17 → 8×8
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch7x7x3, branch_pool], axis=channel_axis, name="mixed8")
    x = _mixed_8(x, 0, channel_axis)
    x = _mixed_8(x, 1, channel_axis)

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
