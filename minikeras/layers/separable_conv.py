"""SeparableConv1D and SeparableConv2D: a depthwise convolution, then a 1×1 convolution.

The depthwise step (layers/depthwise_conv.py) filters each input channel on its own, making
in·M channels; the pointwise step mixes them at each position, a Dense layer applied to every
position with the kernel P (in·M, filters):

    d = depthwise(x)          (batch·oh·ow, in·M)       no bias of its own
    z = d·P + b               (batch·oh·ow, in·M)·(in·M, filters)
    y = act(z)

Backward, from dz = dy ⊙ act'(z):

    dP = dᵀ·dz               (in·M, batch·oh·ow)·(batch·oh·ow, filters)
    db = Σ dz
    dd = dz·Pᵀ               (batch·oh·ow, filters)·(filters, in·M)
    dW, dx = depthwise backward of dd
"""

from minikeras import activations, constraints, initializers, kernels, regularizers
from minikeras.layers import conv_utils
from minikeras.layers.depthwise_conv import DepthwiseGeometry, check_depth_multiplier


class BaseSeparableConv(DepthwiseGeometry):
    """What SeparableConv1D and SeparableConv2D share; `rank` is the number of spatial axes.
    The arguments are the subclasses' (Keras's base class takes `rank` first)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        # Keras's checks and messages (keras/src/layers/convolutional/base_separable_conv.py),
        # before the base class names the layer
        self.set_window(kernel_size, strides, padding, data_format, dilation_rate)
        check_depth_multiplier(depth_multiplier)
        if filters is not None:
            conv_utils.check_filters(filters)
        self.activation = activations.get(activation)
        self.activation_backward = activations.backward_of(self.activation)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters, self.depth_multiplier = filters, int(depth_multiplier)
        self.use_bias = bool(use_bias)
        self.input_gradient_needed = True  # the model turns it off for a first layer
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def depthwise_kernel(self):
        return self.weights[0]

    @property
    def pointwise_kernel(self):
        return self.weights[1]

    @property
    def bias(self):
        return self.weights[2] if self.use_bias else None

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
            name="depthwise_kernel",
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.add_weight(
            (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer,
            name="pointwise_kernel",
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
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
        shape = self.last_shape(input_shape)
        return self.back_shape((shape[0], *self.spatial_sizes(shape), self.filters))

    def call(self, x, training=False):
        """d = depthwise(x)     (batch·oh·ow, in·M)
        z = d·P + b             (batch·oh·ow, in·M)·(in·M, filters)
        y = act(z)"""
        x = self.channels_last(x)
        self.d = self.depthwise_forward(x, self.depthwise_kernel)
        pointwise = self.pointwise_kernel.reshape(-1, self.filters)
        z = self.buffer("z", (len(self.d), self.filters))
        kernels.matmul(self.d, pointwise, z)
        if self.use_bias:
            z += self.bias
        self.z, self.y = z, self.activation(z)
        return self.channels_back(self.y.reshape(*self.spatial_output, self.filters))

    @property
    def logits(self):
        return self.channels_back(self.z.reshape(*self.spatial_output, self.filters))

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then the products of the module docstring."""
        dy = self.channels_last(dy).reshape(self.y.shape)
        return self.backward_logits_flat(self.activation_backward(self.z, self.y, dy))

    def backward_logits(self, dz):
        """From dz = dL/dz (softmax/sigmoid already differentiated with the loss), laid out
        as the output: back to (positions, channels), then backward_logits_flat."""
        return self.backward_logits_flat(self.channels_last(dz).reshape(self.z.shape))

    def backward_logits_flat(self, dz):
        """dP = dᵀ·dz,  db = Σ dz,  dd = dz·Pᵀ, then the depthwise backward of dd."""
        pointwise = self.pointwise_kernel.reshape(-1, self.filters)
        dz = dz.astype(self.z.dtype, copy=False)
        dpointwise = self.buffer("dpointwise", pointwise.shape)
        kernels.matmul_tn(self.d, dz, dpointwise)  # (in·M, positions)·(positions, filters)
        dd = self.buffer("dd", self.d.shape)
        kernels.matmul_nt(dz, pointwise, dd)  # (positions, filters)·(filters, in·M)
        ddepthwise, dx = self.depthwise_backward(dd, self.depthwise_kernel.shape)
        self.grads = [ddepthwise, dpointwise.reshape(self.pointwise_kernel.shape)]
        if self.use_bias:
            self.grads.append(dz.sum(axis=0))
        return dx

    def get_config(self):
        # Keras 3.15's keys, in its order
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras puts it among the others, below
        return {
            **config,
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.config_value(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class SeparableConv1D(BaseSeparableConv):
    """Depthwise then pointwise 1-D convolution over (batch, steps, channels): kernels
    (kernel_size, in, depth_multiplier) and (1, in·depth_multiplier, filters).

    >>> import numpy as np
    >>> from minikeras.layers import SeparableConv1D
    >>> layer = SeparableConv1D(4, 3, depth_multiplier=2)
    >>> layer(np.ones((2, 10, 3))).shape, layer.pointwise_kernel.shape
    ((2, 8, 4), (1, 6, 4))
    """

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """Depthwise then pointwise 2-D convolution over (batch, height, width, channels):
    kernels (kh, kw, in, depth_multiplier) and (1, 1, in·depth_multiplier, filters).

    >>> import numpy as np
    >>> from minikeras.layers import SeparableConv2D
    >>> SeparableConv2D(8, 3, padding="same")(np.ones((2, 5, 5, 3))).shape
    (2, 5, 5, 8)
    """

    rank = 2
