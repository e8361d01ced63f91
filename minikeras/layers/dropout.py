"""Dropout: during training, zero a random fraction `rate` of the inputs and rescale the rest."""

from minikeras.layers.layer import Layer


def validate_noise_shape(noise_shape):
    """`noise_shape` as a tuple of positive ints or None; Keras's ValueError otherwise."""
    if noise_shape is None:
        return None
    prefix = "Invalid value received for argument `noise_shape`."
    if isinstance(noise_shape, str):
        raise ValueError(
            f"{prefix} Expected a tuple or list of integers. Received: noise_shape={noise_shape}"
        )
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            f"{prefix} Expected an iterable of integers (e.g., a tuple or list). "
            f"Received: noise_shape={noise_shape}"
        ) from None
    for i, dim in enumerate(noise_shape):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError(
                f"{prefix} Expected all elements to be integers or None. Received element at "
                f"index {i}: {dim} (type: {type(dim).__name__})"
            )
        if dim <= 0:
            raise ValueError(
                f"{prefix} Expected all dimensions to be positive integers or None. Received "
                f"negative or zero value at index {i}: {dim}"
            )
    return noise_shape


class Dropout(Layer):
    """In training: y = x ⊙ mask / (1 − rate), each mask entry 1 with probability 1 − rate.
    In inference: y = x. The rescaling keeps the expected value of y equal to x.
    `noise_shape` (None entries: the input's size) makes the mask shared along the axes of
    size 1: (None, 1, features) drops the same features at every step of a sequence.

    >>> import numpy as np
    >>> from minikeras.layers import Dropout
    >>> Dropout(0.5)(np.ones((1, 4))).tolist()   # inference: unchanged
    [[1.0, 1.0, 1.0, 1.0]]
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = validate_noise_shape(noise_shape)
        self.seed = seed
        # Keras: a SeedGenerator of its own when it drops anything; each training call draws
        # its mask from the generator's next state (minikeras/random/seed_generator.py)
        self.seed_generator = _seed_generator(seed) if self.rate > 0 else None
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def is_identity(self, training):
        return not training or self.rate == 0

    def call(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        rng = _numpy_generator(self.seed_generator)
        keep = rng.random(self._noise_shape(x)) >= self.rate  # broadcast where it is 1
        self.mask = (
            keep.astype(x.dtype) / x.dtype.type(1 - self.rate) if self.rate < 1 else keep * 0
        )
        return x * self.mask

    def _noise_shape(self, x):
        """The mask's shape: `noise_shape` with each None filled from the input's shape, as
        Keras's TensorFlow backend fills it (an axis of size 1 shares one draw)."""
        if self.noise_shape is None:
            return x.shape
        return tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def backward(self, dy):
        """dx = dy ⊙ mask / (1 − rate)   (the same mask as the forward pass)"""
        self.grads = []
        return dy if self.mask is None else dy * self.mask

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }


def _seed_generator(seed):
    from minikeras.random import SeedGenerator  # (minikeras.random imports the layers' tools)

    return SeedGenerator(seed)


def _numpy_generator(seed_generator):
    from minikeras.random.seed_generator import generator

    return generator(seed_generator)
