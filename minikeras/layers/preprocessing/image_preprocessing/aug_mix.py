"""AugMix: an image mixed with several chains of random augmentations of itself."""

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

AUGMENT_LAYERS = [
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_posterization",
    "solarization",
    "auto_contrast",
    "equalization",
]
AUGMENT_LAYERS_ALL = AUGMENT_LAYERS + [
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
]


class AugMix(BaseImagePreprocessingLayer):
    """y = clip(w·x + (1 − w)·Σₖ mₖ·chainₖ(x), value_range), with `num_chains` chains, each
    of up to `chain_depth` augmentations picked at random (a pick may be "none"), the chain
    weights m drawn from Dirichlet(`alpha`, …) and w from Beta(`alpha`, `alpha`). The
    augmentations are shear, translation, rotation, posterization, solarization,
    auto-contrast and equalization, and with `all_ops` brightness, colour degeneration,
    contrast and sharpness too, each of strength `factor` (f alone is [0, f]). As Keras's,
    the picks and weights are the same for the whole batch. The identity at inference.

    Keras picks the augmentations with Python's global `random` (its `seed` does not fix
    them); here the layer's seed draws them too, so that a seeded layer repeats itself.

    Backward, with g = dy where the clip let the sum through:
        dx = w·g + (1 − w)·Σₖ mₖ·Jₖᵀ·g,
    Jₖᵀ the chain rule through chain k's augmentations, last first (each re-applied to its
    input first, so that it holds that step's state).

    >>> import numpy as np
    >>> from minikeras.layers import AugMix
    >>> AugMix(seed=1)(np.full((1, 4, 4, 3), 9.0)).shape
    (1, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(
        self,
        value_range=(0, 255),
        num_chains=3,
        chain_depth=3,
        factor=0.3,
        alpha=1.0,
        all_ops=True,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self._augment_layers = AUGMENT_LAYERS_ALL if all_ops else AUGMENT_LAYERS
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
        self.solarization = Solarization(addition_factor=f, threshold_factor=f, **ranged)
        self.random_posterization = RandomPosterization(factor=max(1, int(8 * f[1])), **ranged)
        self.auto_contrast = AutoContrast(
            value_range=value_range, data_format=data_format, **kwargs
        )
        self.equalization = Equalization(value_range=value_range, data_format=data_format, **kwargs)
        if all_ops:
            self.random_brightness = RandomBrightness(factor=f, **ranged)
            self.random_color_degeneration = RandomColorDegeneration(factor=f, **ranged)
            self.random_contrast = RandomContrast(factor=f, **ranged)
            self.random_sharpness = RandomSharpness(factor=f, **ranged)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        seed = self.generator if seed is None else seed
        gamma = self.backend.random.gamma(shape=[self.num_chains], alpha=self.alpha, seed=seed)
        weight_sample = self.backend.random.beta(
            shape=(), alpha=self.alpha, beta=self.alpha, seed=seed
        )
        choices = len(self._augment_layers) + 1  # the last one: no augmentation
        chain_transforms = []
        for _ in range(self.num_chains):
            chain = []
            for _ in range(self.chain_depth):
                pick = int(self.backend.random.randint((), 0, choices, seed=seed))
                if pick == choices - 1:
                    continue
                name = self._augment_layers[pick]
                layer = getattr(self, name)
                chain.append(
                    {
                        "layer_name": name,
                        "transformation": layer.get_random_transformation(data, seed=seed),
                    }
                )
            chain_transforms.append(chain)
        return {
            "chain_mixing_weights": gamma / np.sum(gamma, axis=-1, keepdims=True),
            "weight_sample": weight_sample,
            "chain_transforms": chain_transforms,
        }

    def _weights(self, transformation):
        dtype = self.compute_dtype
        mixing = np.asarray(transformation["chain_mixing_weights"]).astype(dtype)
        return mixing, np.asarray(transformation["weight_sample"]).astype(dtype)

    def _run_chain(self, images, chain, transform="transform_images"):
        """A copy of the images through one chain; the input of each step kept (for the
        backward)."""
        inputs = []
        for step in chain:
            inputs.append(images)
            layer = getattr(self, step["layer_name"])
            images = getattr(layer, transform)(images, step["transformation"])
        return images, inputs

    def transform_images(self, images, transformation, training=True):
        images = np.asarray(images).astype(self.compute_dtype)
        if not training:
            return images
        mixing, w = self._weights(transformation)
        augmented = np.zeros_like(images)
        self._chain_inputs = []
        for k, chain in enumerate(transformation["chain_transforms"]):
            out, inputs = self._run_chain(np.copy(images), chain)
            self._chain_inputs.append(inputs)
            augmented = augmented + np.asarray(out) * mixing[k]
        mixed = w * images + (1 - w) * augmented
        low, high = self.value_range
        self._passed = (mixed >= low) & (mixed <= high)  # where the clip let the sum through
        return np.clip(mixed, low, high).astype(self.compute_dtype)

    def backward_images(self, dy, transformation):
        """dx = w·g + (1 − w)·Σₖ mₖ·Jₖᵀ·g, g = dy where the clip passed (see the class)."""
        mixing, w = self._weights(transformation)
        g = np.where(self._passed.reshape(dy.shape), dy, 0).astype(dy.dtype)
        dx = w * g
        chains = transformation["chain_transforms"]
        for k, (chain, inputs) in enumerate(zip(chains, self._chain_inputs)):
            g_k = (1 - w) * mixing[k] * g
            for step, x in reversed(list(zip(chain, inputs))):
                layer = getattr(self, step["layer_name"])
                layer.transform_images(x, step["transformation"])  # that step's state
                g_k = layer.backward_images(g_k, step["transformation"])
            dx = dx + g_k
        return dx.astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        """The masks mixed as the images (no clip), each chain with the masks' transforms."""
        if not training:
            return segmentation_masks
        mixing, w = self._weights(transformation)
        augmented = np.zeros_like(segmentation_masks)
        for k, chain in enumerate(transformation["chain_transforms"]):
            out, _ = self._run_chain(
                np.copy(segmentation_masks), chain, "transform_segmentation_masks"
            )
            augmented = augmented + np.asarray(out) * mixing[k]
        return w * segmentation_masks + (1 - w) * augmented

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_chains": self.num_chains,
            "chain_depth": self.chain_depth,
            "factor": self.factor,
            "alpha": self.alpha,
            "all_ops": self.all_ops,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
