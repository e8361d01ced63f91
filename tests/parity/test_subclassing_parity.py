"""Subclassed models, layers made of ops and a custom train_step: the same code in Keras and in
minikeras, on the same weights, trains to the same History and weights.

Tolerances: float64 throughout; a few epochs of Adam on small data differ by rounding only,
about 1e-15 per operation, amplified by Adam's division by √v on near-zero gradients: 1e-9
relative on the weights and the history (the float64 bound of the parity property tests).
"""

import numpy as np
import pytest

import minikeras
from minikeras import ops

RTOL = 1e-9


def linear_layer(base, ops_module):
    """A layer written only with ops, as keras.io's "making new layers" guide writes it."""

    class Linear(base):
        def __init__(self, units=8, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
            )
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops_module.tanh(ops_module.matmul(inputs, self.w) + self.b)

    return Linear


def subclassed_model(lib, ops_module):
    Linear = linear_layer(lib.layers.Layer, ops_module)

    class MLP(lib.Model):
        def __init__(self):
            super().__init__()
            self.linear = Linear(6)
            self.hidden = lib.layers.Dense(5, activation="relu")
            self.out = lib.layers.Dense(3, activation="softmax")

        def call(self, x, training=False):
            h = self.hidden(self.linear(x))
            return self.out(ops_module.concatenate([h, -h], axis=-1) * 0.5)

    return MLP()


def data(n=24):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, 4))
    y = np.eye(3)[rng.integers(3, size=n)]
    return x, y


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def test_a_subclassed_model_with_an_ops_layer_trains_as_in_keras(float64):
    keras = float64
    x, y = data()
    ours = subclassed_model(minikeras, ops)
    theirs = subclassed_model(keras, keras.ops)
    ours(x[:1])  # built by a call: `build` alone creates no weights, in either library
    theirs(x[:1])
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    ours_history = ours.fit(x, y, **fit).history
    theirs_history = theirs.fit(x, y, **fit).history
    assert sorted(ours_history) == sorted(theirs_history)
    for key in ours_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=RTOL)


def custom_step_model(lib, tape_class):
    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.layers.Input(shape=(4,))
    hidden = lib.layers.Dense(6, activation="tanh")(inputs)
    return CustomModel(inputs, lib.layers.Dense(1)(hidden))


def test_the_custom_train_step_guide_runs_with_gradient_tape_replaced(float64):
    """keras.io's "customizing what happens in fit" (TensorFlow) first example: only
    tf.GradientTape becomes minikeras.GradientTape."""
    import tensorflow as tf

    keras = float64
    x, _ = data(32)
    y = np.sin(x).sum(axis=1, keepdims=True)
    ours = custom_step_model(minikeras, minikeras.GradientTape)
    theirs = custom_step_model(keras, tf.GradientTape)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    ours_history = ours.fit(x, y, **fit).history
    theirs_history = theirs.fit(x, y, **fit).history
    assert sorted(ours_history) == sorted(theirs_history) == ["loss", "mae"]
    for key in ours_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)


def test_sublayers_and_weights_are_tracked_as_in_keras(keras):
    """Dense layers kept as attributes of a layer of yours (lists too) are its sublayers."""

    def block(lib):
        class Block(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.first = lib.layers.Dense(3)
                self.rest = [lib.layers.Dense(2), lib.layers.Dense(2)]

            def call(self, x):
                x = self.first(x)
                for layer in self.rest:
                    x = layer(x)
                return x

        return Block()

    x = np.ones((2, 4), "float32")
    ours, theirs = block(minikeras), block(keras)
    ours(x), theirs(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert len(ours.trainable_variables) == len(theirs.trainable_variables) == 6
    ours.trainable = False
    theirs.trainable = False
    assert ours.trainable_weights == [] and len(theirs.trainable_weights) == 0
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 6


def add_loss_model(lib, ops_module):
    class ActivityRegularization(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * ops_module.sum(ops_module.square(inputs)))
            return inputs

    return lib.Sequential(
        [
            lib.layers.Input(shape=(4,)),
            lib.layers.Dense(5, activation="tanh"),
            ActivityRegularization(),
            lib.layers.Lambda(lambda x: ops_module.square(x) + x),
            lib.layers.Dense(2),
        ]
    )


def residual_model(lib, ops_module):
    x = lib.layers.Input(shape=(4,))
    h = lib.layers.Dense(4, activation="relu")(x)
    y = ops_module.tanh(h + x) * 0.5
    return lib.Model(x, lib.layers.Dense(2)(y[:, :3]))


@pytest.mark.parametrize("build", [add_loss_model, residual_model])
def test_add_loss_lambda_and_ops_on_symbolic_tensors_train_as_in_keras(float64, build):
    keras = float64
    x, _ = data(20)
    y = np.cos(x[:, :2])
    ours, theirs = build(minikeras, ops), build(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
    fit = dict(epochs=2, batch_size=5, shuffle=False, verbose=0)
    ours_history = ours.fit(x, y, **fit).history
    theirs_history = theirs.fit(x, y, **fit).history
    np.testing.assert_allclose(ours_history["loss"], theirs_history["loss"], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)


def two_part_model(lib, tape_class, ops_module):
    """keras.io's VAE example in small: a subclass built from two models given positionally
    (not a graph's inputs and outputs), trained by its own train_step, which calls them on the
    tape without training=True. Its sampling layer (made of ops) draws a fixed 0.5 instead of
    a normal sample, so that no random draw separates the two libraries."""

    class Sampling(lib.layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + ops_module.exp(0.5 * z_log_var) * 0.5

    class VAE(lib.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.total_loss_tracker = lib.metrics.Mean(name="total_loss")
            self.kl_loss_tracker = lib.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.total_loss_tracker, self.kl_loss_tracker]

        def train_step(self, data):
            with tape_class() as tape:
                z_mean, z_log_var, z = self.encoder(data)
                reconstruction = self.decoder(z)
                reconstruction_loss = ops_module.mean(
                    lib.losses.binary_crossentropy(data, reconstruction)
                )
                kl = -0.5 * (1 + z_log_var - ops_module.square(z_mean) - ops_module.exp(z_log_var))
                kl_loss = ops_module.mean(ops_module.sum(kl, axis=1))
                total_loss = reconstruction_loss + kl_loss
            grads = tape.gradient(total_loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.total_loss_tracker.update_state(total_loss)
            self.kl_loss_tracker.update_state(kl_loss)
            return {
                "loss": self.total_loss_tracker.result(),
                "kl_loss": self.kl_loss_tracker.result(),
            }

    inputs = lib.Input((6,))
    hidden = lib.layers.Dense(4, activation="relu")(inputs)
    z_mean, z_log_var = lib.layers.Dense(2)(hidden), lib.layers.Dense(2)(hidden)
    z = Sampling()([z_mean, z_log_var])
    encoder = lib.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    latent = lib.Input((2,))
    decoder = lib.Model(latent, lib.layers.Dense(6, activation="sigmoid")(latent), name="decoder")
    return VAE(encoder, decoder)


def test_the_vae_example_trains_as_in_keras(float64):
    import tensorflow as tf

    keras = float64
    ours = two_part_model(minikeras, minikeras.GradientTape, ops)
    theirs = two_part_model(keras, tf.GradientTape, keras.ops)
    assert not isinstance(ours, minikeras.models.Functional)
    assert not isinstance(theirs, keras.src.models.functional.Functional)
    theirs.encoder.set_weights(ours.encoder.get_weights())
    theirs.decoder.set_weights(ours.decoder.get_weights())
    x = np.random.default_rng(3).uniform(size=(16, 6))
    histories = []
    for model, lib in ((ours, minikeras), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.Adam(learning_rate=0.01))
        histories.append(model.fit(x, epochs=2, batch_size=8, shuffle=False, verbose=0).history)
    assert sorted(histories[0]) == sorted(histories[1]) == ["kl_loss", "loss"]
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=RTOL)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)
