"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., 2016, https://arxiv.org/abs/1603.05027),
Keras's `keras.applications.resnet_v2`: the builder of `resnet` with pre-activation blocks."""

from minikeras.applications import imagenet_utils, resnet


def _v2_stacks(blocks_per_stack):
    """The four V2 stacks (64, 128, 256, 512 filters); the last one does not stride."""

    def stack_fn(x):
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), blocks_per_stack)):
            stride1 = 1 if i == 3 else 2
            x = resnet.stack_residual_blocks_v2(
                x, filters, blocks, stride1=stride1, name=f"conv{i + 2}"
            )
        return x

    return stack_fn


def _resnet_v2(blocks_per_stack, weights_name, name, **kwargs):
    return resnet.ResNet(
        _v2_stacks(blocks_per_stack), True, True, name=name, weights_name=weights_name, **kwargs
    )


def ResNet50V2(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50v2",
):
    """ResNet50V2: stacks of 3, 4, 6 and 3 pre-activation blocks.

    >>> ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 2048)
    """
    return _resnet_v2(
        (3, 4, 6, 3),
        "resnet50v2",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ResNet101V2(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101v2",
):
    """ResNet101V2: stacks of 3, 4, 23 and 3 pre-activation blocks."""
    return _resnet_v2(
        (3, 4, 23, 3),
        "resnet101v2",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def ResNet152V2(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152v2",
):
    """ResNet152V2: stacks of 3, 8, 36 and 3 pre-activation blocks."""
    return _resnet_v2(
        (3, 8, 36, 3),
        "resnet152v2",
        name,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


def preprocess_input(x, data_format=None):
    """Scale pixels in [0, 255] into [−1, 1] (the "tf" mode of `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """The `top` ImageNet classes of each prediction (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
