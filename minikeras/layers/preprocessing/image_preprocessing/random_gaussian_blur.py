"""RandomGaussianBlur: some images blurred by a Gaussian of random width."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator


class RandomGaussianBlur(BaseImagePreprocessingLayer):
    """For each image of a training call whose draw u < p (p drawn from `factor`'s range),
    correlate each channel with a Gaussian kernel of `kernel_size` whose two widths are
    drawn from `sigma`'s range (one pair for the batch); the result clipped to `value_range`.
    The identity at inference.

    Its backward is the tape's: the blur is made of pads, slices, products and sums
    (ops.image.gaussian_blur), then a `where` and a clip.

    >>> import numpy as np
    >>> from minikeras.layers import RandomGaussianBlur
    >>> RandomGaussianBlur(seed=1)(np.full((2, 5, 5, 3), 100.0)).shape
    (2, 5, 5, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    backward = Layer.backward  # the tape's replay of the ops of `call`

    def __init__(
        self,
        factor=1.0,
        kernel_size=3,
        sigma=1.0,
        value_range=(0, 255),
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.kernel_size = self._set_kernel_size(kernel_size, "kernel_size")
        self.sigma = self._set_factor_by_name(sigma, "sigma")
        self.value_range = value_range
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_kernel_size(self, factor, name):
        message = f"{name} must be an odd number. Received: {name}={factor}"
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2:
                raise ValueError(
                    f"The `{name}` argument should be a number (or a list of two numbers) "
                    f"Received: {name}={factor}"
                )
            if factor[0] % 2 == 0 or factor[1] % 2 == 0:
                raise ValueError(message)
            return factor[0], factor[1]
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor % 2 == 0:
                raise ValueError(message)
            return factor, factor
        raise ValueError(message)

    def _set_factor_by_name(self, factor, name):
        low, high = self._FACTOR_BOUNDS
        message = (
            f"The `{name}` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(message)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < low or factor > high:
                raise ValueError(message)
            return max(-abs(factor), low), abs(factor)
        raise ValueError(message)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = seed or self.generator
        probability = self.backend.random.uniform(
            shape=(batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        threshold = self.backend.random.uniform(
            shape=(batch_size,), minval=0.0, maxval=1.0, seed=seed
        )
        sigma = self.backend.random.uniform(
            shape=(2,), minval=self.sigma[0], maxval=self.sigma[1], seed=seed,
            dtype=self.compute_dtype,
        ) + np.asarray(1e-6, self.compute_dtype)  # fmt: skip
        return {"should_apply_blur": threshold < probability, "blur_factor": sigma}

    def transform_images(self, images, transformation=None, training=True):
        images = _cast(images, self.compute_dtype)
        if training and transformation is not None:
            blurred = self.backend.image.gaussian_blur(
                images,
                kernel_size=self.kernel_size,
                sigma=np.asarray(transformation["blur_factor"]),
                data_format=self.data_format,
            )
            apply = np.reshape(transformation["should_apply_blur"], (-1, 1, 1, 1))
            images = self.backend.numpy.where(apply, blurred, images)
            images = self.backend.numpy.clip(images, self.value_range[0], self.value_range[1])
            images = _cast(images, self.compute_dtype)
        return images

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
            "kernel_size": self.kernel_size,
            "sigma": self.sigma,
            "value_range": self.value_range,
            "seed": self.seed,
        }
