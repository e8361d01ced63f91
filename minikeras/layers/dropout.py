"""Dropout: during training, zero a random fraction `rate` of the inputs and rescale the rest."""


from minikeras.layers.layer import Layer
from minikeras.utils.rng import make_generator


class Dropout(Layer):
    """In training: y = x ⊙ mask / (1 − rate), each mask entry 1 with probability 1 − rate.
    In inference: y = x. The rescaling keeps the expected value of y equal to x.

    >>> import numpy as np
    >>> from minikeras.layers import Dropout
    >>> Dropout(0.5)(np.ones((1, 4))).tolist()   # inference: unchanged
    [[1.0, 1.0, 1.0, 1.0]]
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate!r}"
            )
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported by minikeras yet")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = make_generator(seed)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def is_identity(self, training):
        return not training or self.rate == 0

    def call(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        keep = self._rng.random(x.shape) >= self.rate
        self.mask = (
            keep.astype(x.dtype) / x.dtype.type(1 - self.rate) if self.rate < 1 else keep * 0
        )
        return x * self.mask

    def backward(self, dy):
        """dx = dy ⊙ mask / (1 − rate)   (the same mask as the forward pass)"""
        self.grads = []
        return dy if self.mask is None else dy * self.mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": None}
