"""Identity: y = x, dx = dy. A placeholder layer (a model's branch that does nothing)."""

from minikeras.layers.layer import Layer


class Identity(Layer):
    """Hands its input on unchanged, masks too.

    >>> import numpy as np
    >>> from minikeras.layers import Identity
    >>> Identity()(np.ones((1, 2))).tolist()
    [[1.0, 1.0]]
    """

    keeps_integer_inputs = True  # values only moved about: uint8 stays uint8, as in Keras

    has_build_config = False
    builds_at_init = True
    supports_masking = True

    def is_identity(self, training):
        return True

    def call(self, x):
        return x

    def backward(self, dy):
        """dx = dy"""
        self.grads = []
        return dy
