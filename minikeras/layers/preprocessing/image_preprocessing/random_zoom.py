"""RandomZoom: each image zoomed in or out about its centre by a random factor."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.affine_backward import (
    affine_transform_adjoint,
)
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    check_fill_mode_and_interpolation,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from minikeras.random import SeedGenerator


class RandomZoom(BaseImagePreprocessingLayer):
    """Zoom each image of a training call: the output pixel (y, x) reads the input at
    (cy + zy·(y − cy), cx + zx·(x − cx)) about the centre (cy, cx) = ((H − 1)/2, (W − 1)/2),
    with zy = 1 + u drawn uniformly from `height_factor`'s range (zx likewise from
    `width_factor`, or zx = zy when it is None). A negative factor zooms in (zy < 1), a
    positive one out; each in (−1, 1]. The identity at inference.

    Backward: the transpose of the resampling, as RandomRotation's (affine_backward.py).

    >>> import numpy as np
    >>> from minikeras.layers import RandomZoom
    >>> image = np.arange(25.0).reshape(1, 5, 5, 1)
    >>> RandomZoom((-0.5, -0.5), fill_mode="constant")(image)[0, 2, :, 0].tolist()
    [11.0, 11.5, 12.0, 12.5, 13.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_VALIDATION_ERROR = (
        "The `height_factor` and `width_factor` arguments should be a number (or a list of two "
        "numbers) in the range (-1.0, 1.0]. "
    )
    _SUPPORTED_FILL_MODE = ("reflect", "wrap", "constant", "nearest")
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._set_factor(height_factor, "height_factor")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._set_factor(width_factor, "width_factor")
        check_fill_mode_and_interpolation(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_factor(self, factor, factor_name):
        """(lower, upper) of one zoom range: f alone is [−|f|, |f|], a pair is sorted; each
        number in (−1, 1] (Keras's range: a zoom of 1 + (−1) would be 0)."""
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2:
                raise ValueError(
                    self._FACTOR_VALIDATION_ERROR + f"Received: {factor_name}={factor}"
                )
            self._check_factor_range(factor[0])
            self._check_factor_range(factor[1])
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            self._check_factor_range(factor)
            return -abs(factor), abs(factor)
        raise ValueError(self._FACTOR_VALIDATION_ERROR + f"Received: {factor_name}={factor}")

    def _check_factor_range(self, input_number):
        if input_number > 1.0 or input_number <= -1.0:
            raise ValueError(
                self._FACTOR_VALIDATION_ERROR + f"Received: input_number={input_number}"
            )

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        zoom_shape = (shape[0], 1) if len(shape) == 4 else (1, 1)
        seed = self.generator if seed is None else seed
        height_zoom = self.backend.random.uniform(
            minval=1.0 + self.height_lower, maxval=1.0 + self.height_upper,
            shape=zoom_shape, seed=seed,
        )  # fmt: skip
        if self.width_factor is not None:
            width_zoom = self.backend.random.uniform(
                minval=1.0 + self.width_lower, maxval=1.0 + self.width_upper,
                shape=zoom_shape, seed=seed,
            )  # fmt: skip
        else:
            width_zoom = height_zoom
        return {"height_zoom": height_zoom, "width_zoom": width_zoom, "input_shape": shape}

    def _zoom_matrix(self, transformation, height, width):
        """[zx, 0, (W − 1)/2·(1 − zx), 0, zy, (H − 1)/2·(1 − zy), 0, 0] per image (float32,
        as Keras computes it)."""
        zx = np.asarray(transformation["width_zoom"], np.float32).reshape(-1, 1)
        zy = np.asarray(transformation["height_zoom"], np.float32).reshape(-1, 1)
        x_offset = (np.float32(width) - 1) / 2 * (1 - zx)
        y_offset = (np.float32(height) - 1) / 2 * (1 - zy)
        zeros = np.zeros_like(zx)
        return np.concatenate([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], axis=1)

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        unbatched = images.ndim == 3
        x = images[None] if unbatched else images
        height_axis, width_axis = self._spatial_axes()
        out = self.backend.image.affine_transform(
            x,
            transform=self._zoom_matrix(transformation, x.shape[height_axis], x.shape[width_axis]),
            interpolation=interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        return out[0] if unbatched else out

    def backward_images(self, dy, transformation):
        """dx = Aᵀ·dy, A the resampling the zoom applied (affine_backward.py)."""
        height_axis, width_axis = self._spatial_axes()
        matrix = self._zoom_matrix(transformation, dy.shape[height_axis], dy.shape[width_axis])
        return affine_transform_adjoint(
            dy, matrix, self.interpolation, self.fill_mode, self.data_format
        )

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Keras's rule: the output image shows the input's window [x₀, x₁] × [y₀, y₁], the
        points that output pixels (0, 0) and (W, H) read; a box is clipped to that window
        and scaled from it to the whole image ((x − x₀)·W/(x₁ − x₀), and y likewise)."""
        if not training or transformation is None:
            return bounding_boxes
        height_axis, width_axis = self._spatial_axes()
        height = transformation["input_shape"][height_axis]
        width = transformation["input_shape"][width_axis]
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "xyxy", height=height, width=width
        )
        boxes = np.asarray(bounding_boxes["boxes"])
        a0, _, a2, _, b1, b2, _, _ = np.split(
            self._zoom_matrix(transformation, height, width), 8, 1
        )
        x_start, y_start, x_end, y_end = a2, b2, a0 * width + a2, b1 * height + b2  # (batch, 1)
        # the window's size as (batch, 1, 1): boxes of one image (n, 4) come out (1, n, 4),
        # as Keras's broadcasting gives them
        window_width, window_height = (x_end - x_start)[..., None], (y_end - y_start)[..., None]
        if boxes.ndim == 3:
            x_start, y_start, x_end, y_end = (
                v[..., None] for v in (x_start, y_start, x_end, y_end)
            )
        x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
        x1, x2 = (np.clip(v, x_start, x_end) - x_start for v in (x1, x2))
        y1, y2 = (np.clip(v, y_start, y_end) - y_start for v in (y1, y2))
        # relative to the window, clipped there, then in the output image's pixels
        window = {**bounding_boxes, "boxes": np.concatenate([x1, y1, x2, y2], axis=-1)}
        window = convert_format(
            window, "xyxy", "rel_xyxy", height=window_height, width=window_width
        )
        window = clip_to_image_size(window, bounding_box_format="rel_xyxy")
        return convert_format(
            window, "rel_xyxy", self.bounding_box_format, height=height, width=width
        )

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
