"""CutMix: a random box of each image replaced by the same box of another image."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator


class CutMix(BaseImagePreprocessingLayer):
    """y_i = x_π(i) inside a random box of image i, x_i outside, for a random permutation π
    of the batch; the box covers a fraction 1 − λ_i of the image, λ_i ~ Beta(a, a) with a
    drawn from `factor`'s range (within [0, 1]); labels are mixed as λ_i·l_i + (1 − λ_i)·l_π(i)
    with λ_i the box's exact share. The identity at inference and on one unbatched image.

    Backward: dx_j = dy_j outside image j's box, plus dy_i inside image i's box for each i
    with π(i) = j (a scatter-add).

    >>> import numpy as np
    >>> from minikeras.layers import CutMix
    >>> CutMix(seed=1)(np.ones((4, 6, 6, 3))).shape
    (4, 6, 6, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.height_axis, self.width_axis = self._spatial_axes()
        self.channel_axis = -3 if self.data_format == "channels_first" else -1

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) == 3:
            return None
        batch_size, height, width = shape[0], shape[self.height_axis], shape[self.width_axis]
        seed = seed or self.generator
        dtype = self.compute_dtype
        alpha = self.backend.random.uniform(
            shape=(), minval=self.factor[0], maxval=self.factor[1], dtype=dtype, seed=seed
        ) + np.asarray(1e-6, dtype)
        weight = self.backend.random.beta((batch_size,), alpha, alpha, seed=seed, dtype=dtype)
        ratio = np.sqrt(1.0 - weight)
        x0, x1 = self._crop_bounds(batch_size, width, ratio, seed)
        y0, y1 = self._crop_bounds(batch_size, height, ratio, seed)
        ys, xs = np.meshgrid(
            np.arange(height, dtype=dtype), np.arange(width, dtype=dtype), indexing="ij"
        )  # (H, W), then placed on the spatial axes of (1, H, W, 1) or (1, 1, H, W)
        spatial = (
            (None, slice(None), slice(None), None) if self.channel_axis == -1 else (None, None)
        )
        ys, xs = ys[spatial], xs[spatial]
        corner = (slice(None), None, None, None)
        masks = (xs >= x0[corner]) & (xs < x1[corner]) & (ys >= y0[corner]) & (ys < y1[corner])
        masks = np.repeat(masks, shape[self.channel_axis], axis=self.channel_axis)
        mix_weight = 1.0 - (x1 - x0) * (y1 - y0) / (width * height)
        order = self.backend.random.shuffle(np.arange(batch_size, dtype="int32"), seed=seed)
        return {"permutation_order": order, "batch_masks": masks, "mix_weight": mix_weight}

    def _crop_bounds(self, batch_size, length, ratio, seed):
        """(start, end) of each box along one axis: length·ratio long, anywhere inside."""
        dtype = self.compute_dtype
        crop = (ratio * length).astype(dtype)
        start = self.backend.random.uniform(
            shape=[batch_size], minval=0, maxval=1, dtype=dtype, seed=seed
        ) * (length - crop)
        return start, start + crop

    def transform_images(self, images, transformation=None, training=True):
        images = _cast(images, self.compute_dtype)
        if training and transformation is not None:
            partners = np.take(images, transformation["permutation_order"], axis=0)
            images = np.where(transformation["batch_masks"], partners, images)
        return images

    def backward_images(self, dy, transformation):
        """dx_j = dy_j outside box j + Σ_{i: π(i) = j} dy_i inside box i."""
        if transformation is None:
            return dy
        masks = transformation["batch_masks"]
        dx = np.where(masks, 0, dy).astype(dy.dtype)
        np.add.at(dx, np.asarray(transformation["permutation_order"]), np.where(masks, dy, 0))
        return dx

    def transform_labels(self, labels, transformation, training=True):
        if training and transformation is not None:
            weight = np.reshape(transformation["mix_weight"], (-1, 1))
            partners = np.take(labels, transformation["permutation_order"], axis=0)
            labels = weight * labels + (1.0 - weight) * partners
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        raise NotImplementedError()

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
