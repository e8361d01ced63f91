"""`layer.losses` and `model.losses` under a user's GradientTape, as keras.io's training-loop
guide uses them (`loss += sum(model.losses)`): the same code in Keras (tf.GradientTape) and in
minikeras (minikeras.GradientTape), on the same weights.

The add_loss terms and the weights' penalties are values on the tape: the gradient follows
exactly the target the user wrote, with or without them. Keras clears the terms at each outer
call (keras/src/layers/layer.py, `_get_call_context` calls `_clear_losses`), so a layer called
twice inside one call keeps both of its terms, and a symbolic call or the next call leaves none
of the old ones.

Tolerance: float64, a few products and sums per value, rounding only: 1e-10 relative (1e-13
absolute for gradients that cancel to about zero).
"""

import numpy as np
import pytest

import minikeras
from minikeras import ops

RTOL, ATOL = 1e-10, 1e-13


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


@pytest.fixture
def tf(keras):
    import tensorflow

    return tensorflow


def sides(keras, tf):
    """(library, its GradientTape, its ops) for minikeras and for Keras."""
    return [(minikeras, minikeras.GradientTape, ops), (keras, tf.GradientTape, keras.ops)]


def penalty_layer(lib, lib_ops):
    """keras.io's ActivityRegularizationLayer: add_loss of a sum of its input."""

    class ActivityRegularization(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * lib_ops.sum(inputs))
            return inputs

    return ActivityRegularization


def build(lib, lib_ops, kind):
    """A model with every kind of loss term: add_loss in a layer of ops, a kernel regularizer
    and an activity regularizer on built-in layers."""
    Penalty = penalty_layer(lib, lib_ops)

    def stack():
        return [
            lib.layers.Dense(4, activation="tanh", kernel_regularizer="l2"),
            Penalty(),
            lib.layers.Dense(3, activity_regularizer="l1", bias_regularizer="l1l2"),
            lib.layers.Dense(2),
        ]

    if kind == "sequential":
        return lib.Sequential([lib.Input(shape=(3,)), *stack()])
    if kind == "functional":
        inputs = lib.Input(shape=(3,))
        h = inputs
        for layer in stack():
            h = layer(h)
        return lib.Model(inputs, h)

    class Subclassed(lib.Model):
        def __init__(self):
            super().__init__()
            self.blocks = stack()

        def call(self, x):
            for layer in self.blocks:
                x = layer(x)
            return x

    model = Subclassed()
    model(np.zeros((1, 3)))
    return model


def weights(seed=5):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (4, 3), (3,), (3, 2), (2,)]
    return [rng.normal(size=shape) for shape in shapes]


def assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclassed"])
def test_the_gradient_follows_the_users_target_with_or_without_model_losses(float64, tf, kind):
    x = np.random.default_rng(0).normal(size=(5, 3))
    results = []
    for lib, tape_class, lib_ops in sides(float64, tf):
        model = build(lib, lib_ops, kind)
        model.set_weights(weights())
        with tape_class(persistent=True) as tape:
            y = model(x, training=True)
            loss = lib_ops.sum(lib_ops.square(y))
            terms = list(model.losses)
            full = loss + sum(terms)
        sources = model.trainable_weights
        results.append(
            (
                [float(t) for t in terms],
                tape.gradient(loss, sources),
                tape.gradient(full, sources),
                tape.gradient(terms[-1], sources),  # one penalty alone: only its weight
            )
        )
    (our_terms, *ours), (their_terms, *theirs) = results
    assert len(our_terms) == len(their_terms) == 4  # add_loss, activity, then the 2 weights'
    np.testing.assert_allclose(our_terms, their_terms, rtol=RTOL)
    for our_grads, their_grads in zip(ours, theirs):
        assert_close(our_grads, their_grads)


def test_losses_are_cleared_at_each_outer_call_and_kept_within_one(float64, tf):
    counts = []
    for lib, _, lib_ops in sides(float64, tf):
        Penalty = penalty_layer(lib, lib_ops)

        class Twice(lib.layers.Layer):
            def __init__(self, penalty_class=Penalty):
                super().__init__()
                self.penalty = penalty_class()

            def call(self, x):
                return self.penalty(self.penalty(x) * 2.0)

        layer = Twice()
        seen = []
        for x in (np.ones((2, 3)), np.full((2, 3), 2.0)):
            layer(x)
            seen.append([float(t) for t in layer.losses])
        layer(lib.Input(shape=(3,)))  # a symbolic call leaves no terms
        seen.append(len(layer.losses))
        model = lib.Sequential([lib.Input(shape=(3,)), Twice()])
        model(np.ones((4, 3)))
        model(np.ones((4, 3)))  # Keras's eager call (its predict's terms are graph tensors)
        seen.append([float(t) for t in model.losses])
        counts.append(seen)
    ours, theirs = counts
    assert ours[-2] == theirs[-2] == 0
    for a, b in zip(ours[:2] + ours[-1:], theirs[:2] + theirs[-1:]):
        assert len(a) == len(b) == 2
        np.testing.assert_allclose(a, b, rtol=RTOL)


def test_a_custom_layer_with_an_activity_regularizer_adds_its_penalty(float64, tf):
    """keras/src/layers/layer_test.py's activity test, and its gradient under the tape."""
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    results = []
    for lib, tape_class, _ in sides(float64, tf):

        class Scale(lib.layers.Layer):
            def build(self, input_shape):
                self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, x):
                return x * self.s

        layer = Scale(activity_regularizer="l2")
        with tape_class() as tape:
            layer(x)
            (term,) = layer.losses
        results.append((float(term), tape.gradient(term, layer.s)))
    (our_term, our_grad), (their_term, their_grad) = results
    np.testing.assert_allclose(our_term, their_term, rtol=RTOL)
    np.testing.assert_allclose(our_grad, np.asarray(their_grad), rtol=RTOL)


# ------------------------------------------------------------------ weights' paths
def path_cases(lib):
    """Models of every kind, each built as a user builds it; {case: [weight paths]}."""
    layers = lib.layers

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2, name="inner")

        def call(self, x):
            return self.dense(x)

    class BuildsItsLayer(layers.Layer):
        def build(self, input_shape):
            self.dense = layers.Dense(2, name="made_in_build")
            self.dense.build(input_shape)
            self.scale = self.add_weight(shape=(2,), name="scale")

        def call(self, x):
            return self.dense(x) * self.scale

    class Subclassed(lib.Model):
        def __init__(self):
            super().__init__(name="subclassed")
            self.block = Block(name="block")
            self.builds = BuildsItsLayer(name="builds")
            self.out = layers.Dense(1, name="out")

        def call(self, x):
            return self.out(self.builds(self.block(x)))

    found = {}
    sequential = lib.Sequential(
        [lib.Input(shape=(3,)), layers.Dense(2, name="a")], name="seq_with_input"
    )
    found["sequential"] = sequential
    lazy = lib.Sequential([layers.Dense(2, name="b")], name="seq_lazy")
    lazy.predict(np.zeros((2, 3)), verbose=0)
    found["sequential built by predict"] = lazy
    inputs = lib.Input(shape=(3,))
    functional = lib.Model(inputs, Block(name="block_f")(layers.Dense(3, name="c")(inputs)))
    found["functional"] = functional
    found["functional in a sequential"] = lib.Sequential(
        [lib.Input(shape=(3,)), functional, layers.Dense(4, name="d")], name="outer"
    )
    subclassed = Subclassed()
    subclassed(np.zeros((1, 3)))
    found["subclassed"] = subclassed
    prebuilt = layers.Dense(2, name="prebuilt")
    prebuilt.build((None, 3))
    found["built before its model"] = lib.Sequential(
        [lib.Input(shape=(3,)), prebuilt], name="seq_prebuilt"
    )
    return {case: [w.path for w in model.weights] for case, model in found.items()}


def test_weight_paths_name_the_layers_they_were_made_in_as_keras(keras):
    ours, theirs = path_cases(minikeras), path_cases(keras)
    assert ours == theirs
    assert theirs["subclassed"][0] == "subclassed/block/inner/kernel"  # the case is not empty


def test_paths_leave_the_weight_names_in_files_alone(tmp_path):
    """Files name weights by layer (`layers/dense/vars/0`), never by path: a model whose
    paths differ from its layer names saves and loads its weights unchanged."""
    model = minikeras.Sequential([minikeras.Input(shape=(3,)), minikeras.layers.Dense(2)])
    assert model.weights[0].path.startswith(model.name + "/")
    model.save_weights(tmp_path / "w.weights.h5")
    twin = minikeras.Sequential([minikeras.Input(shape=(3,)), minikeras.layers.Dense(2)])
    twin.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
