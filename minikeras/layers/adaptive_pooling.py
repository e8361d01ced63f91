"""AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D: pooling to a given size.

Instead of a window size, the output size is given; along an axis of L inputs pooled to O
outputs, output i covers the inputs

    start_i = ⌊i·L/O⌋ ≤ j < end_i = ⌈(i + 1)·L/O⌉

(windows may overlap by one, and repeat when O > L). A window of several axes is the product
of one window per axis, and both a mean and a max over such a box can be taken one axis at a
time, so the layer pools axis after axis:

    average:  y = A·x along each axis, A[i, j] = 1/(end_i − start_i) inside window i
              dx = Aᵀ·dy along each axis, in reverse order
    max:      y[i] = max over window i, remembering where (arg_i)
              dx[arg_i] += dy[i], along each axis in reverse order

(TensorFlow pools the same windows: a pool of each of the two window sizes, then a gather.)
"""

import numpy as np

from minikeras import config
from minikeras.layers.conv_utils import SpatialLayer, check_rank_and_channels


def adaptive_windows(length, size):
    """[(start_i, end_i)] for `size` outputs over `length` inputs (module docstring), with
    integer arithmetic, clipped to the input as TensorFlow clips them."""
    windows = []
    for i in range(size):
        start = min(i * length // size, length - 1)
        end = min(-(-(i + 1) * length // size), length)
        windows.append((start, end))
    return windows


class BaseAdaptivePooling(SpatialLayer):
    """What the six adaptive pooling layers share; `rank` spatial axes, `mode` "max" or
    "average". Subclasses turn `output_size` into a tuple of `rank` ints, as Keras's do."""

    mode = "average"
    axis_names = ""  # how Keras's error message names the sizes: "(height, width)", ...

    def __init__(self, output_size, data_format=None, **kwargs):
        output_size = self._output_size_tuple(output_size)
        if any(not isinstance(n, (int, np.integer)) or n <= 0 for n in output_size):
            # Keras lets a zero through, to fail with a ZeroDivisionError at the first call
            raise ValueError(
                f"`output_size` must hold positive integers. Received: output_size={output_size}"
            )
        data_format = data_format or config.image_data_format()
        if data_format not in {"channels_first", "channels_last"}:
            raise ValueError(
                f"Invalid data_format: {data_format}. Expected 'channels_first' or 'channels_last'."
            )
        super().__init__(**kwargs)
        self.output_size = tuple(int(n) for n in output_size)
        self.data_format = data_format

    def _output_size_tuple(self, output_size):
        """`output_size` as a tuple of `rank` values; Keras's TypeError otherwise."""
        if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
            return (output_size,) * self.rank
        if isinstance(output_size, (tuple, list)) and len(output_size) == self.rank:
            return tuple(output_size)
        raise TypeError(
            f"`output_size` must be an integer or {self.axis_names} tuple. "
            f"Received: {output_size} of type {type(output_size)}"
        )

    def build(self, input_shape):
        check_rank_and_channels(self, tuple(input_shape), self.rank)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def call(self, x, training=False):
        """Pool each spatial axis in turn (the module docstring)."""
        y, self.steps = adaptive_pool_forward(self.channels_last(x), self.output_size, self.mode)
        return self.channels_back(np.ascontiguousarray(y))

    def backward(self, dy):
        """The axes in reverse order: dx = Aᵀ·dy (average), or dy back to each window's
        maximum (max)."""
        self.grads = []
        dx = adaptive_pool_backward(self.channels_last(dy), self.steps)
        return self.channels_back(np.ascontiguousarray(dx))

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "data_format": self.data_format,
        }


def adaptive_pool_forward(x, output_size, mode):
    """(y, steps): x (batch, *spatial, channels) pooled to `output_size` axis after axis,
    `mode` "average" or "max"; `steps` is what `adaptive_pool_backward` needs."""
    steps = []
    for axis, size in zip(range(1, len(output_size) + 1), output_size):
        windows = adaptive_windows(x.shape[axis], size)
        if mode == "average":
            y, where = _average(x, axis, windows), None
        else:
            y, where = _max(x, axis, windows)
        steps.append((axis, windows, x.shape, where))
        x = y
    return x, steps


def adaptive_pool_backward(dy, steps):
    """dx from dy, the axes in reverse order: dy / count to every input of a window
    (average), or dy to the input that was the window's maximum (max)."""
    for axis, windows, shape, where in reversed(steps):
        dx = np.zeros(shape, dtype=dy.dtype)
        for i, (start, end) in enumerate(windows):
            g = np.take(dy, [i], axis=axis)  # (…, 1, …): dy of output i along this axis
            if where is None:
                _along(dx, axis, start, end)[...] += g / (end - start)
            else:
                inputs = np.arange(start, end).reshape(_line(dy.ndim, axis, end - start))
                hit = inputs == np.take(where, [i], axis=axis)
                _along(dx, axis, start, end)[...] += np.where(hit, g, 0)
        dy = dx
    return dy


def _average(x, axis, windows):
    """y[..., i, ...] = mean of x over window i along `axis`"""
    parts = [_along(x, axis, start, end).mean(axis=axis, keepdims=True) for start, end in windows]
    return np.concatenate(parts, axis=axis)


def _max(x, axis, windows):
    """(y, where): y[..., i, ...] = max of x over window i along `axis`, `where` the index
    of the first maximum (the input's index along the axis)."""
    values, where = [], []
    for start, end in windows:
        part = _along(x, axis, start, end)
        values.append(part.max(axis=axis, keepdims=True))
        where.append(start + part.argmax(axis=axis)[(slice(None),) * axis + (None,)])
    return np.concatenate(values, axis=axis), np.concatenate(where, axis=axis)


def _along(x, axis, start, end):
    """The view x[..., start:end, ...] with the slice on `axis`."""
    return x[(slice(None),) * axis + (slice(start, end),)]


def _line(ndim, axis, n):
    """The shape that lays n values along `axis` of an array of `ndim` axes."""
    return tuple(n if i == axis else 1 for i in range(ndim))


def one_axis_output_size(layer, output_size):
    """Keras's 1-D check: a TypeError for another type, a ValueError for a wrong length."""
    if isinstance(output_size, (tuple, list)) and len(output_size) != 1:
        raise ValueError(
            f"For 1D input, `output_size` tuple must have length 1. Received: {output_size}"
        )
    if isinstance(output_size, bool) or not isinstance(output_size, (int, np.integer, tuple, list)):
        raise TypeError(
            "`output_size` must be an integer or tuple of 1 integer. "
            f"Received: {output_size} of type {type(output_size)}"
        )
    return BaseAdaptivePooling._output_size_tuple(layer, output_size)


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Average pooling of (batch, steps, channels) to `output_size` steps.

    >>> import numpy as np
    >>> from minikeras.layers import AdaptiveAveragePooling1D
    >>> AdaptiveAveragePooling1D(2)(np.arange(6.0).reshape(1, 6, 1))[0, :, 0]
    array([1., 4.], dtype=float32)
    """

    rank, mode = 1, "average"
    _output_size_tuple = one_axis_output_size


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max pooling of (batch, steps, channels) to `output_size` steps.

    >>> import numpy as np
    >>> from minikeras.layers import AdaptiveMaxPooling1D
    >>> AdaptiveMaxPooling1D(2)(np.arange(6.0).reshape(1, 6, 1))[0, :, 0]
    array([2., 5.], dtype=float32)
    """

    rank, mode = 1, "max"
    _output_size_tuple = one_axis_output_size


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Average pooling of (batch, height, width, channels) to `output_size` rows and columns.

    >>> import numpy as np
    >>> from minikeras.layers import AdaptiveAveragePooling2D
    >>> AdaptiveAveragePooling2D((2, 3))(np.ones((1, 5, 7, 4))).shape
    (1, 2, 3, 4)
    """

    rank, mode, axis_names = 2, "average", "(height, width)"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max pooling of (batch, height, width, channels) to `output_size` rows and columns."""

    rank, mode, axis_names = 2, "max", "(height, width)"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Average pooling of (batch, depth, height, width, channels) to `output_size`."""

    rank, mode, axis_names = 3, "average", "(depth, height, width)"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max pooling of (batch, depth, height, width, channels) to `output_size`."""

    rank, mode, axis_names = 3, "max", "(depth, height, width)"
