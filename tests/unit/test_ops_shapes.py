"""Shape rules of ops on symbolic tensors (minikeras/ops/shapes.py) and symbolic calls.

Expected shapes are Keras's, worked out by hand from its rules (an unknown axis beside a known
size n is n, beside 1 or None it stays unknown) and checked against Keras in
tests/parity/test_ops_shapes_parity.py; none is taken from minikeras's own output.
"""

import numpy as np
import pytest

from minikeras import Sequential, backend, layers, ops
from minikeras.backend import KerasTensor
from minikeras.ops import numpy as knp
from minikeras.ops.numpy import broadcast_shapes


@pytest.mark.parametrize(
    "shape1, shape2, expected",
    [
        ((None, 3), (2, None), [2, 3]),
        ((None, 3), (5, 1), [5, 3]),
        ((None, 1), (1, None), [None, None]),
        ((1, 3), (5, 1), [5, 3]),
        ((3,), (2, None, 3), [2, None, 3]),
        ((), (None,), [None]),
    ],
)
def test_broadcast_shapes_lets_an_unknown_axis_take_the_known_size(shape1, shape2, expected):
    assert broadcast_shapes(shape1, shape2) == expected
    assert broadcast_shapes(shape2, shape1) == expected


def test_broadcast_shapes_names_the_sizes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="failure dim has value 3.*broadcasted to 4"):
        broadcast_shapes((None, 3), (2, 4))


def test_a_broadcasting_op_on_symbolic_tensors_takes_the_known_sizes():
    y = ops.add(KerasTensor((None, 3)), KerasTensor((2, None), dtype="int32"))
    assert (y.shape, y.dtype) == ((2, 3), "float32")
    # a bitwise op refuses float stand-ins: its dtype is then the arguments' (Keras's spec)
    z = ops.bitwise_and(KerasTensor((None, 3)), KerasTensor((2, None)))
    assert (z.shape, z.dtype) == ((2, 3), "float32")


def test_split_of_an_unknown_axis_gives_unknown_parts():
    parts = ops.split(KerasTensor((None, 3, 3)), [1, 3], axis=1)
    assert [p.shape for p in parts] == [(None, 1, 3), (None, 2, 3), (None, 0, 3)]
    assert [p.shape for p in ops.split(KerasTensor((None, 4)), 2)] == [(None, 4), (None, 4)]


def test_an_op_node_keeps_its_rule_when_its_output_shape_is_asked_again():
    x, y = layers.Input(shape=(3,)), layers.Input(batch_shape=(2, None))
    node_layer = (x + y).layer
    assert node_layer.compute_output_shape([(None, 3), (2, None)]) == (2, 3)


class MeanTimesX(layers.Layer):
    def call(self, x):
        return ops.mean(x, axis=-1, keepdims=True) * x


class AddVector(layers.Layer):
    def build(self, input_shape):
        self.v = self.add_weight(shape=(4,), initializer="ones")

    def call(self, x):
        return x + self.v


def test_a_layer_of_ops_keeps_unknown_axes_unknown():
    # (a call on stand-ins of size 1 gave (None, 1, 4) here)
    assert MeanTimesX()(layers.Input(shape=(None, 4))).shape == (None, None, 4)
    assert MeanTimesX()(layers.Input(shape=(3, None))).shape == (None, 3, None)


def test_a_layer_whose_weight_meets_an_unknown_axis_is_still_probed():
    # stand-ins of 83 do not add to a weight of 4: the call on size 1 decides
    assert AddVector()(layers.Input(shape=(None,))).shape == (None, 4)


def test_compute_output_spec_calls_a_layer_symbolically():
    y = backend.compute_output_spec(layers.Reshape((-1, 3)).__call__, KerasTensor((4, 6, None, 3)))
    assert (y.shape, y.dtype) == ((4, None, 3), "float32")


def test_flatten_takes_batches_of_other_sizes_as_keras():
    def batches():
        yield (np.arange(105, dtype="float32").reshape(3, 5, 7),)
        yield (np.arange(70, dtype="float32").reshape(2, 7, 5),)

    y = Sequential([layers.Flatten()]).predict(batches(), verbose=0)
    expected = np.concatenate([np.arange(105).reshape(3, 35), np.arange(70).reshape(2, 35)])
    np.testing.assert_array_equal(y, expected)
    with pytest.raises(ValueError, match="min_ndim=1"):
        layers.Flatten().check_input_shape(())


def test_a_model_without_weights_fits_on_a_generator():
    def batches():
        for _ in range(2):
            yield np.ones((1, 12, 2), "float32"), np.zeros((1, 3, 8), "float32")

    model = Sequential([layers.Reshape((-1, 8))])
    model.compile(loss="mse")
    history = model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    assert history.history["loss"] == [1.0]  # mean of (1 − 0)²


def test_operation_classes_take_options_then_tensors_as_keras():
    x, y = np.arange(4.0).reshape(2, 2), np.ones((2, 1))
    np.testing.assert_array_equal(knp.Add()(x, x), x + x)
    np.testing.assert_array_equal(knp.Append(axis=1)(x, y), np.concatenate([x, y], axis=1))
    np.testing.assert_array_equal(knp.Cumsum(axis=0)(x), np.cumsum(x, axis=0))
    np.testing.assert_array_equal(knp.Einsum("ij,jk->ik")(x, y), x @ y)
    assert knp.Matmul()(KerasTensor((None, 3)), KerasTensor((3, 5))).shape == (None, 5)
    # Keras's Digitize and Linspace take bins, start and stop at the call
    np.testing.assert_array_equal(knp.Digitize()(np.array([0.5, 1.5]), np.arange(3.0)), [1, 2])
    np.testing.assert_allclose(knp.Linspace(5)(0.0, 1.0), [0.0, 0.25, 0.5, 0.75, 1.0])


def test_pad_takes_one_width_or_one_pair_for_every_axis_as_numpy():
    x = np.ones((2, 3))
    assert ops.pad(x, 1).shape == (4, 5)
    assert ops.pad(x, ((1, 2),)).shape == (5, 6)
    np.testing.assert_array_equal(ops.pad(x, (1, 2)), np.pad(x, (1, 2)))


def test_shape_equal_leaves_out_axes_and_unknown_sizes():
    from minikeras.ops.numpy import shape_equal

    assert shape_equal((3, 4, 5), (3, 4, 5)) and not shape_equal((3, 4), (3, 4, 5))
    assert shape_equal((3, 4, 5), (3, 6, 5), axis=1) and shape_equal((3, 4, 5), (3, 6, 7), [1, 2])
    assert not shape_equal((3, 4, 5), (3, 4, 6), axis=-2) and shape_equal((3, 4, 5), (3, 4, 6), -1)
    assert shape_equal((None, 4), (3, 4)) and not shape_equal((None, 4), (3, 4), allow_none=False)
