"""RandomHue: each image's hue turned by a random amount."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)


class RandomHue(BaseImagePreprocessingLayer):
    """In HSV (images mapped to [0, 1] from `value_range` and back), h → h + δ, folded back
    into [0, 1], with δ = ±u/2, u drawn from `factor`'s range (f alone is [0, f]; within
    [0, 1]) and the sign drawn with probability 1/2, per image. The identity at inference.

    Its backward is the tape's: the HSV conversions (ops.image) are made of max, min, where
    and arithmetic, so dx comes from their gradients (TensorFlow's, checked in the tests).

    >>> import numpy as np
    >>> from minikeras.layers import RandomHue
    >>> RandomHue((1.0, 1.0))(np.array([[[[255.0, 0.0, 0.0]]]]))[0, 0, 0].round(3).tolist()
    [0.0, 255.0, 255.0]
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (0, 1)
    backward = Layer.backward  # the tape's replay of the ops of `call`

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.value_range = value_range
        self.seed = seed
        self.generator = self.backend.random.SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        invert = np.where(self.backend.random.uniform((batch_size,), seed=seed) > 0.5, -1.0, 1.0)
        factor = self.backend.random.uniform(
            (batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        return {"factor": (invert * factor * 0.5).astype(factor.dtype)}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        mnp = self.backend.numpy
        images = _cast(images, self.compute_dtype)
        images = self._transform_value_range(images, self.value_range, (0, 1), self.compute_dtype)
        delta = np.reshape(transformation["factor"], (-1, 1, 1)).astype(self.compute_dtype)
        hsv = self.backend.image.rgb_to_hsv(images, data_format=self.data_format)
        channel = 1 if self.data_format == "channels_first" else -1
        h, s, v = (mnp.take(hsv, i, axis=channel) for i in range(3))
        h = h + delta
        h = mnp.where(mnp.greater(h, 1.0), h - 1.0, h)  # (Keras folds once each way)
        h = mnp.where(mnp.less(h, 0.0), h + 1.0, h)
        rgb = self.backend.image.hsv_to_rgb(mnp.stack([h, s, v], axis=channel), self.data_format)
        rgb = mnp.clip(rgb, 0, 1)
        rgb = self._transform_value_range(rgb, (0, 1), self.value_range, self.compute_dtype)
        return _cast(rgb, self.compute_dtype)

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
