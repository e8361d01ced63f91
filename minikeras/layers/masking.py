"""Masking: mark the timesteps whose features all equal `mask_value` as padding, and zero them."""

import numpy as np

from minikeras.layers.layer import Layer


class Masking(Layer):
    """A timestep (axis 1) whose features all equal `mask_value` is masked: its mask entry is
    False for the layers after this one, and its output is zeros (Keras 3 zeroes it too).

    >>> import numpy as np
    >>> from minikeras.layers import Masking
    >>> x = np.array([[[0.0, 0.0], [1.0, 0.0], [2.0, 3.0]]])
    >>> Masking().compute_mask(x).tolist()
    [[False, True, True]]
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_mask(self, inputs, mask=None):
        """keep[b, t] = any_f (inputs[b, t, f] ≠ mask_value)   (the incoming mask is replaced)"""
        return np.any(np.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, x, training=False, mask=None):
        """y = x where the timestep is kept, 0 where it is masked"""
        self.keep = np.any(x != self.mask_value, axis=-1, keepdims=True)  # (batch, time, 1)
        return np.where(self.keep, x, x.dtype.type(0))

    def backward(self, dy, mask=None):
        """dx = dy where the timestep is kept, 0 where it is masked (y did not depend on x there)"""
        self.grads = []
        return np.where(self.keep, dy, dy.dtype.type(0))

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
