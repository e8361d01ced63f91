"""Image preprocessing and augmentation layers (Keras's module names, one layer a module)."""

from minikeras.layers.preprocessing.image_preprocessing.aug_mix import AugMix
from minikeras.layers.preprocessing.image_preprocessing.auto_contrast import AutoContrast
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.layers.preprocessing.image_preprocessing.center_crop import CenterCrop
from minikeras.layers.preprocessing.image_preprocessing.clahe import (
    ContrastLimitedAdaptiveHistogramEqualization,
)
from minikeras.layers.preprocessing.image_preprocessing.cut_mix import CutMix
from minikeras.layers.preprocessing.image_preprocessing.equalization import Equalization
from minikeras.layers.preprocessing.image_preprocessing.max_num_bounding_box import (
    MaxNumBoundingBoxes,
)
from minikeras.layers.preprocessing.image_preprocessing.mix_up import MixUp
from minikeras.layers.preprocessing.image_preprocessing.rand_augment import RandAugment
from minikeras.layers.preprocessing.image_preprocessing.random_brightness import RandomBrightness
from minikeras.layers.preprocessing.image_preprocessing.random_color_degeneration import (
    RandomColorDegeneration,
)
from minikeras.layers.preprocessing.image_preprocessing.random_color_jitter import (
    RandomColorJitter,
)
from minikeras.layers.preprocessing.image_preprocessing.random_contrast import RandomContrast
from minikeras.layers.preprocessing.image_preprocessing.random_crop import RandomCrop
from minikeras.layers.preprocessing.image_preprocessing.random_elastic_transform import (
    RandomElasticTransform,
)
from minikeras.layers.preprocessing.image_preprocessing.random_erasing import RandomErasing
from minikeras.layers.preprocessing.image_preprocessing.random_flip import RandomFlip
from minikeras.layers.preprocessing.image_preprocessing.random_gaussian_blur import (
    RandomGaussianBlur,
)
from minikeras.layers.preprocessing.image_preprocessing.random_grayscale import RandomGrayscale
from minikeras.layers.preprocessing.image_preprocessing.random_hue import RandomHue
from minikeras.layers.preprocessing.image_preprocessing.random_invert import RandomInvert
from minikeras.layers.preprocessing.image_preprocessing.random_perspective import RandomPerspective
from minikeras.layers.preprocessing.image_preprocessing.random_posterization import (
    RandomPosterization,
)
from minikeras.layers.preprocessing.image_preprocessing.random_rotation import RandomRotation
from minikeras.layers.preprocessing.image_preprocessing.random_saturation import (
    RandomSaturation,
)
from minikeras.layers.preprocessing.image_preprocessing.random_sharpness import RandomSharpness
from minikeras.layers.preprocessing.image_preprocessing.random_shear import RandomShear
from minikeras.layers.preprocessing.image_preprocessing.random_translation import (
    RandomTranslation,
)
from minikeras.layers.preprocessing.image_preprocessing.random_zoom import RandomZoom
from minikeras.layers.preprocessing.image_preprocessing.resizing import Resizing
from minikeras.layers.preprocessing.image_preprocessing.solarization import Solarization

__all__ = [
    "RandomElasticTransform",
    "AugMix",
    "RandAugment",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "MaxNumBoundingBoxes",
    "RandomPerspective",
    "Equalization",
    "AutoContrast",
    "BaseImagePreprocessingLayer",
    "CenterCrop",
    "CutMix",
    "MixUp",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomCrop",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
    "Solarization",
]
