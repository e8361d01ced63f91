"""Keras files both ways, against real Keras: a model saved by minikeras opens in Keras with the
same architecture, weights, compile config and optimizer state, and trains on to the same next
steps; a model saved by Keras opens in minikeras the same way. Also: the files minikeras writes
have Keras's exact layout, `.weights.h5` and JSON both ways, and unsupported Keras files are
refused with the layer class named.
"""

import json
import warnings
import zipfile

import numpy as np
import pytest

import minikeras as mk
from minikeras import optimizers
from minikeras.layers import Dense, Dropout, Input

# every activation a layer can take by name alone: glu halves its input's last axis (odd units
# fail, in Keras too) and threshold has required arguments. Sparsemax is left out: Keras's
# threshold τ sums every cumulative sum of the support instead of taking the last one, so its
# rows do not sum to 1 once the support holds two entries or more (minikeras's do; see
# activations.sparsemax)
ACTIVATIONS = sorted(set(mk.activations.ALL_ACTIVATIONS) - {"glu", "threshold", "sparsemax"})


def tolerance(floatx):
    """Keras's own float32 tolerance; float64 tight."""
    return dict(rtol=1e-5, atol=1e-6) if floatx == "float32" else dict(rtol=1e-10, atol=1e-12)


# (id, minikeras optimizer, loss, output units, output activation, hidden activation):
# every optimizer variant (each slot layout), every loss, in strings and objects
CASES = [
    ("sgd-mse", lambda: optimizers.SGD(0.05), "mse", 2, "linear", "relu"),
    ("sgd-momentum-mae", lambda: optimizers.SGD(0.05, momentum=0.9), "mae", 2, "tanh", "sigmoid"),
    (
        "sgd-nesterov-bce",
        lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        "binary_crossentropy",
        1,
        "sigmoid",
        "elu",
    ),
    (
        "rmsprop-cce",
        lambda: optimizers.RMSprop(0.01),
        "categorical_crossentropy",
        3,
        "softmax",
        "selu",
    ),
    (
        "rmsprop-centered-momentum-scce",
        lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        "sparse_categorical_crossentropy",
        3,
        "softmax",
        "softplus",
    ),
    (
        "adam-bce-multilabel",
        lambda: optimizers.Adam(0.01),
        "binary_crossentropy",
        3,
        "sigmoid",
        "tanh",
    ),
    (
        "adam-amsgrad-cce-object",
        lambda: optimizers.Adam(0.01, amsgrad=True),
        lambda: mk.losses.CategoricalCrossentropy(label_smoothing=0.1),
        3,
        "softmax",
        "softsign",
    ),
    (
        "adam-mse-function",
        lambda: optimizers.Adam(0.01),
        lambda: mk.losses.mean_squared_error,
        2,
        "linear",
        "silu",
    ),
    (
        "sgd-huber-function",
        lambda: optimizers.SGD(0.05),
        lambda: mk.losses.huber,
        2,
        "linear",
        "tanh",
    ),
    (
        "rmsprop-focal-object",
        lambda: optimizers.RMSprop(0.01),
        lambda: mk.losses.CategoricalFocalCrossentropy(gamma=1.5),
        3,
        "softmax",
        "relu",
    ),
]


def make_data(loss_name, units, floatx, n=24, features=5):
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (n, features)).astype(floatx)
    if loss_name in ("mse", "mae", "mean_squared_error"):
        y = rng.normal(size=(n, units)).astype(floatx)
    elif loss_name == "binary_crossentropy":
        y = rng.integers(0, 2, (n, units)).astype(floatx)
    elif loss_name == "sparse_categorical_crossentropy":
        y = rng.integers(0, units, n)
    else:
        y = np.eye(units, dtype=floatx)[rng.integers(0, units, n)]
    return x, y


def loss_name_of(loss):
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or loss.__name__


def build_case(case):
    _, make_optimizer, loss, units, out_act, hidden_act = case
    loss = loss() if callable(loss) and not isinstance(loss, str) else loss
    mk.utils.set_random_seed(3)
    model = mk.Sequential(
        [Input(shape=(5,)), Dense(6, activation=hidden_act), Dense(units, activation=out_act)]
    )
    metrics = ["accuracy"] if "crossentropy" in loss_name_of(loss) else None
    model.compile(optimizer=make_optimizer(), loss=loss, metrics=metrics)
    return model


def keras_slots_by_name(keras_model):
    """{optimizer variable path: value} of a Keras model."""
    return {v.path: v.numpy() for v in keras_model.optimizer.variables}


def assert_same_state(keras_model, model, x, floatx, exact):
    """Same predictions, weights and optimizer state (slots matched by Keras's variable names,
    so a wrong slot order cannot pass unseen); `exact`: bit for bit (just loaded)."""
    tol = tolerance(floatx)
    compare = (
        np.testing.assert_array_equal
        if exact
        else (lambda a, b: np.testing.assert_allclose(a, b, **tol))
    )
    for k_w, m_w in zip(keras_model.get_weights(), model.get_weights(), strict=True):
        assert k_w.dtype == m_w.dtype == np.dtype(floatx)
        compare(k_w, m_w)
    np.testing.assert_allclose(
        np.asarray(keras_model(x, training=False)), model.predict(x, verbose=0), **tol
    )
    optimizer = model.optimizer
    assert int(keras_model.optimizer.iterations.numpy()) == optimizer.iterations
    assert float(keras_model.optimizer.learning_rate.numpy()) == optimizer.learning_rate
    by_name = keras_slots_by_name(keras_model)
    prefix = keras_model.optimizer.name
    assert len(by_name) == len(optimizer.variables)
    for slot in optimizer.slot_names:
        for i, variable in enumerate(keras_model.trainable_variables):
            name = f"{prefix}/{variable.path.replace('/', '_')}_{slot}"
            compare(by_name[name], optimizer.slots[slot][i])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_round_trips_and_continued_fit(keras, floatx, case, tmp_path):
    model = build_case(case)
    loss = model._compile_config["loss"]
    x, y = make_data(loss_name_of(loss), case[3], floatx)
    fit = dict(batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.fit(x, y, **fit)

    # minikeras → Keras: everything arrives, and both take the same next steps
    model.save(tmp_path / "mk.keras")
    keras_model = keras.saving.load_model(tmp_path / "mk.keras")
    assert type(keras_model.optimizer).__name__ == type(model.optimizer).__name__
    for key, value in model.optimizer.get_config().items():
        assert keras_model.optimizer.get_config()[key] == value, key
    assert_same_state(keras_model, model, x, floatx, exact=True)
    keras_history = keras_model.fit(x, y, **fit).history
    history = model.fit(x, y, **fit).history
    np.testing.assert_allclose(keras_history["loss"], history["loss"], **tolerance(floatx))
    assert_same_state(keras_model, model, x, floatx, exact=False)

    # Keras → minikeras: the model Keras trained on opens here, compiled, and trains the same
    keras_model.save(tmp_path / "keras.keras")
    back = mk.models.load_model(tmp_path / "keras.keras")
    assert type(back.optimizer) is type(model.optimizer)
    assert back.optimizer.get_config() == model.optimizer.get_config()
    ours_loss, back_loss = model.output_specs[0].loss, back.output_specs[0].loss
    assert type(back_loss) is type(ours_loss) and back_loss.get_config() == ours_loss.get_config()
    assert_same_state(keras_model, back, x, floatx, exact=True)
    keras_history = keras_model.fit(x, y, **fit).history
    history = back.fit(x, y, **fit).history
    np.testing.assert_allclose(keras_history["loss"], history["loss"], **tolerance(floatx))
    assert sorted(keras_history) == sorted(history)
    assert_same_state(keras_model, back, x, floatx, exact=False)


def activation_model(lib, activation, dtype):
    layers = lib.layers
    return lib.Sequential(
        [
            layers.Input(shape=(4,), dtype=dtype),
            layers.Dense(5, activation=activation),
            layers.Activation(activation),
            layers.Dense(3),
        ]
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_both_ways(keras, floatx, activation, tmp_path):
    x = np.random.default_rng(1).uniform(-3, 3, (16, 4)).astype(floatx)
    tol = tolerance(floatx)

    model = activation_model(mk, activation, floatx)
    model.save(tmp_path / "mk.keras")
    keras_model = keras.saving.load_model(tmp_path / "mk.keras")
    np.testing.assert_allclose(np.asarray(keras_model(x)), model.predict(x, verbose=0), **tol)

    keras_model = activation_model(keras, activation, floatx)
    keras_model.save(tmp_path / "keras.keras")
    back = mk.models.load_model(tmp_path / "keras.keras")
    assert [type(layer).__name__ for layer in back.layers] == ["Dense", "Activation", "Dense"]
    np.testing.assert_allclose(back.predict(x, verbose=0), np.asarray(keras_model(x)), **tol)


# ---------------------------------------------------------------------- the same bytes as Keras
def both_models(keras, optimizer_config):
    """The same model in both libraries (names, weights, compile arguments)."""

    def spec(lib):
        layers = lib.layers
        return lib.Sequential(
            [
                layers.Input(shape=(4,), name="features"),
                layers.Dense(3, activation="relu", name="hidden"),
                layers.Dropout(0.25, name="drop"),
                layers.Activation("tanh", name="squash"),
                layers.Flatten(name="flat"),
                layers.Dense(2, activation="softmax", name="probabilities"),
            ],
            name="classifier",
        )

    model, keras_model = spec(mk), spec(keras)
    keras_model.set_weights(model.get_weights())
    compile_args = dict(loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
    model.compile(optimizer=optimizers.get(optimizer_config), **compile_args)
    keras_model.compile(optimizer=keras.optimizers.get(optimizer_config), **compile_args)
    return model, keras_model


def h5_layout(h5py, path):
    """Every group and dataset of an h5 file: path, kind, attributes, shape, dtype."""
    rows = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: rows.append(
                (
                    name,
                    type(obj).__name__,
                    {k: str(v) for k, v in obj.attrs.items()},
                    getattr(obj, "shape", None),
                    str(getattr(obj, "dtype", "")),
                )
            )
        )
    return rows


def normalised_config(text):
    """A config.json without what legitimately differs: Keras's shared-object ids."""

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "shared_object_id"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(json.loads(text))


# Named: Keras's default optimizer names are made unique per process (sgd, sgd_1, ...)
OPTIMIZER_CONFIGS = [
    {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}},
    {"class_name": "RMSprop", "config": {"momentum": 0.5, "centered": True}},
    {"class_name": "Adam", "config": {"amsgrad": True}},
]
for _config in OPTIMIZER_CONFIGS:
    _config["config"]["name"] = _config["class_name"].lower()


@pytest.mark.parametrize(
    "optimizer_config", OPTIMIZER_CONFIGS, ids=[c["class_name"] for c in OPTIMIZER_CONFIGS]
)
def test_files_have_keras_layout(keras, h5py, optimizer_config, tmp_path):
    model, keras_model = both_models(keras, optimizer_config)
    x = np.random.default_rng(0).uniform(size=(8, 4)).astype("float32")
    y = np.eye(2, dtype="float32")[np.arange(8) % 2]
    model.fit(x, y, verbose=0)
    keras_model.fit(x, y, verbose=0)

    model.save(tmp_path / "mk.keras")
    keras_model.save(tmp_path / "keras.keras")
    with (
        zipfile.ZipFile(tmp_path / "mk.keras") as ours,
        zipfile.ZipFile(tmp_path / "keras.keras") as theirs,
    ):
        assert ours.namelist() == theirs.namelist()
        assert [i.compress_type for i in ours.infolist()] == [
            i.compress_type for i in theirs.infolist()
        ]
        assert normalised_config(ours.read("config.json")) == normalised_config(
            theirs.read("config.json")
        )
        assert (
            json.loads(ours.read("metadata.json")).keys()
            == json.loads(theirs.read("metadata.json")).keys()
        )
        ours.extract("model.weights.h5", tmp_path / "ours")
        theirs.extract("model.weights.h5", tmp_path / "theirs")
    assert h5_layout(h5py, tmp_path / "ours/model.weights.h5") == h5_layout(
        h5py, tmp_path / "theirs/model.weights.h5"
    )

    model.save_weights(tmp_path / "mk.weights.h5")
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    assert h5_layout(h5py, tmp_path / "mk.weights.h5") == h5_layout(
        h5py, tmp_path / "keras.weights.h5"
    )
    assert json.loads(model.to_json()) == normalised_config(keras_model.to_json())


def test_weights_files_both_ways(keras, tmp_path):
    def spec(lib):
        layers = lib.layers
        return lib.Sequential(
            [layers.Input(shape=(6,)), layers.Dense(4, activation="relu"), layers.Dense(2)]
        )

    x = np.random.default_rng(2).normal(size=(10, 6)).astype("float32")
    model, keras_model = spec(mk), spec(keras)
    model.save_weights(tmp_path / "mk.weights.h5")
    keras_model.load_weights(tmp_path / "mk.weights.h5")
    np.testing.assert_allclose(np.asarray(keras_model(x)), model.predict(x, verbose=0), atol=1e-6)

    keras_model = spec(keras)
    keras_model.save_weights(tmp_path / "keras.weights.h5")
    model.load_weights(tmp_path / "keras.weights.h5")
    for k_w, m_w in zip(keras_model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(k_w, m_w)
    keras_model.save(tmp_path / "keras.keras")  # load_weights also reads a .keras file
    spec_model = spec(mk)
    spec_model.load_weights(tmp_path / "keras.keras")
    np.testing.assert_array_equal(spec_model.get_weights()[0], keras_model.get_weights()[0])


def test_json_both_ways(keras):
    model = mk.Sequential([Input(shape=(3,)), Dense(4, activation="elu"), Dropout(0.5), Dense(1)])
    model.compile(optimizer=optimizers.RMSprop(0.02), loss="mse", metrics=["mae"])
    keras_model = keras.models.model_from_json(model.to_json())
    assert [type(layer).__name__ for layer in keras_model.layers] == ["Dense", "Dropout", "Dense"]
    assert keras_model.layers[0].get_config()["activation"] == "elu"
    assert keras_model.get_config() == model.get_config() | {
        "layers": keras_model.get_config()["layers"]
    }
    assert type(keras_model.optimizer).__name__ == "RMSprop"

    back = mk.models.model_from_json(keras_model.to_json())
    assert back.get_config() == model.get_config()
    assert back.optimizer.learning_rate == model.optimizer.learning_rate
    assert back._compile_config["metrics"] == ["mae"]
    plain = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(2, name="out")])
    assert mk.models.model_from_json(plain.to_json()).get_layer("out").units == 2


# ---------------------------------------------------------------------- what minikeras refuses
def test_unsupported_keras_layer_is_named(keras, tmp_path):
    # (a layer minikeras does not have: SpectralNormalization)
    wrapped = keras.layers.SpectralNormalization(keras.layers.Dense(2))
    keras_model = keras.Sequential([keras.layers.Input((4,)), wrapped])
    keras_model.save(tmp_path / "spectral.keras")
    with pytest.raises(mk.saving.BadFileError, match=r"spectral\.keras.*'SpectralNormalization'"):
        mk.models.load_model(tmp_path / "spectral.keras")


def test_conv_lstm_keras_file_opens(keras, tmp_path):
    keras_model = keras.Sequential(
        [keras.layers.Input((3, 4, 1)), keras.layers.ConvLSTM1D(2, 3), keras.layers.Flatten()]
    )
    keras_model.save(tmp_path / "conv_lstm.keras")
    model = mk.models.load_model(tmp_path / "conv_lstm.keras")
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(keras_model(x)), atol=1e-6)


def test_functional_keras_model_opens(keras, tmp_path):
    # (functional files in depth: test_functional_files.py)
    inputs = keras.Input((3,))
    keras_model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    keras_model.save(tmp_path / "functional.keras")
    model = mk.models.load_model(tmp_path / "functional.keras")
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(keras_model(x)), atol=1e-6)


def test_a_lambda_layer_in_a_keras_file_loads_only_outside_safe_mode(keras, tmp_path):
    """As Keras: a lambda's bytecode is code from the file, refused in safe mode."""
    keras_model = keras.Sequential(
        [keras.layers.Input((2,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)]
    )
    keras_model.save(tmp_path / "lambda.keras")  # Keras stores the lambda's bytecode
    with pytest.raises(ValueError, match="safe_mode=False"):
        mk.models.load_model(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.saving.load_model(tmp_path / "lambda.keras")
    model = mk.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    x = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), keras_model.predict(x, verbose=0))


def test_flatten_and_dropout_keras_model_opens(keras, tmp_path):
    keras_model = keras.Sequential(
        [
            keras.layers.Input((3, 4)),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    keras_model.save(tmp_path / "flat.keras")
    model = mk.models.load_model(tmp_path / "flat.keras")
    assert not model.compiled
    x = np.random.default_rng(0).normal(size=(6, 3, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(keras_model(x)), atol=1e-6)
    assert [layer.name for layer in model.layers] == [layer.name for layer in keras_model.layers]


def test_compiled_model_not_trained_yet_opens_in_keras_without_warning(keras, tmp_path):
    """An optimizer that has not stepped is saved with its (zero) slots, so Keras's loader, which
    builds the optimizer first, finds every variable (Keras itself would warn and skip)."""
    model = mk.Sequential([Input(shape=(3,)), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "fresh.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        keras_model = keras.saving.load_model(tmp_path / "fresh.keras")
    assert len(keras_model.optimizer.variables) == 2 + 2 * 2
    assert not model.optimizer.built  # saving did not change the optimizer
