"""RandomSaturation: each image's saturation scaled by a random factor."""

import numpy as np

from minikeras import config
from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.random import SeedGenerator


class RandomSaturation(BaseImagePreprocessingLayer):
    """In HSV, s → clip(s·k, value_range) with k = u/(1 − u + ε), u drawn from `factor`'s
    range per image (f alone is [0, f]; within [0, 1]: u = 0.5 keeps the image, 0 turns it
    grey, 1 saturates it). The images are taken as RGB in [0, 1], as Keras's layer takes
    them. The identity at inference.

    Its backward is the tape's: the HSV conversions (ops.image) are made of max, min, where
    and arithmetic, so dx comes from their gradients (TensorFlow's, checked in the tests).

    >>> import numpy as np
    >>> from minikeras.layers import RandomSaturation
    >>> gray = RandomSaturation((0.0, 0.0))(np.array([[[[0.2, 0.4, 0.8]]]]))
    >>> gray[0, 0, 0].round(3).tolist()
    [0.8, 0.8, 0.8]
    """

    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "
    backward = Layer.backward  # the tape's replay of the ops of `call`

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
        u = self.backend.random.uniform(
            (batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        return {"factor": u / (1 - u + np.asarray(config.epsilon(), u.dtype))}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        mnp = self.backend.numpy
        factor = np.reshape(transformation["factor"], (-1, 1, 1)).astype(self.compute_dtype)
        hsv = self.backend.image.rgb_to_hsv(images, data_format=self.data_format)
        channel = 1 if self.data_format == "channels_first" else -1
        h, s, v = (mnp.take(hsv, i, axis=channel) for i in range(3))
        s = mnp.clip(s * factor, self.value_range[0], self.value_range[1])
        return self.backend.image.hsv_to_rgb(mnp.stack([h, s, v], axis=channel), self.data_format)

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
