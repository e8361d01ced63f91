"""The built-in cells' `call(inputs, states)`: Keras's one-step API, written with ops. The
compiled loop of `RNN(cell)` and the ops step of `RNN([cell])` (a stack of one, run by the
tape's time loop) are two implementations of the same recurrence: they agree in float64 to
rounding (1e-12: the same products in another order), masked steps included."""

import numpy as np
import pytest

import minikeras as mk
from minikeras import layers

CELLS = {
    "LSTMCell": lambda: layers.LSTMCell(3),
    "GRUCell": lambda: layers.GRUCell(3),
    "GRUCell reset_after=False": lambda: layers.GRUCell(3, reset_after=False),
    "SimpleRNNCell": lambda: layers.SimpleRNNCell(3, activation="relu"),
}


def leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


@pytest.mark.parametrize("name", list(CELLS))
def test_a_stack_of_one_cell_runs_as_the_cell_alone(name):
    mk.config.set_floatx("float64")
    try:
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 5, 4))
        mask = np.array([[True] * 5, [False, True, True, True, False]])
        alone = layers.RNN(CELLS[name](), return_sequences=True, return_state=True)
        stacked = layers.RNN([CELLS[name]()], return_sequences=True, return_state=True)
        alone.build((None, 5, 4))
        stacked.build((None, 5, 4))
        weights = [rng.normal(0, 0.5, w.shape) for w in alone.get_weights()]
        alone.set_weights(weights)
        stacked.set_weights(weights)
        ours, theirs = alone(x, mask=mask), stacked(x, mask=mask)
        # the stack's states are nested one level deeper: [output, [h, c]] for an LSTMCell
        assert len(leaves(ours)) == len(leaves(theirs)) == 1 + len(alone.state_size)
        for a, b in zip(leaves(ours), leaves(theirs)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    finally:
        mk.config.set_floatx("float32")


def test_a_cell_called_alone_returns_its_output_and_states():
    cell = layers.LSTMCell(2)
    h, (h_again, c) = cell(np.ones((3, 4)), [np.zeros((3, 2)), np.zeros((3, 2))])
    assert h.shape == c.shape == (3, 2)
    np.testing.assert_array_equal(h, h_again)


def test_dropout_in_a_stack_of_cells_says_it_is_not_built():
    model = mk.Sequential(
        [mk.Input((4, 2)), layers.RNN([layers.GRUCell(2, dropout=0.5)]), layers.Dense(1)]
    )
    model.compile(loss="mse")
    with pytest.raises(NotImplementedError, match="dropout=0.5"):
        model.fit(np.ones((2, 4, 2)), np.ones((2, 1)), verbose=0)
