"""Solarization: pixels above a random threshold inverted, after a random brightening."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator


class Solarization(BaseImagePreprocessingLayer):
    """In [0, 255] (images mapped there from `value_range` and back): r = clip(x + a, 0, 255),
    then y = r where r < t, 255 − r elsewhere, with a drawn per image from
    [addition_factor[0], addition_factor[1]·255) and t from the threshold_factor's range
    likewise (each factor f alone is [0, f]; within [0, 1]). The identity at inference.

    Backward: the maps to and from [0, 255] cancel, so dx = ±dy where the clip passed
    x + a (− where the pixel was inverted), 0 elsewhere.

    >>> import numpy as np
    >>> from minikeras.layers import Solarization
    >>> Solarization()(np.array([[[[10.0, 200.0]]]]))[0, 0, 0].tolist()  # t = 0: all inverted
    [245.0, 55.0]
    """

    _USE_BASE_FACTOR = False
    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "
    _FACTOR_VALIDATION_ERROR = (
        "The `addition_factor` and `threshold_factor` arguments should be a number (or a list "
        "of two numbers) in the range [0, 1]. "
    )

    def __init__(
        self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.addition_factor = self._set_factor(addition_factor, "addition_factor")
        self.threshold_factor = self._set_factor(threshold_factor, "threshold_factor")
        self._set_value_range(value_range)

    def _set_value_range(self, value_range):
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                self._VALUE_RANGE_VALIDATION_ERROR + f"Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def _set_factor(self, factor, factor_name):
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2:
                raise ValueError(
                    self._FACTOR_VALIDATION_ERROR + f"Received: {factor_name}={factor}"
                )
            self._check_factor_range(factor[0])
            self._check_factor_range(factor[1])
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            self._check_factor_range(factor)
            return 0, factor
        raise ValueError(self._FACTOR_VALIDATION_ERROR + f"Received: {factor_name}={factor}")

    def _check_factor_range(self, input_number):
        if input_number > 1.0 or input_number < 0:
            raise ValueError(
                self._FACTOR_VALIDATION_ERROR + f"Received: input_number={input_number}"
            )

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        factor_shape = (shape[0], 1, 1, 1) if len(shape) == 4 else (1, 1, 1)
        seed = self.generator if seed is None else seed
        # (as Keras: the lower bound is not scaled by 255, the upper one is)
        additions = self.backend.random.uniform(
            minval=self.addition_factor[0], maxval=self.addition_factor[1] * 255,
            shape=factor_shape, seed=seed, dtype=self.compute_dtype,
        )  # fmt: skip
        thresholds = self.backend.random.uniform(
            minval=self.threshold_factor[0], maxval=self.threshold_factor[1] * 255,
            shape=factor_shape, seed=seed, dtype=self.compute_dtype,
        )  # fmt: skip
        return {"additions": additions, "thresholds": thresholds}

    def transform_images(self, images, transformation, training=True):
        images = _cast(images, self.compute_dtype)
        if not training or transformation is None:
            return images
        dtype = self.compute_dtype
        x = self._transform_value_range(images, self.value_range, (0, 255), dtype=dtype)
        shifted = x + np.asarray(transformation["additions"], dtype)
        results = np.clip(shifted, 0, 255)
        kept = results < np.asarray(transformation["thresholds"], dtype)
        self._passed = (shifted >= 0) & (shifted <= 255)  # for the backward
        self._sign = np.where(kept, 1, -1).astype(dtype)
        results = np.where(kept, results, 255 - results)
        return self._transform_value_range(results, (0, 255), self.value_range, dtype=dtype)

    def backward_images(self, dy, transformation):
        """dx = ±dy where the clip passed x + a (− on the inverted pixels), 0 elsewhere."""
        passed, sign = self._passed.reshape(dy.shape), self._sign.reshape(dy.shape)
        return np.where(passed, sign * dy, 0).astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "addition_factor": self.addition_factor,
            "threshold_factor": self.threshold_factor,
            "seed": self.seed,
        }
