"""Overlap of boxes: intersection over union (IoU) and its complete variant (CIoU).

>>> import numpy as np
>>> a, b = np.array([[0.0, 0, 2, 2]]), np.array([[1.0, 0, 3, 2], [5.0, 5, 6, 6]])
>>> iou = compute_iou(a, b, "xyxy")                   # one row per box of a
>>> iou.shape, [round(float(v), 4) for v in iou[0]]
((1, 2), [0.3333, 0.0])
"""

import math

import numpy as np

from minikeras import config
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
    convert_format,
)


def _area(boxes):
    """(h·w) of "yxyx" boxes (..., 4) → (...)."""
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _intersection(boxes1, boxes2):
    """The area shared by each box of boxes1 (…, N, 4) and each of boxes2 (…, M, 4):
    (…, N, M), "yxyx" boxes."""
    low = np.maximum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])  # (…, N, M, 2)
    high = np.minimum(boxes1[..., :, None, 2:4], boxes2[..., None, :, 2:4])
    sides = np.maximum(high - low, 0)
    return sides[..., 0] * sides[..., 1]


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1,
                image_shape=None):  # fmt: skip
    """IoU of every pair: |A ∩ B| / (|A| + |B| − |A ∩ B| + ε), (N, M) or (batch, N, M).
    With `use_masking`, pairs where either box has only negative coordinates (padding) get
    `mask_val`. Keras's `keras.utils.bounding_boxes.compute_iou`."""
    rank1, rank2 = np.ndim(boxes1), np.ndim(boxes2)
    for name, rank in (("boxes1", rank1), ("boxes2", rank2)):
        if rank not in (2, 3):
            raise ValueError(
                f"compute_iou() expects {name} to be batched, or to be unbatched. Received "
                f"len(boxes1.shape)={rank1}, len(boxes2.shape)={rank2}. Expected either "
                f"len({name}.shape)=2 AND or len({name}.shape)=3."
            )
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided.Received `image_shape`: {image_shape}"
        )
    height, width = (None, None) if image_shape is None else image_shape[:2]
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height=height, width=width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height=height, width=width)
    intersection = _intersection(boxes1, boxes2)
    union = _area(boxes1)[..., :, None] + _area(boxes2)[..., None, :] - intersection
    iou = intersection / (union + np.asarray(config.epsilon(), union.dtype))
    if not use_masking:
        return iou
    padding1 = np.max(boxes1, axis=-1) < 0  # (…, N)
    padding2 = np.max(boxes2, axis=-1) < 0  # (…, M)
    background = padding1[..., :, None] | padding2[..., None, :]
    return np.where(background, np.asarray(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """Complete IoU of boxes1[i] and boxes2[i] (element by element):
    IoU − d²/c² − α·v, d the distance of the centres, c the diagonal of the box around both,
    v = (4/π²)·(atan(w₂/h₂) − atan(w₁/h₁))², α = v/(v − IoU + 1 + ε).
    Keras's `keras.utils.bounding_boxes.compute_ciou`."""
    if "rel" in bounding_box_format:
        raise ValueError(
            "When using relative bounding box formats (e.g. `rel_yxyx`) the `image_shape` "
            f"argument must be provided.Received `image_shape`: {image_shape}"
        )
    height, width = (None, None) if image_shape is None else image_shape[:2]
    boxes1 = convert_format(boxes1, bounding_box_format, "xyxy", height=height, width=width)
    boxes2 = convert_format(boxes2, bounding_box_format, "xyxy", height=height, width=width)
    eps = np.asarray(config.epsilon(), boxes1.dtype)
    x1a, y1a, x2a, y2a = (boxes1[..., i] for i in range(4))
    x1b, y1b, x2b, y2b = (boxes2[..., i] for i in range(4))
    w1, h1 = x2a - x1a, y2a - y1a + eps
    w2, h2 = x2b - x1b, y2b - y1b + eps
    intersection = np.maximum(np.minimum(x2a, x2b) - np.maximum(x1a, x1b), 0) * np.maximum(
        np.minimum(y2a, y2b) - np.maximum(y1a, y1b), 0
    )
    union = w1 * h1 + w2 * h2 - intersection + eps
    iou = intersection / (union + eps)
    diagonal = (np.maximum(x2a, x2b) - np.minimum(x1a, x1b)) ** 2 + (
        np.maximum(y2a, y2b) - np.minimum(y1a, y1b)
    ) ** 2 + eps  # fmt: skip
    distance = ((x1a + x2a) / 2 - (x1b + x2b) / 2) ** 2 + ((y1a + y2a) / 2 - (y1b + y2b) / 2) ** 2
    v = (4 / math.pi**2) * (np.arctan(w2 / h2) - np.arctan(w1 / h1)) ** 2
    alpha = v / (v - iou + (1 + eps))
    return iou - (distance / diagonal + v * alpha)
