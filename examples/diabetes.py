"""Diabetes (scikit-learn, offline): regression, trained once with MSE and once with MAE.

    python examples/diabetes.py          150 epochs each
    python examples/diabetes.py --fast   3 epochs each (what the test suite runs)

What it shows: a linear output unit (no activation) predicting a number, the target
standardised for training and the predictions turned back into its units, and what the choice
of loss changes. MSE, mean((y − p)²), has gradient 2(p − y)/N: large errors pull hard. MAE,
mean(|y − p|), has gradient sign(p − y)/N: every error pulls the same, so outliers matter less.
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from minikeras import Sequential
from minikeras.layers import Dense, Input
from minikeras.utils import set_random_seed

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 3 if FAST else 150

data = load_diabetes()  # 442 patients, 10 (already scaled) measurements; target: progression
x_train, x_test, y_train, y_test = train_test_split(
    data.data.astype("float32"), data.target.astype("float32"), test_size=0.25, random_state=0
)
# train on a standardised target (mean 0, spread 1), report in the target's own units
y_mean, y_std = y_train.mean(), y_train.std()
print(f"train {x_train.shape}, test {x_test.shape}, target mean {y_mean:.1f}, spread {y_std:.1f}")
baseline = np.mean(np.abs(y_test - y_mean))
print(f"baseline (always predict the training mean): test MAE {baseline:.1f}")

for loss, metric in (("mse", "mae"), ("mae", "mse")):
    set_random_seed(0)
    model = Sequential([Input(shape=(10,)), Dense(32, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=loss, metrics=[metric])
    history = model.fit(
        x_train, (y_train - y_mean) / y_std, epochs=EPOCHS, batch_size=32, verbose=0
    )
    logs = {k: round(v[-1], 4) for k, v in history.history.items()}
    print(f"loss={loss}: last epoch {logs} (standardised units)")
    predictions = model.predict(x_test, verbose=0)[:, 0] * y_std + y_mean
    mse = np.mean((predictions - y_test) ** 2)
    mae = np.mean(np.abs(predictions - y_test))
    print(f"loss={loss}: test MSE {mse:.1f}, test MAE {mae:.1f} (target units)")
    if not FAST and mae >= baseline:
        sys.exit(f"loss={loss}: test MAE {mae:.1f} does not beat the baseline {baseline:.1f}")
