"""Recurrent layers: backpropagation through time against central differences (float64, every
element of the input, every weight and every initial state), for each layer and option; masks,
stateful layers, configs and the errors Keras raises."""

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import initializers, kernels, layers
from minikeras.kernels import numba_rnn_kernels, numpy_rnn_kernels
from minikeras.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)

BATCH, STEPS, FEATURES, UNITS = 2, 3, 2, 2  # small: every element is checked


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def randomize_weights(layer, rng):
    """Weights well away from their initial values (biases too), so every path matters."""
    layer.set_weights([rng.normal(0, 0.6, w.shape) for w in layer.get_weights()])


def reseed(layer):
    """Fix the dropout masks of the next call (each cell's generator restarts)."""
    sides = (
        [layer.forward_layer, layer.backward_layer] if isinstance(layer, Bidirectional) else [layer]
    )
    for side in sides:
        side.cell._rng = np.random.default_rng(7)


def check_bptt(layer, x, mask=None, initial_state=None, training=False, seed=0):
    """Every gradient of L = Σ r ⊙ outputs (each output of the call, states included) against
    central differences: the input, the weights and the initial states."""
    rng = np.random.default_rng(seed)
    layer(x, mask=mask, initial_state=initial_state)  # builds
    randomize_weights(layer, rng)
    outputs = as_list(layer.call(x, training=training, mask=mask, initial_state=initial_state))
    r = [rng.normal(size=o.shape) for o in outputs]
    probe = x.copy()
    states = [s.copy() for s in initial_state] if initial_state is not None else None

    def objective():
        reseed(layer)
        out = as_list(layer.call(probe, training=training, mask=mask, initial_state=states))
        return sum(np.sum(ri * oi) for ri, oi in zip(r, out))

    objective()
    dy = r if len(r) > 1 else r[0]
    weights_before = [w.copy() for w in layer.weights]
    d_in = layer.backward(dy)
    grads = [g.copy() for g in layer.grads]
    if initial_state is not None:
        dx, *d_states = d_in
        assert len(d_states) == len(states)
        for d_state, state in zip(d_states, states):
            assert_gradient_close(d_state, numerical_gradient(objective, state))
    else:
        dx = d_in
    assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.weights)
    for weight, grad in zip(layer.weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))
    for before, after in zip(weights_before, layer.weights):
        np.testing.assert_array_equal(before, after)  # only the optimizer changes weights
    return outputs


def inputs(seed=1, batch=BATCH, steps=STEPS):
    return np.random.default_rng(seed).normal(size=(batch, steps, FEATURES))


def right_padded():
    mask = np.ones((BATCH, STEPS), dtype=bool)
    mask[0, 2:] = False  # sample 0 is two steps long, sample 1 is full
    return mask


def left_padded():
    mask = np.ones((BATCH, STEPS), dtype=bool)
    mask[1, :2] = False  # sample 1 starts at the last step
    return mask


LAYERS = {
    "simple_rnn": lambda **kw: SimpleRNN(UNITS, **kw),
    "lstm": lambda **kw: LSTM(UNITS, **kw),
    "gru": lambda **kw: GRU(UNITS, **kw),
    "gru_reset_before": lambda **kw: GRU(UNITS, reset_after=False, **kw),
    "rnn_lstm_cell": lambda **kw: RNN(LSTMCell(UNITS), **kw),
    "rnn_gru_cell": lambda **kw: RNN(GRUCell(UNITS), **kw),
    "rnn_simple_cell": lambda **kw: RNN(SimpleRNNCell(UNITS), **kw),
}
OPTIONS = {
    "last": {},
    "sequences": {"return_sequences": True},
    "backwards": {"go_backwards": True, "return_sequences": True},
    "states": {"return_state": True},
}


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("kind", LAYERS)
def test_bptt_matches_central_differences(float64, kind, option):
    check_bptt(LAYERS[kind](**OPTIONS[option]), inputs())


@pytest.mark.parametrize("padding", [right_padded, left_padded])
@pytest.mark.parametrize("option", ["last", "sequences", "backwards"])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_masked_bptt(float64, kind, option, padding):
    check_bptt(LAYERS[kind](**OPTIONS[option]), inputs(), mask=padding())


@pytest.mark.parametrize("kind", LAYERS)
def test_gradient_reaches_the_initial_state(float64, kind):
    layer = LAYERS[kind](return_sequences=True, return_state=True)
    rng = np.random.default_rng(3)
    n_states = 2 if "lstm" in kind else 1
    states = [rng.normal(size=(BATCH, UNITS)) for _ in range(n_states)]
    check_bptt(layer, inputs(), initial_state=states, mask=right_padded())


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
@pytest.mark.parametrize("rates", [(0.4, 0.0), (0.0, 0.4), (0.3, 0.5)])
def test_dropout_masks_in_bptt(float64, kind, rates):
    """With the masks held fixed, training's dropout is part of a function like any other."""
    layer = LAYERS[kind](dropout=rates[0], recurrent_dropout=rates[1], return_sequences=True)
    check_bptt(layer, inputs(), training=True)


@pytest.mark.parametrize(
    "options",
    [
        {"use_bias": False},
        {"activation": "relu", "recurrent_activation": "tanh"},
        {"activation": "linear", "recurrent_activation": "sigmoid"},
        {"unit_forget_bias": False},
    ],
)
def test_lstm_options(float64, options):
    check_bptt(LSTM(UNITS, return_sequences=True, **options), inputs())


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_without_bias(float64, reset_after):
    check_bptt(GRU(UNITS, use_bias=False, reset_after=reset_after), inputs())


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_bptt(float64, merge_mode, return_sequences):
    layer = Bidirectional(LSTM(UNITS, return_sequences=return_sequences), merge_mode=merge_mode)
    check_bptt(layer, inputs(), mask=left_padded())


def test_bidirectional_with_states_and_a_backward_layer(float64):
    layer = Bidirectional(
        GRU(UNITS, return_sequences=True, return_state=True),
        backward_layer=GRU(3, return_sequences=True, return_state=True, go_backwards=True),
    )
    rng = np.random.default_rng(4)
    states = [rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, 3))]
    outputs = check_bptt(layer, inputs(), initial_state=states)
    assert [o.shape for o in outputs] == [(BATCH, STEPS, UNITS + 3), (BATCH, UNITS), (BATCH, 3)]


# ------------------------------------------------------------------ forward semantics
def test_lstm_forward_written_out(float64):
    """One LSTM step by hand (gates i, f, c, o in Keras's order) against the layer."""
    layer = LSTM(UNITS, return_state=True)
    x = inputs()[:, :1]
    layer(x)
    randomize_weights(layer, np.random.default_rng(5))
    w, u, b = layer.get_weights()
    z = x[:, 0] @ w + b
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sig(i) * np.tanh(g)  # f ⊙ c_prev vanishes: c_prev = 0
    h = sig(o) * np.tanh(c)
    out, h_state, c_state = layer(x)
    np.testing.assert_allclose(out, h, rtol=1e-14)
    np.testing.assert_allclose(c_state, c, rtol=1e-14)


def test_masked_steps_keep_state_and_repeat_output(float64):
    x = inputs()
    layer = LSTM(UNITS, return_sequences=True, return_state=True)
    mask = right_padded()
    seq, h, c = layer(x, mask=mask)
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])  # repeated
    np.testing.assert_array_equal(h[0], seq[0, 1])
    short, h_short, c_short = layer(x[:1, :2])
    np.testing.assert_allclose(h_short[0], h[0], rtol=1e-14)
    np.testing.assert_allclose(c_short[0], c[0], rtol=1e-14)
    left = left_padded()
    seq, _, _ = layer(x, mask=left)
    np.testing.assert_array_equal(seq[1, :2], 0)  # no output before the first real step
    assert layer.compute_mask(x, left) == [left, None, None]
    assert LSTM(2, return_sequences=True).compute_mask(x, left) is left
    assert LSTM(2).compute_mask(x, left) is None


def test_go_backwards_reads_from_the_end(float64):
    x = inputs()
    forward = SimpleRNN(UNITS, return_sequences=True)
    backward = SimpleRNN(UNITS, return_sequences=True, go_backwards=True)
    forward(x)
    backward(x)
    backward.set_weights(forward.get_weights())
    # Keras returns the sequence in processing order
    np.testing.assert_allclose(backward(x), forward(x[:, ::-1]), rtol=1e-14)


def test_stateful_carries_states_across_two_batches(float64):
    """Two batches of a stateful layer = one call on the joined sequence; the gradient of the
    second batch stops at the carried state (truncated BPTT, as Keras)."""
    x = inputs(steps=6)
    layer = LSTM(UNITS, stateful=True, return_sequences=True)
    layer(x[:, :3])
    randomize_weights(layer, np.random.default_rng(6))
    layer.reset_states()
    first = layer(x[:, :3])
    second = layer(x[:, 3:])
    whole = LSTM(UNITS, return_sequences=True)
    whole(x)
    whole.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole(x), rtol=1e-13)
    layer.reset_state()
    np.testing.assert_allclose(layer(x[:, :3]), first, rtol=1e-14)
    # the second batch's gradients, with the carried state held where the first batch left it
    carried = [s.copy() for s in layer.states]
    r = np.random.default_rng(8).normal(size=second.shape)
    probe = x[:, 3:].copy()

    def objective():
        for state, saved in zip(layer.states, carried):
            state[...] = saved
        return np.sum(r * layer.call(probe))

    objective()
    dx = layer.backward(r)
    grads = [g.copy() for g in layer.grads]
    assert_gradient_close(dx, numerical_gradient(objective, probe))
    for weight, grad in zip(layer.weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))


def test_dropout_only_in_training_and_masks_fixed_along_the_sequence():
    layer = SimpleRNN(
        4,
        dropout=0.5,
        kernel_initializer="ones",
        recurrent_initializer="zeros",
        activation="linear",
        seed=1,
    )
    x = np.ones((50, 3, 2), dtype="float32")
    np.testing.assert_array_equal(layer(x), layer(x))  # inference: no dropout
    out = layer(x, training=True)
    keep = layer.cell.input_masks[0]  # (batch, features): one mask for every step
    assert keep.shape == (50, 2)
    assert set(np.unique(keep)) <= {0.0, 2.0}
    np.testing.assert_allclose(out, np.repeat(keep.sum(1, keepdims=True), 4, axis=1))
    assert 0.3 < np.mean(keep == 0) < 0.7


# ------------------------------------------------------------------ kernels, weights, config
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kernel_sets_agree(dtype):
    rng = np.random.default_rng(0)
    b, u = 5, 4
    z = rng.normal(size=(b, 4 * u)).astype(dtype)
    c_prev, dh, dc = (rng.normal(size=(b, u)).astype(dtype) for _ in range(3))
    xw, hu = rng.normal(size=(b, 3 * u)).astype(dtype), z[:, : 3 * u].copy()
    results = []
    for module in (numpy_rnn_kernels, numba_rnn_kernels):
        gates, c, act_c, h = (np.empty_like(a) for a in (z, c_prev, c_prev, c_prev))
        module.lstm_step_forward(z, c_prev, "tanh", "sigmoid", gates, c, act_c, h)
        dz, dc_prev = np.empty_like(z), np.empty_like(c_prev)
        module.lstm_step_backward(gates, c_prev, act_c, dh, dc, "tanh", "sigmoid", dz, dc_prev)
        g_gates, g_h = np.empty_like(xw), np.empty_like(c_prev)
        module.gru_gates_forward(xw, hu, "sigmoid", g_gates)
        module.gru_candidate_forward(xw, hu[:, 2 * u :].copy(), c_prev, True, "relu", g_gates, g_h)
        dxw, dhu, dhp = np.empty_like(xw), np.empty_like(xw), np.empty_like(c_prev)
        module.gru_step_backward(
            g_gates, c_prev, hu[:, 2 * u :].copy(), dh, True, "relu", "sigmoid", dxw, dhu, dhp
        )
        results.append([gates, c, h, dz, dc_prev, g_gates, g_h, dxw, dhu, dhp])
    tol = 1e-15 if dtype == "float64" else 1e-6  # one or two roundings apart
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, rtol=tol, atol=tol)


def test_weight_shapes_names_and_order():
    for layer, shapes in [
        (LSTM(3), [(2, 12), (3, 12), (12,)]),
        (GRU(3), [(2, 9), (3, 9), (2, 9)]),
        (GRU(3, reset_after=False), [(2, 9), (3, 9), (9,)]),
        (SimpleRNN(3), [(2, 3), (3, 3), (3,)]),
        (Bidirectional(LSTM(2)), [(2, 8), (2, 8), (8,)] * 2),
    ]:
        layer(np.zeros((1, 4, 2)))
        assert [w.shape for w in layer.get_weights()] == shapes
    lstm = LSTM(3)
    lstm(np.zeros((1, 2, 2)))
    assert lstm.weight_names == ["kernel", "recurrent_kernel", "bias"]
    np.testing.assert_array_equal(lstm.get_weights()[2], [0] * 3 + [1] * 3 + [0] * 6)
    u = lstm.get_weights()[1]  # orthogonal: (3, 12) has orthonormal rows
    np.testing.assert_allclose(u @ u.T, np.eye(3), atol=1e-6)


def test_orthogonal_initializer():
    q = initializers.Orthogonal(seed=3)((4, 12))
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-6)  # rows orthonormal (rows < cols)
    tall = initializers.Orthogonal(gain=2.0, seed=3)((6, 3), dtype="float64")
    np.testing.assert_allclose(tall.T @ tall, 4 * np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(
        initializers.Orthogonal(seed=3)((4, 4)), initializers.Orthogonal(seed=3)((4, 4))
    )
    assert initializers.serialize(initializers.get("orthogonal"))["config"] == {
        "seed": None,
        "gain": 1.0,
    }


@pytest.mark.parametrize(
    "layer",
    [
        lambda: LSTM(3, return_sequences=True, dropout=0.1),
        lambda: GRU(3, reset_after=False, go_backwards=True),
        lambda: SimpleRNN(3, activation="relu"),
        lambda: RNN(LSTMCell(3), return_state=True),
        lambda: Bidirectional(GRU(2), merge_mode="sum"),
    ],
)
def test_config_round_trip(layer):
    original = layer()
    original(np.zeros((1, 2, 2)))
    entry = layers.serialize(original)
    copy = layers.deserialize(entry)
    assert copy.get_config() == original.get_config()
    assert [w.shape for w in copy.get_weights()] == [w.shape for w in original.get_weights()]


# ------------------------------------------------------------------ errors, as Keras raises
def test_a_two_dimensional_input_is_refused():
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        LSTM(3)(np.zeros((2, 3)))


def test_stateful_needs_a_fixed_batch_size():
    layer = LSTM(2, stateful=True)
    with pytest.raises(ValueError, match="batch size must be static"):
        layer.build((None, 3, 1))
    layer = LSTM(2, stateful=True)
    layer(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="Expected batch size: 2"):
        layer(np.zeros((3, 3, 1)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="Invalid merge mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(NotImplementedError, match="softmax"):
        LSTM(2, activation="softmax")
    assert kernels.RNN_ACTIVATIONS == ("linear", "relu", "sigmoid", "tanh")


def test_worked_example_of_the_docs(float64):
    """docs/recurrence.md works an LSTM's BPTT by hand; its numbers are the layer's."""
    import pathlib

    page = (pathlib.Path(__file__).parents[2] / "docs" / "recurrence.md").read_text("utf-8")
    layer = LSTM(1)
    x = np.array([[[1.0], [2.0]]])
    layer(x)
    layer.set_weights(
        [np.array([[0.5, 0.4, 0.8, 0.3]]), np.array([[0.2, 0.1, -0.5, 0.6]]), [0.0, 1, 0, 0]]
    )
    assert f"{layer.call(x)[0, 0]:.4f}" == "0.5214"
    layer.backward(np.ones((1, 1)))
    for name, grad in zip(("dW", "dU", "db"), layer.grads):
        quoted = f"{name} = " if name != "dW" else "dW = 1·dz₁ + 2·dz₂ = "
        text = "(" + ", ".join(f"{v:.4f}" for v in grad.ravel()) + ")"
        assert quoted in page and text in page.replace("\n", " "), (name, text)
