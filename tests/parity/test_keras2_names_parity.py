"""Keras 2's `compiled_loss` and `compiled_metrics` in a train_step written with a tape (as
keras.io's Keras 2 guides write it), and `model.metrics` right after compile: minikeras as Keras
3 on TensorFlow.

Tolerances: float64, SGD on small data: every step is a few products and sums, rounding only
(about 1e-16 per operation), so histories and weights agree within 1e-10 relative (1e-12
absolute for weights near zero).
"""

import warnings

import numpy as np
import pytest

import minikeras

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


@pytest.fixture
def tf(keras):
    import tensorflow

    return tensorflow


def keras2_step_model(lib, tape_class):
    """The Keras 2 guide's first CustomModel: its loss from `compiled_loss`, its metrics from
    `compiled_metrics`, its logs from `self.metrics`."""

    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply_gradients(zip(gradients, trainable_vars))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.Input(shape=(5,))
    regularizer = lib.regularizers.L2(0.01)  # reaches the loss through compute_loss
    hidden = lib.layers.Dense(4, activation="tanh", kernel_regularizer=regularizer)(inputs)
    return CustomModel(inputs, lib.layers.Dense(1)(hidden))


def regression_data(n=24, features=5, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    return x, np.tanh(x[:, :1] - x[:, 1:2])


def fit_quietly(model, x, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    return history, [str(w.message)[:40] for w in caught if w.category is UserWarning]


def test_a_keras2_train_step_trains_and_logs_as_in_keras(float64, tf):
    x, y = regression_data()
    libraries = [(minikeras, minikeras.GradientTape), (float64, tf.GradientTape)]
    models = [keras2_step_model(lib, tape) for lib, tape in libraries]
    models[1].set_weights(models[0].get_weights())
    runs = []
    for (lib, _), model in zip(libraries, models):
        # eagerly: Keras's step then runs (and warns) at every batch, not once when traced
        model.compile(
            optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=["mae"], run_eagerly=True
        )
        runs.append(fit_quietly(model, x, y))
    (ours, our_warnings), (theirs, their_warnings) = runs
    # Keras updates its loss tracker (a Mean) with y_pred: "loss" is the mean prediction;
    # the step's nested {"loss", "compile_metrics": {"mae"}} logs mae first
    assert list(ours) == list(theirs) == ["mae", "loss"]
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, err_msg=key)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    # one warning per call of each, at each of the 9 steps
    assert our_warnings == their_warnings
    assert len(our_warnings) == 18


def test_compiled_loss_is_compute_loss_with_the_penalties(float64):
    x, y = regression_data(n=6)
    models = [keras2_step_model(lib, None) for lib in (minikeras, float64)]  # no tape
    models[1].set_weights(models[0].get_weights())
    values = []
    for model in models:
        model.compile(optimizer="sgd", loss="mae")
        y_pred = model(x)
        with pytest.warns(UserWarning, match="compiled_loss"):
            values.append(float(model.compiled_loss(y, y_pred, regularization_losses=[1.0])))
    np.testing.assert_allclose(values[0], values[1], rtol=RTOL)


# ------------------------------------------------------------------ metrics after compile
def small_models(lib):
    """(label, a new model) for each kind whose metrics are compared."""

    def sequential(built):
        first = [lib.Input((4,))] if built else []
        return lib.Sequential(first + [lib.layers.Dense(3), lib.layers.Dense(2)])

    def two_outputs():
        inputs = lib.Input((4,))
        outputs = [lib.layers.Dense(2, name="a")(inputs), lib.layers.Dense(1, name="b")(inputs)]
        return lib.Model(inputs, outputs)

    return [
        ("built", lambda: sequential(True)),
        ("unbuilt", lambda: sequential(False)),
        ("two outputs", two_outputs),
    ]


COMPILES = [
    dict(loss="mse"),
    dict(loss="mse", metrics=["mae"]),
    dict(loss="mse", metrics=[]),
    dict(loss="mse", weighted_metrics=["mae"]),
]


def metrics_after_compile(lib):
    found = []
    for label, make in small_models(lib):
        for arguments in COMPILES:
            model = make()
            if label == "two outputs" and "metrics" in arguments:
                arguments = dict(arguments, metrics=[arguments["metrics"]] * 2)
            model.compile(optimizer="sgd", **arguments)
            found.append((label, str(arguments), model.metrics_names, len(model.metrics)))
    return found


def test_model_metrics_right_after_compile_are_keras_s(keras):
    assert metrics_after_compile(minikeras) == metrics_after_compile(keras)


def test_the_compiled_metrics_before_any_data_hold_nothing_as_keras_s(keras):
    for lib in (minikeras, keras):
        model = small_models(lib)[0][1]()
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        container = model.metrics[1]
        assert container is model._compile_metrics
        assert model.metrics[0] is model._loss_tracker
        assert container.metrics == [] and not container.built
        with pytest.raises(ValueError, match="not yet been built"):
            container.result()
        model.reset_metrics()  # nothing to reset: no error, as Keras's
        model.fit(np.ones((4, 4)), np.zeros((4, 2)), verbose=0)
        assert [m.name for m in container.metrics] == ["mae"] and container.built


# ------------------------------------------------------------------ predict_on_batch
def list_input_model(lib):
    """A subclass whose call takes a list of two inputs."""

    class ListInputModel(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense_1, self.dense_2 = lib.layers.Dense(2), lib.layers.Dense(2)

        def call(self, x):
            return self.dense_1(x[0]) + self.dense_2(x[1])

    return ListInputModel()


def test_predict_on_batch_hands_a_list_of_inputs_to_call_as_keras(float64):
    x = [np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(0, 2, 9).reshape(3, 3)]
    models = [list_input_model(lib) for lib in (minikeras, float64)]
    models[0](x)
    models[1](x)
    models[1].set_weights(models[0].get_weights())
    ours, theirs = (model.predict_on_batch(x) for model in models)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


# ------------------------------------------------------------------ compute_loss before 3.3
def old_compute_loss_model(lib):
    """A compute_loss written before Keras 3.3: no `training` argument."""

    class MyModel(lib.Model):
        def __init__(self):
            super().__init__()
            self.custom_metric = lib.metrics.Mean(name="custom")
            self.dense = lib.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            loss = super().compute_loss(x, y, y_pred, sample_weight)
            self.custom_metric.update_state(loss * 4)
            return loss

    return MyModel()


def test_a_compute_loss_without_training_is_called_without_it_as_keras_does(float64):
    x = np.linspace(-1, 1, 24).reshape(6, 4)
    y = np.cos(x[:, :2])
    models = [old_compute_loss_model(lib) for lib in (minikeras, float64)]
    for model in models:
        model(x)
    models[1].set_weights(models[0].get_weights())
    found = []
    for model in models:
        model.compile(optimizer="sgd", loss="mse")
        logs = model.evaluate(x, y, return_dict=True, verbose=0)
        history = model.fit(x, y, epochs=2, batch_size=3, shuffle=False, verbose=0).history
        found.append((logs, history))
    (our_logs, ours), (their_logs, theirs) = found
    assert sorted(ours) == sorted(theirs) == ["custom", "loss"]
    for key in ours:
        np.testing.assert_allclose(our_logs[key], their_logs[key], rtol=RTOL)
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL)


def test_no_step_runs_in_a_symbolic_scope(keras):
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope

    assert minikeras.backend.in_symbolic_scope() is in_symbolic_scope() is False


# ------------------------------------------------------------------ add_loss only
def add_loss_only_model(lib):
    """No compiled loss: a layer's `add_loss` term is all that is trained on."""

    class LossLayer(lib.layers.Layer):
        def call(self, x):
            self.add_loss(lib.ops.sum(x**2))
            return x

    return lib.Sequential([lib.Input((2,)), lib.layers.Dense(2), LossLayer(), lib.layers.Dense(1)])


def test_a_sequential_trained_on_add_loss_terms_only_trains_as_keras(float64):
    x = np.linspace(-1, 1, 16).reshape(8, 2)
    models = [add_loss_only_model(lib) for lib in (minikeras, float64)]
    models[1].set_weights(models[0].get_weights())
    histories = []
    for lib, model in zip((minikeras, float64), models):
        model.compile(optimizer=lib.optimizers.SGD(0.01))
        fit = model.fit(x, np.zeros((8, 1)), batch_size=4, shuffle=False, verbose=0)
        histories.append(fit.history)
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=RTOL)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------ a frozen layer that trains
def trainer_dense(layers_module, trainer_class):
    """A Dense mixed in with the Trainer (Keras's own tests' ExampleModel)."""

    class ExampleModel(trainer_class, layers_module.Dense):
        def __init__(self, units):
            layers_module.Dense.__init__(self, units=units, kernel_initializer="ones")
            trainer_class.__init__(self)

    return ExampleModel(units=1)


def test_a_frozen_layer_with_the_trainer_fits_as_keras(float64):
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from minikeras.trainers.trainer import Trainer

    x = np.linspace(0, 1, 40).reshape(10, 4)
    histories = []
    for layers_module, trainer_class in (
        (minikeras.layers, Trainer),
        (float64.layers, TensorFlowTrainer),
    ):
        model = trainer_dense(layers_module, trainer_class)
        model.trainable = False
        model.compile(loss="mse")
        fit = model.fit(x, np.ones((10, 1)), batch_size=4, verbose=0)
        histories.append(fit.history["loss"])
        assert model.get_weights()[0].tolist() == [[1.0]] * 4  # unchanged
    np.testing.assert_allclose(histories[0], histories[1], rtol=RTOL)
