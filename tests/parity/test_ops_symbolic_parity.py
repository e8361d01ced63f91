"""minikeras.ops on symbolic tensors against keras.ops on Keras's KerasTensors.

Each expression is built twice, on `KerasTensor`s of the same shapes and dtypes (unknown axes
as None): the outputs must have Keras's shapes (None where Keras says None) and dtypes. In a
Functional model, each op must be one node of Keras's Operation class (`ops.norm` is one
`Norm` node, not the sum, square and sqrt it is made of on arrays), so that configs match.
"""

import numpy as np
import pytest

from minikeras import ops as mops
from minikeras.backend import KerasTensor as MKerasTensor

F, I = "float32", "int32"

# name, fn(ops, *tensors), [(shape, dtype)] of the inputs
EXPRESSIONS = [
    ("expand_dims", lambda o, x: o.expand_dims(x, 1), [((None, 3), F)]),
    ("squeeze", lambda o, x: o.squeeze(x, axis=1), [((None, 1, 3), F)]),
    ("max", lambda o, x: o.max(x, axis=1), [((None, 3), F)]),
    ("max keepdims", lambda o, x: o.max(x, axis=-1, keepdims=True), [((None, 3, 4), F)]),
    ("argmax", lambda o, x: o.argmax(x, axis=1), [((None, 3), F)]),
    ("where", lambda o, c, x, y: o.where(c, x, y), [((None, 3), "bool"), ((None, 3), F), ((3,), I)]),  # noqa: E501
    ("greater", lambda o, x, y: o.greater(x, y), [((None, 3), F), ((None, 3), I)]),
    ("less operator", lambda o, x: x < 2, [((None, 3), F)]),
    ("one_hot", lambda o, x: o.one_hot(x, 5), [((None, 3), I)]),
    ("moments", lambda o, x: o.moments(x, axes=[1]), [((None, 3), F)]),
    ("norm", lambda o, x: o.norm(x, axis=-1), [((None, 3), F)]),
    ("var", lambda o, x: o.var(x, axis=1), [((None, 3), F)]),
    ("std", lambda o, x: o.std(x, axis=0), [((None, 3), F)]),
    ("split", lambda o, x: o.split(x, 3, axis=1), [((None, 6), F)]),
    ("dot", lambda o, x, y: o.dot(x, y), [((None, 3), F), ((3, 4), F)]),
    ("add int float", lambda o, x, y: o.add(x, y), [((None, 3), I), ((None, 3), F)]),
    ("mean of int", lambda o, x: o.mean(x, axis=1), [((None, 3), I)]),
    ("unknown inner axis", lambda o, x: o.sum(x, axis=0), [((2, None), F)]),
    ("concatenate", lambda o, x, y: o.concatenate([x, y], axis=1), [((None, 3), F), ((None, 2), F)]),  # noqa: E501
    ("arctan2", lambda o, x, y: o.arctan2(x, y), [((None, 3), I), ((None, 3), I)]),
    ("vstack", lambda o, x, y: o.vstack([x, y]), [((None, 3), F), ((2, 3), F)]),
    ("moveaxis", lambda o, x: o.moveaxis(x, 0, -1), [((None, 3, 4), F)]),
    ("inv", lambda o, x: o.inv(x), [((None, 3, 3), F)]),
]  # fmt: skip


def _outputs(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


@pytest.mark.parametrize("name, fn, specs", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_output_shapes_and_dtypes_match_keras(keras, name, fn, specs):
    expected = fn(keras.ops, *[keras.KerasTensor(s, dtype=d) for s, d in specs])
    got = fn(mops, *[MKerasTensor(s, dtype=d) for s, d in specs])
    assert type(got) is type(expected) or not isinstance(expected, (list, tuple))
    assert len(_outputs(got)) == len(_outputs(expected))
    for g, e in zip(_outputs(got), _outputs(expected)):
        assert (tuple(g.shape), g.dtype) == (tuple(e.shape), e.dtype)


def _op_classes(config):
    """The class names of the op entries of a Functional's config, in order."""
    return [
        layer["class_name"]
        for layer in config["layers"]
        if str(layer.get("module", "")).startswith("keras.src.ops")
    ]


COMPOSITES = [
    ("norm", lambda o, x: o.norm(x, axis=-1, keepdims=True)),
    ("var", lambda o, x: o.var(x, axis=-1, keepdims=True)),
    ("std", lambda o, x: o.std(x, axis=-1, keepdims=True)),
    ("split", lambda o, x: o.split(x, 2, axis=-1)[1]),
    ("dot", lambda o, x: o.dot(x, np.ones((4, 4), "float32"))),
    ("expand_dims", lambda o, x: o.squeeze(o.expand_dims(x, 1), axis=1)),
]


@pytest.mark.parametrize("name, fn", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_each_op_is_one_node_of_keras_class(keras, name, fn):
    import minikeras

    def build(lib, ops):
        x = lib.Input(shape=(4,))
        return lib.Model(x, fn(ops, x)).get_config()

    expected = build(keras, keras.ops)
    got = build(minikeras, mops)
    assert _op_classes(got) == _op_classes(expected)
