"""RandomCrop: a random height × width window of the images, at training."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    convert_format,
)
from minikeras.random import SeedGenerator
from minikeras.random.seed_generator import make_default_seed


class RandomCrop(BaseImagePreprocessingLayer):
    """Crop a `height` × `width` window at a random place (one place for the whole batch,
    its corner uniform over the places that fit) in a training call. When the images are
    not larger than the window along both axes, the window is the centre of the images cut
    to the target's aspect ratio, resized to height × width. At inference the images pass
    unchanged, as Keras's (whatever their size).

    Its backward is the tape's: a crop is a slice (dx is dy in the window, zeros around
    it), the other path a resize (dx = R_hᵀ·dy·R_w).

    >>> import numpy as np
    >>> from minikeras.layers import RandomCrop
    >>> RandomCrop(2, 3, seed=1)(np.ones((4, 5, 6, 3))).shape
    (4, 2, 3, 3)
    """

    _USE_BASE_FACTOR = False
    backward = Layer.backward  # the tape's replay of the slice or resize of `call`

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        # Keras keeps a drawn seed in its config, but seeds its generator with the one given
        self.seed = seed if seed is not None else make_default_seed()
        self.generator = SeedGenerator(seed)
        self.height_axis, self.width_axis = self._spatial_axes()

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        seed = self.generator if seed is None else seed
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        input_height, input_width = shape[self.height_axis], shape[self.width_axis]
        if training and input_height > self.height and input_width > self.width:
            h_start = self.backend.random.uniform(
                (), 0, maxval=float(input_height - self.height + 1), seed=seed
            )
            w_start = self.backend.random.uniform(
                (), 0, maxval=float(input_width - self.width + 1), seed=seed
            )
            return int(np.asarray(h_start)), int(np.asarray(w_start))
        # the centre cut to the target's aspect ratio (Keras's smart_resize window)
        crop_height = max(min(input_height, int(float(input_width * self.height) / self.width)), 1)
        crop_width = max(min(input_width, int(float(input_height * self.width) / self.height)), 1)
        return int(float(input_height - crop_height) / 2), int(float(input_width - crop_width) / 2)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        images = _cast(images, self.compute_dtype)
        h_start, w_start = transformation
        window = [slice(None)] * len(images.shape)
        window[self.height_axis] = slice(h_start, h_start + self.height)
        window[self.width_axis] = slice(w_start, w_start + self.width)
        images = images[tuple(window)]
        shape = images.shape
        if shape[self.height_axis] != self.height or shape[self.width_axis] != self.width:
            images = self.backend.image.resize(
                images, size=(self.height, self.width), data_format=self.data_format
            )
            images = _cast(images, self.compute_dtype)
        return images

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Boxes moved by the window's corner and kept non-negative. (As Keras's: the
        window's top is taken from x and its left from y, and the boxes are read in the
        output's size.)"""
        if not training:
            return bounding_boxes
        h_start, w_start = transformation
        boxes = convert_format(
            bounding_boxes["boxes"], self.bounding_box_format, "xyxy", self.height, self.width
        )
        shifts = np.array([h_start, w_start, h_start, w_start], boxes.dtype)
        boxes = np.maximum(boxes - shifts, 0)
        boxes = convert_format(boxes, "xyxy", self.bounding_box_format, self.height, self.width)
        return {"boxes": boxes, "labels": bounding_boxes["labels"]}

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation)

    def compute_output_shape(self, input_shape, *args, **kwargs):
        shape = list(input_shape)
        shape[self.height_axis], shape[self.width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }
