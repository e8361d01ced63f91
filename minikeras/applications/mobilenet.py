"""MobileNet (Howard et al., 2017, https://arxiv.org/abs/1704.04861), Keras's
`keras.applications.mobilenet`.

A 3×3 convolution, then thirteen depthwise-separable blocks: a 3×3 DepthwiseConv2D (one
filter per channel) and a 1×1 Conv2D that mixes the channels, each followed by
BatchNormalization and ReLU6. `alpha` scales every block's width, `depth_multiplier` the
depthwise outputs per channel. Layer names and weight order are Keras's, so
`set_weights(keras_model.get_weights())` copies a Keras MobileNet in.
"""

import warnings

from minikeras import backend, layers
from minikeras.applications import imagenet_utils, model_inputs
from minikeras.models import Functional

# Keras's wording of the `weights` checks in this family
WEIGHTS_MESSAGE = (
    "The `weights` argument should be either `None` (random initialization), "
    "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
    "loaded. Received weights={weights}"
)

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"


def MobileNet(
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """The MobileNet model (a Functional model), with ImageNet's 1000-class top unless
    `include_top=False` (then `pooling` None, "avg" or "max").

    >>> model = MobileNet(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.25)
    >>> model.output_shape
    (None, 1, 1, 256)
    """
    model_inputs.check_weights_argument(weights, include_top, classes, WEIGHTS_MESSAGE)
    channels_first = backend.image_data_format() == "channels_first"
    default_size = 224
    if input_shape is not None:
        rows, cols = input_shape[1:3] if channels_first else input_shape[0:2]
        if rows == cols and rows in [128, 160, 192, 224]:
            default_size = rows  # the sizes ImageNet weights exist for
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=32,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    rows, cols = input_shape[1:3] if channels_first else input_shape[0:2]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1.  "
                f"Received depth_multiplier={depth_multiplier}"
            )
        if alpha not in [0.25, 0.50, 0.75, 1.0]:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, "
                f"`0.75` or `1.0` only.  Received alpha={alpha}"
            )
        if rows != cols or rows not in [128, 160, 192, 224]:
            rows = 224
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not in "
                "[128, 160, 192, 224]. Weights for input shape (224, 224) will be loaded as "
                "the default.",
                stacklevel=2,
            )
    img_input = model_inputs.image_input(input_tensor, input_shape)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    # (pointwise filters, strides) of the thirteen separable blocks
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    plan += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(plan, start=1):
        x = _depthwise_conv_block(
            x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id
        )

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Functional(model_inputs.model_inputs(input_tensor, img_input), x, name=name)
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0"}.get(alpha, "2_5")
    top_text = "" if include_top else "_no_top"
    file_name = f"mobilenet_{alpha_text}_{rows}_tf{top_text}.h5"
    return model_inputs.load_weights(model, weights, file_name, BASE_WEIGHT_PATH + file_name)


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The first layer: a convolution, BatchNormalization and ReLU6."""
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    x = layers.Conv2D(
        int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides, name="conv1"
    )(inputs)
    x = layers.BatchNormalization(axis=channel_axis, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(
    inputs, pointwise_conv_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1
):
    """Depthwise 3×3 → BN → ReLU6 → pointwise 1×1 → BN → ReLU6. A stride-2 block pads one
    pixel on the bottom/right and convolves 'valid', as the pretrained weights expect."""
    channel_axis = 1 if backend.image_data_format() == "channels_first" else -1
    if strides == (1, 1):
        x = inputs
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if strides == (1, 1) else "valid",
        depth_multiplier=depth_multiplier,
        strides=strides,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        int(pointwise_conv_filters * alpha),
        (1, 1),
        padding="same",
        use_bias=False,
        strides=(1, 1),
        name=f"conv_pw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=channel_axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x, data_format=None):
    """Scale pixels in [0, 255] into [−1, 1] (the "tf" mode of `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The `top` ImageNet classes of each prediction (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
