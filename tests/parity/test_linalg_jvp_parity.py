"""ops.linalg.jvp beside Keras's on TensorFlow: values (float64, within 1e-12: one sin/cos
evaluation and a product each side) and, on KerasTensors, the specs of the outputs, the
tangents and the auxiliary output."""

import numpy as np

from minikeras import ops
from minikeras.layers.node import KerasTensor
from minikeras.ops import linalg


def test_jvp_values(keras):
    x, t = np.array([0.1, -0.7, 2.0]), np.array([0.2, 1.0, -0.5])

    def ours_fun(v):
        return ops.sin(v) * v, ops.sum(v)

    def theirs_fun(v):
        return keras.ops.sin(v) * v, keras.ops.sum(v)

    ours = linalg.jvp(ours_fun, (x,), (t,), has_aux=True)
    x_tf, t_tf = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(t)
    theirs = keras.ops.linalg.jvp(theirs_fun, (x_tf,), (t_tf,), has_aux=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b), rtol=1e-12)


def test_jvp_symbolic_specs(keras):
    def spec_of(lib, tensor):
        primals, tangents = tensor((None, 7)), tensor((None, 7))

        def fun(v):
            y = lib.ops.exp(v)
            return y, lib.ops.mean(y, axis=-1, keepdims=True)

        out = lib.ops.linalg.jvp(fun, (primals,), (tangents,), has_aux=True)
        plain = lib.ops.linalg.jvp(lambda v: lib.ops.sin(v), (primals,), (tangents,))
        return [(tuple(o.shape), o.dtype) for o in (*out, *plain)]

    import minikeras

    assert spec_of(minikeras, KerasTensor) == spec_of(keras, keras.KerasTensor)
