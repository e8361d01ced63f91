"""RandomColorDegeneration: each image blended towards its grey version."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.layers.preprocessing.image_preprocessing.random_grayscale import GRAY_WEIGHTS
from minikeras.random import SeedGenerator


class RandomColorDegeneration(BaseImagePreprocessingLayer):
    """y = clip(x + f·(grey(x) − x), value_range), f drawn per image from `factor`'s range
    (f alone is [−|f|, |f|]: a negative f pushes the colours away from grey); grey(x) =
    0.2989·R + 0.5870·G + 0.1140·B in every channel. The identity at inference.

    Backward, with g = dy where the clip let the value through:
        dx_c = (1 − f)·g_c + f·w_c·Σ_c' g_c'      (batch, H, W, 3)

    >>> import numpy as np
    >>> from minikeras.layers import RandomColorDegeneration
    >>> out = RandomColorDegeneration((1.0, 1.0))(np.array([[[[255.0, 0.0, 0.0]]]]))
    >>> out[0, 0, 0].round(2).tolist()   # f = 1: grey
    [76.22, 76.22, 76.22]
    """

    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_value_range(self, value_range):
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                self._VALUE_RANGE_VALIDATION_ERROR + f"Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received: inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        factor = self.backend.random.uniform(
            (batch_size, 1, 1, 1), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        return {"factor": factor}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = _cast(images, self.compute_dtype)
        factor = np.asarray(transformation["factor"]).astype(self.compute_dtype)
        gray = self.backend.image.rgb_to_grayscale(images, data_format=self.data_format)
        blended = images + factor * (gray - images)
        low, high = self.value_range
        self._passed = (blended >= low) & (blended <= high)  # for the backward
        return _cast(np.clip(blended, low, high), self.compute_dtype)

    def backward_images(self, dy, transformation):
        """dx_c = (1 − f)·g_c + f·w_c·Σ_c' g_c', g = dy where the clip passed."""
        factor = np.asarray(transformation["factor"]).astype(dy.dtype).reshape((-1, 1, 1, 1))
        g = np.where(self._passed.reshape(dy.shape), dy, 0).astype(dy.dtype)
        channel_axis = 1 if self.data_format == "channels_first" else -1
        shape = [1, 1, 1, 1]
        shape[channel_axis] = 3
        weights = np.reshape(np.asarray(GRAY_WEIGHTS, dy.dtype), shape)
        through_gray = weights * np.sum(g, axis=channel_axis, keepdims=True)
        return (1 - factor) * g + factor * through_gray

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(
                "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of "
                f"images). Received: input_shape={input_shape}"
            )
        channels = input_shape[-1 if self.data_format == "channels_last" else -3]
        if channels is not None and channels != 3:
            raise ValueError(
                f"Input images must have 3 channels, but received images with {channels} channels."
            )
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
        }
