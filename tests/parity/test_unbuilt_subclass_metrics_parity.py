"""A model subclass whose own `call` never runs (keras.io's knowledge-distillation `Distiller`:
its steps call the student model it holds) has no output shape: its compiled metrics are built
from the first predictions its step passes to `compiled_metrics.update_state`, as Keras builds
them, "accuracy" resolved from those predictions' shape.

float32 in both libraries, the same weights, SGD, unshuffled batches: the losses agree to
float32 rounding of a 4-feature product (1e-6 relative; 1e-7 absolute for a mean of
predictions near 0), the accuracies exactly (a count)."""

import warnings

import numpy as np
import pytest

import minikeras

X = np.random.default_rng(0).random((16, 4)).astype("float32")
Y = np.arange(16) % 3


def distiller_class(lib, tape):
    class Distiller(lib.Model):
        def __init__(self, student):
            super().__init__()
            self.student = student

        def compile(self, optimizer, metrics, loss_fn):
            super().compile(optimizer=optimizer, metrics=metrics)
            self.loss_fn = loss_fn

        def train_step(self, data):
            x, y = data
            with tape() as t:
                predictions = self.student(x, training=True)
                loss = self.loss_fn(y, predictions)
            weights = self.student.trainable_variables
            self.optimizer.apply_gradients(zip(t.gradient(loss, weights), weights))
            self.compiled_metrics.update_state(y, predictions)
            return {**{m.name: m.result() for m in self.metrics}, "student_loss": loss}

        def test_step(self, data):
            x, y = data
            self.compiled_metrics.update_state(y, self.student(x, training=False))
            return {m.name: m.result() for m in self.metrics}

    return Distiller


def train(lib, tape, weights):
    student = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
    student.set_weights(weights)
    model = distiller_class(lib, tape)(student)
    model.compile(
        optimizer=lib.optimizers.SGD(0.1),
        metrics=["accuracy", lib.metrics.SparseCategoricalAccuracy(name="sca")],
        loss_fn=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # compiled_metrics: Keras 2's name, with its warning
        history = model.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        evaluated = model.evaluate(X, Y, verbose=0, return_dict=True)
    return history.history, evaluated


def test_metrics_of_a_model_without_output_shape_as_keras(keras):
    import tensorflow as tf

    weights = [np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), np.zeros(3, "float32")]
    ours, our_eval = train(minikeras, minikeras.GradientTape, weights)
    theirs, their_eval = train(keras, tf.GradientTape, weights)
    # "loss": the loss tracker, a Mean, which Keras 2's `compiled_metrics.update_state` gives
    # the predictions (their mean), as Keras's does
    assert sorted(ours) == sorted(theirs) == ["accuracy", "loss", "sca", "student_loss"]
    for name in ("accuracy", "sca"):
        assert ours[name] == theirs[name]
        assert our_eval[name] == their_eval[name]
    for name in ("loss", "student_loss"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(our_eval["loss"], their_eval["loss"], rtol=1e-6, atol=1e-7)


def test_metrics_wait_for_predictions():
    """Before any step there is no shape to resolve "accuracy" from: the container stays
    unbuilt (no metric logged) rather than failing."""
    student = minikeras.Sequential([minikeras.Input((4,)), minikeras.layers.Dense(3)])
    model = distiller_class(minikeras, minikeras.GradientTape)(student)
    model.compile(minikeras.optimizers.SGD(0.1), ["accuracy"], loss_fn=None)
    assert model.output_shape is None
    model._build_metrics(Y)
    assert not model.compile_metrics.built
    with pytest.warns(UserWarning):
        model.compiled_metrics.update_state(Y, student(X))
    assert [m.name for m in model.compile_metrics.metrics] == ["accuracy"]
    assert model.compile_metrics.result()["accuracy"] == pytest.approx(
        np.mean(np.argmax(student.predict(X, verbose=0), axis=1) == Y)
    )
