"""RandomContrast: each image's contrast scaled by a random factor about its mean."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.random import SeedGenerator


class RandomContrast(BaseImagePreprocessingLayer):
    """y = clip((x − m)·f + m, value_range), m the mean of each channel of each image over
    height and width, f drawn uniformly from [1 − factor[0], 1 + factor[1]) per image. As in
    Keras, `factor` f alone gives the range (0, f) (its bounds are [0, 1]), so f ≥ 1. The
    identity at inference.

    Backward, with g = dy where the clip let the value through (lo ≤ pre-clip ≤ hi, as
    TensorFlow's clip_by_value):  y = f·x + (1 − f)·m, ∂m/∂x = 1/(H·W) per channel, so

        dx = f·g + (1 − f)·mean_HW(g)      (batch, H, W, C) and (batch, 1, 1, C)

    >>> import numpy as np
    >>> from minikeras.layers import RandomContrast
    >>> RandomContrast(0.5, seed=1)(np.full((2, 3, 3, 1), 7.0))[0, 0, 0].tolist()  # flat: kept
    [7.0]
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(**kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        factor_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"contrast_factor": np.zeros(factor_shape, self.compute_dtype)}
        seed = self.generator if seed is None else seed
        factor = self.backend.random.uniform(
            shape=factor_shape,
            minval=1.0 - self.factor[0],
            maxval=1.0 + self.factor[1],
            seed=seed,
            dtype=self.compute_dtype,
        )
        return {"contrast_factor": factor}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = np.asarray(images)
        factor = np.asarray(transformation["contrast_factor"]).astype(images.dtype, copy=False)
        height_axis, width_axis = self._spatial_axes()
        mean = np.mean(images, axis=(height_axis, width_axis), keepdims=True)
        pre_clip = (images - mean) * factor + mean
        low, high = self.value_range
        self._passed = (pre_clip >= low) & (pre_clip <= high)  # for the backward
        self._factor = factor
        return np.clip(pre_clip, low, high)

    def backward_images(self, dy, transformation):
        """dx = f·g + (1 − f)·mean_HW(g), g = dy where the clip passed (see the class)."""
        factor = self._factor.reshape((-1, 1, 1, 1))  # (batch, 1, 1, 1)
        g = np.where(self._passed.reshape(dy.shape), dy, 0).astype(dy.dtype)
        height_axis, width_axis = self._spatial_axes()
        mean_g = np.mean(g, axis=(height_axis, width_axis), keepdims=True)  # (batch, 1, 1, C)
        return factor * g + (1 - factor) * mean_g

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
        }
