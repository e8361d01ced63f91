"""Wine (scikit-learn, offline): a functional model with two inputs and two outputs.

    python examples/functional.py          150 epochs
    python examples/functional.py --fast   5 epochs (what the test suite runs; or MINIKERAS_FAST=1)

178 wines from three cultivars, 13 laboratory measurements each. The model reads them as two
inputs — the chemistry (acids, ash, magnesium, phenols: 8 numbers) and the colour (intensity,
hue, OD280/OD315 and proline: 4 numbers) — and answers two questions at once:

    cultivar   which of the 3 cultivars (softmax; sparse categorical crossentropy; accuracy)
    alcohol    the alcohol content, held out of the inputs (linear; mean squared error; MAE)

    chemistry ─ Dense(16, relu) ─┐
                                 ├─ concatenate ─ Dense(16, relu) ─┬─ Dense(3, softmax)  cultivar
    colour ──── Dense(8, relu) ──┘                                 └─ Dense(1)           alcohol

The loss fit minimises is 1.0·cultivar_loss + 0.5·alcohol_loss; History logs each output's
loss and metrics under its name (`cultivar_accuracy`, `alcohol_mae`, ...), as Keras does.
Backward runs through the graph in reverse: the two heads' gradients are summed where they meet
(the shared trunk), then split at the concatenation back into the two branches.
"""

import os
import sys

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

from minikeras import Input, Model
from minikeras.layers import Dense, concatenate
from minikeras.utils import set_random_seed

FAST = "--fast" in sys.argv or os.environ.get("MINIKERAS_FAST") == "1"
EPOCHS = 5 if FAST else 150

set_random_seed(0)
wine = load_wine()
names = list(wine.feature_names)
chemistry_columns = [names.index(n) for n in names[1:9]]  # malic_acid ... proanthocyanins
colour_columns = [names.index(n) for n in names[9:]]  # color_intensity, hue, od280..., proline
alcohol_column = names.index("alcohol")

train, test = train_test_split(
    range(len(wine.target)), test_size=0.25, random_state=0, stratify=wine.target
)
data = wine.data
mean, std = data[train].mean(axis=0), data[train].std(axis=0)
data = ((data - mean) / std).astype("float32")  # every measurement standardised on the train set


def split(rows):
    """(inputs by name, labels by output name) for some rows of the data set."""
    x = {"chemistry": data[rows][:, chemistry_columns], "colour": data[rows][:, colour_columns]}
    y = {
        "cultivar": wine.target[rows],
        "alcohol": data[rows][:, alcohol_column : alcohol_column + 1],
    }
    return x, y


x_train, y_train = split(train)
x_test, y_test = split(test)

chemistry = Input(shape=(8,), name="chemistry")
colour = Input(shape=(4,), name="colour")
trunk = concatenate([Dense(16, activation="relu")(chemistry), Dense(8, activation="relu")(colour)])
trunk = Dense(16, activation="relu")(trunk)
cultivar = Dense(3, activation="softmax", name="cultivar")(trunk)
alcohol = Dense(1, name="alcohol")(trunk)
model = Model(inputs=[chemistry, colour], outputs=[cultivar, alcohol], name="wine")

model.compile(
    optimizer="adam",
    loss={"cultivar": "sparse_categorical_crossentropy", "alcohol": "mse"},
    loss_weights={"cultivar": 1.0, "alcohol": 0.5},
    metrics={"cultivar": ["accuracy"], "alcohol": ["mae"]},
)
model.summary()

history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=16, verbose=0)
print("History keys:", sorted(history.history))
# `loss` is the mean over samples; each output's loss, as Keras logs it, the mean over batches
# (the last batch is smaller): so the sum agrees only nearly
for epoch in sorted({0, EPOCHS // 2, EPOCHS - 1}):
    logs = {key: values[epoch] for key, values in history.history.items()}
    print(
        f"epoch {epoch + 1:>3}: loss {logs['loss']:.4f} ≈ {logs['cultivar_loss']:.4f} "
        f"+ 0.5 × {logs['alcohol_loss']:.4f}, cultivar accuracy {logs['cultivar_accuracy']:.4f}, "
        f"alcohol MAE {logs['alcohol_mae']:.4f} (in standard deviations)"
    )

results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(
    f"test: cultivar accuracy {results['cultivar_accuracy']:.4f}, "
    f"alcohol MAE {results['alcohol_mae'] * std[alcohol_column]:.3f} % vol"
)
probabilities, predicted_alcohol = model.predict(x_test, verbose=0)
print("predicted cultivars of 5 test wines:", probabilities[:5].argmax(axis=1).tolist())
print("their cultivars:                    ", y_test["cultivar"][:5].tolist())
print(
    "predicted alcohol (% vol):",
    [
        round(float(v), 2)
        for v in predicted_alcohol[:5, 0] * std[alcohol_column] + mean[alcohol_column]
    ],
)

if not FAST and (results["cultivar_accuracy"] < 0.9 or results["alcohol_mae"] > 0.8):
    sys.exit(f"test results below expectations: {results}")
