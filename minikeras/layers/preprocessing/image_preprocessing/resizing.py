"""Resizing: images resampled to (height, width), TensorFlow's kernels (ops.image.resize)."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
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

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Boxes moved as the pixels: scaled by the size ratios (after the aspect-ratio crop
        or pad), clipped to the new image; padding boxes (all 0 or all −1) stay zeros."""
        input_height, input_width = transformation
        boxes = np.asarray(bounding_boxes["boxes"])
        padding = np.all(boxes == -1, axis=-1) | np.all(boxes == 0, axis=-1)
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "xyxy", input_height, input_width
        )
        bounding_boxes["boxes"] = self._move_xyxy(
            bounding_boxes["boxes"], input_height, input_width
        )
        bounding_boxes = clip_to_image_size(bounding_boxes, height=self.height, width=self.width)
        bounding_boxes["boxes"] = np.where(padding[..., None], 0, bounding_boxes["boxes"])
        return convert_format(
            bounding_boxes, "xyxy", self.bounding_box_format, self.height, self.width
        )

    def _move_xyxy(self, boxes, input_height, input_width):
        """x·sx − left, y·sy − top: the scales and offsets of stretching, of the centre crop
        to the target's aspect ratio, or of the centred pad (Keras's arithmetic)."""
        dtype = boxes.dtype
        if self.pad_to_aspect_ratio:
            scale = np.minimum(self.height / input_height, self.width / input_width).astype(dtype)
            sx = sy = scale
            left = -((self.width - input_width * scale) // 2)
            top = -((self.height - input_height * scale) // 2)
        elif self.crop_to_aspect_ratio:
            source, target = input_width / input_height, self.width / self.height
            new_width = self.height * source if source > target else self.width
            new_height = self.height if source > target else self.width / source
            sx, sy = new_width / input_width, new_height / input_height
            left, top = (new_width - self.width) // 2, (new_height - self.height) // 2
        else:
            sx, sy = self.width / input_width, self.height / input_height
            left = top = 0
        x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
        moved = [x1 * sx - left, y1 * sy - top, x2 * sx - left, y2 * sy - top]
        return np.concatenate(moved, axis=-1).astype(dtype)

    def compute_output_shape(self, input_shape):
        # Keras's axes: 1, 2 of a batch (2, 3 channels first), else 0, 1 (1, 2): a shape of
        # another rank gets no error here, as in Keras (the call raises)
        shape = list(input_shape)
        first = (1 if len(shape) == 4 else 0) + (self.data_format == "channels_first")
        shape[first], shape[first + 1] = self.height, self.width
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
