"""GaussianNoise and GaussianDropout: noise that is only there in training.

    GaussianNoise:    y = x + ε,   ε ~ N(0, stddev²)        dx = dy
    GaussianDropout:  y = x ⊙ ε,   ε ~ N(1, rate/(1 − rate)) dx = dy ⊙ ε (the same ε)

At inference both hand their input on unchanged. GaussianDropout's ε has mean 1 (the expected
output is the input, as Dropout's rescaling keeps it) and the variance of Dropout's mask
divided by (1 − rate).
"""

import math

from minikeras.layers.layer import Layer
from minikeras.random import SeedGenerator, normal


def check_unit_interval(value, name):
    """`value` in [0, 1], with Keras's ValueError (keras/src/layers/regularization/)."""
    if not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 "
            f"and 1. Received: {name}={value}"
        )


class GaussianNoise(Layer):
    """In training: y = x + ε, ε ~ N(0, stddev²) drawn anew each call; at inference: y = x.

    >>> import numpy as np
    >>> from minikeras.layers import GaussianNoise
    >>> GaussianNoise(0.1)(np.ones((1, 3))).tolist()   # inference: unchanged
    [[1.0, 1.0, 1.0]]
    """

    has_build_config = False  # no weights: Keras builds it at once and saves no build_config
    builds_at_init = True
    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        check_unit_interval(stddev, "stddev")  # before the base class uses up a name
        super().__init__(**kwargs)
        self.stddev, self.seed = stddev, seed
        if stddev > 0:  # as Keras: a SeedGenerator only when there is noise to draw
            self.seed_generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training or self.stddev == 0

    def call(self, x, training=False):
        if self.is_identity(training):
            return x
        noise = normal(x.shape, 0.0, self.stddev, dtype=x.dtype, seed=self.seed_generator)
        return x + noise

    def backward(self, dy):
        """dx = dy (the noise is added, not multiplied)"""
        self.grads = []
        return dy

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """In training: y = x ⊙ ε, ε ~ N(1, rate/(1 − rate)) drawn anew each call; at inference:
    y = x.

    >>> import numpy as np
    >>> from minikeras.layers import GaussianDropout
    >>> y = GaussianDropout(0.3, seed=1)(np.ones((100, 100)), training=True)
    >>> round(float(y.mean()), 1), round(float(y.std()), 1)   # ε's mean 1, √(0.3/0.7)
    (1.0, 0.7)
    """

    has_build_config = False
    builds_at_init = True
    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        check_unit_interval(rate, "rate")
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training or self.rate == 0

    def call(self, x, training=False):
        if self.is_identity(training):
            self.noise = None
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        self.noise = normal(x.shape, 1.0, stddev, dtype=x.dtype, seed=self.seed_generator)
        return x * self.noise

    def backward(self, dy):
        """dx = dy ⊙ ε   (the ε of the forward pass)"""
        self.grads = []
        return dy if self.noise is None else dy * self.noise

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
