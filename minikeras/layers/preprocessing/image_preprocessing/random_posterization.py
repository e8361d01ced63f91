"""RandomPosterization: each image's pixels kept to a random number of bits."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class RandomPosterization(BaseImagePreprocessingLayer):
    """In [0, 255] as uint8 (images mapped there from `value_range` and back), keep the
    top b bits of each pixel: y = (x >> (8 − b)) << (8 − b), b drawn per image from
    [factor[0], factor[1]) (f alone is [1, f]; within [1, 8]). The identity at inference.

    Backward: y is a staircase of x (through a cast to uint8, which TensorFlow does not
    differentiate), so dx = 0 at training, dy at inference.

    >>> import numpy as np
    >>> from minikeras.layers import RandomPosterization
    >>> RandomPosterization(factor=(2, 2))(np.array([[[[200.0, 63.0]]]]))[0, 0, 0].tolist()
    [192.0, 0.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (1, 8)
    _MAX_FACTOR = 8
    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self.seed = seed
        self.generator = self.backend.random.SeedGenerator(seed)

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
        if self.factor[0] != self.factor[1]:
            bits = self.backend.random.randint(
                (batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed,
                dtype="uint8",
            )  # fmt: skip
        else:
            bits = np.full((batch_size,), self.factor[0], dtype="uint8")
        return {"shift_factor": (self._MAX_FACTOR - np.asarray(bits)).astype("uint8")}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        shift = np.reshape(transformation["shift_factor"], (-1, 1, 1, 1)).astype("uint8")
        dtype = self.compute_dtype
        x = self._transform_value_range(images, self.value_range, (0, 255), dtype=dtype)
        x = np.asarray(x).astype("uint8")  # (a float→uint8 cast truncates, as TensorFlow's)
        x = np.left_shift(np.right_shift(x, shift), shift).astype(dtype)
        return self._transform_value_range(x, (0, 255), self.value_range, dtype=dtype)

    def backward_images(self, dy, transformation):
        """dx = 0: the output is piecewise constant in x."""
        return np.zeros_like(dy)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
        }
