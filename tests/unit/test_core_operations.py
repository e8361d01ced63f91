"""Keras's Operation classes of the core ops, and user subclasses of `ops.Operation`: their
configs (made from the constructor's arguments, as Keras's), names, and graph nodes."""

import numpy as np
import pytest

from minikeras import backend, ops
from minikeras.backend import KerasTensor


class Affine(ops.Operation):
    def __init__(self, alpha, *, beta=1.0, name=None):
        super().__init__(name=name)
        self.alpha, self.beta = alpha, beta

    def call(self, x):
        return self.alpha * x + self.beta


class NoName(ops.Operation):
    def __init__(self, alpha, beta=1.0):
        super().__init__()
        self.alpha, self.beta = alpha, beta


class Starred(ops.Operation):
    def __init__(self, alpha, *args, name=None):
        super().__init__(name=name)


class Pair(ops.Operation):
    def call(self, x, y=None):
        return x + y, x - y


def test_config_is_made_from_the_constructor_arguments():
    op = Affine(alpha=0.2, name="scale")
    assert op.get_config() == {"alpha": 0.2, "beta": 1.0, "name": "scale"}
    assert Affine.from_config(op.get_config()).get_config() == op.get_config()
    assert NoName(0.5).get_config() == {"alpha": 0.5, "beta": 1.0}  # no name parameter
    assert Pair(name="p").get_config() == {"name": "p"}
    assert ops.Scan(length=3).get_config() == {
        "length": 3,
        "reverse": False,
        "unroll": 1,
        "name": "scan",
    }


def test_config_that_cannot_be_made_automatically_raises():
    with pytest.raises(NotImplementedError, match="\\*args"):
        Starred(0.2, "a").get_config()
    with pytest.raises(NotImplementedError, match="`alpha`"):
        Affine(alpha=object()).get_config()


def test_names_are_automatic_and_checked():
    backend.clear_session()
    first, second = Pair(), Pair()
    assert (first.name, second.name) == ("pair", "pair_1")
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        Pair(name="a/b")


def test_symbolic_call_adds_a_node_and_eager_call_runs():
    x, y = KerasTensor((2, 3)), KerasTensor((2, 3))
    op = Pair(name="pair_op")
    plus, minus = op(x, y=y)
    assert plus.shape == (2, 3) and len(op._inbound_nodes) == 1
    assert op.input == [x, y] and op.output == [plus, minus]
    a, b = np.ones((2, 3)), np.full((2, 3), 2.0)
    np.testing.assert_array_equal(op(a, y=b)[1], -np.ones((2, 3)))


def test_symbolic_conversions_keep_keras_flags_and_refuse_numpy():
    sparse = KerasTensor((2, 3), sparse=True)
    assert ops.convert_to_tensor(sparse).sparse
    assert not ops.convert_to_tensor(sparse, sparse=False).sparse
    assert ops.convert_to_tensor(sparse, dtype="int32").dtype == "int32"
    with pytest.raises(ValueError, match="symbolic"):
        ops.convert_to_numpy(KerasTensor((2,)))


def test_cast_nodes_carry_keras_history_and_ops_has_keras_names():
    y = ops.cast(KerasTensor((2,), dtype="float32"), "float16")
    assert y.dtype == "float16" and hasattr(y, "_keras_history")
    assert ops.KerasTensor is KerasTensor
    assert ops.random.uniform((2, 3)).shape == (2, 3)


def test_a_sequential_builds_a_layer_whose_build_skips_super_once():
    # (such a layer's weights were created twice: once by the Sequential's build, once more
    # by the symbolic call that follows it)
    from minikeras import Input, Sequential, layers

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

        def call(self, x):
            return x * self.scale

    model = Sequential([Input((4,)), Scale()])
    assert [w.name for w in model.weights] == ["scale"]
