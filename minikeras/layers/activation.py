"""Activation: applies an activation function as a layer of its own."""

from minikeras import activations
from minikeras.layers.layer import Layer


class Activation(Layer):
    """y = f(x) for an activation f given by name or function.

    >>> import numpy as np
    >>> from minikeras.layers import Activation
    >>> Activation("relu")(np.array([[-1.0, 2.0]]))
    array([[0., 2.]], dtype=float32)
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.activation_backward = activations.backward_of(self.activation)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def output_activation(self):
        return activations.serialize(self.activation)

    def call(self, x, training=False):
        """y = f(x)"""
        self.x = x
        self.y = self.activation(x)
        return self.y

    @property
    def logits(self):
        """The input of the last call: the logits when f is softmax or sigmoid."""
        return self.x

    def backward(self, dy):
        """dx = dy ⊙ f'(x)   (for softmax, the Jacobian-vector product y ⊙ (dy − Σ dy·y))"""
        self.grads = []
        return self.activation_backward(self.x, self.y, dy)

    def backward_logits(self, dz):
        """The gradient already at the logits passes straight through."""
        self.grads = []
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": activations.config_value(self.activation)}
