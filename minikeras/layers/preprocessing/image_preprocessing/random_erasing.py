"""RandomErasing: a random box of some images replaced by noise or a constant."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator


class RandomErasing(BaseImagePreprocessingLayer):
    """For each image of a training call whose draw u < p (p drawn from `factor`'s range),
    fill a random box, whose sides are √s·W and √s'·H for s, s' drawn from `scale`'s range,
    with `fill_value` (a number or one per channel), or, when it is None, with Gaussian noise
    times value_range[1]; the fill clipped to `value_range`. The identity at inference.

    Backward: dx = dy outside the erased boxes, 0 inside (the fill is not an input).

    >>> import numpy as np
    >>> from minikeras.layers import RandomErasing
    >>> out = RandomErasing((1.0, 1.0), scale=(0.25, 0.25), fill_value=0.0)(np.ones((1, 4, 4, 1)))
    >>> int(out.sum())  # a 2 × 2 box erased
    12
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(
        self,
        factor=1.0,
        scale=(0.02, 0.33),
        fill_value=None,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = self._set_factor_by_name(scale, "scale")
        self.fill_value = fill_value
        self.value_range = value_range
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.height_axis, self.width_axis = self._spatial_axes()
        self.channel_axis = -3 if self.data_format == "channels_first" else -1

    def _set_factor_by_name(self, factor, name):
        low, high = self._FACTOR_BOUNDS
        message = (
            f"The `{name}` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(message)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < low or factor > high:
                raise ValueError(message)
            return max(-abs(factor), low), abs(factor)
        raise ValueError(message)

    def is_identity(self, training):
        return not training

    def _box_bounds(self, batch_size, length, ratio, seed):
        dtype = self.compute_dtype
        size = (ratio * length).astype(dtype)
        start = self.backend.random.uniform(
            shape=[batch_size], minval=0, maxval=1, dtype=dtype, seed=seed
        ) * (length - size)
        return start, start + size

    def _fill(self, shape, seed):
        dtype = self.compute_dtype
        if self.fill_value is None:
            fill = self.backend.random.normal(shape, dtype=dtype, seed=seed) * self.value_range[1]
        elif isinstance(self.fill_value, (tuple, list)) and len(self.fill_value) == 3:
            fill = np.broadcast_to(np.asarray(self.fill_value, dtype), shape)
        elif isinstance(self.fill_value, (int, float)) and not isinstance(self.fill_value, bool):
            fill = np.full(shape, self.fill_value, dtype)
        else:
            raise ValueError(
                "The `fill_value` argument should be a number (or a list of three numbers) "
            )
        return np.clip(fill, self.value_range[0], self.value_range[1])

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        height, width = shape[self.height_axis], shape[self.width_axis]
        seed = seed or self.generator
        dtype = self.compute_dtype
        sides = np.sqrt(
            self.backend.random.uniform(
                shape=(batch_size, 2), minval=self.scale[0], maxval=self.scale[1], dtype=dtype,
                seed=seed,
            )
        )  # fmt: skip
        x0, x1 = self._box_bounds(batch_size, width, sides[:, 0], seed)
        y0, y1 = self._box_bounds(batch_size, height, sides[:, 1], seed)
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
        probability = self.backend.random.uniform(
            shape=(batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        threshold = self.backend.random.uniform(
            shape=(batch_size,), minval=0.0, maxval=1.0, seed=seed
        )
        return {
            "apply_erasing": threshold < probability,
            "batch_masks": masks,
            "fill_value": self._fill(shape, seed),
        }

    def _erased(self, transformation):
        """Where the output is the fill: in the box of an image chosen for erasing."""
        apply = np.reshape(transformation["apply_erasing"], (-1, 1, 1, 1))
        return transformation["batch_masks"] & apply

    def transform_images(self, images, transformation=None, training=True):
        images = _cast(images, self.compute_dtype)
        if training:
            # (an unbatched image: its (H, W, C) fill broadcasts on the batch of one)
            images = np.where(self._erased(transformation), transformation["fill_value"], images)
        return images

    def backward_images(self, dy, transformation):
        """dx = dy outside the erased boxes, 0 inside."""
        return np.where(self._erased(transformation), 0, dy).astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }
