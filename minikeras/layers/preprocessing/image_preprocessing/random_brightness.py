"""RandomBrightness: a random amount added to every pixel of each image."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.random import SeedGenerator


class RandomBrightness(BaseImagePreprocessingLayer):
    """y = clip(x + δ, value_range), δ = u·(hi − lo) with u drawn uniformly from `factor`'s
    range (f alone is [−|f|, |f|]; within [−1, 1]) per image. The identity at inference.

    Backward: dx = dy where lo ≤ x + δ ≤ hi (the clip passes it, as TensorFlow's
    clip_by_value), 0 elsewhere.

    >>> import numpy as np
    >>> from minikeras.layers import RandomBrightness
    >>> RandomBrightness((0.1, 0.1))(np.zeros((1, 2, 2, 1)))[0, 0, 0].tolist()  # δ = 25.5
    [25.5]
    """

    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(factor=factor, **kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self._set_value_range(value_range)

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
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        delta_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        if not training:
            return {"rgb_delta": np.zeros(delta_shape, self.compute_dtype)}
        seed = self.generator if seed is None else seed
        delta = self.backend.random.uniform(
            minval=self.factor[0], maxval=self.factor[1], shape=delta_shape, seed=seed
        )
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = np.asarray(images)
        delta = np.asarray(transformation["rgb_delta"]).astype(images.dtype, copy=False)
        shifted = images + delta  # (Keras adds in place: the caller's array is kept here)
        low, high = self.value_range
        self._passed = (shifted >= low) & (shifted <= high)  # for the backward
        return np.clip(shifted, low, high)

    def backward_images(self, dy, transformation):
        """dx = dy where the clip passed x + δ, 0 elsewhere."""
        return np.where(self._passed.reshape(dy.shape), dy, 0).astype(dy.dtype)

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
