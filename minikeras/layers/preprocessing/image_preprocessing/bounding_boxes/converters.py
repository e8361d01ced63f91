"""Bounding-box formats (Keras's names) and clipping to the image.

Every format goes through "xyxy" = [left, top, right, bottom] in pixels:

    yxyx         [top, left, bottom, right]
    xywh         [left, top, width, height]
    center_xywh  [centre x, centre y, width, height]
    center_yxhw  [centre y, centre x, height, width]
    rel_*        the same with x divided by the image's width and y by its height

>>> import numpy as np
>>> convert_format(np.array([[10, 20, 30, 40]]), "xyxy", "xywh").tolist()
[[10.0, 20.0, 20.0, 20.0]]
"""

import numpy as np

SUPPORTED_FORMATS = (
    "xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
    "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh",
)  # fmt: skip


def _to_xyxy(boxes, source, height, width):
    a, b, c, d = np.split(boxes, 4, axis=-1)
    if source == "yxyx":
        return np.concatenate([b, a, d, c], axis=-1)
    if source == "xywh":
        return np.concatenate([a, b, a + c, b + d], axis=-1)
    if source == "center_xywh":
        return np.concatenate([a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0], axis=-1)
    if source == "center_yxhw":
        return np.concatenate([b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0], axis=-1)
    if source == "rel_xyxy":
        return np.concatenate([a * width, b * height, c * width, d * height], axis=-1)
    if source == "rel_yxyx":
        return np.concatenate([b * width, a * height, d * width, c * height], axis=-1)
    if source == "rel_xywh":
        return np.concatenate([a * width, b * height, (a + c) * width, (b + d) * height], -1)
    if source == "rel_center_xywh":
        return np.concatenate(
            [(a - c / 2.0) * width, (b - d / 2.0) * height,
             (a + c / 2.0) * width, (b + d / 2.0) * height], axis=-1,
        )  # fmt: skip
    return boxes


def _from_xyxy(boxes, target, height, width):
    x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
    w, h = x2 - x1, y2 - y1
    if target == "yxyx":
        return np.concatenate([y1, x1, y2, x2], axis=-1)
    if target == "xywh":
        return np.concatenate([x1, y1, w, h], axis=-1)
    if target == "center_xywh":
        return np.concatenate([x1 + w / 2.0, y1 + h / 2.0, w, h], axis=-1)
    if target == "center_yxhw":
        return np.concatenate([y1 + h / 2.0, x1 + w / 2.0, h, w], axis=-1)
    if target == "rel_xyxy":
        return np.concatenate([x1 / width, y1 / height, x2 / width, y2 / height], axis=-1)
    if target == "rel_yxyx":
        return np.concatenate([y1 / height, x1 / width, y2 / height, x2 / width], axis=-1)
    if target == "rel_xywh":
        return np.concatenate([x1 / width, y1 / height, w / width, h / height], axis=-1)
    if target == "rel_center_xywh":
        return np.concatenate(
            [(x1 + w / 2.0) / width, (y1 + h / 2.0) / height, w / width, h / height], -1
        )
    return boxes


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """Boxes (..., 4) from format `source` to `target` (a dict's "boxes" converted in place,
    as Keras's); `height` and `width` are needed to or from a relative format."""
    if isinstance(boxes, dict):
        boxes["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return boxes
    boxes = np.asarray(boxes)
    if boxes.shape[-1] != 4:
        raise ValueError(
            "`boxes` must be a tensor with the last dimension of 4. "
            f"Received: boxes.shape={boxes.shape}"
        )
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(f"Invalid source or target format. Supported formats: {SUPPORTED_FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (
        width is None or height is None
    ):
        raise ValueError(
            "convert_format() must receive `height` and `width` transforming between relative "
            f"and absolute formats.convert_format() received source=`{source}`, "
            f"target=`{target}, but height={height} and width={width}."
        )
    boxes = boxes.astype(dtype)
    if source == target:
        return boxes
    width = None if width is None else np.asarray(width, dtype)
    height = None if height is None else np.asarray(height, dtype)
    if source.startswith("rel_") and target.startswith("rel_"):  # no pixels needed between them
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """Boxes ("xyxy" or "rel_xyxy") clipped to the image; a box left with no area gets the
    label −1, as Keras marks it."""
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = np.asarray(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    x1, y1, x2, y2 = np.split(boxes, 4, axis=-1)
    if bounding_box_format == "xyxy":
        w, h = np.asarray(width, boxes.dtype), np.asarray(height, boxes.dtype)
    else:
        w = h = np.asarray(1.0, boxes.dtype)
    boxes = np.concatenate(
        [np.clip(x1, 0, w), np.clip(y1, 0, h), np.clip(x2, 0, w), np.clip(y2, 0, h)], axis=-1
    )
    result = dict(bounding_boxes)
    result["boxes"] = boxes
    if labels is not None:
        area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
        result["labels"] = np.where(area > 0, labels, -1)
    return result


# Keras keeps the functions that move boxes in this module too
from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.geometry import (  # noqa: E402, F401
    affine_transform,
    crop,
    pad,
)
