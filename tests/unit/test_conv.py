"""Convolution and pooling layers: forward against loops written out from the definition,
every backward against central differences (float64, every element), on both kernel sets;
Keras's argument checks, messages, weight shapes and tie rules.

The geometries come from tests/strategies.py (`conv_geometries`, `pool_geometries`), which
couple input size, kernel, stride, dilation and padding so that every drawn layer is valid;
the named cases below add what must always be covered: odd sizes, strides that do not divide
the input, dilation, even kernels under 'same' (uneven padding), groups, 'causal'.
"""

import doctest
import pathlib

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikeras import Sequential, kernels, layers
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.layers import (
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Input,
    MaxPooling1D,
    MaxPooling2D,
)
from minikeras.testing import check_gradients

# the fixtures (kernel set, floatx) hold for every example: not resetting them is intended
examples = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
rng = np.random.default_rng(20261129)


def check_backward(layer, x, dy):
    """dx and every weight gradient of `layer` against ∂/∂(·) Σ dy ⊙ layer(x); the weights
    unchanged by backward."""
    layer.input_gradient_needed = True
    layer.call(x.copy(), training=True)
    dx = layer.backward(dy).copy()
    grads = [g.copy() for g in layer.grads]
    before = [w.copy() for w in layer.weights]
    probe = x.copy()

    def objective():
        return np.sum(dy * layer.call(probe, training=True))

    assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))
    for b, a in zip(before, layer.weights):
        np.testing.assert_array_equal(b, a)


def run_backward_check(layer, input_shape):
    x = rng.standard_normal(input_shape)
    layer.build((None,) + input_shape[1:])
    for w in layer.weights:  # nonzero biases too, so that every term is exercised
        w[...] = rng.standard_normal(w.shape)
    out_shape = layer.compute_output_shape(input_shape)
    check_backward(layer, x, rng.standard_normal(out_shape))


# ----------------------------------------------------------------------------- references
def pad_before(size, out, kernel, stride, dilation, padding):
    """TensorFlow's padding, from its definition: 'same' pads (out − 1)·s + span − size in
    total, the smaller half first; 'causal' pads span − 1, all first."""
    span = (kernel - 1) * dilation + 1
    if padding == "causal":
        return span - 1
    if padding == "same":
        return max((out - 1) * stride + span - size, 0) // 2
    return 0


def conv_reference(x, kernel, bias, strides, dilation, padding, groups, out_spatial):
    """y[n, o…, f] = b[f] + Σ_taps Σ_c x[n, o·s + t·d − p, c_group(f)] · W[t…, c, f], by loops
    over every output element (any rank)."""
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    per_group, filters = kernel.shape[-2:]
    per_filter_group = filters // groups
    pads = [
        pad_before(x.shape[1 + i], out_spatial[i], window[i], strides[i], dilation[i], padding)
        for i in range(rank)
    ]
    y = np.zeros((x.shape[0], *out_spatial, filters))
    for n in range(x.shape[0]):
        for o in np.ndindex(*out_spatial):
            for f in range(filters):
                g = f // per_filter_group
                total = bias[f] if bias is not None else 0.0
                for t in np.ndindex(*window):
                    where = [o[i] * strides[i] + t[i] * dilation[i] - pads[i] for i in range(rank)]
                    if all(0 <= where[i] < x.shape[1 + i] for i in range(rank)):
                        channels = x[(n, *where, slice(g * per_group, (g + 1) * per_group))]
                        total += channels @ kernel[(*t, slice(None), f)]
                y[(n, *o, f)] = total
    return y


def output_sizes(spatial, kernel, strides, dilation, padding):
    sizes = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        span = (k - 1) * d + 1
        sizes.append((n - span) // s + 1 if padding == "valid" else -(-n // s))
    return tuple(sizes)


# ----------------------------------------------------------------------------- Conv1D / Conv2D
@pytest.mark.parametrize("rank", [1, 2])
@examples
@given(data=st.data())
def test_conv_forward_is_the_sum_over_the_window(kernel_set, float64, rank, data):
    paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    geometry = data.draw(sts.conv_geometries(rank, paddings))
    groups = data.draw(st.sampled_from([1, 2]))
    channels, filters = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    layer = (Conv1D if rank == 1 else Conv2D)(
        filters,
        geometry["kernel_size"],
        strides=geometry["strides"],
        padding=geometry["padding"],
        dilation_rate=geometry["dilation_rate"],
        groups=groups,
    )
    x = rng.standard_normal((2, *geometry["spatial"], channels))
    layer.build((None,) + x.shape[1:])
    layer.bias[...] = rng.standard_normal(filters)
    y = layer(x)
    out = output_sizes(
        geometry["spatial"],
        geometry["kernel_size"],
        geometry["strides"],
        geometry["dilation_rate"],
        geometry["padding"],
    )
    expected = conv_reference(
        x,
        layer.kernel,
        layer.bias,
        geometry["strides"],
        geometry["dilation_rate"],
        geometry["padding"],
        groups,
        out,
    )
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
@examples
@given(data=st.data())
def test_conv_backward_matches_central_differences(kernel_set, float64, rank, data):
    paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    geometry = data.draw(sts.conv_geometries(rank, paddings))
    groups = data.draw(st.sampled_from([1, 2]))
    activation = data.draw(st.sampled_from(["linear", "tanh", "sigmoid", "softplus"]))
    layer = (Conv1D if rank == 1 else Conv2D)(
        groups * data.draw(st.integers(1, 2)),
        geometry["kernel_size"],
        strides=geometry["strides"],
        padding=geometry["padding"],
        dilation_rate=geometry["dilation_rate"],
        groups=groups,
        activation=activation,
        use_bias=data.draw(st.booleans()),
    )
    channels = groups * data.draw(st.integers(1, 2))
    run_backward_check(layer, (2, *geometry["spatial"], channels))


# the named cases: each option at least once, whatever hypothesis draws
CONV_CASES = [
    (
        "odd sizes, stride 2 not dividing",
        Conv2D,
        (2, 7, 5, 3),
        dict(filters=4, kernel_size=3, strides=2),
    ),
    (
        "stride 3 × 2, kernel 2 × 3",
        Conv2D,
        (1, 8, 7, 2),
        dict(filters=3, kernel_size=(2, 3), strides=(3, 2)),
    ),
    (
        "same, even kernel",
        Conv2D,
        (2, 5, 6, 2),
        dict(filters=3, kernel_size=(2, 4), padding="same"),
    ),
    (
        "same, even kernel, stride 2",
        Conv2D,
        (1, 7, 6, 2),
        dict(filters=2, kernel_size=4, strides=2, padding="same"),
    ),
    ("dilation 2", Conv2D, (1, 7, 8, 2), dict(filters=3, kernel_size=3, dilation_rate=2)),
    (
        "dilation (2, 3), same",
        Conv2D,
        (1, 6, 7, 2),
        dict(filters=2, kernel_size=2, dilation_rate=(2, 3), padding="same"),
    ),
    ("groups 3", Conv2D, (2, 5, 5, 6), dict(filters=3, kernel_size=2, groups=3)),
    (
        "groups 2, tanh, no bias",
        Conv2D,
        (1, 5, 4, 4),
        dict(filters=6, kernel_size=3, groups=2, activation="tanh", use_bias=False),
    ),
    (
        "softmax over filters",
        Conv2D,
        (2, 4, 4, 2),
        dict(filters=3, kernel_size=2, activation="softmax"),
    ),
    ("1-D stride 3", Conv1D, (2, 10, 3), dict(filters=4, kernel_size=3, strides=3)),
    ("1-D same, even kernel", Conv1D, (2, 7, 2), dict(filters=3, kernel_size=4, padding="same")),
    (
        "1-D causal, dilation 2",
        Conv1D,
        (2, 9, 2),
        dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2),
    ),
    (
        "1-D groups 2, sigmoid",
        Conv1D,
        (2, 6, 4),
        dict(filters=2, kernel_size=2, groups=2, activation="sigmoid"),
    ),
]


@pytest.mark.parametrize("name, cls, shape, args", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_named_cases_backward(kernel_set, float64, name, cls, shape, args):
    run_backward_check(cls(**args), shape)


def test_conv_weights_have_keras_shapes_and_names():
    conv2d = Conv2D(6, (3, 2))
    conv2d.build((None, 9, 9, 3))
    assert [w.shape for w in conv2d.weights] == [(3, 2, 3, 6), (6,)]
    assert conv2d.weight_names == ["kernel", "bias"]
    conv1d = Conv1D(4, 3)
    conv1d.build((None, 9, 2))
    assert [w.shape for w in conv1d.weights] == [(3, 2, 4), (4,)]
    grouped = Conv2D(6, 3, groups=3)
    grouped.build((None, 5, 5, 6))
    assert grouped.kernel.shape == (3, 3, 2, 6)
    transpose = Conv2DTranspose(5, 3)
    transpose.build((None, 4, 4, 2))
    assert [w.shape for w in transpose.weights] == [(3, 3, 5, 2), (5,)]
    # glorot_uniform over the receptive field: limit √(6 / (fan_in + fan_out))
    limit = np.sqrt(6 / (3 * 2 * 3 + 3 * 2 * 6))
    assert np.abs(conv2d.kernel).max() <= limit and not conv2d.bias.any()


def test_conv_backward_logits_skips_the_activation(kernel_set, float64):
    layer = Conv2D(3, 2, activation="softmax")
    x = rng.standard_normal((2, 4, 4, 2))
    layer(x)
    dz = rng.standard_normal((2, 3, 3, 3))
    dx = layer.backward_logits(dz).copy()
    dkernel = layer.grads[0].copy()
    linear = Conv2D(3, 2)
    linear.build((None, 4, 4, 2))
    linear.set_weights(layer.get_weights())
    linear.call(x)
    np.testing.assert_allclose(linear.backward(dz), dx, rtol=1e-13)
    np.testing.assert_allclose(linear.grads[0], dkernel, rtol=1e-13)
    np.testing.assert_allclose(layer.logits, linear.call(x), rtol=1e-13)
    assert layer.output_activation == "softmax"


def test_conv_first_layer_skips_the_input_gradient(kernel_set):
    layer = Conv2D(3, 2)
    layer.build((None, 5, 5, 1))
    layer.input_gradient_needed = False
    layer.call(np.ones((2, 5, 5, 1), np.float32))
    assert layer.backward(np.ones((2, 4, 4, 3), np.float32)) is None
    assert [g.shape for g in layer.grads] == [(2, 2, 1, 3), (3,)]


def test_conv_accepts_other_spatial_sizes_once_built():
    # Keras checks only the rank and the channels; the image size may change
    layer = Conv2D(2, 3, padding="same")
    assert layer(np.ones((1, 8, 8, 3))).shape == (1, 8, 8, 2)
    assert layer(np.ones((2, 5, 11, 3))).shape == (2, 5, 11, 2)


# ----------------------------------------------------------------------------- Conv2DTranspose
TRANSPOSE_CASES = [
    ("valid, stride 1", (2, 3, 4, 2), dict(filters=3, kernel_size=3)),
    ("valid, stride 2, odd kernel", (1, 3, 4, 2), dict(filters=2, kernel_size=3, strides=2)),
    ("valid, stride 3 > kernel 2", (1, 3, 2, 2), dict(filters=2, kernel_size=2, strides=3)),
    (
        "same, stride 2, even kernel",
        (2, 3, 4, 2),
        dict(filters=2, kernel_size=4, strides=2, padding="same"),
    ),
    (
        "same, strides (2, 3), kernel (3, 2)",
        (1, 3, 3, 2),
        dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="same"),
    ),
    (
        "same, output_padding 1",
        (1, 3, 3, 2),
        dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
    ),
    (
        "valid, output_padding (0, 1)",
        (1, 3, 3, 1),
        dict(filters=2, kernel_size=2, strides=2, output_padding=(0, 1)),
    ),
    (
        "dilation 2",
        (1, 3, 4, 2),
        dict(filters=2, kernel_size=2, dilation_rate=2, activation="tanh"),
    ),
]


@pytest.mark.parametrize("name, shape, args", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_backward(kernel_set, float64, name, shape, args):
    run_backward_check(Conv2DTranspose(**args), shape)


@pytest.mark.parametrize(
    "shape, args",
    [
        ((2, 4, 2), dict(filters=3, kernel_size=3, strides=2, padding="same", activation="tanh")),
        ((1, 3, 2), dict(filters=2, kernel_size=2, dilation_rate=2)),
    ],
)
def test_conv1d_transpose_backward(kernel_set, float64, shape, args):
    run_backward_check(Conv1DTranspose(**args), shape)


def test_convolution1d_transpose_is_conv1d_transpose_and_its_backward_checks(kernel_set, float64):
    assert layers.Convolution1DTranspose is Conv1DTranspose
    layer = layers.Convolution1DTranspose(filters=2, kernel_size=2, strides=2, padding="same")
    run_backward_check(layer, (2, 3, 2))


@pytest.mark.parametrize("name, shape, args", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_is_the_adjoint_of_the_convolution(kernel_set, float64, name, shape, args):
    """⟨conv(u), v⟩ = ⟨u, convᵀ(v)⟩ for the Conv2D of the same geometry and kernel: the
    transpose is that convolution's input gradient (without bias and activation)."""
    args = {**args, "use_bias": False, "activation": None}
    args.pop("output_padding", None)
    transpose = Conv2DTranspose(**args)
    v = rng.standard_normal(shape)
    u_shape = transpose.compute_output_shape(shape)
    conv_args = {k: a for k, a in args.items() if k != "filters"}
    conv = Conv2D(shape[-1], **conv_args)
    conv.build((None,) + u_shape[1:])
    transpose.build((None,) + shape[1:])
    transpose.kernel[...] = rng.standard_normal(transpose.kernel.shape)
    conv.kernel[...] = transpose.kernel  # (kh, kw, out of the transpose = in of the conv, in)
    u = rng.standard_normal(u_shape)
    assert conv(u).shape == shape
    np.testing.assert_allclose(np.sum(conv(u) * v), np.sum(u * transpose(v)), rtol=1e-12)


# ----------------------------------------------------------------------------- pooling
POOLS = {1: (MaxPooling1D, AveragePooling1D), 2: (MaxPooling2D, AveragePooling2D)}


def distinct_values(shape):
    """A random permutation of well-separated values: no ties, so the max of each window is
    unique and ε = 1e-6 never changes which element it is."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.37 - 3.0).reshape(shape)


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("mode", [0, 1], ids=["max", "average"])
@examples
@given(data=st.data())
def test_pooling_forward_and_backward(kernel_set, float64, rank, mode, data):
    geometry = data.draw(sts.pool_geometries(rank))
    layer = POOLS[rank][mode](
        geometry["pool_size"], strides=geometry["strides"], padding=geometry["padding"]
    )
    shape = (2, *geometry["spatial"], 2)
    x = distinct_values(shape)
    y = layer(x)
    out = output_sizes(
        geometry["spatial"],
        geometry["pool_size"],
        geometry["strides"],
        (1,) * rank,
        geometry["padding"],
    )
    assert y.shape == (2, *out, 2)
    pads = [
        pad_before(n, o, k, s, 1, geometry["padding"])
        for n, o, k, s in zip(geometry["spatial"], out, geometry["pool_size"], geometry["strides"])
    ]
    for o in np.ndindex(*out):  # the window's real elements, from the definition
        window = tuple(
            slice(
                max(o[i] * geometry["strides"][i] - pads[i], 0),
                o[i] * geometry["strides"][i] - pads[i] + geometry["pool_size"][i],
            )
            for i in range(rank)
        )
        values = x[(slice(None), *window, slice(None))].reshape(2, -1, 2)
        expected = values.max(axis=1) if mode == 0 else values.mean(axis=1)
        np.testing.assert_allclose(y[(slice(None), *o, slice(None))], expected, rtol=1e-14)
    check_backward(layer, x, rng.standard_normal(y.shape))


def test_max_pooling_ties_go_to_the_first_maximum(kernel_set):
    # observed in TensorFlow 2.21 (MaxPool's gradient): the first maximum in row-major order
    # of each window takes the whole gradient; overlapping windows add up
    x = np.array([[1, 3, 3, 2], [3, 0, 3, 1], [0, 0, 0, 0], [0, 0, 0, 0]], float)[None, :, :, None]
    cases = [
        (MaxPooling2D(2), [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]),
        (MaxPooling2D(3, strides=1), [[0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
        (
            MaxPooling2D(2, strides=3, padding="same"),
            [[0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]],
        ),
    ]
    for layer, expected in cases:
        y = layer(x)
        dx = layer.backward(np.ones_like(y))
        np.testing.assert_array_equal(dx[0, :, :, 0], expected)


def test_average_pooling_same_divides_by_the_real_elements(kernel_set):
    # observed in TensorFlow 2.21: padding is not counted in the mean
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    y = AveragePooling2D(2, padding="same")(x)[0, :, :, 0]
    np.testing.assert_allclose(y, [[3, 5, 6.5], [13, 15, 16.5], [20.5, 22.5, 24]])


# ----------------------------------------------------------------------------- global pooling
GLOBAL = [GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D]


@pytest.mark.parametrize("cls", GLOBAL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_forward_and_backward(float64, cls, keepdims):
    layer = cls(keepdims=keepdims)
    shape = (2, 3, 4, 3) if cls.__name__.endswith("2D") else (2, 5, 3)
    x = distinct_values(shape)
    y = layer(x)
    axes = tuple(range(1, len(shape) - 1))
    reduce = np.max if "Max" in cls.__name__ else np.mean
    np.testing.assert_allclose(y, reduce(x, axis=axes, keepdims=keepdims), rtol=1e-14)
    check_backward(layer, x, rng.standard_normal(y.shape))


def test_global_max_pooling_splits_ties_equally():
    # observed in TensorFlow 2.21: the gradient of a max reduction is shared by the ties
    x = np.array([[1, 3, 3, 2], [3, 0, 3, 1]], float)[None, :, :, None]
    layer = GlobalMaxPooling2D()
    layer(x)
    dx = layer.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0.25, 0.25, 0], [0.25, 0, 0.25, 0]])


def test_global_average_pooling_1d_with_a_mask(float64):
    layer = GlobalAveragePooling1D()
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[True, True, False, True], [True, False, False, False]])
    y = layer.call(x, mask=mask)
    np.testing.assert_allclose(y[0], x[0, [0, 1, 3]].mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(y[1], x[1, 0], rtol=1e-14)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy, mask=mask)
    numeric = numerical_gradient(
        lambda: np.sum(dy * layer.call(probe, mask=mask)), probe := x.copy()
    )
    assert_gradient_close(dx, numeric)
    assert layer.compute_mask(x, mask) is None


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@examples
@given(geometry=sts.conv_geometries(2))
def test_conv_and_pool_kernels_agree_across_sets(dtype, geometry):
    """The compiled kernels against the NumPy reference: im2col/col2im copy and add exactly
    the same numbers (col2im's sums may round differently: |Σ| ≤ taps·eps·Σ|·|)."""
    window, strides = geometry["kernel_size"], geometry["strides"]
    dilation = geometry["dilation_rate"]
    out = output_sizes(geometry["spatial"], window, strides, dilation, geometry["padding"])
    pad = tuple(
        pad_before(n, o, k, s, d, geometry["padding"])
        for n, o, k, s, d in zip(geometry["spatial"], out, window, strides, dilation)
    )
    x = rng.standard_normal((2, *geometry["spatial"], 3)).astype(dtype)
    results = []
    for K in (numba_kernels, numpy_kernels):
        cols = np.full((2, *out, *window, 3), np.nan, dtype)
        K.im2col(x, window, strides, dilation, pad, cols)
        back = np.full(x.shape, np.nan, dtype)
        K.col2im(cols, window, strides, dilation, pad, back)
        pool_window = tuple(min(k, n) for k, n in zip(window, geometry["spatial"]))
        pout = output_sizes(geometry["spatial"], pool_window, strides, (1, 1), "same")
        ppad = tuple(
            pad_before(n, o, k, s, 1, "same")
            for n, o, k, s in zip(geometry["spatial"], pout, pool_window, strides)
        )
        y = np.full((2, *pout, 3), np.nan, dtype)
        arg = np.full(y.shape, -7, np.int64)
        K.max_pool_forward(x, pool_window, strides, ppad, y, arg)
        dmax = np.full(x.shape, np.nan, dtype)
        K.max_pool_backward(y, arg, dmax)
        avg = np.full(y.shape, np.nan, dtype)
        K.average_pool_forward(x, pool_window, strides, ppad, avg)
        davg = np.full(x.shape, np.nan, dtype)
        K.average_pool_backward(avg, pool_window, strides, ppad, davg)
        results.append((cols, back, y, arg, dmax, avg, davg))
    taps = np.prod(window)
    for name, a, b in zip(("cols", "col2im", "max", "argmax", "dmax", "avg", "davg"), *results):
        assert not np.isnan(a).any() and a.dtype == b.dtype, name
        bound = 4 * taps * np.finfo(dtype).eps * (np.abs(b) + 1)
        assert np.all(np.abs(a.astype(float) - b) <= bound), name


def test_kernel_contract_lists_the_convolution_kernels():
    for name in (
        "im2col",
        "col2im",
        "max_pool_forward",
        "max_pool_backward",
        "average_pool_forward",
        "average_pool_backward",
    ):
        assert name in kernels.CONTRACT
        assert callable(getattr(numba_kernels, name)) and callable(getattr(numpy_kernels, name))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Conv2D(0, 3), r"Expected a strictly positive value. Received filters=0"),
        (lambda: Conv2D(-2, 3), r"Received filters=-2"),
        (lambda: Conv2D(4, 0), r"`kernel_size` argument must be a tuple of 2 integers.*\{0\}"),
        (lambda: Conv2D(4, (3, -1)), r"kernel_size.*\{-1\} that do not satisfy `value > 0`"),
        (lambda: Conv2D(4, (3, 3, 3)), r"`kernel_size` argument must be a tuple of 2 integers"),
        (lambda: Conv2D(4, 3, strides=0), r"`strides` argument must be a tuple of 2 integers"),
        (lambda: Conv1D(4, 3, strides=-1), r"`strides`.*\{-1\}"),
        (lambda: Conv2D(4, 3, dilation_rate=0), r"`dilation_rate`"),
        (lambda: Conv2D(4, 3, padding="full"), r"`padding` argument must be one of .*full"),
        (lambda: Conv2D(4, 3, padding="causal"), r"`padding` argument .*causal"),
        (lambda: Conv2D(4, 3, data_format="channels_middle"), r"`data_format` argument must be"),
        (lambda: Conv2D(4, 3, groups=0), r"groups must be a positive integer"),
        (lambda: Conv2D(5, 3, groups=2), r"filters must be evenly divisible .*groups=2, filters=5"),
        (lambda: Conv2D(4, 3, strides=2, dilation_rate=2), r"`strides > 1` not supported"),
        (
            lambda: Conv2DTranspose(4, 3, strides=2, output_padding=2),
            r"`output_padding` must be strictly less than `strides`",
        ),
        (lambda: MaxPooling2D(0), r"`pool_size` argument must be a tuple of 2 integers"),
        (lambda: AveragePooling1D(2, strides=0), r"`strides`.*\{0\}"),
        (lambda: MaxPooling1D(padding="causal"), r"`padding` argument"),
        (lambda: GlobalAveragePooling2D(data_format="first"), r"`data_format` argument must be"),
    ],
)
def test_bad_arguments_raise_keras_errors_before_naming_a_layer(make, match):
    with pytest.raises(ValueError, match=match):
        make()
    # nothing was named: the next layer is still the first of its kind
    assert Conv2D(1, 1).name == "conv2d" and MaxPooling2D().name == "max_pooling2d"


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (lambda: Conv2D(2, 5), (1, 4, 6, 1), r"Computed output size would be zero or negative"),
        (lambda: Conv2D(2, 3, dilation_rate=3), (1, 6, 9, 1), r"window spans \(7, 7\)"),
        (lambda: Conv1D(2, 4), (1, 3, 2), r"Computed output size would be zero or negative"),
        (lambda: MaxPooling2D(3), (1, 2, 5, 1), r"Computed output size would be zero"),
        (lambda: Conv2D(2, 3), (1, 6, 6), r"expected ndim=4, found ndim=3"),
        (lambda: Conv1D(2, 3), (1, 6, 6, 1), r"expected ndim=3, found ndim=4"),
        (lambda: GlobalMaxPooling2D(), (1, 6, 6), r"expected ndim=4, found ndim=3"),
        (lambda: Conv2D(4, 3, groups=2), (1, 6, 6, 3), r"input channels must be evenly divisible"),
    ],
)
def test_bad_inputs_raise_before_the_layer_is_built(layer, shape, match):
    layer = layer()
    built = layer.built  # a pooling layer is built once made, as in Keras; a Conv2D is not
    with pytest.raises(ValueError, match=match):
        layer(np.ones(shape))
    assert layer.built == built and not layer.weights and layer.input_shape is None


def test_channel_count_different_from_built():
    layer = Conv2D(2, 3)
    layer(np.ones((1, 5, 5, 3)))
    weights = [w.copy() for w in layer.weights]
    with pytest.raises(
        ValueError,
        match=r"expected axis -1 of input shape to have value 3, but "
        r"received input with shape \(1, 5, 5, 4\)",
    ):
        layer(np.ones((1, 5, 5, 4)))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layer(np.ones((1, 2, 5, 3)))  # built for 5×5; a smaller image no longer fits
    for b, a in zip(weights, layer.weights):
        np.testing.assert_array_equal(b, a)


# ----------------------------------------------------------------------------- in a model
def test_convnet_trains_and_its_gradients_check(float64):
    model = Sequential(
        [
            Input(shape=(6, 6, 2)),
            Conv2D(3, 3, padding="same", activation="tanh"),
            MaxPooling2D(),
            Conv2D(2, 2, activation="sigmoid"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    assert model.output_shape == (None, 3)
    x = distinct_values((5, 6, 6, 2)) / 10
    y = np.eye(3)[[0, 1, 2, 1, 0]]
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    report = check_gradients(
        model, x, y, loss="categorical_crossentropy", verbose=False, tolerance=1e-6
    )
    assert len(report) == 6  # three kernels, three biases
    history = model.fit(x, y, epochs=3, batch_size=2, verbose=0)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()


def test_the_docs_page_examples_run():
    """docs/convolution.md works a convolution and a pooling step by hand: its numbers hold."""
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "convolution.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted > 20 and result.failed == 0
