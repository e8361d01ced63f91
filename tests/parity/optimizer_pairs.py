"""Run a minikeras optimizer and its Keras twin side by side on the same weights and gradients.

Used by test_optimizers_parity.py. Both sides start from the same float arrays, take the same
k gradients, and every weight and every optimizer variable (in Keras's `optimizer.variables`
order, which is also the order of the file) is returned for comparison.
"""

import numpy as np

import minikeras as mk
from minikeras.parity.keras_env import floatx

SHAPES = ((3, 4), (4,))  # a kernel and a bias: both factored and unfactored Adafactor paths


def _arguments(module, kwargs):
    """kwargs with a schedule given as ("ExponentialDecay", {...}) built from `module`."""
    out = dict(kwargs)
    lr = out.get("learning_rate")
    if isinstance(lr, tuple):
        out["learning_rate"] = getattr(module.optimizers.schedules, lr[0])(**lr[1])
    return out


def data(dtype, steps, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]
    return weights, grads


def run_both(keras, class_name, kwargs, dtype, steps=5, seed=0, shapes=SHAPES):
    """(our weights, Keras's weights, our variables, Keras's variables) after `steps` updates."""
    weights, grads = data(dtype, steps, seed, shapes)
    with floatx(dtype):
        ours = getattr(mk.optimizers, class_name)(**_arguments(mk, kwargs))
        theirs = getattr(keras.optimizers, class_name)(**_arguments(keras, kwargs))
        our_weights = [w.copy() for w in weights]
        their_weights = [keras.Variable(w, dtype=dtype) for w in weights]
        for g in grads:
            ours.apply([x.copy() for x in g], our_weights)
            theirs.apply([keras.ops.convert_to_tensor(x) for x in g], their_weights)
        return (
            our_weights,
            [np.asarray(w.numpy()) for w in their_weights],
            ours.variables,
            [np.asarray(v.numpy()) for v in theirs.variables],
        )
