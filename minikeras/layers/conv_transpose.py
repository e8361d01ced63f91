"""Conv1DTranspose, Conv2DTranspose and Conv3DTranspose: the input gradient of a convolution,
used as a forward pass (a 1-D layer runs as a 2-D one of height 1; a 3-D one is the same
algebra on volumes, its kernel (kd, kh, kw, filters, in)).

A Conv2D maps a large image to a small one; its input gradient `col2im(dz·Wᵀ)` maps the small
one back to the large one's shape. Conv2DTranspose is exactly that map, with its own kernel
K (kh, kw, filters, in): it reads (batch, h, w, in) and writes (batch, oh, ow, filters), where
the Conv2D of the same kernel_size, strides, padding and dilation would map oh×ow back to h×w.

    cols = x·Kᵀ            (batch·h·w, in)·(in, kh·kw·filters)
    z = col2im(cols) + b   each input pixel's kh×kw×filters patch added onto the output
    y = act(z)

Its backward pass is therefore a plain convolution of the output's gradient:

    dcols = im2col(dz)     (batch·h·w, kh·kw·filters)
    dx = dcols·K           (batch·h·w, kh·kw·filters)·(kh·kw·filters, in)
    dK = dcolsᵀ·x          (kh·kw·filters, batch·h·w)·(batch·h·w, in)
    db = Σ dz
"""

import math

import numpy as np

from minikeras import activations, constraints, initializers, kernels, regularizers
from minikeras.layers import conv_utils
from minikeras.layers.conv_utils import SpatialLayer, standardize_tuple


def transpose_output_size(size, kernel, stride, dilation, padding, output_padding):
    """Keras's output length along one axis (keras/src/backend/common/backend_utils.py):
    valid: (size − 1)·stride + max(k_eff, stride) (+ output_padding − that excess, if given);
    same: size·stride, or (size − 1)·stride + k_eff mod 2 + output_padding."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding


def _per_axis(value, rank):
    return (value,) * rank if value is None or isinstance(value, int) else tuple(value)


def compute_conv_transpose_output_shape(
    input_shape,
    kernel_size,
    filters,
    strides,
    padding,
    output_padding=None,
    data_format="channels_last",
    dilation_rate=1,
):
    """The output shape (a list) of a transposed convolution, Keras's backend utility
    (keras.src.backend.common.backend_utils): `transpose_output_size` along each axis."""
    rank = len(input_shape) - 2
    padding = conv_utils.standardize_padding(padding)
    last = data_format == "channels_last"
    spatial = input_shape[1:-1] if last else input_shape[2:]
    sizes = [
        transpose_output_size(n, k, s, d, padding, p)
        for n, k, s, d, p in zip(
            spatial,
            _per_axis(kernel_size, rank),
            _per_axis(strides, rank),
            _per_axis(dilation_rate, rank),
            _per_axis(output_padding, rank),
        )
    ]
    return [input_shape[0], *sizes, filters] if last else [input_shape[0], filters, *sizes]


def compute_conv_transpose_padding_args_for_jax(
    input_shape, kernel_shape, strides, padding, output_padding, dilation_rate
):
    """Keras's backend utility: for each axis, the (before, after) padding that makes a plain
    convolution of the stride-dilated input (s − 1 zeros between elements) by the flipped
    kernel give the transposed convolution's output. With k_eff = (k − 1)·d + 1:
    'valid' pads k_eff − 1 on both sides (+ the output_padding after); 'same' pads the total
    that gives `transpose_output_size`, the larger half first, at most k_eff − 1 of it."""
    rank = len(input_shape) - 2
    padding = conv_utils.standardize_padding(padding)
    pads = []
    for k, s, d, p in zip(
        kernel_shape[:-2],
        _per_axis(strides, rank),
        _per_axis(dilation_rate, rank),
        _per_axis(output_padding, rank),
    ):
        span = (k - 1) * d + 1
        if padding == "valid":
            extra = max(span, s) - span if p is None else p
            pads.append((span - 1, span - 1 + extra))
            continue
        # the dilated input has (n − 1)·s + 1 elements; the output n·s, or
        # (n − 1)·s + k_eff mod 2 + output_padding
        total = s + span - 2 if p is None else span + span % 2 - 2 + p
        before = min((total + 1) // 2, span - 1)
        pads.append((before, total - before))
    return pads


class BaseConvTranspose(SpatialLayer):
    """What the 1-D, 2-D and 3-D transposed convolutions share; `rank` is the number of
    spatial axes."""

    has_weights = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        # checked before the base class names the layer (see conv.py), Keras's messages
        # (keras/src/layers/convolutional/base_conv_transpose.py)
        rank = self.rank
        kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        strides = standardize_tuple(strides, rank, "strides")
        dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if output_padding is not None:
            output_padding = standardize_tuple(
                output_padding, rank, "output_padding", allow_zero=True
            )
            for i, (p, s) in enumerate(zip(output_padding, strides)):
                if p >= s:  # Keras 3.15's message
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {p} but `strides` "
                        f"is {s}. Received: output_padding={output_padding}, strides={strides}"
                    )
        padding = conv_utils.standardize_padding(padding)
        data_format = conv_utils.standardize_data_format(data_format)
        conv_utils.check_filters(filters)
        conv_utils.check_strides_and_dilation(strides, dilation_rate)
        activation = activations.get(activation)
        kernel_initializer = initializers.get(kernel_initializer)
        bias_initializer = initializers.get(bias_initializer)
        kernel_regularizer = regularizers.get(kernel_regularizer)
        bias_regularizer = regularizers.get(bias_regularizer)
        kernel_constraint = constraints.get(kernel_constraint)
        bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.filters = int(filters)
        self.kernel_size, self.strides, self.dilation_rate = kernel_size, strides, dilation_rate
        self.padding, self.output_padding, self.data_format = padding, output_padding, data_format
        self.activation = activation
        self.activation_backward = activations.backward_of(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        name = activations.serialize(activation)
        is_builtin = activations.ALL_ACTIVATIONS.get(name, (None,))[0] is activation
        self._fused = name if is_builtin and name in kernels.FUSED_ACTIVATIONS else None
        self.input_gradient_needed = True
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def kernel(self):
        return self.weights[0]

    @property
    def bias(self):
        return self.weights[1] if self.use_bias else None

    @property
    def output_activation(self):
        return activations.serialize(self.activation)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank_and_channels(self, input_shape, self.rank)
        channels = input_shape[self.channel_axis]
        kernel_shape = self.kernel_size + (self.filters, channels)  # (kh, kw, out, in)
        # (a 1-D layer's (k, out, in) is the same array as the (1, k, out, in) of height 1)
        self.add_weight(
            kernel_shape,
            self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.add_weight(
                (self.filters,),
                self.bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        super().build(input_shape)

    def _output_sizes(self, input_shape):
        padding = self.output_padding or (None,) * self.rank
        return tuple(
            transpose_output_size(n, k, s, d, self.padding, p)
            for n, k, s, d, p in zip(
                input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate, padding
            )
        )

    def compute_output_shape(self, input_shape):
        input_shape = self.last_shape(input_shape)
        return self.back_shape((input_shape[0], *self._output_sizes(input_shape), self.filters))

    def call(self, x, training=False):
        """cols = x·Kᵀ          (batch·h·w, in)·(in, kh·kw·filters)
        z = col2im(cols) + b   (batch, oh, ow, filters)
        y = act(z)
        """
        x = self.channels_last(x)
        sizes = self._output_sizes(x.shape)
        input_shape, x = x.shape, self.as_image(x)
        batch, *spatial, channels = x.shape  # spatial (h, w), or (d, h, w) for a volume
        out = self.pair(sizes)
        window, strides = self.pair(self.kernel_size), self.pair(self.strides)
        dilation = self.pair(self.dilation_rate)
        # the padding of the convolution that maps `out` back to `spatial`
        pad = tuple(
            conv_utils.pad_before(big, small, k, s, d, self.padding)
            for big, small, k, s, d in zip(out, spatial, window, strides, dilation)
        )
        positions = batch * math.prod(spatial)
        self.x = x.reshape(positions, channels)
        self.matrix_kernel = self.kernel.reshape(-1, channels)  # (kh·kw·filters, in)
        cols = self.buffer("cols", (batch, *spatial, *window, self.filters))
        kernels.matmul_nt(self.x, self.matrix_kernel, cols.reshape(positions, -1))
        z = self.buffer("z", (batch, *out, self.filters))
        self.geometry = (window, strides, dilation, pad)
        kernels.col2im(cols, *self.geometry, z)
        if self.use_bias:
            z += self.bias
        z2 = z.reshape(-1, self.filters)
        if self._fused:
            y = z2 if self._fused == "linear" else self.buffer("y", z2.shape)
            kernels.activation_forward(self._fused, z2, y)
        else:
            y = self.activation(z2)
        self.z, self.y, self.input_batch_shape = z2, y, input_shape
        self.output_batch_shape, self.patches_shape = z.shape, cols.shape
        self.output_layer_shape = (batch, *sizes, self.filters)  # without a 1-D layer's height
        return self.channels_back(y.reshape(self.output_layer_shape))

    @property
    def logits(self):
        return self.channels_back(self.z.reshape(self.output_layer_shape))

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then the gradients of `backward_logits`."""
        dy = np.ascontiguousarray(self.channels_last(dy), dtype=self.z.dtype).reshape(self.z.shape)
        dz = self.buffer("dz", dy.shape)
        if self._fused:
            kernels.activation_backward(self._fused, self.z, self.y, dy, dz)
        else:
            dz[...] = self.activation_backward(self.z, self.y, dy)
        return self.channels_back(self._backward_from_dz(dz))

    def backward_logits(self, dz):
        """From dz = dL/dz:
        dcols = im2col(dz)     (batch·h·w, kh·kw·filters)
        dK = dcolsᵀ·x          (kh·kw·filters, batch·h·w)·(batch·h·w, in)
        db = Σ dz
        dx = dcols·K           (batch·h·w, kh·kw·filters)·(kh·kw·filters, in)
        """
        return self.channels_back(self._backward_from_dz(self.channels_last(dz)))

    def _backward_from_dz(self, dz):
        """`backward_logits` on a channels-last dz; returns dx channels-last."""
        dz = np.ascontiguousarray(dz, dtype=self.z.dtype).reshape(self.output_batch_shape)
        dcols = self.buffer("dcols", self.patches_shape)
        kernels.im2col(dz, *self.geometry, dcols)
        dcols = dcols.reshape(self.x.shape[0], -1)
        dkernel = self.buffer("dkernel", self.matrix_kernel.shape)
        kernels.matmul_tn(dcols, self.x, dkernel)
        self.grads = [dkernel.reshape(self.kernel.shape)]
        if self.use_bias:
            dbias = self.buffer("dbias", (self.filters,))
            kernels.bias_grad(dz.reshape(-1, self.filters), dbias)
            self.grads.append(dbias)
        if not self.input_gradient_needed:
            return None
        dx = self.buffer("dx", self.x.shape)
        kernels.matmul(dcols, self.matrix_kernel, dx)
        return dx.reshape(self.input_batch_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras puts it among the others, below
        return {
            **config,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.config_value(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution over (batch, steps, channels); kernel (k, filters, in).

    >>> import numpy as np
    >>> from minikeras.layers import Conv1DTranspose
    >>> layer = Conv1DTranspose(3, 5, strides=2, padding="same")
    >>> layer(np.ones((1, 4, 2))).shape, layer.kernel.shape
    ((1, 8, 3), (5, 3, 2))
    """

    rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution ("deconvolution"); kernel (kh, kw, filters, in).

    >>> import numpy as np
    >>> from minikeras.layers import Conv2DTranspose
    >>> layer = Conv2DTranspose(3, 3, strides=2, padding="same")
    >>> layer(np.ones((1, 4, 4, 2))).shape, layer.kernel.shape
    ((1, 8, 8, 3), (3, 3, 3, 2))
    """

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution over (batch, depth, height, width, channels); kernel
    (kd, kh, kw, filters, in).

    >>> import numpy as np
    >>> from minikeras.layers import Conv3DTranspose
    >>> layer = Conv3DTranspose(3, 2, strides=2)
    >>> layer(np.ones((1, 2, 3, 4, 2))).shape, layer.kernel.shape
    ((1, 4, 6, 8, 3), (2, 2, 2, 3, 2))
    """

    rank = 3

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        # Keras's Conv3DTranspose takes data_format before output_padding (its 1-D and 2-D
        # layers take them the other way round); passed on by name
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
