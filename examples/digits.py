"""Handwritten digits: scikit-learn's 8×8 images (offline), a 64-128-64-10 network, ≥ 0.94 accuracy.

    python examples/digits.py          30 epochs, then a plot of loss and accuracy per epoch
    python examples/digits.py --fast   2 epochs (what the test suite runs)

What it shows: real data going through the same workflow as the tutorial — scale the inputs,
one-hot the labels, hold out a test set, train with a validation split, evaluate, predict.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from minikeras import Sequential
from minikeras.layers import Dense, Input
from minikeras.utils import plot_history, set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 2 if FAST else 30

set_random_seed(0)
digits = load_digits()  # 1,797 images of 8×8 pixels, values 0..16, labels 0..9
x = (digits.data / 16.0).astype("float32")  # pixels scaled to [0, 1]
y = to_categorical(digits.target, 10)  # class 3 → [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=digits.target
)
print(f"train {x_train.shape}, test {x_test.shape}, classes {y.shape[1]}")

model = Sequential(
    [
        Input(shape=(64,)),
        Dense(128, activation="relu"),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()

# validation_split takes the last 10% of x_train (before shuffling) to watch for overfitting
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.1, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")

predicted = np.argmax(model.predict(x_test[:10], verbose=0), axis=-1)
print("first 10 test digits:", np.argmax(y_test[:10], axis=-1).tolist())
print("predicted:           ", predicted.tolist())

plot_history(history, path="digits_history.png")
print("saved digits_history.png (loss and accuracy per epoch, training and validation)")

if not FAST and test_accuracy < 0.94:
    sys.exit(f"test accuracy {test_accuracy:.4f} is below 0.94")
