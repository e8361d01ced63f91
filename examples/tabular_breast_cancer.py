"""Everyday tabular training on scikit-learn's breast cancer data, beside Keras when installed.

    python examples/tabular_breast_cancer.py          30 + 20 epochs, and Keras's numbers beside
    python examples/tabular_breast_cancer.py --fast   4 + 3 epochs, minikeras only (the tests)

What it shows, each as a Keras user writes it:
- `Normalization.adapt(x_train)`: the features' means and variances learnt once, inside the
  model (the raw features range from 0.001 to 4,000);
- an L2 penalty on the hidden kernel, added to the loss `fit` reports;
- a learning-rate schedule (ExponentialDecay) for a first phase;
- `ReduceLROnPlateau` for a second phase: it sets the rate, so that phase's optimizer takes a
  plain number (Keras refuses to set a scheduled rate), and History logs `learning_rate`;
- Precision, Recall and AUC beside accuracy.

The function `build(lib)` takes the library as an argument: the same lines build the model in
minikeras and in Keras, which then starts from minikeras's weights and trains on the same
batches (shuffle=False), so the two columns printed differ only by float32 rounding.
"""

import os
import sys

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import minikeras

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS_SCHEDULED, EPOCHS_PLATEAU = (4, 3) if FAST else (30, 20)
BATCH_SIZE = 32

minikeras.utils.set_random_seed(0)
data = load_breast_cancer()  # 569 tumours, 30 measurements each; target 1 = benign
x_train, x_test, y_train, y_test = train_test_split(
    data.data.astype("float32"),
    data.target.astype("float32").reshape(-1, 1),
    test_size=0.25,
    random_state=0,
    stratify=data.target,
)
print(f"train {x_train.shape}, test {x_test.shape}, benign fraction {y_train.mean():.3f}")
steps_per_epoch = -(-len(x_train) // BATCH_SIZE)


def build(lib):
    """The model, written once for either library (`lib` is minikeras or keras)."""
    normalize = lib.layers.Normalization()
    normalize.adapt(x_train)  # mean and variance of each feature, from the training set only
    model = lib.Sequential(
        [
            lib.layers.Input(shape=(30,)),
            normalize,
            lib.layers.Dense(16, activation="relu", kernel_regularizer=lib.regularizers.L2(1e-3)),
            lib.layers.Dense(1, activation="sigmoid"),
        ]
    )
    return model


def metrics(lib):
    # named: a metric object made later would be logged as precision_1, precision_2, ...
    return [
        "accuracy",
        lib.metrics.Precision(name="precision"),
        lib.metrics.Recall(name="recall"),
        lib.metrics.AUC(name="auc"),
    ]


def train(lib, model):
    """Two phases: a decaying schedule, then a plain rate that ReduceLROnPlateau lowers."""
    schedule = lib.optimizers.schedules.ExponentialDecay(
        0.01, decay_steps=steps_per_epoch, decay_rate=0.9
    )
    model.compile(
        optimizer=lib.optimizers.Adam(schedule), loss="binary_crossentropy", metrics=metrics(lib)
    )
    first = model.fit(
        x_train, y_train, epochs=EPOCHS_SCHEDULED, batch_size=BATCH_SIZE, shuffle=False, verbose=0
    )
    model.compile(
        optimizer=lib.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=metrics(lib)
    )
    plateau = lib.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=2, min_delta=1e-3, min_lr=1e-5
    )
    second = model.fit(
        x_train,
        y_train,
        epochs=EPOCHS_PLATEAU,
        batch_size=BATCH_SIZE,
        shuffle=False,
        validation_split=0.2,
        callbacks=[plateau],
        verbose=0,
    )
    return first.history, second.history


def keras_or_none():
    """Keras, quietly imported, when installed and not in the fast mode."""
    if FAST:
        return None
    from minikeras.parity.keras_env import KerasUnavailable, import_keras

    try:
        return import_keras()
    except KerasUnavailable:
        return None


model = build(minikeras)
keras = keras_or_none()
twin = None
if keras is not None:
    twin = build(keras)
    twin.set_weights(model.get_weights())  # the same start, Normalization's statistics included

runs = {"minikeras": train(minikeras, model)}
if twin is not None:
    runs["keras"] = train(keras, twin)
names = list(runs)

print("\nphase 1, ExponentialDecay(0.01, every epoch × 0.9): training loss (with the L2 penalty)")
for epoch in sorted({0, EPOCHS_SCHEDULED - 1}):
    values = "  ".join(f"{name} {runs[name][0]['loss'][epoch]:.4f}" for name in names)
    print(f"  epoch {epoch + 1:>2}: {values}")
print("phase 2, Adam(1e-3), ReduceLROnPlateau(val_loss, factor 0.5, patience 2, min_lr 1e-5)")
for epoch in sorted({0, EPOCHS_PLATEAU - 1}):
    values = "  ".join(
        f"{name} val_loss {runs[name][1]['val_loss'][epoch]:.4f} "
        f"lr {runs[name][1]['learning_rate'][epoch]:.2e}"
        for name in names
    )
    print(f"  epoch {epoch + 1:>2}: {values}")
for name in names:
    rates = runs[name][1]["learning_rate"]
    changes = [f"{rates[0]:.2e}"] + [
        f"epoch {i + 1}: {rates[i]:.2e}" for i in range(1, len(rates)) if rates[i] != rates[i - 1]
    ]
    print(f"  {name} learning rate: " + ", ".join(changes))

results = {"minikeras": model.evaluate(x_test, y_test, verbose=0, return_dict=True)}
if twin is not None:
    results["keras"] = twin.evaluate(x_test, y_test, verbose=0, return_dict=True)
print("\ntest set:" + "".join(f"  {name:>12}" for name in names))
for key in ("loss", "accuracy", "precision", "recall", "auc"):
    print(f"  {key:<9}" + "".join(f"  {results[name][key]:>12.4f}" for name in names))

accuracy = results["minikeras"]["accuracy"]
if twin is not None:
    gap = max(abs(results["minikeras"][k] - results["keras"][k]) for k in results["keras"])
    print(f"largest difference from Keras on the test set: {gap:.2e}")
if accuracy < (0.9 if FAST else 0.95):
    sys.exit(f"test accuracy {accuracy:.4f} is below what this example reaches")
print(f"test accuracy {accuracy:.4f}")
