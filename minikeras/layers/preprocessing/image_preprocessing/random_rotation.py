"""RandomRotation: each image rotated about its centre by a random angle."""

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
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.geometry import (
    affine_transform,
)
from minikeras.random import SeedGenerator


class RandomRotation(BaseImagePreprocessingLayer):
    """Rotate each image of a training call by an angle drawn uniformly from
    [factor[0]·360°, factor[1]·360°) (`factor` f alone means [−f, f]; a fraction of a full
    turn), about the image's centre. Pixels that come from outside the image are filled as
    `fill_mode` says ("reflect", "wrap", "constant" with `fill_value`, "nearest"); the
    identity at inference.

    Backward: the rotation (a fixed resampling once the angle is drawn) is linear in the
    image; dx is its transpose applied to dy (affine_backward.py).

    >>> import numpy as np
    >>> from minikeras.layers import RandomRotation
    >>> image = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> RandomRotation((0.5, 0.5))(image)[0, ..., 0].tolist()   # half a turn
    [[8.0, 7.0, 6.0], [5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]
    """

    _SUPPORTED_FILL_MODE = ("reflect", "wrap", "constant", "nearest")
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(factor=factor, data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value
        check_fill_mode_and_interpolation(self, fill_mode, interpolation)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.core.shape(images)
        batch_size = shape[0] if len(shape) == 4 else 1
        height_axis, width_axis = self._spatial_axes()
        height, width = shape[height_axis], shape[width_axis]
        seed = self.generator if seed is None else seed
        angle = self.backend.random.uniform(
            shape=(batch_size,),
            minval=self.factor[0] * 360.0,
            maxval=self.factor[1] * 360.0,
            seed=seed,
        )
        zeros, ones = np.zeros(batch_size, angle.dtype), np.ones(batch_size, angle.dtype)
        matrix = self._compute_affine_matrix(
            center_x=0.5, center_y=0.5, angle=angle, translate_x=zeros, translate_y=zeros,
            scale=ones, shear_x=zeros, shear_y=zeros, height=height, width=width,
        )  # fmt: skip
        if len(shape) == 3:
            matrix = matrix[0]
        return {
            "angle": angle,
            "rotation_matrix": matrix,
            "image_height": height,
            "image_width": width,
            "batch_size": batch_size,
        }

    def _transform_images(self, images, transformation, interpolation):
        return self.backend.image.affine_transform(
            images=images,
            transform=transformation["rotation_matrix"],
            interpolation=interpolation,
            fill_mode=self.fill_mode,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )

    def backward_images(self, dy, transformation):
        """dx = Aᵀ·dy, A the resampling the rotation applied (affine_backward.py)."""
        return affine_transform_adjoint(
            dy, transformation["rotation_matrix"], self.interpolation, self.fill_mode,
            self.data_format,
        )  # fmt: skip

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Each box becomes the box around its four corners rotated with the image, clipped
        to the image. (Keras reads the boxes as "xyxy" whatever `bounding_box_format`
        says; here they are converted first, which agrees with it for "xyxy".)"""
        if not training or transformation is None:
            return bounding_boxes
        height, width = transformation["image_height"], transformation["image_width"]
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "xyxy", height=height, width=width
        )
        batch = transformation["batch_size"]
        angle = np.reshape(transformation["angle"], (batch,))
        zeros, ones = np.zeros(batch, angle.dtype), np.ones(batch, angle.dtype)
        boxes = np.asarray(bounding_boxes["boxes"])
        unbatched = boxes.ndim == 2
        moved = affine_transform(
            boxes[None] if unbatched else boxes, angle, zeros, zeros, ones, zeros, zeros,
            height=height, width=width,
        )  # fmt: skip
        bounding_boxes["boxes"] = moved[0] if unbatched else moved
        bounding_boxes = clip_to_image_size(bounding_boxes, height=height, width=width)
        return convert_format(
            bounding_boxes, "xyxy", self.bounding_box_format, height=height, width=width
        )

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "data_format": self.data_format,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
