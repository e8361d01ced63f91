"""Boxes moved with their images: an affine map, a crop and a pad ("xyxy" boxes in pixels).

An affine map takes a box to the box around its four corners' images (a rotated box is not
a box; the one around it is what detection models expect):

>>> import numpy as np
>>> boxes = np.array([[[0.0, 0.0, 2.0, 1.0]]])   # (batch, boxes, 4)
>>> (affine_transform(boxes, np.array([90.0]), *[np.zeros(1)] * 2, np.ones(1),
...                  *[np.zeros(1)] * 2, height=3, width=3).round(6) + 0.0).tolist()
[[[0.0, 0.0, 1.0, 2.0]]]
"""

import math

import numpy as np


def _inverse_affine_matrix(center_x, center_y, angle, translate_x, translate_y, scale,
                           shear_x, shear_y, height, width):  # fmt: skip
    """(batch, 3, 3): the map from an input point to its output point, for the image
    transform that reads, at each output pixel, the input rotated by `angle` degrees about
    (center_x·(W − 1), center_y·(H − 1)), sheared, scaled and translated by a fraction of
    the image (TensorFlow's inverse affine matrix, as Keras computes it, in angle's dtype)."""
    dtype = np.asarray(angle).dtype
    angle, shear_x, shear_y = (-np.asarray(v, dtype) for v in (angle, shear_x, shear_y))
    cx, cy = np.multiply(center_x, width - 1), np.multiply(center_y, height - 1)
    rotation = np.multiply(angle, 1.0 / 180.0 * math.pi)
    tx = np.multiply(-np.asarray(translate_x, dtype), width - 1)
    ty = np.multiply(-np.asarray(translate_y, dtype), height - 1)
    sx = np.multiply(shear_x, 1.0 / 180.0 * math.pi)
    sy = np.multiply(shear_y, 1.0 / 180.0 * math.pi)
    cos_sy, tan_sx = np.cos(sy), np.tan(sx)
    # rotation and shear: [[a, b], [c, d]], determinant 1, so its inverse is [[d, −b], [−c, a]]
    a = np.cos(rotation - sy) / cos_sy
    b = a * tan_sx + np.sin(rotation)
    c = -np.sin(rotation - sy) / cos_sy
    d = np.cos(rotation) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    batch = np.shape(angle)[0]
    zeros, ones = np.zeros(batch, dtype), np.ones(batch, dtype)
    rows = [a0, a1, a2, b0, b1, b2, zeros, zeros, ones]
    return np.stack([np.asarray(r, dtype) for r in rows], axis=-1).reshape(batch, 3, 3)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format="xyxy"):  # fmt: skip
    """Boxes (batch, n, 4) through the affine map of each image (one angle, shift, scale and
    shear per image, angles in degrees, shifts in fractions of the image): each box becomes
    the box around its four moved corners. Keras's `keras.utils.bounding_boxes.affine_transform`."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError
    matrix = _inverse_affine_matrix(
        0.5 if center_x is None else center_x, 0.5 if center_y is None else center_y,
        angle, translate_x, translate_y, scale, shear_x, shear_y, height, width,
    )  # fmt: skip
    boxes = np.asarray(boxes).astype(matrix.dtype)
    batch, n = boxes.shape[:2]
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    corners = np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1).reshape(batch, n, 4, 2)
    corners = np.concatenate([corners, np.ones((batch, n, 4, 1), matrix.dtype)], axis=-1)
    # each corner (x, y, 1) times the matrix's first two rows: (b, n, 4, 3)@(b, 3, 2)
    moved = np.einsum("bnxy,byz->bnxz", corners, np.transpose(matrix[:, :2, :], (0, 2, 1)))
    return np.concatenate([moved.min(axis=2), moved.max(axis=2)], axis=-1)


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """Boxes in the frame of the crop at (top, left) of size (height, width), clipped to it.
    Keras's `keras.utils.bounding_boxes.crop`."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError
    x1, y1, x2, y2 = np.split(np.asarray(boxes), 4, axis=-1)
    return np.concatenate(
        [np.clip(x1 - left, 0, width), np.clip(y1 - top, 0, height),
         np.clip(x2 - left, 0, width), np.clip(y2 - top, 0, height)], axis=-1,
    )  # fmt: skip


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """Boxes moved by the padding added at the top and left of their image.
    Keras's `keras.utils.bounding_boxes.pad`."""
    if bounding_box_format != "xyxy":
        raise NotImplementedError
    x1, y1, x2, y2 = np.split(np.asarray(boxes), 4, axis=-1)
    return np.concatenate([x1 + left, y1 + top, x2 + left, y2 + top], axis=-1)
