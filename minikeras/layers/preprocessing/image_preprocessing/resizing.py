"""Resizing: images resampled to (height, width), TensorFlow's kernels (ops.image.resize)."""

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class Resizing(BaseImagePreprocessingLayer):
    """Resize images to `height` × `width` ("bilinear", "nearest", "bicubic", "lanczos3",
    "lanczos5", "area"); `crop_to_aspect_ratio` crops the centre to the target's aspect
    ratio first, `pad_to_aspect_ratio` pads with `fill_value` instead. Not random: the same
    at training and inference.

    Its backward is the tape's: resizing is linear, out = R_h·x·R_wᵀ, and ops.image.resize
    records dx = R_hᵀ·dy·R_w (autodiff/vjps_math.py); a crop is a slice, a pad a pad.

    >>> import numpy as np
    >>> from minikeras.layers import Resizing
    >>> Resizing(2, 2, interpolation="nearest")(np.arange(16.0).reshape(4, 4, 1))[..., 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    _USE_BASE_FACTOR = False
    backward = Layer.backward  # the tape's replay of the ops of `call` (see the docstring)

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.height_axis, self.width_axis = self._spatial_axes()

    def _transform_images(self, images, transformation, interpolation):
        return self.backend.image.resize(
            images,
            size=(self.height, self.width),
            interpolation=interpolation,
            antialias=self.antialias,
            data_format=self.data_format,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
        )  # (the input's dtype back: integers rounded and saturated, as Keras's layer)

    def transform_images(self, images, transformation=None, training=True):
        return self._transform_images(images, transformation, self.interpolation)

    def transform_segmentation_masks(self, segmentation_masks, transformation=None, training=True):
        return self._transform_images(segmentation_masks, transformation, "nearest")

    def transform_labels(self, labels, transformation=None, training=True):
        return labels

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        return shape[self.height_axis], shape[self.width_axis]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self.height_axis], shape[self.width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }
