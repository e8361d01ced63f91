"""RandomTranslation: each image shifted by a random number of pixels along each axis."""

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


class RandomTranslation(BaseImagePreprocessingLayer):
    """Shift each image of a training call by ty = u·H pixels down and tx = v·W right, u
    drawn uniformly from `height_factor`'s range and v from `width_factor`'s (f alone is
    [−|f|, |f|]; each in [−1, 1]): the output pixel (y, x) reads the input at (y − ty, x − tx),
    filled as `fill_mode` says where that falls outside. The identity at inference.

    Backward: the transpose of the resampling, as RandomRotation's (affine_backward.py).

    >>> import numpy as np
    >>> from minikeras.layers import RandomTranslation
    >>> image = np.arange(4.0).reshape(1, 1, 4, 1)
    >>> RandomTranslation(0, (0.25, 0.25), fill_mode="constant")(image)[0, 0, :, 0].tolist()
    [0.0, 0.0, 1.0, 2.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_VALIDATION_ERROR = (
        "The `factor` argument should be a number (or a list of two numbers) in the range "
        "[-1.0, 1.0]. "
    )
    _SUPPORTED_FILL_MODE = ("reflect", "wrap", "constant", "nearest")
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(
        self,
        height_factor,
        width_factor,
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
        self.width_lower, self.width_upper = self._set_factor(width_factor, "width_factor")
        check_fill_mode_and_interpolation(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_factor(self, factor, factor_name):
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
        if input_number > 1.0 or input_number < -1.0:
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
        height_axis, width_axis = self._spatial_axes()
        seed = self.generator if seed is None else seed
        height_translate = self.backend.random.uniform(
            minval=self.height_lower, maxval=self.height_upper, shape=[batch_size, 1], seed=seed
        ) * np.float32(shape[height_axis])
        width_translate = self.backend.random.uniform(
            minval=self.width_lower, maxval=self.width_upper, shape=[batch_size, 1], seed=seed
        ) * np.float32(shape[width_axis])
        translations = np.concatenate([width_translate, height_translate], axis=1)
        return {"translations": translations.astype("float32"), "input_shape": shape}

    @staticmethod
    def _translation_matrix(translations):
        """[1, 0, −tx, 0, 1, −ty, 0, 0] per image: the output (y, x) reads (y − ty, x − tx)."""
        t = np.asarray(translations, np.float32)
        ones, zeros = np.ones((len(t), 1), np.float32), np.zeros((len(t), 1), np.float32)
        return np.concatenate([ones, zeros, -t[:, :1], zeros, ones, -t[:, 1:], zeros, zeros], 1)

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        unbatched = images.ndim == 3
        out = self.backend.image.affine_transform(
            images[None] if unbatched else images,
            transform=self._translation_matrix(transformation["translations"]),
            interpolation=interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        return out[0] if unbatched else out

    def backward_images(self, dy, transformation):
        """dx = Aᵀ·dy, A the resampling the shift applied (affine_backward.py)."""
        matrix = self._translation_matrix(transformation["translations"])
        return affine_transform_adjoint(
            dy, matrix, self.interpolation, self.fill_mode, self.data_format
        )

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Each box moved by its image's shift (tx, ty), then clipped to the image (a box
        pushed out of it gets the label −1), as Keras's."""
        if not training or transformation is None:
            return bounding_boxes
        height_axis, width_axis = self._spatial_axes()
        height = transformation["input_shape"][height_axis]
        width = transformation["input_shape"][width_axis]
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "xyxy", height=height, width=width
        )
        boxes = np.asarray(bounding_boxes["boxes"])
        shift = np.asarray(transformation["translations"], boxes.dtype)  # (batch, 2): tx, ty
        shift = shift[:, None, :] if boxes.ndim == 3 else shift
        bounding_boxes["boxes"] = boxes + np.concatenate([shift, shift], axis=-1)
        bounding_boxes = clip_to_image_size(bounding_boxes, height=height, width=width)
        return convert_format(
            bounding_boxes, "xyxy", self.bounding_box_format, height=height, width=width
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
