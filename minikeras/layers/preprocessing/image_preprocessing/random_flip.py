"""RandomFlip: each image flipped left-right and/or top-bottom with probability 1/2."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
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

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Boxes flipped in relative coordinates: x → 1 − x (the left and right edges
        swapped), y → 1 − y likewise, on the flipped images."""
        if not training:
            return bounding_boxes
        flips = np.squeeze(np.asarray(transformation["flips"]), axis=-1)
        height_axis, width_axis = self._spatial_axes()
        shape = transformation["input_shape"]
        height, width = shape[height_axis], shape[width_axis]
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "rel_xyxy", height=height, width=width
        )
        boxes = bounding_boxes["boxes"]
        x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            boxes = np.where(flips, np.concatenate([1 - x2, y1, 1 - x1, y2], axis=-1), boxes)
            x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            boxes = np.where(flips, np.concatenate([x1, 1 - y2, x2, 1 - y1], axis=-1), boxes)
        bounding_boxes["boxes"] = boxes
        # (as Keras: relative boxes clipped as pixel ones, to [0, height] and [0, width])
        bounding_boxes = clip_to_image_size(bounding_boxes, height=height, width=width)
        return convert_format(
            bounding_boxes, "rel_xyxy", self.bounding_box_format, height=height, width=width
        )

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
