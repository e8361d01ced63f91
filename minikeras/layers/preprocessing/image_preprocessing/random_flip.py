"""RandomFlip: each image flipped left-right and/or top-bottom with probability 1/2."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


class RandomFlip(BaseImagePreprocessingLayer):
    """Flip each image of a training call with probability 1/2 (one draw per image, u ≤ 0.5):
    `mode` "horizontal" (left-right), "vertical" (top-bottom) or "horizontal_and_vertical"
    (both, on the same draw, as Keras). The identity at inference.

    Backward: a flip is a permutation that is its own inverse, so dx = flip(dy) on the
    flipped images and dx = dy on the others.

    >>> import numpy as np
    >>> from minikeras.layers import RandomFlip
    >>> RandomFlip("horizontal", seed=1)(np.ones((2, 4, 4, 3))).shape
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.mode = mode

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.core.shape(images)
        flips_shape = (1, 1, 1) if len(shape) == 3 else (shape[0], 1, 1, 1)
        seed = self.generator if seed is None else seed
        draws = self.backend.random.uniform(shape=flips_shape, seed=seed)
        return {"flips": np.less_equal(draws, 0.5), "input_shape": shape}

    def transform_images(self, images, transformation, training=True):
        images = _cast(images, self.compute_dtype)
        if training:
            return self._flip_inputs(images, transformation)
        return images

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def _flip_inputs(self, inputs, transformation):
        if transformation is None:
            return inputs
        # (batch, 1, 1, 1): one draw per image; an unbatched image's (1, 1, 1) broadcasts
        flips = np.asarray(transformation["flips"]).reshape((-1, 1, 1, 1))
        unbatched = inputs.ndim == 3
        x = inputs[None] if unbatched else inputs
        height_axis, width_axis = self._spatial_axes()
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            x = np.where(flips, np.flip(x, axis=width_axis), x)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            x = np.where(flips, np.flip(x, axis=height_axis), x)
        return x[0] if unbatched else x

    def backward_images(self, dy, transformation):
        """dx = flip(dy) where the image was flipped (a flip is its own inverse)."""
        return self._flip_inputs(dy, transformation)

    def get_config(self):
        return {
            **super().get_config(),
            "seed": self.seed,
            "mode": self.mode,
            "data_format": self.data_format,
        }
