"""RandomColorJitter: brightness, contrast, saturation and hue changed in turn."""

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.layers.preprocessing.image_preprocessing.random_brightness import (
    RandomBrightness,
)
from minikeras.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from minikeras.layers.preprocessing.image_preprocessing.random_hue import RandomHue
from minikeras.layers.preprocessing.image_preprocessing.random_saturation import (
    RandomSaturation,
)
from minikeras.random import SeedGenerator


class RandomColorJitter(BaseImagePreprocessingLayer):
    """RandomBrightness, RandomContrast, RandomSaturation and RandomHue in that order, each
    present when its factor is given (all with `value_range` and `seed`). The identity at
    inference.

    Backward: the layers in a row, so dx is their backward passes in reverse order.

    >>> import numpy as np
    >>> from minikeras.layers import RandomColorJitter
    >>> jitter = RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=1)
    >>> jitter(np.full((2, 3, 3, 3), 100.0)).shape
    (2, 3, 3, 3)
    """

    _USE_BASE_FACTOR = True

    def __init__(
        self,
        value_range=(0, 255),
        brightness_factor=None,
        contrast_factor=None,
        saturation_factor=None,
        hue_factor=None,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self.seed = seed
        self.generator = SeedGenerator(seed)
        common = {"value_range": value_range, "seed": seed, "dtype": kwargs.get("dtype")}
        made = [
            (brightness_factor, RandomBrightness),
            (contrast_factor, RandomContrast),
            (saturation_factor, RandomSaturation),
            (hue_factor, RandomHue),
        ]
        self._steps = [cls(factor=f, **common) for f, cls in made if f is not None]

    def is_identity(self, training):
        return not training

    def call(self, data, training=True):
        if isinstance(data, dict) or not training:
            return super().call(data, training=training)
        images = _cast(data, self.compute_dtype)
        for step in self._steps:  # each draws its own change, from its own seed
            images = step.forward(images, training=True)
        self._last = (True, None, False)
        return _cast(images, self.compute_dtype)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = _cast(images, self.compute_dtype)
        for step in self._steps:
            change = step.get_random_transformation(images, training=True)
            images = step.transform_images(images, change, training=True)
        return _cast(images, self.compute_dtype)

    def backward(self, dy):
        """dx = the steps' backward passes, last step first."""
        self.grads = []
        if self._last is None or not self._last[0]:
            return dy
        for step in reversed(self._steps):
            dy = step.backward(dy)
        return dy

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
            "brightness_factor": self.brightness_factor,
            "contrast_factor": self.contrast_factor,
            "saturation_factor": self.saturation_factor,
            "hue_factor": self.hue_factor,
            "seed": self.seed,
        }
