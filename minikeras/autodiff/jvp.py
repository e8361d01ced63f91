"""jvp: a Jacobian–vector product (forward mode), computed with the reverse-mode tape.

TensorFlow computes `J·t` in one forward pass that carries a tangent beside every value
(`tf.autodiff.ForwardAccumulator`). minikeras has only the tape, which gives vector–Jacobian
products `gᵀ·J`. Each entry of `J·t` is one of those: (J·t)ᵢ = Σⱼ ∂yᵢ/∂xⱼ · tⱼ = (eᵢᵀ·J)·t, the
gradient of the output entry yᵢ dotted with the tangent. So the function runs once on a
persistent tape, and the tape is walked back once per output entry — exact, and cheap for the
small outputs a learner checks by hand, but m backward passes for an output of m entries.

>>> import numpy as np
>>> from minikeras import ops
>>> y, jt = ops.jvp(ops.sin, (np.array(0.1),), (np.array(0.2),))
>>> round(float(y), 8), round(float(jt), 8)  # sin(0.1), cos(0.1)·0.2
(0.09983342, 0.19900083)
"""

import numpy as np

from minikeras import tree
from minikeras.autodiff.primitive import unwrap
from minikeras.autodiff.tape import GradientTape
from minikeras.autodiff.tensor import Tensor


def jvp(fun, primals, tangents, has_aux=False):
    """(fun(*primals), J·tangents), and fun's auxiliary output with `has_aux`.

    `primals` and `tangents` are tuples (or lists) of the same structure; the tangents are cast
    to their primals' dtypes, as TensorFlow's. `fun` returns an array or a structure of them
    (with `has_aux`, a pair `(output, aux)`); the tangents out have that structure.
    """
    flat_primals = [np.asarray(unwrap(p)) for p in tree.flatten(primals)]
    flat_tangents = [
        np.asarray(unwrap(t)).astype(p.dtype) for t, p in zip(tree.flatten(tangents), flat_primals)
    ]
    inputs = [Tensor(p) for p in flat_primals]
    with GradientTape(persistent=True) as tape:
        for x in inputs:
            tape.watch(x)
        result = fun(*tree.pack_sequence_as(list(primals), inputs))
    output, aux = result if has_aux else (result, None)

    def _tangent_of(y):
        value = np.asarray(unwrap(y))
        out = np.zeros(value.shape, value.dtype)
        for index in np.ndindex(value.shape):  # (J·t)ᵢ = (gradient of yᵢ) · t
            seed = np.zeros(value.shape, value.dtype)
            seed[index] = 1
            grads = tape.gradient(y, inputs, output_gradients=seed)
            out[index] = sum(np.sum(g * t) for g, t in zip(grads, flat_tangents) if g is not None)
        return out

    tangents_out = tree.map_structure(_tangent_of, output)
    output = tree.map_structure(lambda y: np.asarray(unwrap(y)), output)
    return (output, tangents_out, aux) if has_aux else (output, tangents_out)
