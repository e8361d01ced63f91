"""AutoContrast: each image's channels stretched to fill the whole value range."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class AutoContrast(BaseImagePreprocessingLayer):
    """y = lo + R·(x − l)/(h − l), l and h the smallest and largest value of each channel of
    each image (over axes 1 and 2, as Keras reduces them, whatever `data_format`), [lo, hi]
    = `value_range` and R = hi − lo. A channel with h = l is left as it is. Not random: the
    same at training and inference.

    Backward, with u = (x − l)/(h − l) and g = dy per channel:
        dx = R·g/(h − l)  +  the gradients of l and h, given to the pixels that are the
        minimum and the maximum (shared equally between ties, as TensorFlow's reduce_min):
        dl = R·Σ g·(x − h)/(h − l)²,  dh = −R·Σ g·(x − l)/(h − l)².

    >>> import numpy as np
    >>> from minikeras.layers import AutoContrast
    >>> AutoContrast()(np.array([[[[50.0], [100.0], [150.0]]]]))[0, 0, :, 0].tolist()
    [0.0, 127.5, 255.0]
    """

    _USE_BASE_FACTOR = False
    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self._set_value_range(value_range)

    def _set_value_range(self, value_range):
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                self._VALUE_RANGE_VALIDATION_ERROR + f"Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def transform_images(self, images, transformation=None, training=True):
        dtype = self.compute_dtype
        x = np.asarray(images).astype(dtype, copy=False)
        # Keras's arithmetic, in [0, 255]: x·scale + offset, scale = 255/(h − l), offset = −l·scale
        x255 = self._transform_value_range(x, self.value_range, (0, 255), dtype=dtype)
        low = np.min(x255, axis=(1, 2), keepdims=True)
        high = np.max(x255, axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.asarray(255.0, dtype) / (high - low)
            results = np.clip(x255 * scale + -low * scale, 0.0, 255.0)
        results = self._transform_value_range(results, (0, 255), self.value_range, dtype=dtype)
        results = np.where(np.isnan(results), x, results)  # h = l: Keras keeps the input
        # for the backward, in the input's units
        self._x = x
        self._low = np.min(x, axis=(1, 2), keepdims=True)
        self._high = np.max(x, axis=(1, 2), keepdims=True)
        if np.dtype(images.dtype).kind in "iu":
            return np.clip(np.round(results), *_int_range(images.dtype)).astype(images.dtype)
        return results

    def backward_images(self, dy, transformation):
        """dx = R·g/(h − l) + dl·[x = l]/#ties + dh·[x = h]/#ties (see the class)."""
        return self._backward(dy)

    def backward(self, dy):
        """AutoContrast acts at training and inference alike: its backward too."""
        self.grads = []
        unbatched = dy.ndim == 3
        dx = self._backward(dy[None] if unbatched else dy)
        return dx[0] if unbatched else dx

    def _backward(self, dy):
        x, low, high = self._x.reshape(dy.shape), self._low, self._high
        span = high - low  # (batch, 1, 1, C) for channels last
        flat = span == 0
        safe = np.where(flat, 1, span)
        r = self.value_range[1] - self.value_range[0]
        d_low = r * np.sum(dy * (x - high), axis=(1, 2), keepdims=True) / safe**2
        d_high = -r * np.sum(dy * (x - low), axis=(1, 2), keepdims=True) / safe**2
        at_low, at_high = x == low, x == high
        n_low = np.sum(at_low, axis=(1, 2), keepdims=True)
        n_high = np.sum(at_high, axis=(1, 2), keepdims=True)
        dx = r * dy / safe + d_low * at_low / n_low + d_high * at_high / n_high
        return np.where(flat, dy, dx).astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


def _int_range(dtype):
    info = np.iinfo(dtype)
    return info.min, info.max
