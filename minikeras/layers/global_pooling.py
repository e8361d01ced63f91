"""GlobalMaxPooling1D/2D/3D and GlobalAveragePooling1D/2D/3D: one number per channel per sample.

    average:  y = mean over the spatial axes       dx = dy / count, at every position
    max:      y = max over the spatial axes        dx = dy / ties, at each position equal to y

Max ties: Keras computes the global max with a reduction (`ops.max`), whose TensorFlow
gradient splits dy equally among the positions that reach the max (unlike MaxPooling's window
max, which gives all of dy to the first one). Plain NumPy is as fast as a kernel here: each is
one pass over the input.
"""

import numpy as np

from minikeras.layers import conv_utils
from minikeras.layers.conv_utils import SpatialLayer


class BaseGlobalPooling(SpatialLayer):
    has_build_config = False  # no weights: Keras saves no build_config
    builds_at_init = True
    mode = "max"
    # Keras: only GlobalAveragePooling1D takes a mask (it averages the unmasked steps); the
    # others neither read one nor pass one on
    supports_masking = False

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        data_format = conv_utils.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.data_format, self.keepdims = data_format, bool(keepdims)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def build(self, input_shape):
        conv_utils.check_rank_and_channels(self, tuple(input_shape), self.rank)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        channels = input_shape[self.channel_axis]
        if self.keepdims:
            return self.back_shape((input_shape[0],) + (1,) * self.rank + (channels,))
        return (input_shape[0], channels)

    def call(self, x, mask=None, training=False):  # Keras's order: layer(x, mask) passes a mask
        """y = max or mean over the spatial axes (a 1-D mask keeps only its True steps)"""
        x = self.channels_last(x)
        axes = tuple(range(1, self.rank + 1))
        self.x_shape, self.mask = x.shape, None
        if self.mode == "average":
            if mask is not None and self.supports_masking:  # Keras: Σ x·m / Σ m over the steps
                self.mask = np.asarray(mask, dtype=x.dtype)[:, :, None]
                count = self.mask.sum(axis=1, keepdims=True)
                self.mask_share = self.mask / count
                y = np.sum(x * self.mask_share, axis=1, keepdims=True)
            else:
                y = x.mean(axis=axes, keepdims=True)
        else:
            y = x.max(axis=axes, keepdims=True)
            hits = (x == y).astype(x.dtype)  # the positions that reach the max
            # [x = y] / ties, then times dy: TensorFlow's order of operations, so that the
            # gradient is bitwise the same (tests/parity/test_conv_parity.py)
            self.max_share = hits / hits.sum(axis=axes, keepdims=True)
        self.pooled_shape = y.shape
        return self.channels_back(y) if self.keepdims else y.reshape(x.shape[0], x.shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None  # the steps axis is gone

    def backward(self, dy, mask=None):
        """average: dx = dy / count (or dy·m / Σ m);   max: dx = dy·[x = y] / ties"""
        self.grads = []
        dy = np.reshape(self.channels_last(dy) if self.keepdims else dy, self.pooled_shape)
        if self.mode == "average":
            if self.mask is not None:
                return self.channels_back(np.ascontiguousarray(dy * self.mask_share))
            count = int(np.prod(self.x_shape[1:-1]))
            dx = np.ascontiguousarray(np.broadcast_to(dy / count, self.x_shape))
            return self.channels_back(dx)
        return self.channels_back(self.max_share * dy)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    """(batch, steps, channels) → (batch, channels): the max over the steps.

    >>> import numpy as np
    >>> from minikeras.layers import GlobalMaxPooling1D
    >>> GlobalMaxPooling1D()(np.arange(6.0).reshape(1, 3, 2))
    array([[4., 5.]], dtype=float32)
    """

    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """(batch, height, width, channels) → (batch, channels): the max over the image."""

    rank, mode = 2, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    """(batch, steps, channels) → (batch, channels): the mean over the steps (only the
    unmasked ones when a mask is given).

    >>> import numpy as np
    >>> from minikeras.layers import GlobalAveragePooling1D
    >>> GlobalAveragePooling1D()(np.arange(6.0).reshape(1, 3, 2))
    array([[2., 3.]], dtype=float32)
    """

    rank, mode = 1, "average"
    supports_masking = True


class GlobalAveragePooling2D(BaseGlobalPooling):
    """(batch, height, width, channels) → (batch, channels): the mean over the image."""

    rank, mode = 2, "average"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """(batch, depth, height, width, channels) → (batch, channels): the max over the volume.

    >>> import numpy as np
    >>> from minikeras.layers import GlobalMaxPooling3D
    >>> GlobalMaxPooling3D(keepdims=True)(np.ones((2, 3, 4, 5, 6))).shape
    (2, 1, 1, 1, 6)
    """

    rank, mode = 3, "max"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """(batch, depth, height, width, channels) → (batch, channels): the mean over the volume."""

    rank, mode = 3, "average"
