"""fit, evaluate and predict on generators and PyDatasets, and with `steps_per_epoch`,
`validation_steps` and `validation_batch_size`, against Keras: which batches each epoch
takes decides every number, so the same History, weights and warnings mean the same batches.

float64 in both libraries: 1e-10 relative is the parity suite's float64 bound (only the
order of a few additions may differ)."""

import warnings

import numpy as np
import pytest

import minikeras

RTOL = 1e-10


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


X = np.linspace(-1, 1, 30).reshape(10, 3)
Y = X @ np.array([[0.5], [-1.0], [2.0]]) + 0.25


def twins(keras):
    def build(lib):
        return lib.Sequential([lib.layers.Input((3,)), lib.layers.Dense(1)])

    ours, theirs = build(minikeras), build(keras)
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    # eagerly: the same steps, without tracing a graph for each of these tiny fits
    theirs.compile(optimizer="sgd", loss="mse", metrics=["mae"], run_eagerly=True)
    return ours, theirs


def batches(count=5, forever=False):
    """Batches of two rows of X; `forever` cycles through them."""
    i = 0
    while forever or i < count:
        j = i % 5
        yield X[2 * j : 2 * j + 2], Y[2 * j : 2 * j + 2]
        i += 1


def dataset_class(lib):
    class Pairs(lib.utils.PyDataset):
        """Batch i: rows 2i and 2i+1; records what fit asked of it."""

        def __init__(self, count=5, **kwargs):
            super().__init__(**kwargs)
            self.count, self.calls = count, []

        def __len__(self):
            return self.count

        def __getitem__(self, i):
            return X[2 * i : 2 * i + 2], Y[2 * i : 2 * i + 2]

        def on_epoch_begin(self):
            self.calls.append("begin")

        def on_epoch_end(self):
            self.calls.append("end")

    return Pairs


def run(model, data):
    """The History of a fit and how many "ran out of data" warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(**data, verbose=0)
    return history, sum("ran out of data" in str(w.message) for w in caught)


def assert_same(ours, theirs, h_ours, h_theirs):
    assert sorted(h_ours.history) == sorted(h_theirs.history)
    for key in h_ours.history:
        np.testing.assert_allclose(h_ours.history[key], h_theirs.history[key], rtol=RTOL)
    assert h_ours.params["steps"] == h_theirs.params["steps"]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-13)


CASES = {
    # a finite generator: epoch 1 reads it all; later epochs find only the two batches read
    # ahead (replayed), as Keras does
    "finite generator": lambda lib: dict(x=batches(5), epochs=3),
    "finite generator, steps_per_epoch=4": lambda lib: dict(
        x=batches(5), epochs=3, steps_per_epoch=4
    ),
    "endless generator, generator validation": lambda lib: dict(
        x=batches(forever=True),
        epochs=3,
        steps_per_epoch=3,
        validation_data=batches(5),
        validation_steps=2,
    ),
    "arrays, steps_per_epoch=2 (batch size 5)": lambda lib: dict(
        x=X, y=Y, epochs=3, steps_per_epoch=2, shuffle=False
    ),
    "arrays, steps_per_epoch beyond the data": lambda lib: dict(
        x=X, y=Y, batch_size=4, epochs=2, steps_per_epoch=5, shuffle=False
    ),
    "arrays, steps_per_epoch goes on across epochs": lambda lib: dict(
        x=X, y=Y, batch_size=4, epochs=3, steps_per_epoch=2, shuffle=False
    ),
    "arrays, validation_steps and validation_batch_size": lambda lib: dict(
        x=X,
        y=Y,
        batch_size=2,
        epochs=2,
        shuffle=False,
        validation_data=(X, Y),
        validation_steps=2,
        validation_batch_size=3,
    ),
    "PyDataset": lambda lib: dict(x=dataset_class(lib)(), epochs=2, shuffle=False),
    "PyDataset, steps_per_epoch=3": lambda lib: dict(
        x=dataset_class(lib)(), epochs=2, shuffle=False, steps_per_epoch=3
    ),
    "PyDataset with 2 workers, PyDataset validation": lambda lib: dict(
        x=dataset_class(lib)(workers=2, max_queue_size=2),
        epochs=2,
        shuffle=False,
        validation_data=dataset_class(lib)(3),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_takes_the_batches_keras_takes(keras64, case):
    ours, theirs = twins(keras64)
    h_ours, warned_ours = run(ours, CASES[case](minikeras))
    h_theirs, warned_theirs = run(theirs, CASES[case](keras64))
    assert_same(ours, theirs, h_ours, h_theirs)
    assert warned_ours == warned_theirs  # "Your input ran out of data", once per short epoch


def test_pydataset_hooks_are_called_as_keras_calls_them(keras64):
    """on_epoch_end once before training (Keras's reset), then begin/end around each epoch."""
    ours, theirs = twins(keras64)
    ours_data, theirs_data = dataset_class(minikeras)(), dataset_class(keras64)()
    ours.fit(ours_data, epochs=2, verbose=0, shuffle=False)
    theirs.fit(theirs_data, epochs=2, verbose=0, shuffle=False)
    assert ours_data.calls == theirs_data.calls == ["end", "begin", "end", "begin", "end"]


@pytest.mark.parametrize("steps", [None, 2])
def test_evaluate_and_predict_on_streams(keras64, steps):
    ours, theirs = twins(keras64)
    for make in (lambda lib: batches(5), lambda lib: dataset_class(lib)()):
        np.testing.assert_allclose(
            ours.evaluate(make(minikeras), steps=steps, verbose=0),
            theirs.evaluate(make(keras64), steps=steps, verbose=0),
            rtol=RTOL,
        )
        np.testing.assert_allclose(
            ours.predict(make(minikeras), steps=steps, verbose=0),
            theirs.predict(make(keras64), steps=steps, verbose=0),
            rtol=RTOL,
        )


def test_evaluate_and_predict_with_steps_on_arrays(keras64):
    ours, theirs = twins(keras64)
    np.testing.assert_allclose(
        ours.evaluate(X, Y, steps=3, verbose=0),
        theirs.evaluate(X, Y, steps=3, verbose=0),
        rtol=RTOL,
    )
    ours_out = ours.predict(X, batch_size=4, steps=2, verbose=0)
    theirs_out = theirs.predict(X, batch_size=4, steps=2, verbose=0)
    assert ours_out.shape == theirs_out.shape == (8, 1)
    np.testing.assert_allclose(ours_out, theirs_out, rtol=RTOL)
