"""RandomPerspective: each image's corners moved at random, the image warped to follow."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.affine_backward import (
    affine_transform_adjoint,
)
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from minikeras.ops.image import _homography
from minikeras.random import SeedGenerator


class RandomPerspective(BaseImagePreprocessingLayer):
    """Warp each image of a training call with probability p, p drawn uniformly from
    [factor[0], factor[1]] (f alone is [0, f], within [0, 1]): its four corners (x, y) move to
    (x, y)·(1 + u), u uniform in [−scale/2, scale/2] for each coordinate, and the image follows
    by the homography taking the new corners back to the old (constant `fill_value` outside).
    The identity at inference.

    Backward: once drawn, the warp is a fixed bilinear resampling, linear in the image; dx is
    its transpose applied to dy (affine_backward.py), dy itself for the images left as they
    are.

    >>> import numpy as np
    >>> from minikeras.layers import RandomPerspective
    >>> layer = RandomPerspective()
    >>> t = {"apply_perspective": np.array([True]),
    ...      "start_points": np.array([[[0.0, 0.0], [3, 0], [0, 3], [3, 3]]]),
    ...      "end_points": np.array([[[0.0, 0.0], [1, 0], [0, 1], [1, 1]]])}
    >>> layer.transform_images(np.ones((1, 4, 4, 1)), t)[0, :, :, 0].tolist()[0]
    [1.0, 1.0, 0.0, 0.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_value=0.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        if scale < 0.0 or scale > 1.0:
            raise ValueError(
                f"The `scale` argument should be a number in the range [0,1]. Received: "
                f"scale={scale}"
            )
        if interpolation not in self._SUPPORTED_INTERPOLATION:
            raise NotImplementedError(
                f"Unknown `interpolation` {interpolation}. Expected of one "
                f"{self._SUPPORTED_INTERPOLATION}."
            )
        self.scale = scale
        self.fill_value = fill_value
        self.interpolation = interpolation
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        batch_size = 1 if len(shape) == 3 else shape[0]
        height_axis, width_axis = self._spatial_axes()
        height, width = shape[height_axis], shape[width_axis]
        seed = self.generator if seed is None else seed
        # three draws in Keras's order: the probability, the coin, the corners' moves
        probability = self.backend.random.uniform(
            shape=(batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        threshold = self.backend.random.uniform(
            shape=(batch_size,), minval=0.0, maxval=1.0, seed=seed
        )
        moves = self.backend.random.uniform(
            shape=(batch_size, 4, 2), minval=-0.5 * self.scale, maxval=0.5 * self.scale,
            seed=seed, dtype=self.compute_dtype,
        )  # fmt: skip
        corners = [[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]]
        start_points = np.repeat(np.array([corners], self.compute_dtype), batch_size, axis=0)
        return {
            "apply_perspective": np.asarray(threshold) < np.asarray(probability),
            "start_points": start_points,
            "end_points": start_points + start_points * np.asarray(moves),
            "input_shape": shape,
        }

    def _homographies(self, transformation):
        """One [a, b, c, d, e, f, g, h] per image: end point → start point (float32)."""
        start = np.asarray(transformation["start_points"], np.float64).reshape(-1, 4, 2)
        end = np.asarray(transformation["end_points"], np.float64).reshape(-1, 4, 2)
        return np.stack([_homography(s, e) for s, e in zip(start, end)]).astype(np.float32)

    def _transform_images(self, images, transformation, interpolation):
        if transformation is None:
            return images
        unbatched = images.ndim == 3
        x = images[None] if unbatched else images
        warped = self.backend.image.perspective_transform(
            x,
            transformation["start_points"],
            transformation["end_points"],
            interpolation=interpolation,
            fill_value=self.fill_value,
            data_format=self.data_format,
        )
        apply = np.reshape(transformation["apply_perspective"], (-1, 1, 1, 1))
        out = np.where(apply, warped, x).astype(x.dtype)
        return out[0] if unbatched else out

    def backward_images(self, dy, transformation):
        """dx = Aᵀ·dy for the warped images (affine_backward.py), dy for the others."""
        warped = affine_transform_adjoint(
            dy, self._homographies(transformation), self.interpolation, "constant",
            self.data_format,
        )  # fmt: skip
        apply = np.reshape(transformation["apply_perspective"], (-1, 1, 1, 1))
        return np.where(apply, warped, dy).astype(dy.dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Each box's four corners taken through the warp (the inverse of the homography the
        images are read with), and the box around them, clipped to the image."""
        if not training or transformation is None:
            return bounding_boxes
        height_axis, width_axis = self._spatial_axes()
        height = transformation["input_shape"][height_axis]
        width = transformation["input_shape"][width_axis]
        bounding_boxes = convert_format(
            bounding_boxes, source=self.bounding_box_format, target="xyxy",
            height=height, width=width,
        )  # fmt: skip
        boxes = np.asarray(bounding_boxes["boxes"])
        x0, y0, x1, y1 = np.split(boxes, 4, axis=-1)
        homography = np.concatenate(
            [self._homographies(transformation), np.ones((boxes.shape[0], 1), np.float32)], -1
        ).reshape(-1, 3, 3)
        forward = np.linalg.inv(homography)  # start point → end point
        xs, ys = [], []
        for x, y in ((x0, y0), (x1, y1), (x0, y1), (x1, y0)):
            points = np.concatenate([x, y, np.ones_like(x)], axis=-1)  # (batch, boxes, 3)
            moved = points @ np.swapaxes(forward, -1, -2)  # (batch, boxes, 3)@(batch, 3, 3)
            xs.append(moved[..., 0] / moved[..., 2])
            ys.append(moved[..., 1] / moved[..., 2])
        xs, ys = np.stack(xs, axis=-1), np.stack(ys, axis=-1)
        moved_boxes = np.stack([xs.min(-1), ys.min(-1), xs.max(-1), ys.max(-1)], axis=-1)
        apply = np.reshape(transformation["apply_perspective"], (-1, 1, 1))
        bounding_boxes["boxes"] = np.where(apply, moved_boxes, boxes).astype(boxes.dtype)
        return clip_to_image_size(
            bounding_boxes, height=height, width=width, bounding_box_format="xyxy"
        )

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
            "seed": self.seed,
        }
