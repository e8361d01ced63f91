"""MixUp: each image (and its label) blended with another image of the batch."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator


class MixUp(BaseImagePreprocessingLayer):
    """y_i = w_i·x_i + (1 − w_i)·x_π(i) for a random permutation π of the batch and weights
    w_i ~ Beta(alpha, alpha); labels (in a dict's "labels") are mixed with the same π and w.
    The identity at inference.

    Backward: image j reaches output j with weight w_j and output i with weight 1 − w_i
    wherever π(i) = j, so dx_j = w_j·dy_j + Σ_{i: π(i) = j} (1 − w_i)·dy_i (a scatter-add).

    >>> import numpy as np
    >>> from minikeras.layers import MixUp
    >>> out = MixUp(seed=1)({"images": np.ones((4, 2, 2, 1)), "labels": np.eye(4)})
    >>> out["images"].shape, np.allclose(out["labels"].sum(axis=1), 1)
    ((4, 2, 2, 1), True)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.alpha = alpha
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        order = self.backend.random.shuffle(np.arange(batch_size, dtype="int64"), seed=seed)
        weight = self.backend.random.beta((batch_size,), self.alpha, self.alpha, seed=seed)
        return {"mix_weight": weight, "permutation_order": order}

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        images = _cast(images, self.compute_dtype)
        weight = np.reshape(transformation["mix_weight"], (-1, 1, 1, 1)).astype(images.dtype)
        partners = np.take(images, transformation["permutation_order"], axis=0)
        return weight * images + (1.0 - weight) * partners

    def backward_images(self, dy, transformation):
        """dx_j = w_j·dy_j + Σ_{i: π(i) = j} (1 − w_i)·dy_i."""
        weight = np.reshape(transformation["mix_weight"], (-1, 1, 1, 1)).astype(dy.dtype)
        dx = weight * dy
        np.add.at(dx, np.asarray(transformation["permutation_order"]), (1.0 - weight) * dy)
        return dx

    def transform_labels(self, labels, transformation, training=True):
        if not training:
            return labels
        weight = np.reshape(transformation["mix_weight"], (-1, 1))
        partners = np.take(labels, transformation["permutation_order"], axis=0)
        return weight * labels + (1.0 - weight) * partners

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        if not training:
            return bounding_boxes
        order = np.asarray(transformation["permutation_order"])
        boxes, labels = bounding_boxes["boxes"], bounding_boxes["labels"]
        return {
            "boxes": np.concatenate([boxes, np.take(boxes, order, axis=0)], axis=1),
            "labels": np.concatenate([labels, np.take(labels, order, axis=0)], axis=0),
        }

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training:
            return segmentation_masks
        weight = np.reshape(transformation["mix_weight"], (-1, 1, 1, 1))
        # (Keras takes the masks along the flattened array here, not along the batch axis)
        partners = np.take(segmentation_masks, transformation["permutation_order"])
        return weight * segmentation_masks + (1.0 - weight) * partners

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}
