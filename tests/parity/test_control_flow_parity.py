"""Control flow and custom gradients against Keras on TensorFlow: each function written once
with an `ops` module, run with minikeras's ops on NumPy and with keras.ops on TensorFlow tensors.

Tolerances: float64 throughout. Values and gradients come from the same formulas combined in
the same order (associative_scan uses the same parallel algorithm as TensorFlow's backend),
so they agree to a few roundings: 1e-10 relative (atol 1e-12 for entries near zero). The
training loop runs three SGD steps of a small model; its weights agree to 1e-10 as well.
"""

import operator

import numpy as np
import pytest

import minikeras
from minikeras import ops
from minikeras.autodiff import GradientTape, Tensor

RTOL, ATOL = 1e-10, 1e-12
RNG = np.random.default_rng(5)


@pytest.fixture
def tf(keras):
    import tensorflow

    return tensorflow


def ours_and_theirs(keras, tf, f, *arrays):
    """f(ops, *arrays) in minikeras and f(keras.ops, *tf tensors) in Keras, as NumPy."""
    ours = f(ops, *arrays)
    theirs = f(keras.ops, *[tf.constant(a) for a in arrays])
    return ours, theirs


def assert_close(ours, theirs):
    for a, b in zip(minikeras.tree.flatten(ours), minikeras.tree.flatten(theirs)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL)


def gradients_both(keras, tf, f, *arrays):
    """d f / d arrays for the scalar f(ops, ...), by minikeras's tape and by tf.GradientTape."""
    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        y = f(keras.ops, *tensors)
    theirs = [g.numpy() for g in tape.gradient(y, tensors)]
    ours_inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        for t in ours_inputs:
            tape.watch(t)
        y = f(ops, *ours_inputs)
    return tape.gradient(y, ours_inputs), theirs


# ---------------------------------------------------------------- functions of the inputs
def scan_rnn(o, w, xs):
    """A tiny recurrence: h ← tanh(h·w + x), output h·x, both summed."""
    carry, ys = o.scan(lambda h, x: (o.tanh(h * w + x), h * x), o.zeros_like(xs[0]), xs)
    return o.sum(carry) + o.sum(o.square(ys))


def reverse_scan(o, w, xs):
    carry, ys = o.scan(lambda h, x: (h * w + x, o.sin(h)), o.zeros_like(xs[0]), xs, reverse=True)
    return o.sum(ys) + o.sum(carry)


def linear_recurrence(o, a, b):
    """Mamba's scan: h_t = a_t·h_{t−1} + b_t as an associative composition of (a, b) pairs."""

    def compose(first, second):
        return first[0] * second[0], second[0] * first[1] + second[1]

    _, hs = o.associative_scan(compose, (a, b))
    return o.sum(o.sin(hs))


def mapped(o, w, xs):
    return o.sum(o.map(lambda x: o.exp(x * w) * x, xs))


def vectorized(o, w, xs):
    return o.sum(o.vectorized_map(lambda x: o.sum(o.tanh(x * w)), xs))


def loops(o, w, xs):
    y = o.fori_loop(0, 3, lambda i, v: v * 0.5 + o.sin(v * w), xs)
    y = o.while_loop(lambda v: o.sum(o.abs(v)) < 50.0, lambda v: v * 1.5, y)
    return o.cond(o.sum(y) > 0, lambda: o.sum(y**2), lambda: o.sum(o.cos(y)))


FUNCTIONS = [scan_rnn, reverse_scan, linear_recurrence, mapped, vectorized, loops]


def arguments(f):
    if f is linear_recurrence:
        return RNG.uniform(0.5, 1.0, size=(7, 3)), RNG.normal(size=(7, 3))
    return RNG.normal(size=3), RNG.normal(size=(5, 3))


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_value_and_gradients_match_tensorflow(keras, tf, f):
    args = arguments(f)
    ours, theirs = ours_and_theirs(keras, tf, f, *args)
    assert_close(ours, theirs.numpy())
    ours, theirs = gradients_both(keras, tf, f, *args)
    assert_close(ours, theirs)


@pytest.mark.parametrize("length", [1, 2, 3, 6, 7])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_values_match_keras(keras, tf, length, reverse):
    x = RNG.normal(size=(length, 4))

    def f(o, x):
        return o.associative_scan(operator.mul, x, reverse=reverse, axis=0)

    ours, theirs = ours_and_theirs(keras, tf, f, x)
    assert_close(ours, theirs.numpy())


def test_scan_with_nested_carry_and_map_with_dict_outputs_match_keras(keras, tf):
    xs = RNG.normal(size=(4, 3))

    def f(o, xs):
        # (TensorFlow's scan needs each output in the structure of the carry)
        def step(carry, x):
            new = {"sum": carry["sum"] + x, "max": o.maximum(carry["max"], x)}
            return new, {"sum": new["sum"] * 2, "max": x}

        init = {"sum": o.zeros_like(xs[0]), "max": xs[0]}
        carry, ys = o.scan(step, init, xs)
        mapped = o.map(lambda x: {"a": x**2, "b": o.sum(x)}, xs)
        return [carry["sum"], carry["max"], ys["sum"], ys["max"], mapped["a"], mapped["b"]]

    ours, theirs = ours_and_theirs(keras, tf, f, xs)
    assert_close(ours, [t.numpy() for t in theirs])


def test_core_ops_values_match_keras(keras, tf):
    x = RNG.normal(size=(3, 4))
    inputs, indices = RNG.normal(size=5), np.array([[0], [0], [3]])
    updates = RNG.normal(size=3)
    assert_close(ops.slice(x, (1, 1), (-1, -1)), keras.ops.slice(x, (1, 1), (-1, -1)).numpy())
    for reduction in ("add", "max", "min", "mul"):
        ours = ops.scatter_update(inputs, indices, updates, reduction=reduction)
        theirs = keras.ops.scatter_update(tf.constant(inputs), indices, updates, reduction)
        assert_close(ours, theirs.numpy())
    assert_close(ops.unstack(x, axis=1), [t.numpy() for t in keras.ops.unstack(x, axis=1)])
    big = np.array([1e39, -3.0, 1.5, 70000.0])  # beyond bfloat16's range, and rounded
    theirs = keras.ops.saturate_cast(big, "bfloat16")
    np.testing.assert_array_equal(
        ops.saturate_cast(big, "bfloat16").astype("float64"), theirs.numpy().astype("float64")
    )
    branches = [lambda v: v + 1, lambda v: v * 2]
    assert_close(ops.switch(7, branches, x), keras.ops.switch(7, branches, tf.constant(x)))


def test_jvp_matches_tensorflows_forward_mode(keras, tf):
    w, xs = arguments(scan_rnn)
    tw, txs = RNG.normal(size=w.shape), RNG.normal(size=xs.shape)

    def f(o):
        def fun(w, xs):
            carry, ys = o.scan(lambda h, x: (o.tanh(h * w + x), h * x), o.zeros_like(xs[0]), xs)
            return carry, ys

        return fun

    ours = ops.jvp(f(ops), (w, xs), (tw, txs))
    theirs = keras.ops.jvp(f(keras.ops), (tf.constant(w), tf.constant(xs)), (tw, txs))
    assert_close(ours, [[t.numpy() for t in part] for part in theirs])


# ---------------------------------------------------------------- custom gradients
def log1pexp_of(o):
    @o.custom_gradient
    def log1pexp(x):
        e = o.exp(x)

        def grad(upstream):
            return o.multiply(upstream, 1.0 - 1.0 / o.add(1, e))

        return o.log(1 + e), grad

    return log1pexp


def test_custom_gradient_matches_tensorflow(keras, tf):
    x = RNG.normal(size=5) * 3

    def f(o, x):
        return o.sum(o.sin(log1pexp_of(o)(x * 2.0)))

    ours, theirs = ours_and_theirs(keras, tf, f, x)
    assert_close(ours, theirs.numpy())
    ours, theirs = gradients_both(keras, tf, f, x)
    assert_close(ours, theirs)


def test_custom_gradient_where_the_automatic_one_is_nan(keras, tf):
    # float32 e^100 overflows: TensorFlow's and our automatic gradients are NaN, the written
    # one is 1 in both
    x = np.float32([100.0, -3.0])
    ours, theirs = gradients_both(keras, tf, lambda o, x: o.sum(log1pexp_of(o)(x)), x)
    assert ours[0][0] == theirs[0][0] == 1.0
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)  # float32: a few ulp


# ---------------------------------------------------------------- a custom training step
def loss_with_scan_and_custom_gradient(o, y, pred):
    """A discounted running sum of the outputs (a scan over the output features) against y,
    plus a log(1 + eˣ) penalty with its written gradient."""
    columns = o.transpose(pred)  # (features, batch)
    _, running = o.scan(lambda c, p: (c * 0.5 + p, c * 0.5 + p), o.zeros_like(columns[0]), columns)
    return o.mean(o.square(o.transpose(running) - y)) + 0.1 * o.mean(log1pexp_of(o)(pred))


def test_custom_training_step_trains_as_keras(keras, tf):
    from minikeras.parity.keras_env import floatx

    x, y = RNG.normal(size=(8, 5)), RNG.normal(size=(8, 3))
    weights = None
    trained = []
    with floatx("float64"):
        for lib, tape_class, o in [
            (keras, tf.GradientTape, keras.ops),
            (minikeras, GradientTape, ops),
        ]:
            model = lib.Sequential(
                [lib.Input((5,)), lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(3)]
            )
            if weights is None:
                weights = model.get_weights()
            model.set_weights(weights)
            optimizer = lib.optimizers.SGD(learning_rate=0.1)
            for _ in range(3):
                with tape_class() as tape:
                    pred = model(x, training=True)
                    loss = loss_with_scan_and_custom_gradient(o, y, pred)
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply(grads, model.trainable_variables)
            trained.append([np.asarray(w) for w in model.get_weights()])
    theirs, ours = trained
    assert any(not np.allclose(a, b) for a, b in zip(ours, weights))  # it did train
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def running_layer(lib, o):
    """A layer whose call is a scan over the features: y_k = d·y_{k−1}/2 + x_k, d a weight."""

    class Running(lib.layers.Layer):
        def build(self, input_shape):
            self.decay = self.add_weight(shape=(), initializer="ones", name="decay")

        def call(self, x):
            columns = o.transpose(x)

            def step(c, v):
                c = c * self.decay * 0.5 + v
                return c, c

            _, ys = o.scan(step, o.zeros_like(columns[0]), columns)
            return o.transpose(ys)

    return Running()


def test_a_layer_made_of_scan_fits_as_keras(keras):
    from minikeras.parity.keras_env import floatx

    x, y = RNG.normal(size=(16, 4)), RNG.normal(size=(16, 4))
    histories, trained, weights = [], [], None
    with floatx("float64"):
        for lib, o in [(keras, keras.ops), (minikeras, ops)]:
            model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(4), running_layer(lib, o)])
            weights = model.get_weights() if weights is None else weights
            model.set_weights(weights)
            model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
            history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
            histories.append(history.history["loss"])
            trained.append(model.get_weights())
    np.testing.assert_allclose(histories[1], histories[0], rtol=RTOL)
    for ours, theirs in zip(trained[1], trained[0]):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    assert trained[1][-1] != 1.0  # the scan's weight was trained
