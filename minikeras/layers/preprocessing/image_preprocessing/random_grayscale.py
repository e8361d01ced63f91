"""RandomGrayscale: each image turned grey with probability `factor`."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)

# TensorFlow's luma weights (ops.image.rgb_to_grayscale): grey = 0.2989·R + 0.5870·G + 0.1140·B
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


class RandomGrayscale(BaseImagePreprocessingLayer):
    """Replace each image of a training call, with probability `factor`, by its grey level
    (the same value in every channel). The identity at inference.

    Backward: grey = Σ_c w_c·x_c copied to each channel, so for a grey image
    dx_c = w_c·Σ_c' dy_c' (batch, H, W, 1 → C); dx = dy for the others.

    >>> import numpy as np
    >>> from minikeras.layers import RandomGrayscale
    >>> RandomGrayscale(factor=1.0)(np.array([[[[1.0, 0.0, 0.0]]]]))[0, 0, 0].tolist()
    [0.2989, 0.2989, 0.2989]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor
        self.seed = seed
        self.generator = self.backend.random.SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, images, training=True, seed=None):
        images = images["images"] if isinstance(images, dict) else images
        seed = self.generator if seed is None else seed
        batch_size = self.backend.core.shape(images)[0] if len(images.shape) == 4 else 1
        draws = self.backend.random.uniform(shape=(batch_size,), minval=0, maxval=1, seed=seed)
        return np.reshape(draws < self.factor, (-1, 1, 1, 1))  # (batch, 1, 1, 1)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        if transformation is None:
            transformation = self.get_random_transformation(images)
        gray = self.backend.image.rgb_to_grayscale(images, data_format=self.data_format)
        return np.where(transformation, gray, images)

    def backward_images(self, dy, transformation):
        """dx_c = w_c·Σ_c' dy_c' on the grey images, dy on the others."""
        channel_axis = 1 if self.data_format == "channels_first" else -1
        if dy.shape[channel_axis] == 1:  # one channel: rgb_to_grayscale keeps it
            return dy
        shape = [1, 1, 1, 1]
        shape[channel_axis] = 3
        weights = np.reshape(np.asarray(GRAY_WEIGHTS, dy.dtype), shape)
        through_gray = weights * np.sum(dy, axis=channel_axis, keepdims=True)
        return np.where(transformation, through_gray, dy).astype(dy.dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        return bounding_boxes

    def transform_labels(self, labels, transformation=None, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation=None, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
