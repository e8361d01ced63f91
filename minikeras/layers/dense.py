"""Dense: the fully connected layer, y = act(x·W + b)."""

import numpy as np

from minikeras import activations, constraints, initializers, kernels, regularizers
from minikeras.layers.layer import Layer


class Dense(Layer):
    """A fully connected layer: `y = activation(x·kernel + bias)`, kernel of shape (in, units).

    >>> import numpy as np
    >>> from minikeras.layers import Dense
    >>> layer = Dense(3, activation="relu")
    >>> layer(np.ones((2, 4))).shape
    (2, 3)
    """

    supports_masking = True  # a mask passes through, as in Keras

    def __init__(
        self,
        units,
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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.activation_backward = activations.backward_of(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        # The built-in activations the dense kernels apply in the same pass as x·W + b
        name = activations.serialize(self.activation)
        is_builtin = activations.ALL_ACTIVATIONS.get(name, (None,))[0] is self.activation
        self._fused = name if is_builtin and name in kernels.FUSED_ACTIVATIONS else None
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def output_activation(self):
        """The name of this layer's activation (to find softmax/sigmoid logits)."""
        return activations.serialize(self.activation)

    def build(self, input_shape):
        in_features = input_shape[-1]
        shape = (in_features, self.units)
        self.kernel = self.add_weight(
            shape,
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (self.units,),
                self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, x, training=False):
        """z = x·W + b        (batch, in)·(in, units) + (units,)
        y = act(z)
        """
        self.x = x.reshape(-1, x.shape[-1])  # rank > 2: the same W for every leading position
        batch = self.x.shape[0]
        z = self.buffer("z", (batch, self.units))
        # the weights' plain arrays: a compiled kernel takes an ndarray ten times faster than
        # an ndarray subclass such as Variable (measured: 1 µs against 12 µs a call)
        kernel, bias = self.kernel.value, None if self.bias is None else self.bias.value
        if self._fused:
            y = z if self._fused == "linear" else self.buffer("y", (batch, self.units))
            kernels.dense_forward(self.x, kernel, bias, self._fused, z, y)
        else:
            kernels.matmul(self.x, kernel, z)
            if self.use_bias:
                z += bias
            y = self.activation(z)
        self.z, self.y = z, y  # z is the logits when act is softmax or sigmoid
        self.input_batch_shape, self.output_batch_shape = x.shape, x.shape[:-1] + (self.units,)
        return y.reshape(self.output_batch_shape)

    @property
    def logits(self):
        """The pre-activation z of the last call (Keras's `_keras_logits`), shaped as the output."""
        return self.z.reshape(self.output_batch_shape)

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then the weight and input gradients (see `backward_logits`)."""
        dy = dy.reshape(self.y.shape)
        if self._fused:
            return self._dense_backward(dy, self._fused)
        dz = self.activation_backward(self.z, self.y, dy)
        return self._dense_backward(np.ascontiguousarray(dz, dtype=self.z.dtype), "linear")

    def backward_logits(self, dz):
        """Backward from dz = dL/dz, the gradient already at the logits (softmax/sigmoid skipped):
        dW = xᵀ·dz    (in, batch)·(batch, units)
        db = Σ dz     over the batch
        dx = dz·Wᵀ    (batch, units)·(units, in)
        """
        return self._dense_backward(dz.reshape(self.z.shape), "linear")

    def _dense_backward(self, dy, activation):
        batch, in_features = self.x.shape
        dz = dy if activation == "linear" else self.buffer("dz", dy.shape)
        dkernel = self.buffer("dkernel", self.kernel.shape)
        dbias = self.buffer("dbias", (self.units,)) if self.use_bias else None
        dx = self.buffer("dx", (batch, in_features)) if self.input_gradient_needed else None
        kernels.dense_backward(
            self.x, self.kernel.value, self.z, self.y, dy, activation, dz, dkernel, dbias, dx
        )
        self.grads = [dkernel, dbias] if self.use_bias else [dkernel]
        return None if dx is None else dx.reshape(self.input_batch_shape)  # as x came in

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.config_value(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,  # Keras 3.15's key; minikeras does not quantize
        }
