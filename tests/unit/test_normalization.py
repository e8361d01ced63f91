"""BatchNormalization and LayerNormalization: every backward against central differences
(float64, every element) in both training modes and on both kernel sets, the moving statistics'
update, the batch-normalization kernels against each other, and what a model does with the
non-trainable weights."""

import doctest
import pathlib
import warnings

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import minikeras
import minikeras.testing
from minikeras import Sequential, kernels
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.layers import BatchNormalization, Dense, Input, LayerNormalization


def randomize(layer, rng):
    """Random weights (a positive moving variance), so no gradient check passes by symmetry."""
    for name, w in zip(layer.weight_names, layer.weights):
        value = rng.normal(size=w.shape)
        w[...] = np.abs(value) + 0.5 if name == "moving_variance" else value


def check_backward(layer, x, dy, training, mask=None):
    """dx and every weight gradient against ∂/∂(·) Σ dy ⊙ layer(x); the moving statistics are
    put back before each call, so every call sees the same layer."""
    kwargs = {} if mask is None else {"mask": mask}
    saved = [w.copy() for w in layer.weights]

    def objective():
        for name, w, s in zip(layer.weight_names, layer.weights, saved):
            if name.startswith("moving"):
                w[...] = s
        return np.sum(dy * layer.call(probe, training=training, **kwargs))

    probe = x.copy()
    objective()
    dx = layer.backward(dy, **kwargs).copy()
    grads = [g.copy() for g in layer.grads]
    assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))


BN_CASES = [
    ({}, (5, 3)),
    ({"axis": 1}, (4, 3, 2)),
    ({"axis": -2}, (3, 2, 4, 2)),
    ({"center": False, "epsilon": 0.1}, (6, 2)),
    ({"scale": False}, (6, 2)),
    ({"center": False, "scale": False}, (4, 3)),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs, shape", BN_CASES)
def test_batch_normalization_backward(kernel_set, float64, kwargs, shape, training):
    rng = np.random.default_rng(len(shape))
    layer = BatchNormalization(**kwargs)
    layer.build((None,) + shape[1:])
    randomize(layer, rng)
    x = rng.normal(loc=1.0, scale=2.0, size=shape)
    check_backward(layer, x, rng.normal(size=shape), training)


@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_backward_with_a_mask(kernel_set, float64, training):
    """Masked rows leave the statistics but still get normalized: their dx carries only the
    direct term γ·dy/σ, the unmasked rows' carries the statistics' terms too."""
    rng = np.random.default_rng(1)
    layer = BatchNormalization()
    layer.build((None, 4, 3))
    randomize(layer, rng)
    x = rng.normal(size=(3, 4, 3))
    mask = rng.random((3, 4)) > 0.4
    check_backward(layer, x, rng.normal(size=x.shape), training, mask=mask)


def test_batch_statistics_and_moving_update(kernel_set):
    """training=True: the batch's mean and biased variance normalize it, and the moving
    statistics become moving·momentum + batch·(1 − momentum); training=False uses them."""
    rng = np.random.default_rng(0)
    x = rng.normal(loc=3.0, scale=2.0, size=(8, 3)).astype("float32")
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3)
    y = layer(x, training=True)
    mean, variance = x.mean(axis=0, dtype=np.float64), x.var(axis=0, dtype=np.float64)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean, 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance, 0.9 + 0.1 * variance, rtol=1e-6)
    moving = layer.moving_mean.copy(), layer.moving_variance.copy()
    y = layer(x, training=False)  # inference: the moving statistics, unchanged by the call
    np.testing.assert_allclose(y, (x - moving[0]) / np.sqrt(moving[1] + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean, moving[0])


def test_moving_statistics_converge_with_momentum_zero(kernel_set):
    """Keras's own test_correctness: with momentum 0 the moving statistics are the last batch's,
    so after a training call an inference call on the same data gives the same output."""
    x = np.random.default_rng(2).normal(loc=5.0, scale=10.0, size=(10, 3, 2))
    layer = BatchNormalization(axis=1, momentum=0.0)
    out = layer(x, training=True)
    assert np.allclose(np.mean(out, axis=(0, 2)), 0, atol=1e-3)
    assert np.allclose(np.std(out, axis=(0, 2)), 1, atol=1e-3)
    np.testing.assert_allclose(layer(x, training=False), out, rtol=1e-5, atol=1e-5)


def test_fully_masked_input_gives_zeros():
    """Keras's test_input_fully_masked: no row counts, mean and variance are 0 (Σw + 1e-7 in
    the denominator keeps them finite)."""
    layer = BatchNormalization(scale=False, center=False)
    layer.build((None, 5))
    y = layer.call(np.zeros((4, 5), dtype="float32"), training=True, mask=np.zeros(4))
    np.testing.assert_array_equal(y, 0.0)


def test_frozen_layer_normalizes_with_moving_statistics():
    """trainable=False: Keras's `training and self.trainable`; no weight moves, no gradients."""
    x = np.random.default_rng(4).normal(loc=5.0, scale=10.0, size=(20, 3))
    layer = BatchNormalization(momentum=0.8, epsilon=1e-7)
    layer.build((None, 3))
    layer.trainable = False
    assert len(layer.trainable_weights) == 0 and len(layer.non_trainable_weights) == 4
    np.testing.assert_allclose(layer(x, training=True), x, rtol=1e-5)
    layer.backward(np.ones_like(x))
    assert layer.grads == []
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batchnorm_kernels_numba_equals_numpy(training, weighted, dtype):
    """Both kernel sets: the same statistics, outputs and gradients (float64 sums in both)."""
    rng = np.random.default_rng(7)
    x = rng.normal(loc=1.0, size=(13, 5)).astype(dtype)
    dy = rng.normal(size=x.shape).astype(dtype)
    gamma, beta = rng.normal(size=5).astype(dtype), rng.normal(size=5).astype(dtype)
    w = (rng.random(13) > 0.3).astype(dtype) if weighted else None
    results = []
    for k in (numpy_kernels, numba_kernels):
        mean, variance = np.empty(5, dtype), np.empty(5, dtype)
        k.batchnorm_moments(x, w, mean, variance)
        xhat, inv_std, y = np.empty_like(x), np.empty(5, dtype), np.empty_like(x)
        k.batchnorm_forward(x, mean, variance, gamma, beta, 1e-3, xhat, inv_std, y)
        dgamma, dbeta, dx = np.empty(5, dtype), np.empty(5, dtype), np.empty_like(x)
        k.batchnorm_backward(dy, xhat, inv_std, gamma, w, training, dgamma, dbeta, dx)
        results.append((mean, variance, y, xhat, dgamma, dbeta, dx))
    rtol = 1e-6 if dtype == "float32" else 1e-13  # a few roundings apart, in different orders
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def test_batchnorm_backward_kernels_skip_outputs_given_as_none():
    rng = np.random.default_rng(8)
    dy, xhat = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    inv_std = np.ones(3)
    for k in (numpy_kernels, numba_kernels):
        assert k.batchnorm_backward(dy, xhat, inv_std, None, None, True, None, None, None) is None


def test_batch_normalization_errors():
    with pytest.raises(TypeError):
        BatchNormalization(axis=[1, 2])  # Keras 3 takes one axis: int([1, 2])
    with pytest.raises(ValueError, match="Axis 3 is out of bounds"):
        BatchNormalization(axis=3).build((None, 4))
    with pytest.raises(NotImplementedError, match="synchronized"):
        BatchNormalization(synchronized=True)
    with pytest.raises(ValueError, match="invalid keys for `renorm_clipping`"):
        BatchNormalization(renorm=True, renorm_clipping={"rmx": 1})
    with pytest.raises(ValueError, match="one dimension less"):
        BatchNormalization().call(np.ones((2, 3, 4)), training=True, mask=np.ones(2))


# ------------------------------------------------------------------ in a model
def bn_model():
    return Sequential([Input(shape=(3,)), Dense(4), BatchNormalization(), Dense(2)])


def test_model_weights_keras_order_and_the_optimizer_never_touches_moving_statistics():
    model = bn_model()
    bn = model.layers[1]
    names = [n for layer in model.layers for n in layer.weight_names]
    assert names == ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance",
                     "kernel", "bias"]  # fmt: skip
    assert [w.shape for w in model.non_trainable_weights] == [(4,), (4,)]
    assert len(model.trainable_weights) == 6
    x = np.random.default_rng(0).normal(loc=2.0, size=(16, 3))
    y = np.random.default_rng(1).normal(size=(16, 2))
    # lr = 0: the optimizer changes nothing, so any change is the layer's own moving update
    model.compile(minikeras.optimizers.SGD(learning_rate=0.0), "mse")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    h = x.astype("float32") @ model.layers[0].kernel + model.layers[0].bias
    np.testing.assert_allclose(bn.moving_mean, 0.01 * h.mean(axis=0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(bn.moving_variance, 0.99 + 0.01 * h.var(axis=0), rtol=1e-5)
    moving = bn.moving_mean.copy()
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean, moving)  # inference leaves them alone


@pytest.mark.parametrize("training", [True, False])
def test_check_gradients_on_a_model_with_batch_normalization(training):
    """The whole model's backward (through the batch statistics when training) against central
    differences; the check's relative error of a right backward is ≲ 1e-7 (its docstring)."""
    model = bn_model()
    x = np.random.default_rng(0).normal(size=(6, 3))
    y = np.random.default_rng(1).normal(size=(6, 2))
    report = minikeras.testing.check_gradients(
        model, x, y, loss="mse", training=training, tolerance=1e-6, verbose=False
    )
    assert len(report) == 6 and max(report.values()) < 1e-6


# ------------------------------------------------------------------ LayerNormalization
LN_CASES = [
    ({}, (3, 5)),
    ({"axis": 1}, (2, 3, 4)),
    ({"axis": [1, 2]}, (2, 3, 2)),
    ({"axis": [-1, 1]}, (2, 3, 2)),
    ({"center": False}, (3, 4)),
    ({"scale": False, "center": False}, (3, 4)),
    ({"rms_scaling": True}, (3, 4)),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs, shape", LN_CASES)
def test_layer_normalization_backward(float64, kwargs, shape, training):
    rng = np.random.default_rng(len(shape) + len(kwargs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rms_scaling's deprecation, as Keras warns
        layer = LayerNormalization(**kwargs)
    layer.build((None,) + shape[1:])
    randomize(layer, rng)
    x = rng.normal(loc=1.0, scale=2.0, size=shape)
    check_backward(layer, x, rng.normal(size=shape), training)


def test_layer_normalization_forward_is_per_sample():
    x = np.random.default_rng(3).normal(loc=4.0, size=(5, 6))
    y = LayerNormalization(epsilon=1e-3)(x)
    expected = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_layer_normalization_errors_and_weights():
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="out of bounds"):
        LayerNormalization(axis=2).build((None, 3))
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = LayerNormalization(rms_scaling=True)
    layer.build((None, 4))
    assert layer.weight_names == ["gamma"]
    layer = LayerNormalization(axis=[2, 1])
    layer.build((None, 3, 2))
    assert layer.axis == [1, 2] and layer.gamma.shape == (3, 2)
    assert kernels.current() in kernels.NAMES


def test_the_docs_page_numbers_are_minikeras_numbers():
    """docs/normalization.md works a step by hand; its `>>>` example recomputes those numbers."""
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "normalization.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted >= 6 and result.failed == 0
