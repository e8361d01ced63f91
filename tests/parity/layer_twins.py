"""One layer built twice, in minikeras and in Keras from the same arguments and weights, and run
forward and backward on both: the helper of the per-layer parity tests.

Differences are normwise, max|a − b| / max(‖a‖∞, ‖b‖∞) (minikeras/parity/compare.py), held to:
- float64: 1e-10. Both sides round at 2⁻⁵³; these layers add at most a few dozen terms per
  output (a channel's batch statistics, a softmax row), so what is left is < 1e-14.
- float32: 1e-5 (one pass, compare.FLOAT32_PASS_TOLERANCE): the same short sums round at 2⁻²⁴
  ≈ 6e-8 on each side, independently, in different orders (TensorFlow's reductions are tree
  sums, minikeras's kernels sum in float64 and round once).
"""

import contextlib
import json
import warnings

import numpy as np

import minikeras
from minikeras.parity import keras_env
from minikeras.parity.compare import compare_within, differences, tolerance
from minikeras.parity.conditioning import DriftBound


@contextlib.contextmanager
def floatx(keras, dtype):
    """`dtype` as the default float type of both libraries (and Keras's dtype policy, all
    restored after: keras_env.floatx), and fresh layer names on both (for whole models; `twins`
    passes the dtype to each layer instead: a Keras session reset costs about a second)."""
    with keras_env.floatx(dtype):
        keras.utils.clear_session()
        minikeras.utils.clear_session()
        yield


def rel(ours, theirs):
    """The normwise relative difference of two arrays (0 when both are 0)."""
    return differences(ours, theirs)[1]


def fit_both(ours, theirs, x, y, drift=None, **fit):
    """`fit(x, y, **fit)` on both models: (our History.history, Keras's, the DriftBound that
    watched our fit). Pass the same `drift` to several fits to add up their steps."""
    if drift is None:
        drift = DriftBound(np.dtype(ours.trainable_weights[0].dtype).name)
    ours_history = ours.fit(x, y, callbacks=[drift], **fit).history
    theirs_history = theirs.fit(x, y, **fit).history
    return ours_history, theirs_history, drift


def assert_trained_alike(ours, theirs, tol, drift):
    """Every trainable weight after training within `tol` normwise, or entry by entry within
    tol·max|w| + the drift bound of the steps taken (minikeras/parity/conditioning.py).

    The bound is why float32 comparisons after Adam or RMSprop steps do not fail at random:
    those optimizers divide each entry's gradient by its own root mean square, so an entry
    whose gradient is near zero turns its rounding noise (τ·‖g‖∞, different in TensorFlow's
    and minikeras's sums, and in TensorFlow from one run to the next: its threaded
    reductions are not ordered) into a step of up to the learning rate. Measured: the first
    bias of a small convnet, 12 Adam steps, 1e-6 normwise in most runs and 2.9e-5 in one."""
    pairs = zip(ours.trainable_weights, theirs.trainable_weights, drift.bounds)
    for w, v, bound in pairs:
        row = compare_within("", w.path, np.asarray(w), np.asarray(v), tol, bound)
        assert row.ok, f"{w.path}: max abs {row.max_abs:.2e}, max rel {row.max_rel:.2e}"


def as_json(config):
    """A config as it reads back from a file (tuples become lists)."""
    return json.loads(json.dumps(config))


def twins(keras, class_name, kwargs, input_shape, rng, dtype="float64"):
    """(minikeras layer, Keras layer) of `dtype`, both built for (None, *input_shape), with the
    same random weights (positive where a weight is a variance); Keras's warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(minikeras.layers, class_name)(dtype=dtype, **kwargs)
        theirs = getattr(keras.layers, class_name)(dtype=dtype, **kwargs)
    shape = (None,) + tuple(input_shape)
    ours.build(shape)
    theirs.build(shape)
    weights = []
    for name, w in zip(ours.weight_names, ours.weights):
        value = rng.normal(size=w.shape)
        weights.append(np.abs(value) + 0.5 if name == "moving_variance" else value)
    ours.set_weights(weights)
    theirs.set_weights([w.astype(ours.dtype) for w in weights])
    return ours, theirs


def run_both(keras, ours, theirs, x, dy, training, mask=None):
    """Forward, then dL/dx and dL/dw for L = Σ dy ⊙ y, on both layers: a dict of (ours, theirs)
    pairs: "output", "dx", one entry per trainable weight, and every weight after the call
    (BatchNormalization's moving statistics move in a training call)."""
    import tensorflow as tf

    kwargs = {} if mask is None else {"mask": mask}
    y = ours.call(np.ascontiguousarray(x, dtype=ours.dtype), training=training, **kwargs).copy()
    dx = ours.backward(np.ascontiguousarray(dy, dtype=ours.dtype))
    grads = [g.copy() for g in ours.grads]
    xt = tf.Variable(x.astype(ours.dtype))
    with tf.GradientTape() as tape:
        yk = theirs(xt, training=training, **kwargs)
        loss = tf.reduce_sum(yk * tf.constant(dy.astype(ours.dtype)))
    keras_grads = tape.gradient(loss, [xt] + list(theirs.trainable_weights))
    pairs = {"output": (y, yk.numpy()), "dx": (dx, keras_grads[0].numpy())}
    names = [w.name for w in ours.trainable_weights]
    for name, g, gk in zip(names, grads, keras_grads[1:]):
        pairs[f"d{name}"] = (g, gk.numpy())
    for name, w, wk in zip(ours.weight_names, ours.weights, theirs.weights):
        pairs[name] = (np.array(w), np.asarray(wk))
    return pairs


def assert_pairs_close(pairs, dtype, steps=0):
    """Every (ours, theirs) pair within the parity tolerance of `dtype`."""
    tol = tolerance(dtype, steps)
    worst = {key: rel(a, b) for key, (a, b) in pairs.items()}
    bad = {key: value for key, value in worst.items() if not value <= tol}
    assert not bad, f"beyond {tol:.0e}: {bad}"
    return max(worst.values())
