"""Conv1D, Conv2D and Conv3D: a Dense layer applied to every patch of the input.

For each output position, the input patch under the kernel (kh·kw·channels numbers; a 3-D
kernel adds its depth kd) is one row
of the patch matrix `cols` (`kernels.im2col`); the convolution is then exactly a Dense layer on
those rows, with the kernel seen as a (kh·kw·channels, filters) matrix:

    z = cols·W + b        (batch·oh·ow, kh·kw·in)·(kh·kw·in, filters)
    y = act(z)

and its backward pass is the Dense backward pass followed by `col2im`, which adds each patch
row's gradient back onto the input elements it was read from:

    dW = colsᵀ·dz         db = Σ dz         dx = col2im(dz·Wᵀ)

docs/convolution.md works one small example by hand.
"""

import math

import numpy as np

from minikeras import activations, constraints, initializers, kernels, ops, regularizers
from minikeras.autodiff.foreign import convert_foreign
from minikeras.layers import conv_utils
from minikeras.layers.conv_utils import SpatialLayer, standardize_tuple


class BaseConv(SpatialLayer):
    """What Conv1D, Conv2D and Conv3D share; `rank` is the number of spatial axes."""

    has_weights = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
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
        # Every argument is checked before the base class names the layer: a refused layer
        # leaves no trace (not even a used-up name). Keras's checks and messages
        # (keras/src/layers/convolutional/base_conv.py), in its order.
        rank = self.rank
        kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        strides = standardize_tuple(strides, rank, "strides")
        dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        padding = conv_utils.standardize_padding(padding, allow_causal=rank == 1)
        data_format = conv_utils.standardize_data_format(data_format)
        conv_utils.check_filters(filters)
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters % groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
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
        self.filters, self.groups = int(filters), int(groups)
        self.kernel_size, self.strides, self.dilation_rate = kernel_size, strides, dilation_rate
        self.padding, self.data_format = padding, data_format
        self.activation = activation
        self.activation_backward = activations.backward_of(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        # the built-in activations the dense kernels apply in the same pass as cols·W + b
        name = activations.serialize(activation)
        is_builtin = activations.ALL_ACTIVATIONS.get(name, (None,))[0] is activation
        self._fused = name if is_builtin and name in kernels.FUSED_ACTIVATIONS else None
        self.input_gradient_needed = True  # the model turns it off for a first layer
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
        """The name of this layer's activation (to find softmax/sigmoid logits)."""
        return activations.serialize(self.activation)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank_and_channels(self, input_shape, self.rank)
        channels = input_shape[self.channel_axis]
        if channels % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels (full "
                f"input shape is {input_shape})."
            )
        self.compute_output_shape(input_shape)  # raises if the kernel does not fit
        kernel_shape = self.kernel_size + (channels // self.groups, self.filters)
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

    def compute_output_shape(self, input_shape):
        input_shape = self.last_shape(input_shape)
        sizes = conv_utils.spatial_output_shape(
            self, input_shape, self.kernel_size, self.strides, self.dilation_rate, "kernel shape"
        )
        return self.back_shape((input_shape[0],) + sizes + (self.filters,))

    def _geometry(self, shape):
        """(output spatial sizes, the same as kernel pairs, padding before as pairs) for an
        input of `shape` (pairs: see `SpatialLayer.pair`)."""
        sizes = conv_utils.spatial_output_shape(
            self, shape, self.kernel_size, self.strides, self.dilation_rate, "kernel shape"
        )
        pad = tuple(
            conv_utils.pad_before(n, m, k, s, d, self.padding)
            for n, m, k, s, d in zip(
                shape[1:-1], sizes, self.kernel_size, self.strides, self.dilation_rate
            )
        )
        return sizes, self.pair(sizes), self.pair(pad, one=0)

    def _matrix_kernel(self):
        """The kernel as a (kh·kw·in, filters) matrix. With groups, channel group g feeds
        only filter group g: the matrix is block diagonal, zeros elsewhere (groups× the
        arithmetic of separate products, but one product, and the same code path)."""
        if self.groups == 1:
            return self.kernel.reshape(-1, self.filters)
        *window, per_group, filters = self.kernel.shape
        g, fg = self.groups, self.filters // self.groups
        full = self.buffer("full_kernel", (*window, per_group * g, filters))
        full[...] = 0
        for i in range(g):
            full[..., i * per_group : (i + 1) * per_group, i * fg : (i + 1) * fg] = self.kernel[
                ..., i * fg : (i + 1) * fg
            ]
        return full.reshape(-1, filters)

    def __init_subclass__(cls, **kwargs):
        if "convolution_op" in vars(cls) and "call" not in vars(cls):
            # a subclass of yours that changes the convolution only (keras.io's
            # StandardizedConv2D): Keras's `call` goes through `convolution_op`, so this one
            # does too, differentiated by the tape (Layer.__init_subclass__)
            cls.call = BaseConv.call_with_ops
        super().__init_subclass__(**kwargs)

    def convolution_op(self, inputs, kernel):
        """The convolution of `inputs` by `kernel` alone (no bias, no activation), in ops, as
        Keras's `convolution_op`: for a subclass's `call` with a kernel of its own making."""
        return ops.conv(
            inputs,
            kernel,
            strides=list(self.strides),
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )

    def call_with_ops(self, inputs):
        """Keras's `call`: convolution_op, then the bias and the activation, in ops."""
        # (one written with TensorFlow's ops returns a tf.Tensor: an array from here on)
        y = convert_foreign(self.convolution_op(inputs, self.kernel))
        if self.use_bias:
            ones = (1,) * self.rank
            shape = (1, *ones, self.filters) if self.data_format == "channels_last" else None
            y = y + ops.reshape(self.bias, shape or (1, self.filters, *ones))
        return self.activation(y) if self.activation is not None else y

    def call(self, x, training=False):
        """cols = im2col(x)     (batch, oh, ow, kh, kw, in)
        z = cols·W + b          (batch·oh·ow, kh·kw·in)·(kh·kw·in, filters)
        y = act(z)
        """
        x = self.channels_last(x)
        image = self.as_image(x)
        sizes, out, pad = self._geometry(x.shape)
        batch, channels = x.shape[0], x.shape[-1]
        window, strides = self.pair(self.kernel_size), self.pair(self.strides)
        dilation = self.pair(self.dilation_rate)
        cols = self.buffer("cols", (batch, *out, *window, channels))
        self.matrix_kernel = self._matrix_kernel()
        z = self.buffer("z", (batch * math.prod(out), self.filters))
        # a built-in activation is applied in the same pass; any other after z
        fused = self._fused or "linear"
        y = z if fused == "linear" else self.buffer("y", z.shape)
        bias = None if self.bias is None else self.bias.value  # plain: faster in a kernel
        geometry = (window, strides, dilation, pad)
        kernels.conv_forward(image, self.matrix_kernel, bias, fused, *geometry, cols, z, y)
        if not self._fused:
            y = self.activation(z)
        self.cols = cols
        self.z, self.y = z, y
        self.image_shape, self.window_geometry = image.shape, (window, strides, dilation, pad)
        self.input_batch_shape = x.shape
        self.output_batch_shape = (batch, *sizes, self.filters)
        return self.channels_back(y.reshape(self.output_batch_shape))

    @property
    def logits(self):
        """The pre-activation z of the last call, shaped as the output."""
        return self.channels_back(self.z.reshape(self.output_batch_shape))

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then the weight and input gradients (see `backward_logits`)."""
        dy = self.channels_last(dy).reshape(self.y.shape)
        if self._fused:
            return self._conv_backward(np.ascontiguousarray(dy, dtype=self.z.dtype), self._fused)
        dz = self.activation_backward(self.z, self.y, dy)
        return self._conv_backward(np.ascontiguousarray(dz, dtype=self.z.dtype), "linear")

    def backward_logits(self, dz):
        """Backward from dz = dL/dz (softmax/sigmoid already differentiated with the loss):
        dW = colsᵀ·dz          (kh·kw·in, batch·oh·ow)·(batch·oh·ow, filters)
        db = Σ dz              over every output position
        dcols = dz·Wᵀ          (batch·oh·ow, filters)·(filters, kh·kw·in)
        dx = col2im(dcols)     each patch entry added back where im2col read it
        """
        dz = self.channels_last(dz)
        dz = np.ascontiguousarray(dz, dtype=self.z.dtype).reshape(self.z.shape)
        return self._conv_backward(dz, "linear")

    def _conv_backward(self, dy, activation):
        dz = dy if activation == "linear" else self.buffer("dz", dy.shape)
        dkernel = self.buffer("dkernel", self.matrix_kernel.shape)
        dbias = self.buffer("dbias", (self.filters,)) if self.use_bias else None
        dcols = dx = None
        if self.input_gradient_needed:
            dcols = self.buffer("dcols", (len(self.z), self.matrix_kernel.shape[0]))
            dx = self.buffer("dx", self.image_shape)
        kernels.conv_backward(
            self.cols, self.matrix_kernel, self.z, self.y, dy, activation, *self.window_geometry,
            dz, dkernel, dbias, dcols, dx,
        )  # fmt: skip
        dkernel = self._group_blocks(dkernel)
        self.grads = [dkernel, dbias] if self.use_bias else [dkernel]
        return None if dx is None else self.channels_back(dx.reshape(self.input_batch_shape))

    def _group_blocks(self, dfull):
        """The kernel's gradient from the full matrix's: its diagonal blocks (groups > 1)."""
        if self.groups == 1:
            return dfull.reshape(self.kernel.shape)
        *window, per_group, filters = self.kernel.shape
        dfull = dfull.reshape(*window, per_group * self.groups, filters)
        dkernel = self.buffer("dkernel_groups", self.kernel.shape)
        fg = filters // self.groups
        for i in range(self.groups):
            dkernel[..., i * fg : (i + 1) * fg] = dfull[
                ..., i * per_group : (i + 1) * per_group, i * fg : (i + 1) * fg
            ]
        return dkernel

    def get_config(self):
        # Keras 3.15's keys, in its order (tuples for the sizes, the resolved data_format)
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras puts it among the others, below
        return {
            **config,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
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


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels); kernel (kernel_size, in, filters).
    `padding="causal"` pads only before, so output t sees inputs up to t.

    >>> import numpy as np
    >>> from minikeras.layers import Conv1D
    >>> Conv1D(4, 3, padding="causal")(np.ones((2, 10, 3))).shape
    (2, 10, 4)
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, in/groups,
    filters).

    >>> import numpy as np
    >>> from minikeras.layers import Conv2D
    >>> layer = Conv2D(8, 3, strides=2, padding="same", activation="relu")
    >>> layer(np.ones((2, 28, 28, 1))).shape, layer.kernel.shape
    ((2, 14, 14, 8), (3, 3, 1, 8))
    """

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over (batch, depth, height, width, channels); kernel (kd, kh, kw,
    in/groups, filters). The patches span three axes (`kernels.im2col` on a volume); the rest
    is Conv2D's Dense-on-patches, forward and backward.

    >>> import numpy as np
    >>> from minikeras.layers import Conv3D
    >>> layer = Conv3D(4, 3, padding="same")
    >>> layer(np.ones((1, 5, 6, 7, 2))).shape, layer.kernel.shape
    ((1, 5, 6, 7, 4), (3, 3, 3, 2, 4))
    """

    rank = 3
