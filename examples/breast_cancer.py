"""Breast cancer (scikit-learn, offline): binary classification, sigmoid and binary crossentropy.

    python examples/breast_cancer.py          40 epochs
    python examples/breast_cancer.py --fast   3 epochs (what the test suite runs)

What it shows: one output unit p = sigmoid(z) = P(benign), labels 0/1 in a column, the loss
−(y·log p + (1 − y)·log(1 − p)), and 'accuracy' resolving to binary accuracy (p > 0.5) because
the output has one unit. Inside fit the loss is computed from z, the sigmoid's logits, so its
gradient is simply sigmoid(z) − y per sample (divided by the batch size).
"""

import os
import sys

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from minikeras import Sequential
from minikeras.layers import Dense, Input
from minikeras.utils import set_random_seed

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 3 if FAST else 40

set_random_seed(0)
data = load_breast_cancer()  # 569 tumours, 30 measurements each; target 1 = benign, 0 = malignant
x_train, x_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
)
# standardise with the training set's mean and spread (features range from 0.001 to 4,000)
mean, std = x_train.mean(axis=0), x_train.std(axis=0)
x_train = ((x_train - mean) / std).astype("float32")
x_test = ((x_test - mean) / std).astype("float32")
y_train = y_train.astype("float32").reshape(-1, 1)  # one column, to match the one output unit
y_test = y_test.astype("float32").reshape(-1, 1)
print(f"train {x_train.shape}, test {x_test.shape}, benign fraction {y_train.mean():.3f}")

model = Sequential(
    [Input(shape=(30,)), Dense(16, activation="relu"), Dense(1, activation="sigmoid")]
)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
for epoch in sorted({0, EPOCHS // 2, EPOCHS - 1}):
    print(
        f"epoch {epoch + 1:>2}: loss {history.history['loss'][epoch]:.4f}, "
        f"accuracy {history.history['accuracy'][epoch]:.4f}"
    )

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")

p = model.predict(x_test[:5], verbose=0)[:, 0]
print("P(benign) of 5 test tumours:", [round(float(v), 3) for v in p])
print("their labels:               ", y_test[:5, 0].astype(int).tolist())

if not FAST and test_accuracy < 0.93:
    sys.exit(f"test accuracy {test_accuracy:.4f} is below 0.93")
