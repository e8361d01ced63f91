"""The training loop written out by hand — no `fit` — and a check that it gives fit's history.

    python examples/training_loop_by_hand.py          5 epochs
    python examples/training_loop_by_hand.py --fast   2 epochs (what the test suite runs)

What it shows: everything `fit` does for one batch is four calls a learner can make directly.

    forward    a = layer.call(a, training=True)           each layer, first to last
    loss       loss.value_and_grad_from_logits(y, z)     the value, and dL/dz at the logits
    backward   d = layer.backward(d)                     each layer, last to first (the last
                                                         one starts from the logits instead:
                                                         layer.backward_logits(dL/dz))
    update     optimizer.apply(grads, weights)           the only place weights change

Two models start from the same seed: one is trained by `fit(shuffle=False)`, the other by the
loop below. Their histories and final weights must be identical.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits

from minikeras import Sequential, losses
from minikeras.layers import Dense, Input
from minikeras.utils import set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 2 if FAST else 5
BATCH_SIZE = 32

digits = load_digits()
x = (digits.data[:500] / 16.0).astype("float32")  # 500 samples: 15 batches of 32, then 20
y = to_categorical(digits.target[:500], 10)


def new_model():
    """The tutorial's model shape (relu, then softmax), compiled as the tutorial compiles it."""
    set_random_seed(42)  # same seed → same initial weights
    model = Sequential(
        [Input(shape=(64,)), Dense(32, activation="relu"), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


# ---------------------------------------------------------------------------- 1. with fit
by_fit = new_model()
history = by_fit.fit(x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, shuffle=False, verbose=0)

# ---------------------------------------------------------------------------- 2. by hand
model = new_model()
layers, optimizer = model.layers, model.optimizer
loss = losses.CategoricalCrossentropy()  # the compiled "categorical_crossentropy"
by_hand = {"accuracy": [], "loss": []}
for epoch in range(EPOCHS):
    loss_sum, correct, seen = 0.0, 0, 0
    for start in range(0, len(x), BATCH_SIZE):  # the last batch keeps the 20 left over
        xb, yb = x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]

        a = xb  # forward
        for layer in layers:
            a = layer.call(a, training=True)

        # the loss from the softmax's logits z, as Keras does inside fit: dL/dz = (p − y)/N
        value, dz = loss.value_and_grad_from_logits(yb, layers[-1].logits)

        d = layers[-1].backward_logits(dz)  # backward
        for layer in reversed(layers[:-1]):
            d = layer.backward(d)

        grads = [g for layer in layers for g in layer.grads]  # kernel, bias, kernel, bias
        optimizer.apply(grads, model.trainable_weights)  # update

        # the epoch's figures: the loss weighted by batch size, accuracy = correct / seen
        loss_sum += float(value) * len(xb)
        correct += int(np.sum(np.argmax(a, axis=-1) == np.argmax(yb, axis=-1)))
        seen += len(xb)
    # Keras keeps these running totals in float32 variables, so fit reports them in float32
    by_hand["loss"].append(float(np.float32(loss_sum / seen)))
    by_hand["accuracy"].append(float(np.float32(correct / seen)))
    print(
        f"epoch {epoch + 1}: loss {by_hand['loss'][-1]:.6f}, accuracy {by_hand['accuracy'][-1]:.4f}"
        f"   fit: loss {history.history['loss'][epoch]:.6f}, "
        f"accuracy {history.history['accuracy'][epoch]:.4f}"
    )

# ---------------------------------------------------------------------------- 3. the check
loss_gap = max(abs(a - b) for a, b in zip(by_hand["loss"], history.history["loss"]))
weight_gap = max(
    float(np.max(np.abs(a - b))) for a, b in zip(model.get_weights(), by_fit.get_weights())
)
print(f"largest difference in the epoch losses: {loss_gap:.3g}")
print(f"largest difference in the final weights: {weight_gap:.3g}")
same = (
    np.allclose(by_hand["accuracy"], history.history["accuracy"], rtol=1e-6, atol=0)
    and np.allclose(by_hand["loss"], history.history["loss"], rtol=1e-6, atol=0)
    and weight_gap == 0
)
print("same history as fit: " + ("yes" if same else "NO"))
sys.exit(0 if same else 1)
