"""Equalization: each channel's histogram spread over the whole value range."""

import numpy as np

from minikeras.layers.preprocessing.image_preprocessing.base_image_preprocessing_layer import (
    BaseImagePreprocessingLayer,
)


class Equalization(BaseImagePreprocessingLayer):
    """Histogram equalization, channel by channel, in [0, 255] (images mapped there from
    `value_range` and back). With `bins` = n, a pixel x falls in bin ⌊x·(n − 1)/255⌋; the
    counts' running sum c gives the lookup table

        T[k] = round(255·(c[k] − c_min)/(c[n − 1] − c_min)),   c_min the first nonzero c,

    and the pixel becomes T[⌊(x/255)·(n − 1)⌋]. As Keras's, one histogram covers a channel of
    the whole batch (not of each image), and a channel with at most one filled bin is left as
    it is. Applied at training only: at inference (`predict`) the images pass unchanged, as
    Keras's `transform_images` does it.

    Backward: the output is a table lookup, piecewise constant in x, so dx = 0, except in a
    channel left as it is (dx = dy there).

    >>> import numpy as np
    >>> from minikeras.layers import Equalization
    >>> Equalization()(np.array([[[[10.0], [20.0], [20.0], [200.0]]]]))[0, 0, :, 0].tolist()
    [0.0, 170.0, 170.0, 255.0]
    """

    _USE_BASE_FACTOR = False
    _VALUE_RANGE_VALIDATION_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        # Keras's check reads a message its class lacks (an AttributeError); a ValueError here
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                self._VALUE_RANGE_VALIDATION_ERROR + f"Received: value_range={value_range}"
            )
        self.value_range = sorted(value_range)

    def is_identity(self, training):
        return not training

    def _histogram(self, channel):
        """Counts of ⌊x·(n − 1)/255⌋ (float32, truncated, clipped to [0, n − 1])."""
        scaled = channel * np.float32(self.bins - 1) / np.float32(255)
        indices = np.clip(scaled.astype(np.int32), 0, self.bins - 1)
        return np.bincount(indices.ravel(), minlength=self.bins)

    def _equalize_channel(self, channel):
        """One channel of the batch, in [0, 255] (see the class)."""
        hist = self._histogram(channel)
        if np.count_nonzero(hist) <= 1:
            return channel, True
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        denominator = cdf[-1] - cdf_min or 1
        # TensorFlow divides the integer counts in float64; np.round rounds half to even as
        # tf.round does
        table = np.clip(np.round((cdf - cdf_min) * 255 / denominator), 0, 255)
        # the lookup's index is computed in another order than the histogram's (x/255 first),
        # as Keras's: both kept, so that the same pixels land in the same bins
        scaled = (channel / np.float32(255.0)) * np.float32(self.bins - 1)
        indices = np.clip(scaled, 0, self.bins - 1).astype(np.int32)
        return table[indices].astype(channel.dtype), False

    def transform_images(self, images, transformation=None, training=True):
        if not training:
            return images
        dtype = self.compute_dtype
        x = self._transform_value_range(
            np.asarray(images).astype(dtype), self.value_range, (0, 255), dtype=dtype
        )
        channel_axis = -3 if self.data_format == "channels_first" else -1
        channels, kept = [], []
        for i in range(x.shape[channel_axis]):
            equalized, unchanged = self._equalize_channel(np.take(x, i, axis=channel_axis))
            channels.append(equalized)
            kept.append(unchanged)
        out = np.stack(channels, axis=channel_axis)
        self._kept = np.array(kept)  # the channels the backward passes dy through
        return self._transform_value_range(out, (0, 255), self.value_range, dtype=dtype)

    def backward_images(self, dy, transformation):
        """dx = dy in the channels left as they are, 0 elsewhere (a lookup table)."""
        shape = (-1, 1, 1) if self.data_format == "channels_first" else (-1,)
        return (dy * self._kept.reshape(shape)).astype(dy.dtype)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, training=True):
        return bounding_boxes

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
