"""The GradientTape on small expressions: each gradient against central differences (float64,
tests/unit/gradcheck.py: agreement to ~1e-10, checked at rtol 1e-6) and against
tf.GradientTape on the same expression (float64: the same formulas round alike, 1e-10)."""

import copy
import pickle

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import ops
from minikeras.autodiff import GradientTape, Tensor, Variable, paused, record, unbroadcast

RNG = np.random.default_rng(7)


def gradient_of(f, *arrays):
    """The tape's gradients of the scalar f(*Tensors) with respect to each array."""
    tensors = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        y = f(*tensors)
    return tape.gradient(y, tensors)


def check_numerically(f, *arrays):
    grads = gradient_of(f, *arrays)
    for array, grad in zip(arrays, grads):
        numeric = numerical_gradient(lambda: float(np.asarray(f(*arrays))), array)
        assert_gradient_close(grad, numeric, rtol=1e-6, atol=1e-8)
    return grads


def check_with_tensorflow(keras, f, *arrays):
    """f written once with `ops`, run as f(keras.ops, ...) under tf.GradientTape."""
    import tensorflow as tf

    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        y = f(keras.ops, *tensors)
    expected = tape.gradient(y, tensors)
    got = gradient_of(lambda *xs: f(ops, *xs), *arrays)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- micrograd-style expressions
def micrograd(o, a, b):
    """micrograd's test expression, elementwise on arrays, summed."""
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + o.relu(b + a)
    d = d + 3 * d + o.relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return o.sum(g)


def mlp(o, x, w1, w2):
    h = o.tanh(o.matmul(x, w1))
    return o.mean(o.square(o.matmul(h, w2) - 1.0))


EXPRESSIONS = [
    ("micrograd", micrograd, [(3,), (3,)]),
    ("broadcasting", lambda o, x, b: o.sum(o.exp(x + b) * b), [(2, 3), (3,)]),
    ("broadcast size-1 axis", lambda o, x, b: o.sum(o.sin(x * b)), [(2, 3), (2, 1)]),
    ("fan-out", lambda o, x: o.sum(o.log(o.exp(x) + x * x + 1.0) * x), [(2, 3)]),
    ("reuse of one result", lambda o, x: o.sum((lambda h: h * h + o.sin(h))(o.tanh(x))), [(4,)]),
    ("matmul and reductions", mlp, [(4, 3), (3, 5), (5, 2)]),
    ("softmax crossentropy", lambda o, z: o.sum(o.log_softmax(z) * o.softmax(z)), [(3, 4)]),
    ("slicing", lambda o, x: o.sum(x[1:, ::2] * x[0, 0]), [(3, 4)]),
    (
        "concatenate and split",
        lambda o, x, y: o.sum(o.split(o.concatenate([x, y], 1), 2, 1)[1] ** 2),
        [(2, 3), (2, 1)],
    ),
]


@pytest.mark.parametrize("name, f, shapes", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_against_central_differences(name, f, shapes):
    arrays = [RNG.uniform(0.3, 1.5, s) for s in shapes]  # away from relu's kink at 0
    check_numerically(lambda *xs: f(ops, *xs), *arrays)


@pytest.mark.parametrize("name, f, shapes", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_against_tensorflow(keras, name, f, shapes):
    arrays = [RNG.uniform(0.3, 1.5, s) for s in shapes]
    check_with_tensorflow(keras, f, *arrays)


# ------------------------------------------------------- ops TensorFlow cannot differentiate
@pytest.mark.parametrize(
    "f, shapes",
    [
        (lambda x, u: ops.sum(ops.slice_update(x, (1, 0), u) ** 2), [(3, 3), (2, 2)]),
        (lambda x: ops.sum(x[np.array([0, 1, 0]), :, 1] ** 2), [(2, 3, 4)]),
        (lambda x: ops.sum(ops.prod(x, axis=0) * ops.cumprod(x, axis=1)), [(2, 3)]),
        (lambda x: ops.sum(ops.repeat(x, [2, 0, 1], axis=0) ** 2), [(3, 2)]),
        (lambda x, y: ops.sum(ops.einsum("...ij,...j->...i", x, y) ** 2), [(2, 3, 4), (2, 4)]),
    ],
)
def test_more_vjps_against_central_differences(f, shapes):
    check_numerically(f, *[RNG.uniform(0.5, 1.5, s) for s in shapes])


# ---------------------------------------------------------------- the tape's rules
def test_a_variable_used_twice_accumulates_and_is_watched_automatically(keras):
    import tensorflow as tf

    value = RNG.normal(size=(3, 2))
    w = Variable(value, name="w")
    x = RNG.normal(size=(4, 3))
    with GradientTape() as tape:
        loss = ops.sum(ops.matmul(x, w) * ops.sum(w))  # w read twice
    tw = tf.Variable(value)
    with tf.GradientTape() as tf_tape:
        tf_loss = tf.reduce_sum(tf.matmul(x, tw) * tf.reduce_sum(tw))
    np.testing.assert_allclose(tape.gradient(loss, w), tf_tape.gradient(tf_loss, tw), rtol=1e-12)


def test_a_variable_beside_a_traced_tensor_is_watched_too():
    """The worked example of docs/autodiff.md: L = Σ (x·w + b)², b broadcast."""
    x = np.array([1.0, 2.0])
    w, b = Variable(np.array([3.0, -1.0])), Variable(np.array(0.5))
    with GradientTape() as tape:
        loss = ops.sum(ops.square(ops.add(ops.multiply(x, w), b)))  # b meets a traced Tensor
    assert float(loss) == 14.5
    dw, db = tape.gradient(loss, [w, b])
    assert dw.tolist() == [7.0, -6.0] and float(db) == 4.0


def test_variable_operators_record_under_the_tape_and_stay_plain_outside():
    w = Variable(np.array([1.0, 2.0, 3.0]))
    assert type(w * 2) is np.ndarray and type(w[0:2]) is np.ndarray
    assert type(np.exp(w)) is np.ndarray and type(w.T) is np.ndarray
    with GradientTape() as tape:
        loss = np.sum(w * w) + np.exp(w[0]) + (w.reshape(3, 1).T @ w.reshape(3, 1))[0, 0]
    expected = 2 * w + np.array([np.e, 0, 0]) + 2 * w
    np.testing.assert_allclose(tape.gradient(loss, w), expected, rtol=1e-12)


def test_watch_accessed_variables_false_and_non_trainable_variables():
    w = Variable(np.array([1.0, 2.0]))
    frozen = Variable(np.array([3.0, 4.0]), trainable=False)
    with GradientTape(watch_accessed_variables=False) as tape:
        loss = ops.sum(w * frozen)
    assert tape.gradient(loss, w) is None
    with GradientTape() as tape:
        loss = ops.sum(w * frozen)
    grads = tape.gradient(loss, [w, frozen])
    np.testing.assert_allclose(grads[0], frozen)
    assert grads[1] is None  # as TensorFlow: a non-trainable variable is not watched
    with GradientTape() as tape:
        tape.watch(frozen)
        loss = ops.sum(w * frozen)
    np.testing.assert_allclose(tape.gradient(loss, frozen), w)


def test_watching_a_plain_array_traces_it_by_identity():
    x = np.array([1.0, 2.0, 3.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.square(x)) + ops.sum(ops.square(x.copy()))  # the copy is not x
    np.testing.assert_allclose(tape.gradient(y, x), 2 * x)


def test_unconnected_source_gives_none_and_structure_is_kept():
    a, b = Tensor(np.ones(2)), Tensor(np.ones(3))
    with GradientTape() as tape:
        tape.watch([a, b])
        y = ops.sum(a * 3.0)
    grads = tape.gradient(y, {"a": a, "pair": (a, b)})
    np.testing.assert_allclose(grads["a"], [3.0, 3.0])
    assert isinstance(grads["pair"], tuple) and grads["pair"][1] is None


def test_non_persistent_tape_refuses_a_second_gradient_and_persistent_allows_it():
    x = Tensor(np.array([2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y, z = x * x, x * x * x
    tape.gradient(y, x)
    with pytest.raises(
        RuntimeError,
        match="A non-persistent GradientTape can only be used to compute one set of gradients",
    ):
        tape.gradient(z, x)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y, z = x * x, x * x * x
    np.testing.assert_allclose(tape.gradient(y, x), [4.0])
    np.testing.assert_allclose(tape.gradient(z, x), [12.0])


def test_nested_tapes_each_record_what_they_trace():
    x, y = Tensor(np.array([3.0])), Tensor(np.array([5.0]))
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(y)
            z = x * y  # both tapes record it: the outer traces x, the inner y
        w = z * x
    assert inner.gradient(z, x) is None  # the inner tape never watched x
    np.testing.assert_allclose(outer.gradient(w, x), [2 * 3.0 * 5.0])


def test_stop_recording_and_stop_gradient_block_the_gradient():
    x = Tensor(np.array([1.5, -0.5]))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        with tape.stop_recording():
            hidden = x * x
        y = ops.sum(hidden * x)
        z = ops.sum(ops.stop_gradient(x) * x)
    np.testing.assert_allclose(tape.gradient(y, x), x.value**2)
    np.testing.assert_allclose(tape.gradient(z, x), x.value)


def test_non_scalar_target_and_output_gradients():
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x), 2 * x.value)  # of Σ y, as TensorFlow
    np.testing.assert_allclose(
        tape.gradient(y, x, output_gradients=np.array([1.0, -1.0])), [2.0, -4.0]
    )


def test_integer_sources_get_no_gradient():
    i = Tensor(np.array([1, 2]))
    with GradientTape() as tape:
        tape.watch(i)
        y = ops.sum(ops.cast(i, "float64") * 2.0)
    assert tape.gradient(y, i) is None


def test_record_puts_a_hand_written_backward_on_the_tape_as_one_entry():
    """A Dense-like computation with its own backward: y = x·W, dx = dy·Wᵀ, dW = xᵀ·dy."""
    x = Tensor(RNG.normal(size=(4, 3)))
    kernel = RNG.normal(size=(3, 2))  # a plain weight array, keyed by identity

    def vjp(output_grads):
        (dy,) = output_grads
        return [dy @ kernel.T], [x.value.T @ dy]

    with GradientTape() as tape:
        tape.watch(x)
        (y,) = record([x], [x.value @ kernel], vjp, weights=[kernel])
        loss = ops.sum(ops.square(y))
    dx, dkernel = tape.gradient(loss, [x, kernel])
    dy = 2 * (x.value @ kernel)
    np.testing.assert_allclose(dx, dy @ kernel.T)
    np.testing.assert_allclose(dkernel, x.value.T @ dy)
    assert len(tape._entries) == 0  # spent: a non-persistent tape lets its arrays go


def test_paused_gives_plain_arrays_for_a_recorded_layer_forward():
    w = Variable(np.array([[2.0]]))
    x = Tensor(np.array([[3.0]]))
    with GradientTape() as tape:
        tape.watch(x)
        with paused():
            y_value = x.value @ w  # the layer's own NumPy: not recorded
        assert type(y_value) is np.ndarray
        (y,) = record([x], [y_value], lambda gs: ([gs[0] @ w.T], [x.value.T @ gs[0]]), [w])
        loss = ops.sum(y * y)
    dx, dw = tape.gradient(loss, [x, w])
    assert dx[0, 0] == 2 * 6.0 * 2.0 and dw[0, 0] == 2 * 6.0 * 3.0


def test_no_tape_means_plain_arrays():
    out = ops.sum(ops.exp(np.ones(3)))
    assert type(out) is np.ndarray and out.shape == ()
    assert float(out) == pytest.approx(3 * np.e)


def test_unbroadcast_sums_over_broadcast_axes():
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (4,)).tolist() == [6.0] * 4
    assert unbroadcast(g, (3, 1)).shape == (3, 1) and unbroadcast(g, (3, 1))[0, 0] == 8.0


def test_numpy_functions_without_an_op_refuse_to_lose_the_gradient():
    x = Tensor(np.array([1.0, 2.0]))
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(TypeError, match="not recorded"):
            np.interp(x, [0.0, 3.0], [0.0, 1.0])
        assert np.shape(x) == (2,)  # not a float array: fine


# ---------------------------------------------------------------- Variable
def test_variable_api():
    w = Variable(np.zeros((2, 2)), name="kernel", dtype="float32")
    assert w.dtype == np.float32 and w.shape == (2, 2) and w.trainable and w.path == "kernel"
    assert w.assign(np.ones((2, 2))) is w and w.assign_add(np.ones((2, 2))) is w
    w.assign_sub(np.full((2, 2), 0.5))
    np.testing.assert_array_equal(w, np.full((2, 2), 1.5))
    assert type(w.numpy()) is np.ndarray and type(w.copy()) is np.ndarray
    assert type(np.array(w)) is np.ndarray and type(w.value) is np.ndarray
    w -= 1.0  # in place: still the same Variable
    assert isinstance(w, Variable) and w[0, 0] == 0.5
    assert repr(w).startswith("<Variable path=kernel, shape=(2, 2), dtype=float32, value=")
    clone = copy.deepcopy(w)
    assert isinstance(clone, Variable) and clone.name == "kernel" and clone.trainable
    restored = pickle.loads(pickle.dumps(w))
    assert restored.name == "kernel" and np.array_equal(restored, w)
    with pytest.raises(ValueError, match="must match"):
        w.assign(np.ones(3))


# ---------------------------------------------------------------- bad input
def test_incompatible_shapes_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        ops.add(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"`x1.shape=\(2, 3\)` and `x2.shape=\(2, 3\)`"):
        ops.matmul(np.ones((2, 3)), np.ones((2, 3)))


def test_an_op_on_a_symbolic_tensor_goes_to_the_functional_hook(monkeypatch):
    from minikeras.layers import Input, op_layer

    calls = []
    monkeypatch.setattr(
        op_layer, "call_op_symbolic", lambda *args, **options: calls.append(args) or "node"
    )
    x = Input(shape=(3,))
    assert ops.exp(x) == "node"
    # the whole op goes to the hook (one node, however many primitives it is made of)
    name, function, signature, args, kwargs = calls[0]
    assert name == "exp" and function.__name__ == "exp" and args == (x,) and kwargs == {}
