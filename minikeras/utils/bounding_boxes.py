"""Keras's `keras.utils.bounding_boxes`: converting, clipping and moving boxes.

>>> import numpy as np
>>> from minikeras.utils import bounding_boxes
>>> bounding_boxes.convert_format(np.array([[10, 20, 30, 40]]), "xyxy", "xywh").tolist()
[[10.0, 20.0, 20.0, 20.0]]
"""

from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    clip_to_image_size,
    convert_format,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.geometry import (
    affine_transform,
    crop,
    pad,
)
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.iou import (
    compute_ciou,
    compute_iou,
)

__all__ = [
    "affine_transform",
    "clip_to_image_size",
    "compute_ciou",
    "compute_iou",
    "convert_format",
    "crop",
    "pad",
]
