"""DepthwiseConv1D and DepthwiseConv2D: one small convolution per input channel.

Channel c of the input is convolved with its own `depth_multiplier` kernels, and never mixed
with the other channels. With the patches `cols` of `kernels.im2col` (one row per output
position p, one column per kernel tap k and channel c) and the kernel W (taps, in, multiplier):

    z[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m] + b[c·M + m]       output channel c·M + m
    y = act(z)

and backward, from dz = dy ⊙ act'(z):

    dW[k, c, m] = Σ_p cols[p, k, c]·dz[p, c, m]        db = Σ_p dz
    dcols[p, k, c] = Σ_m dz[p, c, m]·W[k, c, m]         dx = col2im(dcols)

It is a Conv2D with groups = channels; written as its own product it costs `channels` times
less than a Conv2D kernel filled with zeros off its diagonal blocks.
"""

import numpy as np

from minikeras import activations, constraints, initializers, kernels, regularizers
from minikeras.layers import conv_utils
from minikeras.layers.conv_utils import SpatialLayer, standardize_tuple


def check_depth_multiplier(depth_multiplier):
    """Keras's check and message (keras/src/layers/convolutional/base_depthwise_conv.py)."""
    if depth_multiplier is not None and depth_multiplier <= 0:
        raise ValueError(
            "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
            f"value. Received depth_multiplier={depth_multiplier}."
        )


class DepthwiseGeometry(SpatialLayer):
    """The depthwise step that DepthwiseConv and SeparableConv share: its arguments, the
    output sizes, and the product over patches with its backward."""

    has_weights = True

    def set_window(self, kernel_size, strides, padding, data_format, dilation_rate):
        """The window's arguments, checked as Keras checks them (each tuple's values > 0)."""
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = standardize_tuple(strides, self.rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = conv_utils.standardize_padding(padding)
        self.data_format = conv_utils.standardize_data_format(data_format)
        # TensorFlow's depthwise convolution takes strides and dilation both above 1 (unlike
        # Conv2D's): Keras checks neither, and neither does this layer

    def spatial_sizes(self, shape):
        """The output's spatial sizes for a channels-last input shape (Keras's ValueError when
        the window does not fit)."""
        return conv_utils.spatial_output_shape(
            self, shape, self.kernel_size, self.strides, self.dilation_rate, "kernel shape"
        )

    def depthwise_forward(self, x, kernel):
        """z (positions, in·multiplier) for a channels-last x; keeps the patches for backward.
        cols = im2col(x)                          (batch·oh·ow, kh·kw, in)
        z[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m]  (batch·oh·ow, in, multiplier)
        """
        image = self.as_image(x)
        sizes = self.spatial_sizes(x.shape)
        pad = tuple(
            conv_utils.pad_before(n, m, k, s, d, self.padding)
            for n, m, k, s, d in zip(
                x.shape[1:-1], sizes, self.kernel_size, self.strides, self.dilation_rate
            )
        )
        window, strides = self.pair(self.kernel_size), self.pair(self.strides)
        geometry = (window, strides, self.pair(self.dilation_rate), self.pair(pad, one=0))
        batch, channels = x.shape[0], x.shape[-1]
        oh, ow = self.pair(sizes)
        cols = self.buffer("cols", (batch, oh, ow, *window, channels))
        kernels.im2col(image, *geometry, cols)
        taps = window[0] * window[1]
        self.cols = cols.reshape(batch * oh * ow, taps, channels)
        self.depthwise_matrix = kernel.reshape(taps, channels, -1)
        z = self.buffer("depthwise_z", (len(self.cols), channels, self.depthwise_matrix.shape[2]))
        kernels.depthwise_forward(self.cols, self.depthwise_matrix, z)
        self.geometry, self.image_shape = geometry, image.shape
        self.input_batch_shape = x.shape
        self.spatial_output = (batch, *sizes)
        return z.reshape(len(self.cols), -1)

    def depthwise_backward(self, dz, kernel_shape):
        """(dW, dx) from dz (positions, in·multiplier), dx None when not needed:
        dW[k, c, m] = Σ_p cols[p, k, c]·dz[p, c, m]      (kh·kw, in, multiplier)
        dcols[p, k, c] = Σ_m dz[p, c, m]·W[k, c, m]       (batch·oh·ow, kh·kw, in)
        dx = col2im(dcols)
        """
        dz = np.ascontiguousarray(dz, dtype=self.cols.dtype).reshape(
            len(self.cols), *self.depthwise_matrix.shape[1:]
        )
        dkernel = self.buffer("depthwise_dkernel", self.depthwise_matrix.shape)
        dcols = None
        if self.input_gradient_needed:
            dcols = self.buffer("depthwise_dcols", self.cols.shape)
        kernels.depthwise_backward(self.cols, self.depthwise_matrix, dz, dkernel, dcols)
        if dcols is None:
            return dkernel.reshape(kernel_shape), None
        dx = self.buffer("dx", self.image_shape)
        batch, channels = self.image_shape[0], self.image_shape[-1]
        oh, ow = self.pair(self.spatial_output[1:])
        patches = dcols.reshape(batch, oh, ow, *self.geometry[0], channels)
        kernels.col2im(patches, *self.geometry, dx)
        dx = self.channels_back(dx.reshape(self.input_batch_shape))
        return dkernel.reshape(kernel_shape), dx


class BaseDepthwiseConv(DepthwiseGeometry):
    """What DepthwiseConv1D and DepthwiseConv2D share; `rank` is the number of spatial axes."""

    # DepthwiseConv1D's and DepthwiseConv2D's arguments, in their order (Keras's base class
    # takes `rank` and `depth_multiplier` first; here the rank is a class attribute)
    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        # checked before the base class names the layer: a refused layer leaves no trace
        self.set_window(kernel_size, strides, padding, data_format, dilation_rate)
        check_depth_multiplier(depth_multiplier)
        self.activation = activations.get(activation)
        self.activation_backward = activations.backward_of(self.activation)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.use_bias = bool(use_bias)
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
        return activations.serialize(self.activation)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        conv_utils.check_rank_and_channels(self, input_shape, self.rank)
        channels = input_shape[self.channel_axis]
        self.compute_output_shape(input_shape)  # raises if the kernel does not fit
        self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier),
            self.depthwise_initializer,
            name="kernel",
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        if self.use_bias:
            self.add_weight(
                (channels * self.depth_multiplier,),
                self.bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        shape = self.last_shape(input_shape)
        filters = None if shape[-1] is None else shape[-1] * self.depth_multiplier
        return self.back_shape((shape[0], *self.spatial_sizes(shape), filters))

    def call(self, x, training=False):
        """z = depthwise(x) + b       (batch·oh·ow, in·multiplier)
        y = act(z)"""
        x = self.channels_last(x)
        z = self.depthwise_forward(x, self.kernel)
        if self.use_bias:
            z += self.bias
        self.z, self.y = z, self.activation(z)
        return self.channels_back(self.y.reshape(*self.spatial_output, z.shape[-1]))

    @property
    def logits(self):
        return self.channels_back(self.z.reshape(*self.spatial_output, self.z.shape[-1]))

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then db = Σ dz and the depthwise gradients (module docstring)."""
        dy = self.channels_last(dy).reshape(self.y.shape)
        return self.backward_logits_flat(self.activation_backward(self.z, self.y, dy))

    def backward_logits(self, dz):
        """From dz = dL/dz (softmax/sigmoid already differentiated with the loss), laid out
        as the output: back to (positions, channels), then backward_logits_flat."""
        return self.backward_logits_flat(self.channels_last(dz).reshape(self.z.shape))

    def backward_logits_flat(self, dz):
        """From dz (positions, in·multiplier): db = Σ_p dz, dW and dx as depthwise_backward."""
        dkernel, dx = self.depthwise_backward(dz, self.kernel.shape)
        self.grads = [dkernel, dz.sum(axis=0)] if self.use_bias else [dkernel]
        return dx

    def get_config(self):
        # Keras 3.15's keys, in its order
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras puts it among the others, below
        return {
            **config,
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.config_value(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels); kernel (kernel_size, in,
    depth_multiplier), output channels in·depth_multiplier.

    >>> import numpy as np
    >>> from minikeras.layers import DepthwiseConv1D
    >>> layer = DepthwiseConv1D(3, depth_multiplier=2)
    >>> layer(np.ones((2, 10, 4))).shape, layer.kernel.shape
    ((2, 8, 8), (3, 4, 2))
    """

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution over (batch, height, width, channels); kernel (kh, kw, in,
    depth_multiplier), output channels in·depth_multiplier.

    >>> import numpy as np
    >>> from minikeras.layers import DepthwiseConv2D
    >>> DepthwiseConv2D(3, padding="same")(np.ones((2, 5, 5, 3))).shape
    (2, 5, 5, 3)
    """

    rank = 2
