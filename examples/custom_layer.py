"""Write your own layer: its forward, its backward, and a check that the backward is right.

    python examples/custom_layer.py          check, then train on the digits for 10 epochs
    python examples/custom_layer.py --fast   check, then 1 epoch (what the test suite runs)

What it shows: minikeras has no autograd, so a new layer brings its own gradient. The layer
here is a ReLU whose negative side has a learned slope α, one per unit (a "parametric ReLU"):

    forward    y = x            where x > 0
               y = α·x          elsewhere
    backward   dx = dy          where x > 0,     dy·α elsewhere
               dα = Σ_batch dy·x   over the entries where x ≤ 0     (the weight gradient)

A wrong backward trains quietly and badly, so the gradient is checked first, against central
differences (f(w + ε) − f(w − ε)) / 2ε: once here by hand on the layer alone, then with
`minikeras.testing.check_gradients` on a whole model, where it also checks the dx that the
layers below receive. A deliberately wrong variant shows what a failed check looks like.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits

from minikeras import Sequential
from minikeras.initializers import Constant
from minikeras.layers import Dense, Input, Layer
from minikeras.utils import set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"


class ParametricReLU(Layer):
    """y = x for x > 0, α·x otherwise; α is learned, one per unit (starts at 0.25)."""

    def __init__(self, alpha_initializer=0.25, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer

    def build(self, input_shape):
        self.add_weight((input_shape[-1],), Constant(self.alpha_initializer), name="alpha")
        super().build(input_shape)

    @property
    def alpha(self):
        return self.weights[0]

    def call(self, x, training=False):
        self.x = x  # backward needs the input
        return np.where(x > 0, x, self.alpha * x).astype(x.dtype)

    def backward(self, dy):
        """dα = Σ_batch dy·x·[x ≤ 0]      dx = dy·(1 where x > 0, else α)"""
        negative = self.x <= 0
        dalpha = np.sum(dy * self.x * negative, axis=0)  # (batch, units) → (units,)
        self.grads = [dalpha.astype(self.alpha.dtype)]  # one per trainable weight, same order
        return np.where(negative, dy * self.alpha, dy).astype(dy.dtype)


class WrongParametricReLU(ParametricReLU):
    """The same forward, with a classic slip in the backward: dα forgets the factor x."""

    def backward(self, dy):
        negative = self.x <= 0
        self.grads = [np.sum(dy * negative, axis=0).astype(self.alpha.dtype)]
        return np.where(negative, dy * self.alpha, dy).astype(dy.dtype)


def check_by_hand(layer_class, epsilon=1e-6):
    """The layer alone, in float64, with L = Σ y ⊙ r for a fixed random r (so dL/dy = r).
    Returns the worst relative error of dx and of dα."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 0.1] = 0.5  # keep away from the kink at 0, where the derivative jumps
    r = rng.normal(size=(4, 5))
    layer = layer_class(dtype="float64")
    layer.build((None, 5))
    layer.alpha[...] = rng.uniform(0.1, 0.5, size=5)

    def loss():
        return float(np.sum(layer.call(x) * r))

    layer.call(x)
    dx = layer.backward(r)
    dalpha = layer.grads[0].copy()
    errors = {}
    for name, array, analytic in (("dx", x, dx), ("dalpha", layer.alpha, dalpha)):
        numeric = np.zeros_like(array)
        for i in np.ndindex(array.shape):  # nudge one entry at a time, both ways
            saved = array[i]
            array[i] = saved + epsilon
            plus = loss()
            array[i] = saved - epsilon
            minus = loss()
            array[i] = saved
            numeric[i] = (plus - minus) / (2 * epsilon)
        scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-8)
        errors[name] = float(np.max(np.abs(analytic - numeric) / scale))
    return errors


def model_with(layer):
    return Sequential([Input(shape=(64,)), Dense(32), layer, Dense(10, activation="softmax")])


digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = to_categorical(digits.target, 10)

print("1. By hand, the layer alone (relative errors: below 1e-5 is right):")
for cls in (ParametricReLU, WrongParametricReLU):
    errors = check_by_hand(cls)
    verdict = "right" if max(errors.values()) < 1e-5 else "WRONG"
    print(
        f"   {cls.__name__:<20} dx {errors['dx']:.1e}   dalpha {errors['dalpha']:.1e}   {verdict}"
    )

try:
    from minikeras.testing import check_gradients
except ImportError:  # a minikeras without the testing module: the check by hand must do
    check_gradients = None
if check_gradients is not None:
    print("2. minikeras.testing.check_gradients, the layer inside a model:")
    for cls in (ParametricReLU, WrongParametricReLU):
        set_random_seed(1)
        model = model_with(cls(name="prelu"))
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        worst = check_gradients(model, x[:8], y[:8], verbose=False)
        verdict = "right" if max(worst.values()) < 1e-5 else "WRONG"
        print(f"   {cls.__name__:<20} worst {max(worst.values()):.1e}   {verdict}")
        for label, error in worst.items():
            print(f"      {label:<16} {error:.1e}")

print("3. Training with the layer that passed:")
set_random_seed(0)
model = model_with(ParametricReLU(name="prelu"))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x[:1500], y[:1500], epochs=1 if FAST else 10, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x[1500:], y[1500:], verbose=0)
print(f"   held-out accuracy {accuracy:.4f} after {len(history.epoch)} epoch(s)")
alpha = model.layers[1].alpha
print(f"   learned slopes α: mean {alpha.mean():.3f}, from {alpha.min():.3f} to {alpha.max():.3f}")
