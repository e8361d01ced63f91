"""MultiOptimizer against Keras 3: a fit where each layer has its own optimizer (History, weights,
every optimizer variable in Keras's order), the serialized form, and `.keras` files both ways.

Tolerances: float64, where the two libraries differ only by the rounding of each operation's
order (Adam's √v divides those differences by small numbers on few steps): 1e-10 relative and
1e-12 absolute, the float64 bound of the other optimizer parity tests.
"""

import numpy as np
import pytest

import minikeras

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def build(lib, weights=None):
    """Two Dense layers, the first stepped by Adam, the second by SGD with momentum (the map's
    default), as the same code in both libraries."""
    model = lib.Sequential(
        [
            lib.Input((3,)),
            lib.layers.Dense(4, activation="tanh", name="dense_a"),
            lib.layers.Dense(1, name="dense_b"),
        ]
    )
    if weights is not None:
        model.set_weights(weights)
    chooser = lib.optimizers.OptimizerMap(
        lib.optimizers.SGD(learning_rate=0.05, momentum=0.9, name="slow"),
        {".*dense_a/.*": lib.optimizers.Adam(learning_rate=0.01, name="quick")},
    )
    model.compile(optimizer=lib.optimizers.MultiOptimizer(chooser, name="multi"), loss="mse")
    return model


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return x, np.sin(x[:, :1]) + 0.5 * x[:, 1:2]


def test_fit_and_optimizer_variables_as_keras(float64):
    keras = float64
    x, y = data()
    theirs = build(keras)
    ours = build(minikeras, theirs.get_weights())
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    history_theirs = theirs.fit(x, y, **fit).history
    history_ours = ours.fit(x, y, **fit).history
    np.testing.assert_allclose(history_ours["loss"], history_theirs["loss"], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    ours_vars, theirs_vars = ours.optimizer.variables, theirs.optimizer.variables
    assert [v.path for v in ours_vars] == [v.path for v in theirs_vars]
    for a, b in zip(ours_vars, theirs_vars):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=RTOL, atol=ATOL)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 9
    for a, b in zip(ours.optimizer.optimizers, theirs.optimizer.optimizers):
        assert int(a.iterations) == int(b.iterations)


def test_serialized_form_as_keras(keras):
    def make(lib):
        chooser = lib.optimizers.OptimizerMap(
            lib.optimizers.RMSprop(learning_rate=1e-4, name="fallback"),
            {"^dense_1/.*": lib.optimizers.Adam(learning_rate=0.5, name="adam_part")},
        )
        return lib.optimizers.MultiOptimizer(chooser, loss_scale_factor=2.0, name="multi")

    ours = minikeras.optimizers.serialize(make(minikeras))
    theirs = keras.optimizers.serialize(make(keras))
    assert ours == theirs
    rebuilt = keras.optimizers.deserialize(ours)  # our form rebuilds in Keras
    assert [type(o).__name__ for o in rebuilt.optimizers] == ["Adam", "RMSprop"]


@pytest.mark.parametrize("writer", ["minikeras", "keras"])
def test_keras_files_both_ways(float64, tmp_path, writer):
    keras = float64
    x, y = data(n=8)
    libs = {"minikeras": minikeras, "keras": keras}
    source = build(libs[writer])
    source.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "multi.keras")
    source.save(path)
    reader = libs["keras" if writer == "minikeras" else "minikeras"]
    loaded = reader.models.load_model(path)
    assert type(loaded.optimizer).__name__ == "MultiOptimizer"
    assert [type(o).__name__ for o in loaded.optimizer.optimizers] == ["Adam", "SGD"]
    for a, b in zip(loaded.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the optimizer's state came across too: one more step agrees
    loaded.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    source.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), source.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def h5_layout(path):
    """Every group and dataset of a `.keras` file's weights: path → (shape, its name attr)."""
    import io
    import zipfile

    import h5py

    entries = {}

    def record(name, item):  # returns None: h5py's visit stops at the first other value
        entries[name] = (getattr(item, "shape", None), item.attrs.get("name"))

    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as h5:
        h5.visititems(record)
    return entries


def test_file_layout_as_keras(keras, tmp_path):
    """Keras writes the MultiOptimizer's whole list in optimizer/vars and each sub-optimizer
    again in optimizer/optimizers/<its class>/vars: the same groups, shapes and names."""
    x, y = data(n=4)
    layouts = []
    for lib in (minikeras, keras):
        model = build(lib)
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)
        model.save(str(tmp_path / f"{lib.__name__}.keras"))
        layouts.append(h5_layout(str(tmp_path / f"{lib.__name__}.keras")))
    assert "optimizer/optimizers/adam/vars/5" in layouts[1]
    assert layouts[0] == layouts[1]
