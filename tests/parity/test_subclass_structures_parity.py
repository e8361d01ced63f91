"""A subclass of Model given a dict or a list of arrays: fit, evaluate and predict hand each
batch to its `call` in that structure, as Keras does; keras.io's "endpoint layer" pattern
(a layer called with keywords only, its loss added with add_loss) trains on a dict.

Tolerances: float64 in both libraries; a few SGD or Adam steps on small data differ by
rounding only (about 1e-16 per operation, amplified by Adam's division by √v): 1e-9 relative,
the float64 bound of the parity property tests.
"""

import numpy as np
import pytest

import minikeras

RTOL = 1e-9


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def dict_model(lib):
    class TwoInputs(lib.Model):
        def __init__(self):
            super().__init__()
            self.left = lib.layers.Dense(3, activation="tanh")
            self.right = lib.layers.Dense(3)
            self.out = lib.layers.Dense(1)

        def call(self, inputs):
            h = lib.ops.relu(self.left(inputs["a"]) + self.right(inputs["b"]))
            return self.out(h)

    return TwoInputs()


def list_model(lib):
    class Pair(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(2, activation="softmax")

        def call(self, inputs):
            a, b = inputs
            return self.dense(lib.ops.concatenate([a, b * 2.0], axis=-1))

    return Pair()


def endpoint_model(lib):
    """keras.io's guides/training_with_built_in_methods and examples/endpoint_layer_pattern:
    the loss is added by the last layer, which is called with keywords only."""

    class LogisticEndpoint(lib.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)

        def call(self, logits, targets=None, sample_weight=None):
            if targets is not None:
                self.add_loss(self.loss_fn(targets, logits, sample_weight))
            return lib.ops.sigmoid(logits)

    class LogReg(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)
            self.logistic_endpoint = LogisticEndpoint()

        def call(self, inputs):
            logits = self.dense(inputs["inputs"])
            return self.logistic_endpoint(
                logits=logits, targets=inputs["targets"], sample_weight=inputs["sample_weight"]
            )

    return LogReg()


def twins(make, keras, x_sample):
    ours, theirs = make(minikeras), make(keras)
    ours(x_sample)
    theirs(x_sample)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def assert_same_training(ours, theirs, x, y=None, **fit):
    ours_history = ours.fit(x, y, verbose=0, shuffle=False, **fit).history
    theirs_history = theirs.fit(x, y, verbose=0, shuffle=False, **fit).history
    assert sorted(ours_history) == sorted(theirs_history)
    for key in ours_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)


def test_a_dict_of_inputs_reaches_call_in_fit_evaluate_and_predict(float64):
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(10, 4)), "b": rng.normal(size=(10, 2))}
    y = rng.normal(size=(10, 1))
    ours, theirs = twins(dict_model, float64, {k: v[:2] for k, v in x.items()})
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert_same_training(ours, theirs, x, y, epochs=2, batch_size=4)
    ours_eval = ours.evaluate(x, y, batch_size=4, verbose=0)
    theirs_eval = theirs.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(ours_eval, theirs_eval, rtol=RTOL)
    ours_pred = ours.predict(x, batch_size=3, verbose=0)
    np.testing.assert_allclose(ours_pred, theirs.predict(x, batch_size=3, verbose=0), rtol=RTOL)
    np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), rtol=RTOL)


def test_a_list_of_inputs_with_a_validation_split_trains_as_in_keras(float64):
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(12, 3)), rng.normal(size=(12, 2))]
    y = np.eye(2)[rng.integers(2, size=12)]
    ours, theirs = twins(list_model, float64, [a[:2] for a in x])
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    assert_same_training(ours, theirs, x, y, epochs=3, batch_size=4, validation_split=0.25)


def test_a_model_built_by_fit_on_a_dict_makes_keras_weights(float64):
    """Not called first: fit builds the model on the dict's shapes, as Keras's symbolic build."""
    x = {"a": np.ones((4, 4)), "b": np.ones((4, 2))}
    ours, theirs = dict_model(minikeras), dict_model(float64)
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, np.ones((4, 1)), verbose=0)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


def test_the_endpoint_layer_pattern_trains_on_a_dict_as_in_keras(float64):
    rng = np.random.default_rng(2)
    data = {
        "inputs": rng.random((16, 5)),
        "targets": rng.random((16, 1)),
        "sample_weight": rng.random((16, 1)),
    }
    ours, theirs = twins(endpoint_model, float64, {k: v[:2] for k, v in data.items()})
    for lib, model in ((minikeras, ours), (float64, theirs)):
        model.compile(lib.optimizers.Adam(1e-2))
    assert_same_training(ours, theirs, data, epochs=2, batch_size=8)
