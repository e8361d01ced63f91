"""AlphaDropout: dropout that keeps a SELU network's mean and variance.

A dropped unit is set to SELU's negative saturation value α' = −λ·α (not to 0), and the
result is moved back to the input's mean and variance by an affine map:

    y = a·(x ⊙ keep + α'·(1 − keep)) + b
    a = ((1 − rate)·(1 + rate·α'²))^(−1/2)       b = −a·α'·rate
    dx = a·keep ⊙ dy

with keep 1 with probability 1 − rate. At inference y = x.
"""

from minikeras.layers.dropout import validate_noise_shape
from minikeras.layers.gaussian_noise import check_unit_interval
from minikeras.layers.layer import Layer
from minikeras.random import SeedGenerator, uniform

# SELU's constants (activations.selu): α and the scale λ
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout for self-normalizing (SELU) networks; `noise_shape` as Dropout's.

    >>> import numpy as np
    >>> from minikeras.layers import AlphaDropout
    >>> x = np.random.default_rng(0).standard_normal((100, 100))   # mean 0, variance 1
    >>> y = AlphaDropout(0.3, seed=1)(x, training=True)
    >>> round(float(y.mean()), 1), round(float(y.std()), 1)   # kept, though 30% are dropped
    (0.0, 1.0)
    """

    has_build_config = False
    builds_at_init = True
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        check_unit_interval(rate, "rate")
        noise_shape = validate_noise_shape(noise_shape)
        super().__init__(**kwargs)
        self.rate, self.seed, self.noise_shape = rate, seed, noise_shape
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)

    def is_identity(self, training):
        return not training or self.rate == 0

    def call(self, x, training=False):
        """y = a·(x ⊙ keep + α'·(1 − keep)) + b   (keep broadcast along noise_shape's 1s)"""
        if self.is_identity(training):
            self.keep = None
            return x
        # a None entry of noise_shape takes the input's size there, as Keras's
        shape = (
            x.shape
            if self.noise_shape is None
            else tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        )
        draws = uniform(shape, dtype=x.dtype, seed=self.seed_generator)
        keep = (draws >= self.rate).astype(x.dtype)
        alpha_p = -SELU_ALPHA * SELU_SCALE
        self.a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -self.a * alpha_p * self.rate
        self.keep = keep
        return self.a * (x * keep + alpha_p * (1 - keep)) + b

    def backward(self, dy):
        """dx = a·keep ⊙ dy   (the dropped units' output does not depend on x)"""
        self.grads = []
        if self.keep is None:
            return dy
        return (self.a * self.keep * dy).astype(dy.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }
