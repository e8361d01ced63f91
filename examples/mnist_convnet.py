"""keras.io's "Simple MNIST convnet", on scikit-learn's digits resized to 28×28.

    python examples/mnist_convnet.py            15 epochs, as keras.io (about a minute)
    python examples/mnist_convnet.py --fast     2 epochs on 500 images (a smoke test)

The model, its compile and fit arguments are keras.io's (examples/vision/mnist_convnet.py):
two 3×3 convolutions of 32 and 64 filters, each followed by 2×2 max pooling, then Flatten,
Dropout 0.5 and a softmax Dense layer; Adam, batch 128, 15 epochs, 10% for validation. MNIST
itself is a download; scikit-learn's 1,797 digits (8×8, values 0..16) ship with it, so they are
scaled up to MNIST's 28×28 here with bilinear interpolation written in NumPy (`resize`).
At the end the history is plotted to mnist_convnet_history.png when matplotlib is installed.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import minikeras as keras
from minikeras import layers

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"


def resize(images, size):
    """Bilinear resize of (n, h, w) images to (n, size, size), pixel centres aligned as
    TensorFlow's `resize(..., "bilinear")` aligns them: output pixel i samples the input at
    (i + 0.5)·h/size − 0.5, clamped to the image, between its two nearest rows (and columns)."""
    n, h, w = images.shape

    def weights(old):
        position = np.clip((np.arange(size) + 0.5) * old / size - 0.5, 0, old - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, old - 1)
        return low, high, position - low  # the two neighbours and the share of the second

    r0, r1, fr = weights(h)
    c0, c1, fc = weights(w)
    rows = images[:, r0, :] * (1 - fr)[None, :, None] + images[:, r1, :] * fr[None, :, None]
    return rows[:, :, c0] * (1 - fc) + rows[:, :, c1] * fc  # (n, size, size)


# Model / data parameters (keras.io's)
num_classes = 10
input_shape = (28, 28, 1)

digits = load_digits()
images = resize(digits.images / 16.0, 28).astype("float32")  # values in [0, 1], as x / 255
x_train, x_test, y_train, y_test = train_test_split(
    images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
)
if FAST:
    x_train, y_train = x_train[:500], y_train[:500]
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

batch_size = 128
epochs = 2 if FAST else 15

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])

try:
    import matplotlib

    matplotlib.use("Agg")  # a file, no window
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no plot of the history (pip install matplotlib)")
else:
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        left.plot(history.history[key], label=key)
    for key in ("accuracy", "val_accuracy"):
        right.plot(history.history[key], label=key)
    for axes, title in ((left, "loss"), (right, "accuracy")):
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.legend()
    figure.tight_layout()
    path = os.environ.get("MINIKERAS_PLOT", "mnist_convnet_history.png")
    figure.savefig(path)
    print("history plotted to", path)
