"""RandomInvert: each image inverted (hi − x) with a random probability."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)


class RandomInvert(BaseImagePreprocessingLayer):
    """y = value_range[1] − x for each image of a training call whose draw u < p, p itself
    drawn from `factor`'s range (f alone is [0, f]; within [0, 1]). The identity at inference.

    Backward: dx = −dy on the inverted images, dy on the others.

    >>> import numpy as np
    >>> from minikeras.layers import RandomInvert
    >>> RandomInvert(factor=(1.0, 1.0))(np.full((1, 1, 1, 1), 5.0))[0, 0, 0].tolist()
    [250.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self.seed = seed
        self.generator = self.backend.random.SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        seed = seed or self.generator
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        probability = self.backend.random.uniform(
            shape=(batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        threshold = self.backend.random.uniform(shape=(batch_size,), minval=0, maxval=1, seed=seed)
        return {"apply_inversion": threshold < probability}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = _cast(images, self.compute_dtype)
        apply = np.reshape(transformation["apply_inversion"], (-1, 1, 1, 1))
        return np.where(apply, self.value_range[1] - images, images)

    def backward_images(self, dy, transformation):
        """dx = −dy where the image was inverted."""
        apply = np.reshape(transformation["apply_inversion"], (-1, 1, 1, 1))
        return np.where(apply, -dy, dy)

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
