"""What every ImageNet model shares (Keras's `keras.applications.imagenet_utils`): the three
ways of preprocessing pixels, decoding the 1000 class scores into names, and checking the
input shape a model is asked for.

The three preprocessing modes, for pixels in [0, 255]:

- "caffe" (VGG, ResNet): RGB → BGR, then subtract ImageNet's mean pixel (no scaling);
- "tf" (MobileNet, ResNetV2, Xception, Inception): x / 127.5 − 1, into [−1, 1];
- "torch" (DenseNet): x / 255, then (x − mean) / std per channel.

>>> import numpy as np
>>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]), mode="tf").tolist()
[[[-1.0, 0.0, 1.0]]]
"""

import json
import warnings

import numpy as np

from minikeras import activations, backend, ops
from minikeras.utils import file_utils

CLASS_INDEX = None
CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

CAFFE_MEAN_BGR = [103.939, 116.779, 123.68]
TORCH_MEAN_RGB = [0.485, 0.456, 0.406]
TORCH_STD_RGB = [0.229, 0.224, 0.225]


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocess a batch of images (or one image) in [0, 255] for an ImageNet model.

    A float NumPy array is changed in place, as Keras does (pass `np.copy(x)` to keep it);
    an integer array is first converted to `floatx()`. A symbolic tensor gets the same
    arithmetic as ops, so the function can sit in a `Lambda` layer.
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(
            f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}"
        )
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format, mode)
    return _preprocess_tensor_input(x, data_format, mode)


def _channel_view_shape(ndim, data_format):
    """The shape that broadcasts a (3,) vector along the channel axis of an image batch."""
    if data_format == "channels_last":
        return (1,) * (ndim - 1) + (3,)
    return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)


def _preprocess_numpy_input(x, data_format, mode):
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    channel_shape = _channel_view_shape(x.ndim, data_format)
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(TORCH_MEAN_RGB, channel_shape).astype(x.dtype)
        x /= np.reshape(TORCH_STD_RGB, channel_shape).astype(x.dtype)
        return x
    # caffe: a reversed view, so the in-place subtraction below still writes into x
    channel_axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    x = np.flip(x, axis=channel_axis)
    x -= np.reshape(CAFFE_MEAN_BGR, channel_shape).astype(x.dtype)
    return x


def _preprocess_tensor_input(x, data_format, mode):
    ndim = len(x.shape)
    if mode == "tf":
        return x / 127.5 - 1.0
    channel_shape = _channel_view_shape(ndim, data_format)
    if mode == "torch":
        mean, std = TORCH_MEAN_RGB, TORCH_STD_RGB
        x = x / 255.0
    else:
        channel_axis = -1 if data_format == "channels_last" else (0 if ndim == 3 else 1)
        bgr = [ops.take(x, i, axis=channel_axis) for i in (2, 1, 0)]
        x = ops.stack(bgr, axis=channel_axis)
        mean, std = CAFFE_MEAN_BGR, None
    x = x - ops.reshape(ops.convert_to_tensor(np.array(mean), dtype=x.dtype), channel_shape)
    if std is not None:
        x = x / ops.reshape(ops.convert_to_tensor(np.array(std), dtype=x.dtype), channel_shape)
    return x


def decode_predictions(preds, top=5):
    """The `top` classes of each row of ImageNet scores, as `(class_name, description,
    score)` tuples, best first.

    The class names come from Keras's `imagenet_class_index.json`, read from the cache
    (`~/.keras/models`) or downloaded into it once.
    """
    global CLASS_INDEX
    preds = ops.convert_to_numpy(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    if CLASS_INDEX is None:
        path = file_utils.get_file(
            "imagenet_class_index.json",
            CLASS_INDEX_PATH,
            cache_subdir="models",
            file_hash=CLASS_INDEX_HASH,
        )
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in best]
        result.sort(key=lambda entry: entry[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(
    input_shape, default_size, min_size, data_format, require_flatten, weights=None
):
    """The input shape (without the batch axis) a model is built for, after checking the one
    asked for: 3 axes, at least `min_size` pixels on each side, 3 channels for ImageNet
    weights, a static size when the top (a Flatten or a fixed Dense) is included.
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed "
                f"an input_shape with {channels} input channels.",
                stacklevel=2,
            )
        if channels_first:
            default_shape = (input_shape[0], default_size, default_size)
        else:
            default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (
            (3, default_size, default_size)
            if channels_first
            else (
                default_size,
                default_size,
                3,
            )
        )
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                f"The input must have 3 channels; Received `input_shape={input_shape}`"
            )
        rows, cols = input_shape[1:] if channels_first else input_shape[:2]
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; Received: "
                f"input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def correct_pad(inputs, kernel_size):
    """The ZeroPadding2D that makes a stride-2 'valid' convolution centred as TensorFlow's
    'same' one is: one pixel less on the top/left of an even-sized input."""
    image_axis = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[image_axis : image_axis + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    if input_size[0] is None:
        adjust = (1, 1)
    else:
        adjust = (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Pretrained weights were trained under a softmax: only None or "softmax" go with them."""
    if weights is None:
        return
    classifier_activation = activations.get(classifier_activation)
    if classifier_activation not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation={classifier_activation}"
        )
