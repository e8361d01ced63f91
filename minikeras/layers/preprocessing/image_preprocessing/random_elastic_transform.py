"""RandomElasticTransform: each image displaced by a smooth random field."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.ops.image import _fill_index, elastic_coordinates, sample_at
from minikeras.random import SeedGenerator


class RandomElasticTransform(BaseImagePreprocessingLayer):
    """With probability p (p uniform in `factor`'s range, f alone is [0, f], in [0, 1]),
    displace each pixel of an image by alpha·(Gaussian-blurred noise) and read the image
    there (map_coordinates, `fill_mode` outside it), then clip to `value_range`. A strength d
    uniform in `scale`'s range gives alpha = 0.1·d·max(H, W) and sigma = 0.05·d·min(H, W).
    One field per image, from the layer's seed. The identity at inference.

    Backward: once the field is drawn, the output is a fixed resampling of the image, linear
    in it: out[y, x] = Σₖ wₖ·in[iyₖ, ixₖ], so dx is the scatter-add dx[iyₖ, ixₖ] += wₖ·g,
    g = dy where the clip let the value through (dy itself for the images left as they are).

    >>> import numpy as np
    >>> from minikeras.layers import RandomElasticTransform
    >>> out = RandomElasticTransform(seed=1)(np.full((1, 8, 8, 1), 7.0))   # a flat image stays flat
    >>> np.round(out[0, :2, :2, 0], 4).tolist()
    [[7.0, 7.0], [7.0, 7.0]]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")
    _SUPPORTED_FILL_MODES = {"constant", "nearest", "wrap", "mirror", "reflect"}

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = self._set_factor_by_name(scale, "scale")
        if interpolation not in self._SUPPORTED_INTERPOLATION:
            raise NotImplementedError(
                f"Unknown `interpolation` {interpolation}. Expected of one "
                f"{self._SUPPORTED_INTERPOLATION}."
            )
        if fill_mode not in self._SUPPORTED_FILL_MODES:
            raise NotImplementedError(
                f"Unknown `fill_mode` {fill_mode}. Expected of one {self._SUPPORTED_FILL_MODES}."
            )
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_factor_by_name(self, factor, name):
        """(lower, upper) as `_set_factor`, with the argument's name in the message."""
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

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        probability = self.backend.random.uniform(
            shape=(batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        threshold = self.backend.random.uniform(
            shape=(batch_size,), minval=0.0, maxval=1.0, seed=seed
        )
        distortion = self.backend.random.uniform(
            shape=(), minval=self.scale[0], maxval=self.scale[1], seed=seed,
            dtype=self.compute_dtype,
        )  # fmt: skip
        # Keras hands the generator itself on as "seed", and draws the field from it when the
        # images are transformed
        return {
            "apply_transform": np.asarray(threshold) < np.asarray(probability),
            "distortion_factor": distortion,
            "seed": seed,
        }

    def get_elastic_transform_params(self, height, width, factor):
        """(alpha, sigma) of a distortion of strength `factor`, as Keras's."""
        return max(height, width) * 0.1 * factor, min(height, width) * 0.05 * factor

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        unbatched = images.ndim == 3
        x = np.asarray(images)[None] if unbatched else np.asarray(images)
        height_axis, width_axis = self._spatial_axes()
        height, width = x.shape[height_axis], x.shape[width_axis]
        alpha, sigma = self.get_elastic_transform_params(
            height, width, transformation["distortion_factor"]
        )
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.compute_dtype)
        ys, xs = elastic_coordinates(
            x.shape[0], height, width, alpha, sigma, transformation["seed"], dtype
        )
        order = 0 if interpolation == "nearest" else 1
        warped = sample_at(x, ys, xs, order, self.fill_mode, self.fill_value, self.data_format)
        apply = np.reshape(transformation["apply_transform"], (-1, 1, 1, 1))
        out = np.where(apply, warped, x)
        low, high = self.value_range
        # for the backward: the points read, and where the clip let the value through
        self._points, self._passed = (ys, xs, order), (out >= low) & (out <= high)
        out = np.clip(out, low, high).astype(self.compute_dtype)
        return out[0] if unbatched else out

    def backward_images(self, dy, transformation):
        """dx[iyₖ, ixₖ] += wₖ·g (a scatter-add), g = dy where the clip passed (see the class)."""
        g = np.where(self._passed.reshape(dy.shape), dy, 0)
        ys, xs, order = self._points
        channels_first = self.data_format == "channels_first"
        g_last = np.moveaxis(g, 1, -1) if channels_first else g
        dx = np.stack(
            [_sample_adjoint(g_last[n], ys[n], xs[n], order, self.fill_mode) for n in range(len(g))]
        )
        dx = np.moveaxis(dx, -1, 1) if channels_first else dx
        apply = np.reshape(transformation["apply_transform"], (-1, 1, 1, 1))
        return np.where(apply, dx, g).astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }


def _sample_adjoint(g, ys, xs, order, fill_mode):
    """dL/d(image) (H, W, C) of map_coordinates(image[..., c], [ys, xs]) for each channel,
    given g = dL/d(output) (H', W', C): the same neighbours, weights and folding as the
    forward (ops/image.py), each neighbour collecting w·g."""
    height, width, channels = g.shape
    if order == 0:  # rounded half to even, as the forward
        corners = [[(np.round(c), np.ones_like(c))] for c in (ys, xs)]
    else:
        corners = [
            [(np.floor(c), 1 - (c - np.floor(c))), (np.floor(c) + 1, c - np.floor(c))]
            for c in (ys, xs)
        ]
    mode = "keras_reflect" if fill_mode == "reflect" else fill_mode  # as map_coordinates
    dx = np.zeros((height * width, channels), np.float64)
    flat_g = g.reshape(-1, channels)
    for y_position, y_weight in corners[0]:
        iy, y_inside = _fill_index(y_position, height, mode)
        for x_position, x_weight in corners[1]:
            ix, x_inside = _fill_index(x_position, width, mode)
            weight = y_weight * x_weight
            if fill_mode == "constant":  # a neighbour outside reads the fill value: no input
                weight = weight * (y_inside & x_inside)
            rows = (iy * width + ix).ravel()  # the input pixel each output pixel reads
            for c in range(channels):
                dx[:, c] += np.bincount(rows, weight.ravel() * flat_g[:, c], height * width)
    return dx.reshape(height, width, channels)
