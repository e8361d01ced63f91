"""RandAugment: a batch transformed by `num_ops` augmentations picked at random."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.auto_contrast import AutoContrast
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.layers.preprocessing.image_preprocessing.equalization import Equalization
from minikeras.layers.preprocessing.image_preprocessing.random_brightness import RandomBrightness
from minikeras.layers.preprocessing.image_preprocessing.random_color_degeneration import (
    RandomColorDegeneration,
)
from minikeras.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from minikeras.layers.preprocessing.image_preprocessing.random_posterization import (
    RandomPosterization,
)
from minikeras.layers.preprocessing.image_preprocessing.random_rotation import RandomRotation
from minikeras.layers.preprocessing.image_preprocessing.random_sharpness import RandomSharpness
from minikeras.layers.preprocessing.image_preprocessing.random_shear import RandomShear
from minikeras.layers.preprocessing.image_preprocessing.random_translation import (
    RandomTranslation,
)
from minikeras.layers.preprocessing.image_preprocessing.solarization import Solarization
from minikeras.random import SeedGenerator


class RandAugment(BaseImagePreprocessingLayer):
    """Apply `num_ops` augmentations to a training batch, each picked uniformly (with
    repetition) among eleven: shear, translation, rotation, brightness, colour degeneration,
    contrast, sharpness, posterization, solarization, auto-contrast and equalization, each
    of strength `factor` (f alone is [0, f], within [0, 1]). As Keras's, the picks are made
    once for the whole batch, and each augmentation draws its own parameters per image; every
    draw comes from this layer's seed. The identity at inference.

    Backward: the chain rule through the picked augmentations, last first, each with its own
    backward (dx = J₁ᵀ·J₂ᵀ·…·dy); each is re-applied to its input first, so that it holds the
    state of that step (the clip masks, the histogram) when the same one was picked twice.

    >>> import numpy as np
    >>> from minikeras.layers import RandAugment
    >>> RandAugment(num_ops=0)(np.ones((1, 4, 4, 3))).shape
    (1, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = [
        "random_shear",
        "random_translation",
        "random_rotation",
        "random_brightness",
        "random_color_degeneration",
        "random_contrast",
        "random_sharpness",
        "random_posterization",
        "solarization",
        "auto_contrast",
        "equalization",
    ]

    def __init__(
        self,
        value_range=(0, 255),
        num_ops=2,
        factor=0.5,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)
        common = {"seed": seed, "data_format": data_format, **kwargs}
        ranged = {"value_range": value_range, **common}
        f = self.factor
        self.random_shear = RandomShear(
            x_factor=f, y_factor=f, interpolation=interpolation, **common
        )
        self.random_translation = RandomTranslation(
            height_factor=f, width_factor=f, interpolation=interpolation, **common
        )
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, **common)
        self.random_brightness = RandomBrightness(factor=f, **ranged)
        self.random_color_degeneration = RandomColorDegeneration(factor=f, **ranged)
        self.random_contrast = RandomContrast(factor=f, **ranged)
        self.random_sharpness = RandomSharpness(factor=f, **ranged)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f, **ranged)
        self.random_posterization = RandomPosterization(factor=max(1, int(8 * f[1])), **ranged)
        self.auto_contrast = AutoContrast(
            value_range=value_range, data_format=data_format, **kwargs
        )
        self.equalization = Equalization(value_range=value_range, data_format=data_format, **kwargs)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        seed = self.generator if seed is None else seed
        layer_idxes = self.backend.random.randint(
            (self.num_ops,), 0, len(self._AUGMENT_LAYERS), seed=seed
        )
        # every augmentation draws, picked or not, in this order (Keras's stream of draws)
        transforms = {
            name: getattr(self, name).get_random_transformation(data, training=True, seed=seed)
            for name in self._AUGMENT_LAYERS
        }
        return {"transforms": transforms, "layer_idxes": layer_idxes}

    def _picked(self, transformation):
        """(augmentation layer, its transformation) for each of the `num_ops` picks."""
        for index in np.asarray(transformation["layer_idxes"]).tolist()[: self.num_ops]:
            name = self._AUGMENT_LAYERS[index]
            yield getattr(self, name), transformation["transforms"][name]

    def transform_images(self, images, transformation, training=True):
        images = np.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        self._inputs = []  # each step's input, for the backward
        for layer, value in self._picked(transformation):
            self._inputs.append(images)
            images = np.asarray(layer.transform_images(images, value)).astype(self.compute_dtype)
        return images

    def backward_images(self, dy, transformation):
        """dx = J₁ᵀ·(J₂ᵀ·(…·dy)), the picks taken last first (see the class)."""
        steps = list(self._picked(transformation))
        for (layer, value), inputs in reversed(list(zip(steps, self._inputs))):
            layer.transform_images(inputs, value)  # that step's state, for its backward
            dy = layer.backward_images(dy, value)
        return dy

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """The boxes moved by each picked augmentation once, in the augmentations' order
        (not the picks'), as Keras's combines them."""
        if not training:
            return bounding_boxes
        picked = set(np.asarray(transformation["layer_idxes"]).tolist()[: self.num_ops])
        for index, name in enumerate(self._AUGMENT_LAYERS):
            if index in picked:
                moved = getattr(self, name).transform_bounding_boxes(
                    dict(bounding_boxes), transformation["transforms"][name]
                )
                bounding_boxes["boxes"] = moved["boxes"]
                bounding_boxes["labels"] = moved["labels"]
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if training:
            for layer, value in self._picked(transformation):
                segmentation_masks = layer.transform_segmentation_masks(segmentation_masks, value)
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_ops": self.num_ops,
            "factor": self.factor,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
