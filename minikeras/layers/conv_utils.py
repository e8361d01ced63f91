"""What convolution and pooling layers share: argument checks, output sizes and padding.

Along one spatial axis, an input of `size` elements, a window of `kernel` taps spaced by
`dilation` (so it spans k_eff = (kernel − 1)·dilation + 1 elements) and a `stride` give

    'valid':  out = ⌊(size − k_eff) / stride⌋ + 1    no padding; must be ≥ 1
    'same':   out = ⌈size / stride⌉                 padding max((out − 1)·stride + k_eff − size, 0)
    'causal': out = size (stride 1)                 padding k_eff − 1, all before (Conv1D only)

'same' puts half the padding before (rounded down) and the rest after, as TensorFlow does.
"""

import numpy as np

from minikeras import config
from minikeras.layers.layer import Layer


def standardize_tuple(value, n, name, allow_zero=False):
    """`value` (an int or n ints) as a tuple of n ints > 0 (≥ 0 with allow_zero); ValueError
    with Keras's message otherwise (keras/src/utils/argument_validation.py)."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(message)
        values = tuple(int(v) for v in values)
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        requirement = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{message}, including values {bad} that do not satisfy `value {requirement}`"
        )
    return values


def standardize_padding(value, allow_causal=False):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {set(allowed)}. Received: {value}")
    return padding


def standardize_data_format(value):
    """'channels_last' (the default) or 'channels_first'; Keras's ValueError otherwise."""
    data_format = config.image_data_format() if value is None else str(value).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    return data_format


def check_filters(filters):
    """A convolution's `filters`: a strictly positive integer (Keras's check and message)."""
    if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            f"Received filters={filters}."
        )


def check_strides_and_dilation(strides, dilation_rate):
    """Strides and dilation both above 1 are refused, as Keras refuses them."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation_rate}"
        )


def output_size(size, kernel, stride, dilation, padding):
    """The output length along one axis (see the module docstring); None stays None."""
    if size is None:
        return None
    if padding == "valid":
        return (size - ((kernel - 1) * dilation + 1)) // stride + 1
    return (size - 1) // stride + 1  # 'same' and 'causal'


def pad_before(size, out, kernel, stride, dilation, padding):
    """The padding before the first element along one axis (see the module docstring)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0
    if padding == "causal":
        return span - 1
    return max((out - 1) * stride + span - size, 0) // 2


def spatial_output_shape(layer, input_shape, kernel_size, strides, dilation_rate, what):
    """The output's spatial sizes; ValueError (Keras's) when one would be zero or negative,
    which happens when the window is larger than the (unpadded) input."""
    spatial = tuple(input_shape[1:-1])
    sizes = tuple(
        output_size(n, k, s, d, layer.padding)
        for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate)
    )
    if any(m is not None and m <= 0 for m in sizes):
        raise ValueError(
            "Computed output size would be zero or negative. Received "
            f"`inputs shape={tuple(input_shape)}`, `{what}={kernel_size}`, "
            f"`dilation_rate={dilation_rate}`, `strides={strides}`, "
            f"`padding={layer.padding}`: the window spans "
            f"{tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate))} elements, "
            f"more than the input's {spatial}."
        )
    return sizes


def check_rank_and_channels(layer, shape, rank, channels=None, axis=-1):
    """Keras's InputSpec for these layers: ndim = rank + 2, and for convolutions the channel
    count (on `axis`) the layer was built with (the spatial sizes may differ between calls)."""
    if len(shape) != rank + 2:
        raise ValueError(
            f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected '
            f"ndim={rank + 2}, found ndim={len(shape)}. Full shape received: {tuple(shape)}"
        )
    if channels is not None and shape[axis] != channels:
        raise ValueError(
            f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected axis '
            f"{axis} of input shape to have value {channels}, but received input with shape "
            f"{tuple(shape)}"
        )


class SpatialLayer(Layer):
    """A layer over (batch, *spatial, channels) inputs whose spatial sizes may change between
    calls (Keras checks only the rank and the channels). 1-D layers are run as 2-D ones of
    height 1: `as_image` adds that axis, `pair` makes (rows, columns) pairs. 2-D and 3-D
    layers hand their images and volumes to the kernels as they are.

    data_format='channels_first' inputs (batch, channels, *spatial) are transposed to
    channels-last on the way in and the results back on the way out (`channels_last`,
    `channels_back`): the kernels read one layout, at the cost of two copies a call.
    """

    rank = 2
    has_weights = False  # convolutions are built for a channel count; pooling takes any
    data_format = "channels_last"

    @property
    def channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def check_input_shape(self, shape):
        # the spatial sizes are checked in `call`, where the geometry is computed anyway
        built = self.has_weights and self.input_shape is not None
        channels = self.input_shape[self.channel_axis] if built else None
        check_rank_and_channels(self, shape, self.rank, channels, self.channel_axis)

    def channels_last(self, a):
        """`a` (an input, or a gradient shaped as the output) in the (batch, ..., channels)
        layout the kernels read; a channels_first array is transposed (a copy)."""
        if self.data_format != "channels_first" or a is None:
            return a
        return np.ascontiguousarray(np.moveaxis(a, 1, -1))

    def channels_back(self, a):
        """The inverse of `channels_last`: a result back in the layer's own layout."""
        if self.data_format != "channels_first" or a is None:
            return a
        return np.ascontiguousarray(np.moveaxis(a, -1, 1))

    def last_shape(self, shape):
        """A shape in the channels-last order."""
        shape = tuple(shape)
        if self.data_format != "channels_first":
            return shape
        return (shape[0], *shape[2:], shape[1])

    def back_shape(self, shape):
        """A channels-last shape in the layer's own order."""
        shape = tuple(shape)
        if self.data_format != "channels_first":
            return shape
        return (shape[0], shape[-1], *shape[1:-1])

    def as_image(self, x):
        """x as (batch, height, width, channels): 1-D inputs get a height of 1 (a volume,
        (batch, depth, height, width, channels), stays as it is)."""
        return x if self.rank > 1 else x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])

    def pair(self, values, one=1):
        """A 2-D (rows, columns) pair from a per-axis tuple: 1-D layers have one row (a 3-D
        layer keeps its (depth, rows, columns) triple)."""
        return tuple(values) if self.rank > 1 else (one, values[0])
