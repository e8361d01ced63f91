"""RandomShear: each image sheared along x and y by random amounts."""

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


class RandomShear(BaseImagePreprocessingLayer):
    """Shear each image of a training call: the output pixel (y, x) reads the input at
    (y + sy·x, x + sx·y), sx drawn from `x_factor`'s range and sy from `y_factor`'s (f alone
    is [−f, f]; each in [0, 1]), both negated together for half the images (Keras's
    `invert`). The identity at inference.

    Backward: the transpose of the resampling, as RandomRotation's (affine_backward.py).

    >>> import numpy as np
    >>> from minikeras.layers import RandomShear
    >>> RandomShear(x_factor=0.3, seed=1)(np.ones((2, 5, 5, 3))).shape
    (2, 5, 5, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _FACTOR_VALIDATION_ERROR = (
        "The `factor` argument should be a number (or a list of two numbers) in the range "
        "[0, 1.0]. "
    )
    _SUPPORTED_FILL_MODE = ("reflect", "wrap", "constant", "nearest")
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = self._set_factor_with_name(x_factor, "x_factor")
        self.y_factor = self._set_factor_with_name(y_factor, "y_factor")
        check_fill_mode_and_interpolation(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_factor_with_name(self, factor, factor_name):
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
        if input_number > 1.0 or input_number < 0.0:
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
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        dtype = self.compute_dtype

        def draw(low, high):
            return self.backend.random.uniform(
                minval=low, maxval=high, shape=[batch_size, 1], seed=seed, dtype=dtype
            )

        invert = np.where(draw(0, 1) > 0.5, -1, 1).astype(dtype)  # (batch, 1)
        shear_y = draw(*self.y_factor)
        shear_x = draw(*self.x_factor)
        shear = np.concatenate([shear_x, shear_y], axis=1).astype(dtype) * invert
        return {"shear_factor": shear, "input_shape": shape}

    @staticmethod
    def _shear_matrix(shear_factors):
        """[1, sx, 0, sy, 1, 0, 0, 0] per image."""
        s = np.asarray(shear_factors)
        ones, zeros = np.ones(len(s), s.dtype), np.zeros(len(s), s.dtype)
        return np.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], axis=1)

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        unbatched = images.ndim == 3
        out = self.backend.image.affine_transform(
            images[None] if unbatched else images,
            transform=self._shear_matrix(transformation["shear_factor"]),
            interpolation=interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        return out[0] if unbatched else out

    def backward_images(self, dy, transformation):
        """dx = Aᵀ·dy, A the resampling the shear applied (affine_backward.py)."""
        matrix = self._shear_matrix(transformation["shear_factor"])
        return affine_transform_adjoint(
            dy, matrix, self.interpolation, self.fill_mode, self.data_format
        )

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Keras's rule, in coordinates relative to the image: with shears (sx, sy),
        x₁ and x₂ move by −sx·y (taking the corner, y₁ or y₂, that widens the box), then
        y₁ and y₂ by −sy·x (with the moved x); the box is then clipped to the image."""
        if not training or transformation is None:
            return bounding_boxes
        height_axis, width_axis = self._spatial_axes()
        height = transformation["input_shape"][height_axis]
        width = transformation["input_shape"][width_axis]
        dtype = self.compute_dtype
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "rel_xyxy", height=height, width=width,
            dtype=dtype,
        )  # fmt: skip
        shear = np.asarray(transformation["shear_factor"]).astype(dtype)  # (batch, 2)
        sx, sy = shear[:, :1], shear[:, 1:]
        x1, y1, x2, y2 = (np.asarray(bounding_boxes["boxes"])[..., i] for i in range(4))
        x1 = np.where(sx < 0, x1 - sx * y1, x1 - sx * y2)
        x2 = np.where(sx < 0, x2 - sx * y2, x2 - sx * y1)
        y1 = np.where(sy > 0, y1 - sy * x2, y1 - sy * x1)
        y2 = np.where(sy > 0, y2 - sy * x1, y2 - sy * x2)
        bounding_boxes["boxes"] = np.stack([x1, y1, x2, y2], axis=-1)
        bounding_boxes = clip_to_image_size(bounding_boxes, bounding_box_format="rel_xyxy")
        return convert_format(
            bounding_boxes, "rel_xyxy", self.bounding_box_format, height=height, width=width,
            dtype=dtype,
        )  # fmt: skip

    def get_config(self):
        return {
            **super().get_config(),
            "x_factor": self.x_factor,
            "y_factor": self.y_factor,
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }
