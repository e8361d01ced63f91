"""MaxPooling1D/2D/3D and AveragePooling1D/2D/3D: one number per window, per channel.

    max:      y = max of the window          dx: dy goes to the element that was the max
    average:  y = mean of the window         dx: dy / count spread evenly over the window

Ties in a max window: TensorFlow's MaxPool takes the first maximum in row-major order, and its
gradient goes to that element alone (checked against Keras in tests/parity/test_conv_parity.py).
Its MaxPool3D gradient differs: every element equal to the window's max gets all of dy
(`kernels.max_pool_backward_ties`; tests/parity/test_conv3d_parity.py).
With 'same' padding, the padding is never a maximum and is not counted in an average.
"""

import numpy as np

from minikeras import kernels
from minikeras.layers import conv_utils
from minikeras.layers.conv_utils import SpatialLayer, standardize_tuple


class BasePooling(SpatialLayer):
    """What the pooling layers share; `rank` spatial axes, `mode` "max" or "average"."""

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        # checked before the base class names the layer (keras/src/layers/pooling/base_pooling.py)
        pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        # Keras lets strides be 0 here (allow_zero=True), then fails deep inside the backend;
        # minikeras refuses it at once, with the message Keras gives for a zero pool_size
        strides = standardize_tuple(pool_size if strides is None else strides, self.rank, "strides")
        padding = conv_utils.standardize_padding(padding)
        data_format = conv_utils.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.pool_size, self.strides = pool_size, strides
        self.padding, self.data_format = padding, data_format
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank_and_channels(self, input_shape, self.rank)
        self.compute_output_shape(input_shape)  # raises if the window does not fit
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return self.back_shape(self._last_output_shape(self.last_shape(input_shape)))

    def _last_output_shape(self, input_shape):
        """The output shape for a channels-last input shape, channels-last."""
        sizes = conv_utils.spatial_output_shape(
            self, input_shape, self.pool_size, self.strides, (1,) * self.rank, "pool_size"
        )
        return (input_shape[0], *sizes, input_shape[-1])

    def call(self, x, training=False):
        """y[n, i, j, c] = max (or mean) of x over window (i, j)"""
        x = self.channels_last(x)
        output_shape = self._last_output_shape(x.shape)
        pad = tuple(
            conv_utils.pad_before(n, m, k, s, 1, self.padding)
            for n, m, k, s in zip(x.shape[1:-1], output_shape[1:-1], self.pool_size, self.strides)
        )
        self.geometry = (self.pair(self.pool_size), self.pair(self.strides), self.pair(pad, 0))
        image = self.as_image(x)
        y = self.buffer("y", (x.shape[0], *self.pair(output_shape[1:-1]), x.shape[-1]))
        if self.mode == "max":
            self.argmax = self.buffer("argmax", y.shape, dtype="int64")
            kernels.max_pool_forward(image, *self.geometry, y, self.argmax)
        else:
            kernels.average_pool_forward(image, *self.geometry, y)
        self.input_batch_shape, self.image_shape, self.pooled_shape = x.shape, image.shape, y.shape
        if self.mode == "max" and self.rank == 3:
            self.x, self.y = image, y  # the 3-D gradient compares each element with its max
        return self.channels_back(y.reshape(output_shape))

    def backward(self, dy):
        """max: dx[argmax] += dy (3-D: dx[r] += dy wherever x[r] = the window's max);
        average: dx[window] += dy / count"""
        self.grads = []
        dy = np.ascontiguousarray(self.channels_last(dy), dtype=self.dtype).reshape(
            self.pooled_shape
        )
        dx = self.buffer("dx", self.image_shape)
        if self.mode == "max" and self.rank == 3:
            kernels.max_pool_backward_ties(self.x, self.y, dy, *self.geometry, dx)
        elif self.mode == "max":
            kernels.max_pool_backward(dy, self.argmax, dx)
        else:
            kernels.average_pool_backward(dy, *self.geometry, dx)
        return self.channels_back(dx.reshape(self.input_batch_shape))

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(BasePooling):
    """Max over windows of `pool_size` steps, (batch, steps, channels).

    >>> import numpy as np
    >>> from minikeras.layers import MaxPooling1D
    >>> MaxPooling1D()(np.arange(6.0).reshape(1, 6, 1))[0, :, 0]
    array([1., 3., 5.], dtype=float32)
    """

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over windows of `pool_size`, (batch, height, width, channels).

    >>> import numpy as np
    >>> from minikeras.layers import MaxPooling2D
    >>> MaxPooling2D()(np.ones((1, 5, 5, 3))).shape
    (1, 2, 2, 3)
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Mean over windows of `pool_size` steps, (batch, steps, channels).

    >>> import numpy as np
    >>> from minikeras.layers import AveragePooling1D
    >>> AveragePooling1D(2)(np.arange(6.0).reshape(1, 6, 1))[0, :, 0]
    array([0.5, 2.5, 4.5], dtype=float32)
    """

    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    """Mean over windows of `pool_size`, (batch, height, width, channels).

    >>> import numpy as np
    >>> from minikeras.layers import AveragePooling2D
    >>> AveragePooling2D(2, padding="same")(np.ones((1, 5, 5, 3))).shape
    (1, 3, 3, 3)
    """

    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over windows of `pool_size`, (batch, depth, height, width, channels).

    >>> import numpy as np
    >>> from minikeras.layers import MaxPooling3D
    >>> MaxPooling3D()(np.ones((1, 4, 5, 6, 3))).shape
    (1, 2, 2, 3, 3)
    """

    rank, mode = 3, "max"

    def __init__(
        self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling):
    """Mean over windows of `pool_size`, (batch, depth, height, width, channels).

    >>> import numpy as np
    >>> from minikeras.layers import AveragePooling3D
    >>> AveragePooling3D(2, padding="same")(np.ones((1, 3, 4, 5, 2))).shape
    (1, 2, 2, 3, 2)
    """

    rank, mode = 3, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
