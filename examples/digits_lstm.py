"""Handwritten digits read row by row by an LSTM: each 8×8 image is a sequence of 8 steps of 8
pixels, and the LSTM's last state classifies it. Offline data (scikit-learn), ≥ 0.95 accuracy.

    python examples/digits_lstm.py

What it shows: a recurrent layer in the usual workflow. The image's rows arrive one per step;
the LSTM carries what it has seen in its cell state, and after the last row a Dense softmax
reads its output h.
"""

import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from minikeras import Sequential
from minikeras.layers import LSTM, Dense, Input
from minikeras.optimizers import Adam
from minikeras.utils import set_random_seed, to_categorical

set_random_seed(0)
digits = load_digits()  # 1,797 images of 8×8 pixels, values 0..16
x = (digits.images / 16.0).astype("float32")  # (1797, 8, 8): 8 steps of 8 features
y = to_categorical(digits.target, 10)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.25, random_state=0, stratify=digits.target
)

model = Sequential([Input(shape=(8, 8)), LSTM(64), Dense(10, activation="softmax")])
model.compile(
    optimizer=Adam(learning_rate=0.003), loss="categorical_crossentropy", metrics=["accuracy"]
)
model.summary()

start = time.perf_counter()
model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=2)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"trained in {time.perf_counter() - start:.1f} s")
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")

predicted = np.argmax(model.predict(x_test[:10], verbose=0), axis=-1)
print("first 10 test digits:", np.argmax(y_test[:10], axis=-1).tolist())
print("predicted:           ", predicted.tolist())

if test_accuracy < 0.95:
    sys.exit(f"test accuracy {test_accuracy:.4f} is below 0.95")
