"""Shapes of ops on symbolic tensors where an unknown axis meets a known one, against Keras.

Running an op on stand-in arrays (unknown axes of 83 and 89) cannot give these: Keras adds
(None, 3) and (2, None) to (2, 3), which no stand-in of 83 rows broadcasts to. Each case is built
on Keras's KerasTensors and on minikeras's, same shapes and dtypes: the output shapes (None where
Keras says None) and dtypes must be Keras's, and where Keras raises a ValueError, so must
minikeras. A layer of yours made of ops, called on an Input with unknown axes, must keep them
unknown as Keras's symbolic call does (a call on stand-ins of size 1 made them 1).
"""

import pytest

from minikeras import layers as mlayers
from minikeras import ops as mops
from minikeras.backend import KerasTensor as MKerasTensor
from minikeras.layers import Input as MInput

F, I = "float32", "int32"

# name, fn(ops, *tensors), [(shape, dtype)] of the inputs
EXPRESSIONS = [
    ("add", lambda o, x, y: o.add(x, y), [((None, 3), F), ((2, None), F)]),
    ("multiply int", lambda o, x, y: x * y, [((None, 1), I), ((4,), F)]),
    ("maximum", lambda o, x, y: o.maximum(x, y), [((None, 3, 1), F), ((2, 1, None), F)]),
    ("equal", lambda o, x, y: o.equal(x, y), [((None, 3), F), ((2, None), F)]),
    ("arctan2", lambda o, x, y: o.arctan2(x, y), [((None, 3), F), ((2, None), F)]),
    ("where", lambda o, c, x, y: o.where(c, x, y), [((2, None, 1), "bool"), ((None, 1), F), ((None, 3), F)]),  # noqa: E501
    ("clip", lambda o, x: o.clip(x, 0.0, 1.0), [((None, 3), F)]),
    ("allclose", lambda o, x, y: o.allclose(x, y), [((None, 3), F), ((2, None), F)]),
    ("matmul batch", lambda o, x, y: o.matmul(x, y), [((None, 3, 4), F), ((3, None, 4, 5), F)]),
    ("matmul vector", lambda o, x, y: o.matmul(x, y), [((None, 4), F), ((4,), F)]),
    ("dot", lambda o, x, y: o.dot(x, y), [((None, 3), F), ((None, None, 2), F)]),
    ("tensordot", lambda o, x, y: o.tensordot(x, y, axes=[[0, 1], [1, 0]]), [((None, 3, 4), F), ((3, 4), F)]),  # noqa: E501
    ("einsum", lambda o, x, y: o.einsum("ijk,jkl->li", x, y), [((None, 3, 4), F), ((None, 4, 5), F)]),  # noqa: E501
    ("einsum ellipsis", lambda o, x, y: o.einsum("i...,...j", x, y), [((None, 3, 4), F), ((None, 4, 5), F)]),  # noqa: E501
    ("reshape -1", lambda o, x: o.reshape(x, (3, -1)), [((None, 3), F)]),
    ("reshape known", lambda o, x: o.reshape(x, (3, 2)), [((None, 3), F)]),
    ("concatenate", lambda o, x, y: o.concatenate([x, y], axis=0), [((None, 3), F), ((2, None), F)]),  # noqa: E501
    ("dstack", lambda o, x, y: o.dstack([x, y]), [((None, 3), F), ((None, None), F)]),
    ("split sections", lambda o, x: o.split(x, 2), [((None, 3, 3), F)]),
    ("split indices", lambda o, x: o.split(x, [1, 3], axis=1), [((None, 3, 3), F)]),
    ("take", lambda o, x, i: o.take(x, i, axis=2), [((None, 3, None, 5), F), ((6, 7), I)]),
    ("take_along_axis", lambda o, x, i: o.take_along_axis(x, i, axis=0), [((None, 3), F), ((1, 3), I)]),  # noqa: E501
    ("repeat", lambda o, x: o.repeat(x, 3, axis=1), [((None, 3), F)]),
    ("tile", lambda o, x: o.tile(x, (2, 3)), [((None, 3), F)]),
    ("pad", lambda o, x: o.pad(x, ((1, 2), (3, 4), (5, 6))), [((None, 3, 3), F)]),
    ("broadcast_to", lambda o, x: o.broadcast_to(x, (2, 3, 3)), [((None, 3), F)]),
    ("diagonal", lambda o, x: o.diagonal(x), [((None, 3, 3), F)]),
    ("trace", lambda o, x: o.trace(x, axis1=2, axis2=3), [((None, 3, None, 5), F)]),
    ("cross", lambda o, x, y: o.cross(x, y), [((1, 3, 2), F), ((None, 1, 2), F)]),
    ("linspace", lambda o, x, y: o.linspace(x, y, 10, axis=1), [((None, 3, 4), F), ((2, 3, 4), F)]),  # noqa: E501
    ("moveaxis", lambda o, x: o.moveaxis(x, [0, 1], [2, 0]), [((None, 3, 4), F)]),
    ("swapaxes", lambda o, x: o.swapaxes(x, 0, 2), [((None, 3, 4), F)]),
    ("diff", lambda o, x: o.diff(x, n=2), [((None, 5), F)]),
    ("nancumsum", lambda o, x: o.nancumsum(x, axis=(1,)), [((None, 3, 3), F)]),
    ("bitwise_invert", lambda o, x: o.bitwise_invert(x), [((None, 3), I)]),
]  # fmt: skip

# name, fn(ops, *tensors), [(shape, dtype)]: Keras raises a ValueError for each
REFUSED = [
    ("broadcast", lambda o, x, y: o.add(x, y), [((None, 3), F), ((2, 4), F)]),
    ("matmul inner axes", lambda o, x, y: o.matmul(x, y), [((None, 3), F), ((4, 5), F)]),
    ("concatenate axes", lambda o, x, y: o.concatenate([x, y], axis=1), [((None, 3, 5), F), ((None, 4, 6), F)]),  # noqa: E501
    ("concatenate axis None", lambda o, x, y: o.concatenate([x, y], axis=None), [((2, 3), F), ((2, 3), F)]),  # noqa: E501
    ("split unequal", lambda o, x: o.split(x, 2, axis=1), [((2, 3), F)]),
    ("einsum rank", lambda o, x, y: o.einsum("ijk,jk->ik", x, y), [((None, 3), F), ((3, 4), F)]),
    ("pad widths", lambda o, x: o.pad(x, ((1, 2), (3, 4), (5, 6))), [((2, 3), F)]),
    ("repeat counts", lambda o, x: o.repeat(x, [1, 1, 1], axis=0), [((2, 3), F)]),
    ("swapaxes out of range", lambda o, x: o.swapaxes(x, 5, 0), [((3, 4), F)]),
    ("linspace broadcast", lambda o, x, y: o.linspace(x, y), [((2, 3), F), ((2, 3, 4), F)]),
    ("concatenate axis out of range", lambda o, x, y: o.concatenate([x, y], axis=10), [((3, 4), F), ((3, 4), F)]),  # noqa: E501
]  # fmt: skip


def _outputs(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _shapes_and_dtypes(result):
    return [(tuple(t.shape), t.dtype) for t in _outputs(result)]


@pytest.mark.parametrize("name, fn, specs", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_shape_where_unknown_meets_known_is_keras(keras, name, fn, specs):
    expected = fn(keras.ops, *[keras.KerasTensor(s, dtype=d) for s, d in specs])
    got = fn(mops, *[MKerasTensor(s, dtype=d) for s, d in specs])
    assert _shapes_and_dtypes(got) == _shapes_and_dtypes(expected)


@pytest.mark.parametrize("name, fn, specs", REFUSED, ids=[e[0] for e in REFUSED])
def test_incompatible_shapes_raise_as_keras(keras, name, fn, specs):
    with pytest.raises(ValueError):
        fn(keras.ops, *[keras.KerasTensor(s, dtype=d) for s, d in specs])
    with pytest.raises(ValueError):
        fn(mops, *[MKerasTensor(s, dtype=d) for s, d in specs])


# a layer of yours, made of ops: (name, its call, its build or None, the Input's shape)
def _matmul_build(layer, shape):
    layer.w = layer.add_weight(shape=(shape[-1], 5))


LAYERS = [
    ("mean times x", lambda o, layer, x: o.mean(x, axis=-1, keepdims=True) * x, None, (None, 4)),
    ("unknown last axis", lambda o, layer, x: o.mean(x, axis=-1, keepdims=True) * x, None, (3, None)),  # noqa: E501
    ("matmul weight", lambda o, layer, x: o.matmul(x, layer.w), _matmul_build, (None, 4)),
    ("reshape", lambda o, layer, x: o.reshape(x, (-1, 2)), None, (None, 4)),
    ("sum over time", lambda o, layer, x: o.sum(x, axis=1), None, (None, 4)),
]  # fmt: skip


def _layer_class(base, ops, call, build):
    namespace = {"call": lambda self, x: call(ops, self, x)}
    if build is not None:
        namespace["build"] = lambda self, shape: build(self, shape)
    return type("OpsLayer", (base,), namespace)


@pytest.mark.parametrize("name, call, build, shape", LAYERS, ids=[e[0] for e in LAYERS])
def test_layer_of_ops_keeps_unknown_axes_as_keras(keras, name, call, build, shape):
    expected = _layer_class(keras.layers.Layer, keras.ops, call, build)()(keras.Input(shape))
    got = _layer_class(mlayers.Layer, mops, call, build)()(MInput(shape))
    assert (tuple(got.shape), got.dtype) == (tuple(expected.shape), expected.dtype)
