"""MaxNumBoundingBoxes: every image's boxes cut or padded to one number."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class MaxNumBoundingBoxes(BaseImagePreprocessingLayer):
    """The "boxes" (batch, n, 4) and "labels" (batch, n) of a dict's "bounding_boxes" kept to
    their first `max_number` entries, or padded to `max_number` with `fill_value`, so that
    every batch has the same shape. Images, labels and masks pass unchanged.

    Backward: the images pass unchanged, so dx = dy.

    >>> import numpy as np
    >>> from minikeras.layers import MaxNumBoundingBoxes
    >>> boxes = {"boxes": np.array([[[1, 2, 3, 4]]]), "labels": np.array([[7]])}
    >>> out = MaxNumBoundingBoxes(max_number=2, bounding_box_format="xyxy")(
    ...     {"images": np.zeros((1, 4, 4, 3)), "bounding_boxes": boxes})
    >>> out["bounding_boxes"]["labels"].tolist()
    [[7, -1]]
    """

    _USE_BASE_FACTOR = False

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_images(self, images, transformation=None, training=True):
        return images

    def backward_images(self, dy, transformation):
        return dy

    def transform_labels(self, labels, transformation=None, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation=None, training=True):
        return segmentation_masks

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        boxes = np.asarray(bounding_boxes["boxes"])
        labels = np.asarray(bounding_boxes["labels"])
        pad = max(self.max_number - boxes.shape[1], 0)
        boxes = np.pad(
            boxes[:, : self.max_number], [(0, 0), (0, pad), (0, 0)], constant_values=self.fill_value
        )
        labels = np.pad(
            labels[:, : self.max_number], [(0, 0), (0, pad)], constant_values=self.fill_value
        )
        return {**bounding_boxes, "boxes": boxes, "labels": labels}

    def compute_output_shape(self, input_shape):
        """A dict's boxes and labels take `max_number` as their second size; a box may have
        only "boxes" and "labels" (KeyError otherwise, as Keras)."""
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            extra = set(input_shape["bounding_boxes"]) - {"boxes", "labels"}
            if extra:
                raise KeyError(
                    f"There are unsupported keys in `bounding_boxes`: {list(extra)}. Only "
                    "`boxes` and `labels` are supported."
                )
            for key in ("boxes", "labels"):
                shape = list(input_shape["bounding_boxes"][key])
                shape[1] = self.max_number
                input_shape["bounding_boxes"][key] = shape
        return input_shape

    def get_config(self):
        # Keras's config leaves out `fill_value` (a file brings back the default, -1)
        return {**super().get_config(), "max_number": self.max_number}
