"""Custom training steps as keras.io's "customizing what happens in fit" (TensorFlow) writes
them, run on the same weights in Keras (with tf.GradientTape) and in minikeras (with
minikeras.GradientTape): History, evaluate and the weights agree.

Tolerances: float64 throughout; a few Adam steps on small data differ by rounding only, about
1e-16 per operation, amplified by Adam's division by √v where gradients are near zero: 1e-9
relative (with 1e-12 absolute for weights that stay near zero), the float64 bound of the other
parity tests of subclassed models.
"""

import numpy as np
import pytest

import minikeras
from minikeras import ops

RTOL, ATOL = 1e-9, 1e-12


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


@pytest.fixture
def tf(keras):
    import tensorflow

    return tensorflow


def libraries(keras, tf):
    """(library, its GradientTape, its ops) for minikeras and for Keras."""
    return [(minikeras, minikeras.GradientTape, ops), (keras, tf.GradientTape, keras.ops)]


def assert_same_history(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=RTOL, err_msg=key)


def assert_same_weights(ours, theirs):
    ours, theirs = ours.get_weights(), theirs.get_weights()
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def regression_data(n=24, features=5, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    return x, np.tanh(x[:, :1] - x[:, 1:2]), rng.uniform(0.2, 2.0, size=(n, 1))


FIT = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)


# ------------------------------------------------------------------ the guide's custom steps
def weighted_step_model(lib, tape_class):
    """The guide's step supporting `sample_weight` (its third CustomModel)."""

    class CustomModel(lib.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.Input(shape=(5,))
    hidden = lib.layers.Dense(4, activation="tanh")(inputs)
    return CustomModel(inputs, lib.layers.Dense(1)(hidden))


def test_a_custom_step_with_sample_weights_trains_as_in_keras(float64, tf):
    x, y, sw = regression_data()
    models = [weighted_step_model(lib, tape) for lib, tape, _ in libraries(float64, tf)]
    models[1].set_weights(models[0].get_weights())
    histories = []
    for model in models:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        histories.append(model.fit(x, y, sample_weight=sw, **FIT).history)
    assert sorted(histories[0]) == ["loss", "mae"]
    assert_same_history(*histories)
    assert_same_weights(*models)


def own_metrics_model(lib, tape_class):
    """The guide's lower-level step: its own loss function and metrics, compile(optimizer)
    only, and a `metrics` property so that fit resets them each epoch."""

    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.loss_fn(y, y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    inputs = lib.Input(shape=(5,))
    return CustomModel(inputs, lib.layers.Dense(1)(inputs))


def test_a_step_with_its_own_loss_and_metrics_and_no_compiled_loss(float64, tf):
    x, y, _ = regression_data()
    models = [own_metrics_model(lib, tape) for lib, tape, _ in libraries(float64, tf)]
    models[1].set_weights(models[0].get_weights())
    histories = []
    for model in models:
        model.compile(optimizer="adam")
        histories.append(model.fit(x, y, **FIT).history)
    assert_same_history(*histories)
    assert_same_weights(*models)


def evaluating_model(lib):
    """The guide's custom `test_step`, used by evaluate."""

    class CustomModel(lib.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.Input(shape=(5,))
    return CustomModel(inputs, lib.layers.Dense(1)(inputs))


def test_a_custom_test_step_evaluates_as_in_keras(float64):
    x, y, _ = regression_data(n=20)
    ours, theirs = evaluating_model(minikeras), evaluating_model(float64)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(loss="mse", metrics=["mae"])
    results = [m.evaluate(x, y, batch_size=8, verbose=0) for m in (ours, theirs)]
    np.testing.assert_allclose(results[0], results[1], rtol=RTOL)
    logs = [m.evaluate(x, y, batch_size=8, verbose=0, return_dict=True) for m in (ours, theirs)]
    assert_same_history(*logs)


# ------------------------------------------------------------------ outputs made by a softmax
def saturated_model(lib, tape_class, activation):
    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(gradients, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    inputs = lib.Input(shape=(3,))
    units = 3 if activation == "softmax" else 1
    return CustomModel(inputs, lib.layers.Dense(units, activation=activation)(inputs))


@pytest.mark.parametrize(
    "activation, loss",
    [("softmax", "categorical_crossentropy"), ("sigmoid", "binary_crossentropy")],
)
def test_compute_loss_on_a_saturated_softmax_starts_from_its_logits(float64, tf, activation, loss):
    """Probabilities that round to 0 or 1: Keras's output tensor carries the softmax's logits
    (`_keras_logits`), and compute_loss under the tape starts from them (no clipping)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)) * 5
    units = 3 if activation == "softmax" else 1
    kernel = 10 * np.array([[1.0, -1.0, 0.0], [0.0, 2.0, -2.0], [-1.0, 0.0, 1.0]])
    weights = [kernel[:, :units], np.zeros(units)]
    logits = x @ weights[0]
    # labels on the least likely class: probabilities that round to 0 where the label is 1
    y = np.eye(3)[np.argmin(logits, axis=1)] if units == 3 else (logits < 0).astype(float)
    models = [saturated_model(lib, tape, activation) for lib, tape, _ in libraries(float64, tf)]
    histories = []
    for model in models:
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss=loss)
        histories.append(model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history)
    # the clipped formula would stop near −log(1e-7) ≈ 16.1 per sample
    assert max(histories[0]["loss"]) > 20
    assert_same_history(*histories)
    assert_same_weights(*models)


# ------------------------------------------------------------------ several outputs, add_loss
def two_output_model(lib, tape_class, lib_ops):
    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            with tape_class() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
            return self.compute_metrics(x, y, y_pred)

    class Penalty(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * lib_ops.sum(lib_ops.square(inputs)))
            return inputs

    inputs = lib.Input(shape=(5,))
    hidden = Penalty()(lib.layers.Dense(6, activation="relu")(inputs))
    outputs = {
        "kind": lib.layers.Dense(3, activation="softmax", name="kind")(hidden),
        "size": lib.layers.Dense(1, name="size")(hidden),
    }
    return CustomModel(inputs, outputs)


def test_several_outputs_loss_weights_and_add_loss_under_the_tape(float64, tf):
    x, y_size, _ = regression_data(n=16)
    y_kind = np.eye(3)[np.arange(16) % 3]
    y = {"kind": y_kind, "size": y_size}
    models = [two_output_model(lib, tape, o) for lib, tape, o in libraries(float64, tf)]
    models[1].set_weights(models[0].get_weights())
    histories = []
    for model in models:
        model.compile(
            optimizer="adam",
            loss={"kind": "categorical_crossentropy", "size": "mse"},
            loss_weights={"kind": 1.0, "size": 0.5},
            metrics={"kind": ["accuracy"], "size": ["mae"]},
        )
        histories.append(model.fit(x, y, **FIT).history)
    assert {"kind_loss", "size_loss", "kind_accuracy", "size_mae"} <= set(histories[0])
    assert_same_history(*histories)
    assert_same_weights(*models)


def add_loss_model(lib, lib_ops):
    """The model of keras.io's "writing a training loop from scratch" with its add_loss
    layer (an activity penalty)."""

    class ActivityRegularizationLayer(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * lib_ops.sum(inputs))
            return inputs

    inputs = lib.Input(shape=(6,), name="digits")
    h = lib.layers.Dense(8, activation="relu")(inputs)
    h = ActivityRegularizationLayer()(h)
    outputs = lib.layers.Dense(4, name="predictions")(h)
    return lib.Model(inputs=inputs, outputs=outputs)


def custom_loop(lib, tape_class, model, x, labels):
    """The guide's loop: logits, a loss function from logits, `loss_value +=
    sum(model.losses)`, a metric updated by hand, an optimizer of its own."""
    optimizer = lib.optimizers.Adam(learning_rate=1e-2)
    loss_fn = lib.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = lib.metrics.SparseCategoricalAccuracy()
    losses = []
    for start in range(0, len(x), 8):
        xb, yb = x[start : start + 8], labels[start : start + 8]
        with tape_class() as tape:
            logits = model(xb, training=True)
            loss_value = loss_fn(yb, logits)
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        accuracy.update_state(yb, logits)
        losses.append(float(loss_value))
    return losses, float(accuracy.result())


def test_the_custom_loop_guide_with_add_loss(float64, tf):
    rng = np.random.default_rng(7)
    x, labels = rng.normal(size=(32, 6)), rng.integers(4, size=32)
    ours, theirs = add_loss_model(minikeras, ops), add_loss_model(float64, float64.ops)
    theirs.set_weights(ours.get_weights())
    our_losses, our_accuracy = custom_loop(minikeras, minikeras.GradientTape, ours, x, labels)
    their_losses, their_accuracy = custom_loop(float64, tf.GradientTape, theirs, x, labels)
    np.testing.assert_allclose(our_losses, their_losses, rtol=RTOL)
    assert our_accuracy == their_accuracy
    assert_same_weights(ours, theirs)


def test_tape_gradient_keeps_the_structure_of_its_sources_and_none_where_unconnected(float64, tf):
    """A dict of sources, a persistent tape asked twice, and a weight the loss does not use."""
    x = np.random.default_rng(1).normal(size=(4, 3))
    results = []
    for lib, tape_class, lib_ops in libraries(float64, tf):
        lib.utils.set_random_seed(2)
        used, unused = lib.layers.Dense(2), lib.layers.Dense(2)
        used.build((None, 3)), unused.build((None, 3))
        if results:
            used.set_weights(results[0][0])
        with tape_class(persistent=True) as tape:
            y = used(x)
            total = lib_ops.sum(lib_ops.square(y))
            half = lib_ops.stop_gradient(total) * total
        sources = {"used": used.trainable_weights, "unused": unused.kernel}
        first = tape.gradient(total, sources)
        second = tape.gradient(half, used.kernel)
        results.append((used.get_weights(), first, second))
    (_, ours, our_second), (_, theirs, their_second) = results
    assert set(ours) == {"used", "unused"} and ours["unused"] is None and theirs["unused"] is None
    for a, b in zip(ours["used"], theirs["used"]):
        np.testing.assert_allclose(a, np.asarray(b), rtol=RTOL)
    np.testing.assert_allclose(our_second, np.asarray(their_second), rtol=RTOL)


# ------------------------------------------------------------------ a GAN
def gan_models(lib):
    """The guide's discriminator and generator, shrunk (8×8 images, few filters)."""
    layers = lib.layers
    discriminator = lib.Sequential(
        [
            lib.Input(shape=(8, 8, 1)),
            layers.Conv2D(4, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(6, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = lib.Sequential(
        [
            lib.Input(shape=(LATENT_DIM,)),
            layers.Dense(2 * 2 * 4),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((2, 2, 4)),
            layers.Conv2DTranspose(4, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(4, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return discriminator, generator


LATENT_DIM = 6


def gan_class(lib, tape_class, lib_ops, noise):
    """The guide's GAN, with its random draws read from `noise` (the same numbers in both
    libraries; keras.random's numbers are TensorFlow's own) in the order the guide draws them."""

    class GAN(lib.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = lib.metrics.Mean(name="d_loss")
            self.g_loss_tracker = lib.metrics.Mean(name="g_loss")
            self.draws = iter(noise)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile(run_eagerly=True)  # Keras: one Python step per batch, for `draws`
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            batch_size = lib_ops.shape(real_images)[0]
            random_latent_vectors = next(self.draws)
            generated_images = self.generator(random_latent_vectors)
            combined_images = lib_ops.concatenate([generated_images, real_images], axis=0)
            labels = lib_ops.concatenate(
                [lib_ops.ones((batch_size, 1)), lib_ops.zeros((batch_size, 1))], axis=0
            )
            labels += 0.05 * next(self.draws)
            with tape_class() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            random_latent_vectors = next(self.draws)
            misleading_labels = lib_ops.zeros((batch_size, 1))
            with tape_class() as tape:
                predictions = self.discriminator(self.generator(random_latent_vectors))
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    return GAN


def test_the_gan_of_the_guide_trains_as_in_keras(float64, tf):
    batch, steps = 4, 3
    rng = np.random.default_rng(11)
    images = rng.uniform(size=(batch * steps, 8, 8, 1))
    noise = []
    for _ in range(steps):
        noise += [
            rng.normal(size=(batch, LATENT_DIM)),
            rng.uniform(size=(2 * batch, 1)),
            rng.normal(size=(batch, LATENT_DIM)),
        ]
    gans, initial = [], None
    for lib, tape_class, lib_ops in libraries(float64, tf):
        discriminator, generator = gan_models(lib)
        if initial is None:
            initial = discriminator.get_weights(), generator.get_weights()
        discriminator.set_weights(initial[0])
        generator.set_weights(initial[1])
        gan = gan_class(lib, tape_class, lib_ops, noise)(discriminator, generator, LATENT_DIM)
        gan.compile(
            d_optimizer=lib.optimizers.Adam(learning_rate=0.003),
            g_optimizer=lib.optimizers.Adam(learning_rate=0.003),
            loss_fn=lib.losses.BinaryCrossentropy(from_logits=True),
        )
        gan.history_ = gan.fit(images, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        gans.append(gan)
    ours, theirs = gans
    assert sorted(ours.history_.history) == ["d_loss", "g_loss"]
    assert_same_history(ours.history_.history, theirs.history_.history)
    assert_same_weights(ours.discriminator, theirs.discriminator)
    assert_same_weights(ours.generator, theirs.generator)


def test_fit_and_evaluate_of_a_subclassed_model_start_from_its_softmax_logits(float64):
    """Keras's output tensor carries the logits through a subclass's call too: a saturated
    softmax gives the exact crossentropy (60 here), not the clipped 16.1, and still trains."""

    def build(lib):
        class Classifier(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(2, activation="softmax")

            def call(self, x):
                return self.dense(x)

        model = Classifier()
        model(np.zeros((1, 2)))
        model.set_weights([np.eye(2), np.zeros(2)])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        return model

    x, y = np.array([[30.0, -30.0], [1.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    ours, theirs = build(minikeras), build(float64)
    results = [m.evaluate(x, y, verbose=0) for m in (ours, theirs)]
    assert results[0] > 30
    np.testing.assert_allclose(results[0], results[1], rtol=RTOL)
    histories = [m.fit(x, y, epochs=2, verbose=0).history for m in (ours, theirs)]
    assert_same_history(*histories)
    assert_same_weights(ours, theirs)
