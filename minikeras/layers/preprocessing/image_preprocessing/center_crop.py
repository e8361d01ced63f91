"""CenterCrop: the central height × width window of each image."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)


class CenterCrop(BaseImagePreprocessingLayer):
    """Crop the centre of each image to `height` × `width` (the window starts at
    ⌊(H − height)/2⌋, ⌊(W − width)/2⌋). An image smaller than the window along an axis is
    cropped to the window's aspect ratio and resized to it instead (Keras's `smart_resize`:
    Resizing with `crop_to_aspect_ratio=True`). Not random.

    Its backward is the tape's: a crop is a slice (dx is dy in the window, zeros around it),
    the other path a resize (dx = R_hᵀ·dy·R_w).

    >>> import numpy as np
    >>> from minikeras.layers import CenterCrop
    >>> CenterCrop(2, 2)(np.arange(16.0).reshape(4, 4, 1))[..., 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """

    _USE_BASE_FACTOR = False
    backward = Layer.backward  # the tape's replay of the slice or resize of `call`

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        return {"input_shape": self.backend.shape(images)}

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training=training)

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        """Boxes cut to the window and moved to its corner; on the resize path, scaled from
        the aspect-ratio window to height × width; clipped to the output."""
        height_axis, width_axis = self._spatial_axes()
        shape = transformation["input_shape"]
        height, width = shape[height_axis], shape[width_axis]
        bounding_boxes = convert_format(
            bounding_boxes, self.bounding_box_format, "xyxy", height, width
        )
        if height >= self.height and width >= self.width:
            top, left = int((height - self.height) / 2), int((width - self.width) / 2)
            window = (self.height, self.width)
        else:  # the window of Keras's smart_resize
            crop_height = max(min(height, int(float(width * self.height) / self.width)), 1)
            crop_width = max(min(width, int(float(height * self.width) / self.height)), 1)
            top, left = int(float(height - crop_height) / 2), int(float(width - crop_width) / 2)
            window = (crop_height, crop_width)
        x1, y1, x2, y2 = np.split(bounding_boxes["boxes"], 4, axis=-1)
        bottom, right = top + window[0], left + window[1]
        bounding_boxes["boxes"] = np.concatenate(
            [np.clip(x1, left, right) - left, np.clip(y1, top, bottom) - top,
             np.clip(x2, left, right) - left, np.clip(y2, top, bottom) - top], axis=-1,
        )  # fmt: skip
        if window != (self.height, self.width):  # resized: window units → output pixels
            bounding_boxes = convert_format(bounding_boxes, "xyxy", "rel_xyxy", *window)
            bounding_boxes = convert_format(
                bounding_boxes, "rel_xyxy", "xyxy", self.height, self.width
            )
        bounding_boxes = clip_to_image_size(bounding_boxes, height=self.height, width=self.width)
        return convert_format(
            bounding_boxes, "xyxy", self.bounding_box_format, self.height, self.width
        )

    def transform_images(self, images, transformation=None, training=True):
        images = _cast(images, self.compute_dtype)
        height_axis, width_axis = self._spatial_axes()
        shape = self.backend.shape(images)
        h_diff, w_diff = shape[height_axis] - self.height, shape[width_axis] - self.width
        if h_diff >= 0 and w_diff >= 0:
            top, left = h_diff // 2, w_diff // 2
            window = [slice(None)] * len(shape)
            window[height_axis] = slice(top, top + self.height)
            window[width_axis] = slice(left, left + self.width)
            return images[tuple(window)]
        return self.backend.image.resize(
            images, (self.height, self.width), crop_to_aspect_ratio=True,
            data_format=self.data_format,
        )  # fmt: skip

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if isinstance(shape[0], (list, tuple)) or len(shape) not in (3, 4):
            raise ValueError(
                "`input_shape` must be a non-nested tuple or list of rank-1 with size 3 "
                f"(unbatched) or 4 (batched). Received: input_shape={input_shape}"
            )
        height_axis, width_axis = self._spatial_axes()
        shape[height_axis], shape[width_axis] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "data_format": self.data_format,
        }
