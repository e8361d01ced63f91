"""The Trainer as Keras's trainers/ specify it: a layer mixed in with `Trainer` trains like a
model, `steps_per_execution` groups the batches the callbacks see, and `EpochIterator` takes
data as `fit` does and hands out `(begin_step, end_step, batches)`.

float64 in both libraries: 1e-10 relative is the parity suite's float64 bound (only the order
of a few additions may differ)."""

import numpy as np
import pytest

import minikeras
from minikeras.backend import NumpyTrainer
from minikeras.trainers.epoch_iterator import EpochIterator

RTOL = 1e-10

X = np.linspace(-1, 1, 40).reshape(10, 4)
Y = X @ np.array([[0.5], [-1.0], [2.0], [0.25]]) + 0.25


@pytest.fixture
def keras64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


class LinearModel(NumpyTrainer, minikeras.layers.Dense):
    """A Dense layer that is its own model, as Keras's trainer tests build one."""

    def __init__(self, units):
        minikeras.layers.Dense.__init__(
            self, units=units, use_bias=False, kernel_initializer="ones", dtype="float64"
        )
        NumpyTrainer.__init__(self)


class Steps(minikeras.callbacks.Callback):
    """The (hook, batch index) pairs fit's batch hooks receive."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("end", batch))


def keras_steps(keras):
    class KerasSteps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_train_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch))

    return KerasSteps()


def keras_linear(keras):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    return model


def test_a_dense_mixed_in_with_the_trainer_fits_as_keras(keras64):
    ours = LinearModel(units=1)
    ours.compile(optimizer=minikeras.optimizers.SGD(0.01), loss="mse", metrics=["mae"])
    theirs = keras_linear(keras64)
    theirs.compile(optimizer=keras64.optimizers.SGD(0.01), loss="mse", metrics=["mae"])
    histories = [
        m.fit(X, Y, batch_size=3, epochs=3, shuffle=False, verbose=0) for m in (ours, theirs)
    ]
    assert sorted(histories[0].history) == sorted(histories[1].history)
    for key, values in histories[1].history.items():
        np.testing.assert_allclose(histories[0].history[key], values, rtol=RTOL)
    np.testing.assert_allclose(ours.get_weights()[0], theirs.get_weights()[0], rtol=RTOL)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=RTOL)
    np.testing.assert_allclose(
        ours.evaluate(X, Y, verbose=0), theirs.evaluate(X, Y, verbose=0), rtol=RTOL
    )


@pytest.mark.parametrize("steps_per_epoch", [None, 3])
def test_steps_per_execution_groups_the_batches_the_callbacks_see(keras64, steps_per_epoch):
    # 10 samples in batches of 3: 4 batches, executions of 3 → batches [0-2] and [3-5] (the
    # second one short); with steps_per_epoch=3 the epoch takes steps 0 and 3, 6 batches
    # asked of a pass of 4, as Keras counts them
    ours = LinearModel(units=1)
    ours.compile(optimizer=minikeras.optimizers.SGD(0.01), loss="mse", steps_per_execution=3)
    theirs = keras_linear(keras64)
    theirs.compile(optimizer=keras64.optimizers.SGD(0.01), loss="mse", steps_per_execution=3)
    assert ours.steps_per_execution == theirs.steps_per_execution == 3
    ours_steps, their_steps = Steps(), keras_steps(keras64)
    histories = [
        m.fit(
            X,
            Y,
            batch_size=3,
            epochs=2,
            shuffle=False,
            verbose=0,
            steps_per_epoch=steps_per_epoch,
            callbacks=[c],
        )
        for m, c in ((ours, ours_steps), (theirs, their_steps))
    ]
    assert ours_steps.seen == their_steps.seen
    np.testing.assert_allclose(
        histories[0].history["loss"], histories[1].history["loss"], rtol=RTOL
    )
    np.testing.assert_allclose(ours.get_weights()[0], theirs.get_weights()[0], rtol=RTOL)


def test_steps_per_execution_must_be_a_positive_integer():
    model = LinearModel(units=1)
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=0)
    assert not model.compiled  # refused before anything changed


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_epoch_iterator_on_arrays_as_keras(keras64, steps_per_execution):
    from keras.src.trainers.epoch_iterator import EpochIterator as KerasEpochIterator

    weights = np.arange(10.0)
    arguments = dict(
        x=X, y=Y, sample_weight=weights, batch_size=4, steps_per_execution=steps_per_execution
    )
    ours = list(EpochIterator(**arguments))
    theirs = list(KerasEpochIterator(**arguments))
    assert [(b, e) for b, e, _ in ours] == [(b, e) for b, e, _ in theirs]
    for (_, _, our_batches), (_, _, their_batches) in zip(ours, theirs, strict=True):
        assert len(our_batches) == len(their_batches)
        for ours_batch, theirs_batch in zip(our_batches, their_batches, strict=True):
            for a, b in zip(ours_batch, theirs_batch, strict=True):
                np.testing.assert_array_equal(a, np.asarray(b))


def test_epoch_iterator_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="Unrecognized data type"):
        EpochIterator(x="unsupported_data")


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_a_callback_stops_evaluate_and_predict_as_keras(keras64, method):
    gerund, hook = {"evaluate": ("evaluating", "test"), "predict": ("predicting", "predict")}[
        method
    ]

    def stopper(lib):
        class Stopper(lib.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.counter = 0

            def batch_end(self, batch, logs=None):
                self.counter += 1
                if self.counter == 3:
                    setattr(self.model, f"stop_{gerund}", True)

        callback = Stopper()
        setattr(callback, f"on_{hook}_batch_end", callback.batch_end)
        return callback

    def batches():  # long enough to show where each library stops
        for _ in range(50):
            yield (X[:2],) if method == "predict" else (X[:2], Y[:2])

    ours, theirs = LinearModel(units=1), keras_linear(keras64)
    counts = []
    for model, lib in ((ours, minikeras), (theirs, keras64)):
        model.compile(optimizer="sgd", loss="mse")
        callback = stopper(lib)
        getattr(model, method)(batches(), callbacks=[callback], verbose=0)
        counts.append(callback.counter)
    assert counts == [3, 3]


def test_predict_keeps_the_structure_of_the_outputs(keras64):
    # a layer of yours that returns a dict: predict joins each entry over the batches
    def build(lib, trainer):
        class TwoHeads(trainer, lib.layers.Layer):
            def __init__(self):
                lib.layers.Layer.__init__(self, dtype="float64")
                trainer.__init__(self)
                self.one = lib.layers.Dense(2, kernel_initializer="ones", dtype="float64")
                self.two = lib.layers.Dense(3, kernel_initializer="ones", dtype="float64")

            def call(self, x):
                return {"one": self.one(x["a"]), "two": self.two(x["b"])}

        return TwoHeads()

    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    x = {"a": X, "b": X[:, :2]}
    ours = build(minikeras, NumpyTrainer).predict(x, batch_size=3, verbose=0)
    theirs = build(keras64, TensorFlowTrainer).predict(x, batch_size=3, verbose=0)
    assert isinstance(ours, dict) and sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL)


def test_a_layer_mixed_in_has_no_metrics_before_compile(keras64):
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    class KerasLinear(TensorFlowTrainer, keras64.layers.Dense):
        def __init__(self):
            keras64.layers.Dense.__init__(self, units=1)
            TensorFlowTrainer.__init__(self)

    assert len(LinearModel(units=1).metrics) == len(KerasLinear().metrics) == 0


def test_py_dataset_adapter_with_keras_arguments(keras64):
    from keras.src.trainers.data_adapters import py_dataset_adapter as keras_adapters

    from minikeras.trainers.data_adapters import py_dataset_adapter

    def dataset(base):
        class Pairs(base):
            def __len__(self):
                return 4

            def __getitem__(self, index):
                return X[index * 3 : index * 3 + 3], Y[index * 3 : index * 3 + 3]

        return Pairs()

    ours = py_dataset_adapter.PyDatasetAdapter(dataset(py_dataset_adapter.PyDataset), shuffle=False)
    theirs = keras_adapters.PyDatasetAdapter(dataset(keras_adapters.PyDataset), shuffle=False)
    assert ours.num_batches == theirs.num_batches == 4
    pairs = zip(ours.get_numpy_iterator(), theirs.get_numpy_iterator(), strict=True)
    for our_batch, their_batch in pairs:
        for a, b in zip(our_batch, their_batch, strict=True):
            np.testing.assert_array_equal(a, b)
