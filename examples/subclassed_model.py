"""A subclassed model with a layer written only with ops, on scikit-learn's 8×8 digits.

    python examples/subclassed_model.py          10 epochs
    python examples/subclassed_model.py --fast   2 epochs (what the test suite runs)

Keras 3's way of writing a model as a class: layers are attributes, `call` says how data flows.
Here one layer, `GatedLinear`, has no backward of its own: it is made of `minikeras.ops`, and the
gradient tape records its forward pass and replays it backward (docs/autodiff.md). The model's
gradients are checked against central differences, then it trains; when Keras is installed, the
same code runs in Keras on the same weights and the two histories are printed side by side.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits

import minikeras
from minikeras import ops, testing
from minikeras.utils import set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 2 if FAST else 10


def build(lib, ops_module):
    """The same model in minikeras (lib=minikeras) or in Keras (lib=keras)."""

    class GatedLinear(lib.layers.Layer):
        """y = (x·W + b) ⊙ sigmoid(x·V): a linear map whose units a learned gate opens."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            shape = (input_shape[-1], self.units)
            self.w = self.add_weight(shape=shape, initializer="glorot_uniform")
            self.v = self.add_weight(shape=shape, initializer="glorot_uniform")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            gate = ops_module.sigmoid(ops_module.matmul(x, self.v))
            return (ops_module.matmul(x, self.w) + self.b) * gate

    class DigitsClassifier(lib.Model):
        def __init__(self):
            super().__init__()
            self.gated = GatedLinear(32)
            self.dropout = lib.layers.Dropout(0.0)
            self.classifier = lib.layers.Dense(10, activation="softmax")

        def call(self, x, training=False):
            return self.classifier(self.dropout(self.gated(x), training=training))

    return DigitsClassifier()


digits = load_digits()
x = (digits.data / 16.0).astype("float32")
y = to_categorical(digits.target, 10)
x_train, y_train, x_test, y_test = x[:1500], y[:1500], x[1500:], y[1500:]

set_random_seed(0)
model = build(minikeras, ops)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model(x_train[:1])  # a call builds a subclassed model's weights (build(shape) alone does not)
print(f"layers: {[layer.name for layer in model.layers]}")
print(f"weights: {[(w.path, w.shape) for w in model.weights]}")

worst = testing.check_gradients(model, x_train[:16], y_train[:16], verbose=False)
print(f"gradient check, worst relative error: {max(worst.values()):.1e}")

keras_model = None
try:
    from minikeras.parity.keras_env import import_keras

    keras = import_keras()
    keras_model = build(keras, keras.ops)
    keras_model(x_train[:1])
    keras_model.set_weights(model.get_weights())  # the same starting point
    keras_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
except ImportError:
    print("Keras is not installed: minikeras alone (pip install 'minikeras[parity]').")

fit = dict(epochs=EPOCHS, batch_size=32, shuffle=False, verbose=0)
history = model.fit(x_train, y_train, **fit).history
theirs = keras_model.fit(x_train, y_train, **fit).history if keras_model is not None else None
for epoch in range(EPOCHS):
    line = f"epoch {epoch + 1:2d}: loss {history['loss'][epoch]:.4f}"
    if theirs is not None:
        line += f"   Keras: loss {theirs['loss'][epoch]:.4f}"
    print(line)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.4f}")
if keras_model is not None:
    pairs = zip(model.get_weights(), keras_model.get_weights())
    gap = max(float(np.max(np.abs(a - b))) for a, b in pairs)
    print(f"largest weight difference from Keras after training: {gap:.1e}")
