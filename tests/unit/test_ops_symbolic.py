"""Ops on symbolic tensors: one node per op (composites too), Keras's output shapes and dtypes
(tests/parity/test_ops_symbolic_parity.py compares them with Keras's), and a backward through
the node that agrees with central differences."""

import numpy as np
import pytest

import minikeras
from minikeras import layers, ops, testing
from minikeras.backend import KerasTensor
from minikeras.layers.op_layer import OpLayer


def _op_nodes(model):  # ops are operations of the graph, not layers (as in Keras)
    return [layer.op_name for layer in model.operations if isinstance(layer, OpLayer)]


def test_a_composite_op_is_one_node():
    x = layers.Input(shape=(4,))
    y = ops.norm(x, axis=-1, keepdims=True) + ops.std(x, axis=-1, keepdims=True)
    model = minikeras.Model(x, y)
    assert _op_nodes(model) == ["norm", "std", "add"]
    assert y.shape == (None, 1)


def test_output_dtype_follows_the_op():
    x = KerasTensor((None, 3))
    assert ops.argmax(x, axis=1).dtype == "int32"
    assert (x > 0).dtype == "bool"
    assert ops.add(KerasTensor((None, 3), dtype="int32"), x).dtype == "float32"


def test_an_unknown_axis_stays_unknown_and_known_ones_are_kept():
    # the batch axis is not the only one that may be unknown
    assert ops.sum(KerasTensor((2, None, 4)), axis=0).shape == (None, 4)
    assert ops.expand_dims(KerasTensor((None, 3)), 1).shape == (None, 1, 3)
    assert ops.squeeze(KerasTensor((None, 1, 3)), axis=1).shape == (None, 3)


def test_ops_with_several_outputs_give_several_tensors():
    mean, variance = ops.moments(KerasTensor((None, 3)), axes=[1])
    assert mean.shape == variance.shape == (None,)
    parts = ops.split(KerasTensor((None, 6)), 3, axis=1)
    assert isinstance(parts, list) and [p.shape for p in parts] == [(None, 2)] * 3
    assert parts[0].node is parts[2].node  # one node, three outputs


def test_operators_on_keras_tensors():
    x = KerasTensor((None, 3))
    for y in (x < 1, x <= 1, x > 1, x >= 1, x != 1, ~(x > 1), (x > 0) & (x < 1), x // 2, x % 2):
        assert isinstance(y.layer, OpLayer) and y.shape == (None, 3)
    assert (2**x).layer.op_name == "power"
    with pytest.raises(ValueError, match="symbolic"):
        int(KerasTensor(()))


def test_bad_input_raises_at_graph_time():
    with pytest.raises(ValueError, match="broadcast"):
        ops.add(KerasTensor((None, 3)), KerasTensor((None, 4)))
    with pytest.raises(ValueError, match="square"):
        ops.inv(KerasTensor((None, 3, 4)))


def test_backward_through_composite_op_nodes_matches_central_differences():
    """The node's backward replays the op on a tape: norm, var and split are several
    primitives on arrays, one node in the graph."""
    x = layers.Input(shape=(4,))
    h = layers.Dense(4, activation="tanh")(x)
    a, b = ops.split(h, 2, axis=-1)
    y = ops.concatenate(
        [a * ops.norm(h, axis=-1, keepdims=True), b - ops.var(h, axis=-1, keepdims=True)], axis=-1
    )
    model = minikeras.Model(x, layers.Dense(2)(ops.logaddexp(y, ops.arctan2(y, 2.0))))
    rng = np.random.default_rng(0)
    worst = testing.check_gradients(
        model, rng.normal(size=(5, 4)), rng.normal(size=(5, 2)), loss="mse", verbose=False
    )
    assert max(worst.values()) < 1e-6  # a wrong VJP is ~1e-2 off (check_gradients' docstring)
