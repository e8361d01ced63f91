"""Handwritten digits with a small convnet: the 8×8 images kept as images, ≥ 0.98 test accuracy.

    python examples/digits_convnet.py          20 epochs (a few seconds), then the test accuracy
    python examples/digits_convnet.py --fast   2 epochs

What it shows: the same data as examples/digits.py, but shaped (8, 8, 1) so that Conv2D can
slide 3×3 filters over it. Two convolutions with 'same' padding keep the 8×8 grid, max pooling
halves it, and a Dense layer classifies. The convnet shares its filters across positions, so it
reaches a higher accuracy than the dense network of digits.py with fewer weights.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from minikeras import Sequential
from minikeras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from minikeras.utils import set_random_seed, to_categorical

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 2 if FAST else 20

set_random_seed(0)
digits = load_digits()  # 1,797 images of 8×8 pixels, values 0..16, labels 0..9
x = (digits.images / 16.0).astype("float32")[..., None]  # (1797, 8, 8, 1): height, width, channel
y = to_categorical(digits.target, 10)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=digits.target
)
print(f"train {x_train.shape}, test {x_test.shape}, classes {y.shape[1]}")

model = Sequential(
    [
        Input(shape=(8, 8, 1)),
        Conv2D(32, 3, padding="same", activation="relu"),  # (8, 8, 32): 32 3×3 filters
        Conv2D(32, 3, padding="same", activation="relu"),  # (8, 8, 32)
        MaxPooling2D(),  # (4, 4, 32): the largest of each 2×2 block
        Dropout(0.25),
        Flatten(),  # (512,)
        Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()

history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, validation_split=0.1, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")

predicted = np.argmax(model.predict(x_test[:10], verbose=0), axis=-1)
print("first 10 test digits:", np.argmax(y_test[:10], axis=-1).tolist())
print("predicted:           ", predicted.tolist())

if not FAST and test_accuracy < 0.98:
    sys.exit(f"test accuracy {test_accuracy:.4f} is below 0.98")
