"""Depthwise and separable convolutions, adaptive pooling, Dot, the noise and regularization
layers, Identity and Wrapper: forwards against loops written out from the definitions, every
backward against central differences (float64, every element, both kernel sets), and the
statistics of the random layers.

Central differences in float64 (ε = 1e-6) are exact to ~1e-10 here (tests/unit/gradcheck.py);
the hand-written gradients are held to rtol 1e-5, atol 1e-7, as every layer's are.
"""

import doctest
import importlib
import math

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import minikeras
from minikeras import Input, Model, Sequential, layers
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.testing import check_gradients

rng = np.random.default_rng(20261130)


def check_backward(layer, x, dy):
    """dx and every weight gradient of `layer` against ∂/∂(·) Σ dy ⊙ layer(x) (x a list for
    a merge layer)."""
    xs = x if isinstance(x, list) else [x]
    layer.input_gradient_needed = True
    layer.call(x, training=True)
    dx = layer.backward(dy)
    dxs = [d.copy() for d in (dx if isinstance(dx, list) else [dx])]
    grads = [g.copy() for g in layer.grads]

    def objective():
        return np.sum(dy * layer.call(x, training=True))

    for d, probe in zip(dxs, xs):
        assert_gradient_close(d, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))


def built(layer, input_shape):
    """`layer` built for input_shape, its weights (biases too) drawn at random."""
    layer.build((None,) + input_shape[1:])
    for w in layer.weights:
        w[...] = rng.standard_normal(w.shape)
    return layer


# ----------------------------------------------------------------- depthwise and separable
def depthwise_reference(x, kernel, bias, strides, dilation, padding):
    """y[n, o…, c·M + m] = b + Σ_taps x[n, o·s + t·d − p, c]·W[t…, c, m], by loops over every
    output element, for channels-last x of any rank; TensorFlow's 'same' padding."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    channels, multiplier = kernel.shape[-2:]
    sizes, pads = [], []
    for i in range(rank):
        span = (window[i] - 1) * dilation[i] + 1
        n = x.shape[1 + i]
        out = (n - span) // strides[i] + 1 if padding == "valid" else -(-n // strides[i])
        sizes.append(out)
        pads.append(max((out - 1) * strides[i] + span - n, 0) // 2 if padding == "same" else 0)
    y = np.zeros((x.shape[0], *sizes, channels * multiplier))
    for n in range(x.shape[0]):
        for o in np.ndindex(*sizes):
            for c in range(channels):
                for m in range(multiplier):
                    total = 0.0 if bias is None else bias[c * multiplier + m]
                    for t in np.ndindex(*window):
                        at = [o[i] * strides[i] + t[i] * dilation[i] - pads[i] for i in range(rank)]
                        if all(0 <= at[i] < x.shape[1 + i] for i in range(rank)):
                            total += x[(n, *at, c)] * kernel[(*t, c, m)]
                    y[(n, *o, c * multiplier + m)] = total
    return y


DEPTHWISE_CASES = [
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2), (2, 7, 3)),
    ("DepthwiseConv1D", dict(kernel_size=2, strides=2, dilation_rate=2, padding="same"), (2, 8, 2)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), strides=(2, 1), padding="same"), (2, 5, 6, 2)),
    ("DepthwiseConv2D", dict(kernel_size=2, depth_multiplier=3, use_bias=False), (1, 4, 3, 2)),
]


@pytest.mark.parametrize("name, args, shape", DEPTHWISE_CASES)
def test_depthwise_forward_is_the_definition(kernel_set, float64, name, args, shape):
    layer = built(getattr(layers, name)(**args), shape)
    x = rng.standard_normal(shape)
    rank = len(shape) - 2
    expected = depthwise_reference(
        x,
        np.asarray(layer.kernel),
        None if layer.bias is None else np.asarray(layer.bias),
        layer.strides,
        layer.dilation_rate,
        layer.padding,
    )
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)
    assert layer.kernel.shape == layer.kernel_size + (shape[-1], layer.depth_multiplier)
    assert rank == layer.rank


@pytest.mark.parametrize(
    "name, args, shape",
    DEPTHWISE_CASES
    + [
        ("DepthwiseConv2D", dict(kernel_size=2, data_format="channels_first"), (2, 2, 4, 3)),
        ("SeparableConv1D", dict(filters=3, kernel_size=3, depth_multiplier=2), (2, 7, 2)),
        (
            "SeparableConv2D",
            dict(filters=2, kernel_size=2, strides=2, padding="same"),
            (2, 5, 4, 3),
        ),
        (
            "SeparableConv1D",
            dict(filters=2, kernel_size=2, data_format="channels_first", activation="tanh"),
            (2, 3, 5),
        ),
        # Keras's long names for the same classes
        ("SeparableConvolution1D", dict(filters=2, kernel_size=2, padding="same"), (2, 5, 2)),
        ("SeparableConvolution2D", dict(filters=2, kernel_size=2, strides=2), (2, 4, 5, 2)),
    ],
)
def test_depthwise_and_separable_backward_is_the_derivative(kernel_set, float64, name, args, shape):
    layer = built(getattr(layers, name)(**args), shape)
    x = rng.standard_normal(shape)
    check_backward(layer, x, rng.standard_normal(layer.compute_output_shape(shape)))


def test_separable_is_depthwise_then_a_pointwise_product(float64):
    """y = depthwise(x)·P + b: the pointwise kernel is a Dense over the depthwise channels."""
    shape = (2, 6, 5, 3)
    separable = built(layers.SeparableConv2D(4, 3, depth_multiplier=2), shape)
    depthwise = built(layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False), shape)
    depthwise.set_weights([separable.get_weights()[0]])
    x = rng.standard_normal(shape)
    pointwise, bias = separable.get_weights()[1:]
    expected = depthwise(x) @ pointwise.reshape(6, 4) + bias
    np.testing.assert_allclose(separable(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("multiplier", [1, 3])  # the compiled loops differ for 1
def test_both_kernel_sets_compute_the_same_depthwise_products(dtype, multiplier):
    positions, taps, channels = 37, 6, 5
    cols = rng.standard_normal((positions, taps, channels)).astype(dtype)
    kernel = rng.standard_normal((taps, channels, multiplier)).astype(dtype)
    dz = rng.standard_normal((positions, channels, multiplier)).astype(dtype)
    results = []
    for K in (numba_kernels, numpy_kernels):
        z = np.full((positions, channels, multiplier), np.nan, dtype)
        dkernel = np.full(kernel.shape, np.nan, dtype)
        dcols = np.full(cols.shape, np.nan, dtype)
        K.depthwise_forward(cols, kernel, z)
        K.depthwise_backward(cols, kernel, dz, dkernel, dcols)
        results.append((z, dkernel, dcols))
    # sums of ≤ 37 products in different orders: 64 units of roundoff on the terms' magnitude
    eps = np.finfo(dtype).eps
    for a, b in zip(*results):
        assert a.dtype == b.dtype and not np.isnan(a).any()
        np.testing.assert_allclose(a, b, rtol=0, atol=64 * eps * np.abs(b).max())
    # the input gradient may be skipped (a model's first layer)
    dkernel = np.empty_like(kernel)
    numba_kernels.depthwise_backward(cols, kernel, dz, dkernel, None)
    np.testing.assert_allclose(dkernel, results[1][1], rtol=0, atol=64 * eps * 40)


def test_depthwise_and_separable_train_in_a_model_with_check_gradients():
    model = Sequential(
        [
            Input((8, 3)),
            layers.Dense(3),  # so that the depthwise layer's dx is checked too
            layers.DepthwiseConv1D(3, depth_multiplier=2, activation="tanh"),
            layers.SeparableConv1D(2, 2, padding="same", activation="sigmoid"),
            layers.Flatten(),
        ]
    )
    x, y = rng.standard_normal((3, 8, 3)), rng.standard_normal((3, 12))
    report = check_gradients(model, x, y, verbose=False)
    assert max(report.values()) < 1e-6, report


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.DepthwiseConv1D(2, depth_multiplier=0), ValueError, "depth_multiplier=0"),
        (lambda: layers.SeparableConv2D(0, 2), ValueError, "Received filters=0"),
        (lambda: layers.DepthwiseConv2D((1, 0)), ValueError, r"kernel_size=\(1, 0\)"),
        (lambda: layers.DepthwiseConv1D(5)(np.ones((1, 4, 2))), ValueError, "zero or negative"),
        (
            lambda: layers.SeparableConv1D(2, 2)(np.ones((1, 4, 2, 1))),
            ValueError,
            "expected ndim=3, found ndim=4",
        ),
    ],
)
def test_bad_depthwise_arguments_raise_keras_s_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------- adaptive pooling
def adaptive_reference(x, output_size, mode):
    """Each output element from its window, computed from the definition with floats: rows
    ⌊i·L/O⌋ to ⌈(i + 1)·L/O⌉ along each axis (channels-last x of any rank)."""
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    y = np.zeros((x.shape[0], *output_size, x.shape[-1]))
    for o in np.ndindex(*output_size):
        box = tuple(
            slice(math.floor(o[i] * spatial[i] / output_size[i]),
                  math.ceil((o[i] + 1) * spatial[i] / output_size[i]))
            for i in range(rank)
        )  # fmt: skip
        window = x[(slice(None), *box, slice(None))]
        axes = tuple(range(1, rank + 1))
        y[(slice(None), *o, slice(None))] = (
            window.mean(axis=axes) if mode == "average" else window.max(axis=axes)
        )
    return y


ADAPTIVE_CASES = [
    ("AdaptiveAveragePooling1D", 3, (2, 7, 2)),
    ("AdaptiveMaxPooling1D", 4, (2, 9, 2)),
    ("AdaptiveAveragePooling1D", 5, (1, 3, 2)),  # more outputs than inputs: windows repeat
    ("AdaptiveAveragePooling2D", (2, 3), (2, 5, 7, 2)),
    ("AdaptiveMaxPooling2D", (3, 2), (2, 7, 4, 3)),
    ("AdaptiveAveragePooling3D", (2, 3, 2), (1, 4, 5, 3, 2)),
    ("AdaptiveMaxPooling3D", 2, (1, 3, 4, 5, 2)),
]


@pytest.mark.parametrize("name, size, shape", ADAPTIVE_CASES)
def test_adaptive_pooling_is_the_definition_and_its_backward_the_derivative(
    float64, name, size, shape
):
    layer = getattr(layers, name)(size)
    x = rng.standard_normal(shape)
    mode = "max" if "Max" in name else "average"
    expected = adaptive_reference(x, layer.output_size, mode)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)
    check_backward(layer, x, rng.standard_normal(expected.shape))


def test_adaptive_pooling_channels_first_is_channels_last_transposed(float64):
    x = rng.standard_normal((2, 3, 7, 5))
    first = layers.AdaptiveMaxPooling2D((3, 2), data_format="channels_first")(x)
    last = layers.AdaptiveMaxPooling2D((3, 2), data_format="channels_last")(x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.AdaptiveAveragePooling1D((2, 3)), ValueError, "must have length 1"),
        (lambda: layers.AdaptiveMaxPooling1D(2.5), TypeError, "integer or tuple of 1 integer"),
        (lambda: layers.AdaptiveMaxPooling2D((1, 2, 3)), TypeError, r"\(height, width\)"),
        (lambda: layers.AdaptiveAveragePooling3D("2"), TypeError, r"\(depth, height, width\)"),
        (lambda: layers.AdaptiveAveragePooling2D(0), ValueError, "positive integers"),
        (lambda: layers.AdaptiveMaxPooling2D(2, data_format="nhwc"), ValueError, "Invalid data"),
    ],
)
def test_bad_adaptive_pooling_arguments_raise_keras_s_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------- Dot
@pytest.mark.parametrize(
    "axes, normalize, shape1, shape2",
    [
        (-1, False, (3, 4), (3, 4)),
        ((1, 2), False, (2, 3, 4), (2, 5, 3)),
        ((-2, -1), True, (2, 3, 2), (2, 1, 2, 3)),
        (1, True, (3, 5), (3, 5)),
    ],
)
def test_dot_is_a_per_sample_tensordot_and_its_backward_the_derivative(
    float64, axes, normalize, shape1, shape2
):
    x1, x2 = rng.standard_normal(shape1), rng.standard_normal(shape2)
    a0, a1 = (axes, axes) if isinstance(axes, int) else axes
    a0, a1 = a0 % len(shape1), a1 % len(shape2)
    if normalize:
        u1 = x1 / np.linalg.norm(x1, axis=a0, keepdims=True)
        u2 = x2 / np.linalg.norm(x2, axis=a1, keepdims=True)
    else:
        u1, u2 = x1, x2
    expected = np.stack([np.tensordot(u1[i], u2[i], (a0 - 1, a1 - 1)) for i in range(len(x1))])
    expected = expected.reshape(len(x1), -1) if expected.ndim == 1 else expected
    layer = layers.Dot(axes=axes, normalize=normalize)
    np.testing.assert_allclose(layer([x1, x2]), expected, rtol=1e-12, atol=1e-12)
    check_backward(layer, [x1, x2], rng.standard_normal(expected.shape))


def test_dot_in_a_functional_model_with_check_gradients():
    x = Input((6,))
    a = layers.Reshape((3, 2))(layers.Dense(6)(x))
    b = layers.Reshape((2, 3))(layers.Dense(6, activation="tanh")(x))
    y = layers.Flatten()(layers.Dot(axes=(1, 2), normalize=True)([a, b]))
    model = Model(x, y)
    report = check_gradients(model, rng.standard_normal((3, 6)), rng.standard_normal((3, 4)))
    assert max(report.values()) < 1e-6, report


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.Dot(axes="1"), TypeError, "should be a list or an int"),
        (lambda: layers.Dot(axes=(1,)), ValueError, "should contain two elements"),
        (lambda: layers.Dot(axes=(1, None)), ValueError, "should be integers"),
        (
            lambda: layers.Dot(axes=1)([np.ones((2, 3)), np.ones((2, 4))]),
            ValueError,
            r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4",
        ),
        (lambda: layers.Dot(axes=1)([np.ones((2, 3))] * 3), ValueError, "list of 2 inputs"),
        (lambda: layers.Dot(axes=0)([np.ones((2, 3))] * 2), ValueError, "over axis 0"),
    ],
)
def test_bad_dot_arguments_raise_keras_s_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------- noise and regularization
def fixed_noise_function(name, **args):
    """x ↦ a fresh seeded layer's training output: the same noise at every call, so that
    central differences see one function."""
    return lambda x: getattr(layers, name)(seed=5, **args)(x, training=True)


@pytest.mark.parametrize(
    "name, args",
    [
        ("GaussianNoise", dict(stddev=0.5)),
        ("GaussianDropout", dict(rate=0.4)),
        ("AlphaDropout", dict(rate=0.4)),
        ("AlphaDropout", dict(rate=0.5, noise_shape=(None, 1, 3))),
    ],
)
def test_noise_backward_is_the_derivative_under_the_same_noise(float64, name, args):
    f = fixed_noise_function(name, **args)
    x = rng.standard_normal((3, 4, 3))
    dy = rng.standard_normal(x.shape)
    layer = getattr(layers, name)(seed=5, **args)
    layer(x, training=True)
    dx = layer.backward(dy)
    probe = x.copy()
    assert_gradient_close(dx, numerical_gradient(lambda: np.sum(dy * f(probe)), probe))


@pytest.mark.parametrize(
    "name, args, x, mean, std",
    [
        ("GaussianNoise", dict(stddev=0.3), np.zeros((100, 100)), 0.0, 0.3),
        ("GaussianDropout", dict(rate=0.3), np.ones((100, 100)), 1.0, math.sqrt(0.3 / 0.7)),
        # SELU's fixed point: N(0, 1) inputs keep mean 0 and variance 1
        ("AlphaDropout", dict(rate=0.3), rng.standard_normal((100, 100)), 0.0, 1.0),
    ],
)
def test_noise_statistics(name, args, x, mean, std):
    # 10 000 draws: mean off by ~std/100, std by ~std/140; 0.03 is over 4 such deviations
    y = getattr(layers, name)(seed=2, **args)(x, training=True)
    assert abs(y.mean() - mean) < 0.03 and abs(y.std() - std) < 0.03


@pytest.mark.parametrize(
    "layer",
    [
        layers.GaussianNoise(0.5),
        layers.GaussianDropout(0.5),
        layers.AlphaDropout(0.5),
        layers.Identity(),
    ],
)
def test_noise_layers_are_the_identity_at_inference(layer):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    assert layer.is_identity(False)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_noise_layers_draw_new_noise_each_call_and_repeat_with_the_seed():
    x = np.ones((4, 5), np.float32)
    for name, arg in [("GaussianNoise", 0.2), ("GaussianDropout", 0.2), ("AlphaDropout", 0.5)]:
        a, b = getattr(layers, name)(arg, seed=9), getattr(layers, name)(arg, seed=9)
        first = a(x, training=True)
        np.testing.assert_array_equal(first, b(x, training=True))
        assert not np.array_equal(first, a(x, training=True))
        assert len(a.variables) == 1  # the SeedGenerator's state, as Keras lists it


def test_spatial_dropout_3d_drops_whole_feature_maps():
    x = np.ones((4, 3, 3, 2, 6), np.float32)
    y = layers.SpatialDropout3D(0.5, seed=1)(x, training=True)
    assert np.all(y == y[:, :1, :1, :1, :])  # one draw per sample and channel
    assert set(np.unique(y)) == {0.0, 2.0}
    y = layers.SpatialDropout3D(0.5, data_format="channels_first", seed=1)(x, training=True)
    assert np.all(y == y[:, :, :1, :1, :1])


def test_activity_regularization_adds_its_penalty_and_its_gradient():
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    layer(2 * np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0], 0.3 * 4 + 0.2 * 2, rtol=1e-6)  # float32
    model = Sequential([Input((4,)), layers.Dense(3), layers.ActivityRegularization(0.1, 0.2)])
    report = check_gradients(model, rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))
    assert max(report.values()) < 1e-6, report


# ----------------------------------------------------------------- Wrapper
class Doubled(layers.Wrapper):
    def call(self, x):
        return 2 * self.layer(x)


def test_wrapper_tracks_the_wrapped_layer_and_trains_through_the_tape():
    wrapped = layers.Dense(3)
    layer = Doubled(wrapped)
    model = Sequential([Input((4,)), layer])
    assert layer.weights == wrapped.weights and len(layer.trainable_weights) == 2
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * wrapped(x), rtol=1e-6)
    report = check_gradients(model, x, rng.standard_normal((5, 3)))
    assert max(report.values()) < 1e-6, report
    layer.trainable = False
    assert not wrapped.trainable and layer.trainable_weights == []


def test_wrapper_refuses_what_is_not_a_layer_and_nests_the_layer_s_config():
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        layers.Wrapper("dense")
    config = Doubled(layers.Dense(3, name="inner")).get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert config["layer"]["config"]["name"] == "inner"
    assert isinstance(minikeras.layers.Wrapper.from_config(config).layer, layers.Dense)


@pytest.mark.parametrize(
    "module",
    [
        "depthwise_conv",
        "separable_conv",
        "adaptive_pooling",
        "dot",
        "gaussian_noise",
        "alpha_dropout",
        "activity_regularization",
        "identity",
        "wrapper",
        "spatial_dropout",
    ],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"minikeras.layers.{module}"))
    assert result.failed == 0 and result.attempted > 0


def test_depthwise_and_separable_constraints_project_after_each_update():
    model = Sequential(
        [
            Input((5, 4, 2)),
            layers.DepthwiseConv2D(2, depthwise_constraint="non_neg"),
            layers.SeparableConv2D(2, 2, pointwise_constraint="non_neg", bias_constraint="non_neg"),
            layers.Flatten(),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((6, 5, 4, 2))
    model.fit(x, -np.abs(rng.standard_normal((6, 12))), epochs=2, batch_size=3, verbose=0)
    depthwise, separable = model.layers[0], model.layers[1]
    for w in (depthwise.kernel, separable.pointwise_kernel, separable.bias):
        assert np.all(np.asarray(w) >= 0)
    assert np.any(np.asarray(separable.depthwise_kernel) < 0)  # unconstrained: left alone
