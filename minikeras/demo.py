"""The tutorial model, as `python -m minikeras demo` runs it: 784-64-10, RMSprop, one epoch."""

import numpy as np

from minikeras import Sequential
from minikeras.layers import Dense, Input
from minikeras.utils import to_categorical


def run(epochs=1, verbose="auto", seed=None):
    """Train the tutorial model on random data (loss ≈ ln 10 ≈ 2.3, accuracy ≈ 0.1)."""
    rng = np.random.default_rng(seed)
    data = rng.random((1000, 784))
    labels = to_categorical(rng.integers(10, size=(1000, 1)), 10)
    model = Sequential(
        [Input(shape=(784,)), Dense(64, activation="relu"), Dense(10, activation="softmax")]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    return model.fit(data, labels, epochs=epochs, verbose=verbose)
