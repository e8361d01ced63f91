"""TimeDistributed: the same layer applied to every timestep, with time folded into the batch."""

import numpy as np

from minikeras.layers.layer import Layer


class TimeDistributed(Layer):
    """Apply `layer` to each slice x[:, t] of a (batch, time, ...) input, with one set of weights.

    Each timestep is an independent sample for the inner layer, so the input is reshaped to
    (batch·time, ...), passed through the layer once, and the result reshaped back to
    (batch, time, ...); the backward pass folds and unfolds the same way.

    >>> import numpy as np
    >>> from minikeras.layers import Dense, TimeDistributed
    >>> TimeDistributed(Dense(3))(np.ones((2, 5, 4))).shape
    (2, 5, 3)
    """

    supports_masking = True  # the mask passes through (Layer's default compute_mask), as Keras

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer  # after Layer.__init__, whose `trainable` must not reach the layer
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    # ------------------------------------------------ the weights are the inner layer's own
    def _sublayers(self):
        """The wrapped layer: its weights are the wrapper's, and freezing the wrapper freezes
        it (Layer's `weights` and `trainable` follow sublayers)."""
        return [self.layer]

    @property
    def input_gradient_needed(self):
        return getattr(self.layer, "input_gradient_needed", True)

    @input_gradient_needed.setter
    def input_gradient_needed(self, value):
        if hasattr(self.layer, "input_gradient_needed"):  # layers without it always give dx
            self.layer.input_gradient_needed = value

    # ------------------------------------------------ shapes
    def _child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        if not self.layer._built:  # (built at init or not: its shapes)
            self.layer.build(self._child_input_shape(input_shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        child_output = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (child_output[0], input_shape[1], *child_output[1:])

    # ------------------------------------------------ forward and backward
    def call(self, x, training=False, mask=None):
        """y[:, t] = layer(x[:, t]) for every t, as one call on (batch·time, ...)"""
        batch, time = x.shape[:2]
        if mask is not None:
            mask = self._folded_mask(mask, x.shape)
        # A model gives each call of a shared layer its own scratch arrays (self._buffers); the
        # wrapped layer computes inside those too, or a second call would overwrite the first's
        # output and the arrays its backward needs
        self.layer._buffers = self._buffers.setdefault("wrapped layer", {})
        # `forward` passes `training` and `mask` only to a call that declares them, as Keras
        folded = self.layer.forward(x.reshape(batch * time, *x.shape[2:]), training, mask)
        self.x_shape = x.shape
        self.mask = mask
        return folded.reshape(batch, time, *folded.shape[1:])

    def backward(self, dy, mask=None):
        """The inner layer's backward on the folded gradient: weight gradients are summed over
        batch·time positions, exactly as for a batch of batch·time samples.
        dy (batch, time, ...) → (batch·time, ...) → layer.backward → dx (batch, time, ...)
        """
        batch, time = dy.shape[:2]
        folded = np.ascontiguousarray(dy).reshape(batch * time, *dy.shape[2:])
        dx = self.layer.backward_pass(folded, self.mask)
        self.grads = self.layer.grads if self.layer.trainable else []
        return None if dx is None else dx.reshape(self.x_shape)

    def get_call_state(self):
        """The wrapper's state and the wrapped layer's: a shared TimeDistributed called twice in
        one forward pass runs each backward on its own call's arrays."""
        return {"wrapper": dict(vars(self)), "layer": self.layer.get_call_state()}

    def set_call_state(self, state):
        vars(self).update(state["wrapper"])
        self.layer.set_call_state(state["layer"])

    def _folded_mask(self, mask, input_shape):
        """The (batch, time, ...) mask as (batch·time, ...), after Keras's shape checks."""
        mask = np.asarray(mask)
        if mask.ndim < 2:
            raise ValueError(
                "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                f"`(batch_size, timesteps)`), but it has {mask.ndim} dimension(s) with shape "
                f"{mask.shape}."
            )
        if mask.shape[:2] != tuple(input_shape[:2]):
            raise ValueError(
                f"The `mask` passed to the `TimeDistributed` layer has a shape {mask.shape} that "
                f"is incompatible with the input shape {tuple(input_shape)}. The first two "
                "dimensions of the mask (batch size and timesteps) must match the input's first "
                f"two dimensions. Expected mask shape prefix: ({input_shape[0]}, "
                f"{input_shape[1]})."
            )
        return mask.reshape(mask.shape[0] * mask.shape[1], *mask.shape[2:])

    # ------------------------------------------------ config: the inner layer nested
    def get_config(self):
        from minikeras.layers import serialization  # imports this module: import when needed

        return {**super().get_config(), "layer": serialization.serialize(self.layer)}

    @classmethod
    def from_config(cls, config_):
        from minikeras.layers import serialization

        config_ = dict(config_)
        layer = serialization.deserialize(config_.pop("layer"))
        return cls._from_config({**config_, "layer": layer})
