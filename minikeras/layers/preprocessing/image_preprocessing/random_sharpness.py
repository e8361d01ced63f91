"""RandomSharpness: each image blended with a smoothed copy of itself."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
    _cast,
)
from minikeras.random import SeedGenerator

# Keras's smoothing kernel: 5/13 at the centre, 1/13 on each of the eight neighbours
_A, _B = 1.0 / 13.0, 5.0 / 13.0
SMOOTHING = ((_A, _A, _A), (_A, _B, _A), (_A, _A, _A))


class RandomSharpness(BaseImagePreprocessingLayer):
    """y = clip(x + (1 − s)·(smooth(x) − x), value_range) = clip(s·x + (1 − s)·smooth(x)),
    s = 2u with u drawn per image from `factor`'s range (f alone is [0, f]; within [0, 1]):
    s < 1 blurs, s > 1 sharpens; smooth is each channel correlated with Keras's 3×3 kernel,
    zero-padded ("same"). The identity at inference.

    Backward, with g = dy where the clip let the value through: the kernel is symmetric and
    its "same" padding even, so smooth is its own transpose and
        dx = s·g + (1 − s)·smooth(g)

    >>> import numpy as np
    >>> from minikeras.layers import RandomSharpness
    >>> RandomSharpness((0.5, 0.5))(np.full((1, 3, 3, 3), 9.0))[0, 1, 1].tolist()  # s = 1
    [9.0, 9.0, 9.0]
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._set_value_range(value_range)
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def _set_value_range(self, value_range):
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                self._VALUE_RANGE_VALIDATION_ERROR + f"Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def is_identity(self, training):
        return not training

    def get_random_transformation(self, data, training=True, seed=None):
        images = data["images"] if isinstance(data, dict) else data
        shape = self.backend.shape(images)
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Expected the input image to be rank 3 or 4. Received: inputs.shape={shape}"
            )
        batch_size = 1 if len(shape) == 3 else shape[0]
        seed = self.generator if seed is None else seed
        factor = self.backend.random.uniform(
            (batch_size,), minval=self.factor[0], maxval=self.factor[1], seed=seed
        )
        return {"factor": factor}

    def _smooth(self, images):
        """Each channel of channels-last images correlated with SMOOTHING, "same" padding."""
        channels = images.shape[-1]
        kernel = np.tile(
            np.asarray(SMOOTHING, images.dtype).reshape(3, 3, 1, 1), (1, 1, channels, 1)
        )
        smoothed = self.backend.nn.depthwise_conv(
            images, kernel, strides=1, padding="same", data_format="channels_last"
        )
        return np.asarray(smoothed).astype(images.dtype)

    def _channels_last(self, x):
        return np.swapaxes(x, -3, -1) if self.data_format == "channels_first" else x

    def transform_images(self, images, transformation=None, training=True):
        images = _cast(images, self.compute_dtype)
        if not training:
            return images
        x = self._channels_last(images)  # (as Keras: channels and width swapped, then back)
        s = np.reshape(np.asarray(transformation["factor"]) * 2, (-1, 1, 1, 1)).astype(x.dtype)
        blended = x + (1.0 - s) * (self._smooth(x) - x)
        low, high = self.value_range
        self._passed = (blended >= low) & (blended <= high)  # for the backward
        return self._channels_last(np.clip(blended, low, high))

    def backward_images(self, dy, transformation):
        """dx = s·g + (1 − s)·smooth(g), g = dy where the clip passed."""
        g = self._channels_last(dy)
        g = np.where(self._passed.reshape(g.shape), g, 0).astype(dy.dtype)
        s = np.reshape(np.asarray(transformation["factor"]) * 2, (-1, 1, 1, 1)).astype(g.dtype)
        return self._channels_last(s * g + (1.0 - s) * self._smooth(g))

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
        }
