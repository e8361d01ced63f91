"""layers.Normalization against Keras: adapt() on each kind of data and axis, given statistics,
invert, the weights, configs and a whole fit; its backward against central differences.

float64 in both libraries: 1e-10 relative (the parity suite's float64 bound; adapt sums the
same numbers, possibly in another order)."""

import numpy as np
import pytest

import minikeras
from minikeras import testing

RTOL = 1e-10


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


RNG = np.random.default_rng(0)
DATA = RNG.normal(3.0, 2.0, size=(12, 4, 3))


def dataset(lib):
    class Batches(lib.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return DATA[4 * i : 4 * i + 5], np.zeros(len(DATA[4 * i : 4 * i + 5]))

    return Batches()


SOURCES = {
    "array": lambda lib: DATA,
    "list of batches": lambda lib: [DATA[:5], DATA[5:]],
    "generator of (x, y)": lambda lib: ((DATA[i : i + 5], None) for i in range(0, 12, 5)),
    "PyDataset": dataset,
}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("axis", [-1, None, 1, (1, 2)])
def test_adapt(keras64, source, axis):
    ours = minikeras.layers.Normalization(axis=axis)
    theirs = keras64.layers.Normalization(axis=axis)
    ours.adapt(SOURCES[source](minikeras))
    theirs.adapt(SOURCES[source](keras64))
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.path.split("/")[-1] for w in ours.weights] == [
        w.path.split("/")[-1] for w in theirs.weights
    ]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL)
    np.testing.assert_allclose(ours(DATA), np.asarray(theirs(DATA)), rtol=RTOL)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mean=3.0, variance=2.0),
        dict(mean=[0.5, 0.2, -0.1], variance=[0.1, 0.2, 0.3]),
        dict(mean=[0.5, 0.2, -0.1], variance=[0.1, 0.0, 0.3], invert=True),
        dict(axis=(1, 2), mean=[0.5, 0.2, -0.1], variance=[0.1, 0.2, 0.3]),
    ],
)
def test_given_statistics_and_config(keras64, kwargs):
    ours = minikeras.layers.Normalization(**kwargs)
    theirs = keras64.layers.Normalization(**kwargs)
    np.testing.assert_allclose(ours(DATA), np.asarray(theirs(DATA)), rtol=RTOL)
    assert ours.weights == [] and theirs.weights == []
    config = ours.get_config()
    keras_config = theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in keras_config.items() if k != "name"
    }
    rebuilt = keras64.layers.Normalization.from_config(config)
    np.testing.assert_allclose(np.asarray(rebuilt(DATA)), ours(DATA), rtol=RTOL)


def test_fit_through_an_adapted_normalization(keras64):
    x = DATA[:, :, 0]
    y = np.sin(x).sum(axis=1, keepdims=True)

    def build(lib):
        norm = lib.layers.Normalization()
        norm.adapt(x)
        model = lib.Sequential(
            [lib.layers.Input((4,)), norm, lib.layers.Dense(2), lib.layers.Dense(1)]
        )
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        return model

    ours, theirs = build(minikeras), build(keras64)
    theirs.set_weights(ours.get_weights())
    kwargs = dict(epochs=2, batch_size=5, shuffle=False, verbose=0)
    h_ours, h_theirs = ours.fit(x, y, **kwargs), theirs.fit(x, y, **kwargs)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)
    assert ours.layers[0].get_build_config() == theirs.layers[0].get_build_config()


@pytest.mark.parametrize("invert", [False, True])
def test_gradient_through_normalization(invert):
    x = DATA[:5, :, 0]
    norm = minikeras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.25], invert=invert)
    model = minikeras.Sequential(
        [minikeras.layers.Input((4,)), minikeras.layers.Dense(2), norm, minikeras.layers.Dense(1)]
    )
    worst = testing.check_gradients(model, x, np.ones((5, 1)), loss="mse", verbose=False)
    assert max(worst.values()) < 1e-7  # central differences in float64 (minikeras.testing)


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda lib: lib.layers.Normalization(mean=0.5), None),
        (lambda lib: lib.layers.Normalization(mean=[1.0, 2.0], variance=[1.0]), None),
        (lambda lib: lib.layers.Normalization(axis=3).build((2, 2)), None),
        (lambda lib: lib.layers.Normalization(axis=1).build((None, None)), None),
        (lambda lib: lib.layers.Normalization().adapt([]), None),
        (lambda lib: lib.layers.Normalization().adapt([[1.0, 2.0]]), None),
        (lambda lib: lib.layers.Normalization().adapt(3.0), None),
    ],
)
def test_errors_as_keras(keras64, make, data):
    errors = []
    for lib in (minikeras, keras64):
        with pytest.raises(Exception) as caught:
            make(lib)
        errors.append(caught.value)
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]).split(".")[0] == str(errors[1]).split(".")[0]


def test_adapt_with_data_of_another_shape(keras64):
    errors = []
    for lib in (minikeras, keras64):
        layer = lib.layers.Normalization()
        layer.build((10, 5))
        with pytest.raises(ValueError) as caught:
            layer.adapt(np.ones((10, 3)))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
