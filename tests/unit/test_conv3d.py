"""The 3-D layers (Conv3D, Conv3DTranspose, 3-D pooling, Cropping3D, ZeroPadding3D,
UpSampling3D): forward against loops written out from the definition, every backward against
central differences (float64, every element), on both kernel sets; the 3-D kernels of the two
sets against each other; argument checks.

Central differences with ε = 1e-6 in float64 are off by ~ε² + 1e-16/ε ≈ 1e-10 relative: the
rtol of 1e-5 (gradcheck.assert_gradient_close) leaves a margin of 10⁵ and still catches any
wrong formula, whose errors are O(1).
"""

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import HealthCheck, given, settings

from minikeras import Sequential, layers
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.testing import check_gradients

examples = settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
rng = np.random.default_rng(20261130)


def pad_before(size, out, kernel, stride, dilation, padding):
    """TensorFlow's 'same' padding from its definition: (out − 1)·s + span − size in total,
    the smaller half first."""
    span = (kernel - 1) * dilation + 1
    return max((out - 1) * stride + span - size, 0) // 2 if padding == "same" else 0


def out_sizes(spatial, window, strides, dilation, padding):
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(spatial, strides))
    return tuple((n - k) // s + 1 for n, k, s in zip(spatial, spans, strides))


def conv3d_reference(x, kernel, bias, strides, dilation, padding, groups):
    """y[n, q, i, j, f] = b[f] + Σ_(e, a, b) Σ_c x[n, q·s + e·d − p, ..., c] · W[e, a, b, c, f]
    over the channels c of f's group, by loops over every output element."""
    window, per_group, filters = kernel.shape[:3], kernel.shape[3], kernel.shape[4]
    out = out_sizes(x.shape[1:4], window, strides, dilation, padding)
    pads = [pad_before(*a, padding) for a in zip(x.shape[1:4], out, window, strides, dilation)]
    y = np.zeros((x.shape[0], *out, filters))
    for n in range(x.shape[0]):
        for o in np.ndindex(*out):
            for f in range(filters):
                g = f // (filters // groups)
                total = bias[f]
                for t in np.ndindex(*window):
                    where = [o[i] * strides[i] + t[i] * dilation[i] - pads[i] for i in range(3)]
                    if all(0 <= where[i] < x.shape[1 + i] for i in range(3)):
                        channels = x[(n, *where, slice(g * per_group, (g + 1) * per_group))]
                        total += channels @ kernel[(*t, slice(None), f)]
                y[(n, *o, f)] = total
    return y


@examples
@given(geometry=sts.conv_geometries(3))
def test_conv3d_forward_is_the_sum_over_the_window(kernel_set, float64, geometry):
    groups = 2
    layer = layers.Conv3D(
        4,
        geometry["kernel_size"],
        strides=geometry["strides"],
        padding=geometry["padding"],
        dilation_rate=geometry["dilation_rate"],
        groups=groups,
    )
    x = rng.standard_normal((2, *geometry["spatial"], 2))
    layer.build(x.shape)
    kernel, bias = rng.standard_normal(layer.kernel.shape), rng.standard_normal(4)
    layer.set_weights([kernel, bias])
    expected = conv3d_reference(
        x, kernel, bias, geometry["strides"], geometry["dilation_rate"], geometry["padding"], 2
    )
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def check_backward(layer, input_shape):
    """dx and every weight gradient of `layer` against ∂/∂(·) Σ dy ⊙ layer(x), every
    element; the weights unchanged by backward."""
    x = rng.standard_normal(input_shape)
    layer.build(input_shape)
    for w in layer.weights:  # nonzero biases too, so that every term is exercised
        w[...] = rng.standard_normal(w.shape)
    dy = rng.standard_normal(layer.compute_output_shape(input_shape))
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


# (class name, arguments, input shape): uneven 'same' padding, strides that do not divide,
# dilation, groups, output_padding, channels_first, overlapping and gapped pooling windows
BACKWARD_CASES = [
    (
        "Conv3D",
        dict(filters=2, kernel_size=(2, 3, 2), strides=(1, 2, 1), padding="same"),
        (2, 3, 4, 3, 2),
    ),
    (
        "Conv3D",
        dict(filters=4, kernel_size=2, dilation_rate=(2, 1, 1), groups=2, activation="tanh"),
        (1, 3, 3, 2, 2),
    ),
    (
        "Conv3D",
        dict(filters=2, kernel_size=2, strides=2, data_format="channels_first"),
        (1, 2, 3, 4, 3),
    ),
    (
        "Conv3DTranspose",
        dict(filters=2, kernel_size=(2, 3, 2), strides=(2, 1, 2), padding="same"),
        (1, 2, 3, 2, 2),
    ),
    (
        "Conv3DTranspose",
        dict(filters=2, kernel_size=2, dilation_rate=(1, 2, 1), activation="sigmoid"),
        (1, 2, 2, 3, 2),
    ),
    (
        "Conv3DTranspose",
        dict(filters=3, kernel_size=3, strides=2, output_padding=1, data_format="channels_first"),
        (1, 2, 2, 1, 2),
    ),
    ("MaxPooling3D", dict(pool_size=2, strides=1), (2, 3, 3, 3, 2)),
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=(3, 2, 1), padding="same"), (1, 4, 5, 3, 2)),
    ("AveragePooling3D", dict(pool_size=2, strides=1, padding="same"), (2, 3, 3, 3, 2)),
    (
        "AveragePooling3D",
        dict(pool_size=(1, 2, 3), strides=(2, 3, 1), data_format="channels_first"),
        (1, 2, 3, 4, 3),
    ),
    ("GlobalMaxPooling3D", dict(), (2, 2, 3, 2, 3)),
    ("GlobalAveragePooling3D", dict(keepdims=True, data_format="channels_first"), (2, 3, 2, 3, 2)),
    ("Cropping3D", dict(cropping=((1, 0), (0, 2), 1)), (2, 3, 4, 5, 2)),
    (
        "ZeroPadding3D",
        dict(padding=((1, 0), (0, 2), 1), data_format="channels_first"),
        (1, 2, 2, 3, 2),
    ),
    ("UpSampling3D", dict(size=(2, 1, 3)), (2, 2, 3, 2, 2)),
]


@pytest.mark.parametrize(
    "name, args, shape", BACKWARD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(BACKWARD_CASES)]
)
def test_3d_layer_backward_matches_central_differences(kernel_set, float64, name, args, shape):
    check_backward(getattr(layers, name)(**args), shape)


def test_3d_layers_in_a_model_pass_check_gradients():
    """check_gradients on a model holding every 3-D layer: each weight's gradient goes back
    through the weightless layers' dx too. (No zero padding before the max pooling: equal
    values in a window are ties, where TensorFlow's MaxPool3D gradient, copied here, counts
    each tied element once, so it is not the derivative there.)"""
    model = Sequential(
        [
            layers.Input(shape=(3, 4, 3, 2)),
            layers.Conv3D(3, 2, padding="same", activation="tanh"),
            layers.MaxPooling3D(2, strides=1, padding="same"),
            layers.AveragePooling3D((1, 2, 2)),
            layers.ZeroPadding3D(((1, 0), 0, (0, 1))),
            layers.Conv3DTranspose(2, 2, strides=(1, 2, 1)),
            layers.Cropping3D((1, 0, 1)),
            layers.UpSampling3D((1, 1, 2)),
            layers.GlobalMaxPooling3D(keepdims=True),
            layers.GlobalAveragePooling3D(),
            layers.Dense(2),
        ]
    )
    x, y = rng.standard_normal((3, 3, 4, 3, 2)), rng.standard_normal((3, 2))
    worst = check_gradients(model, x, y, loss="mse", verbose=False, tolerance=1e-6)
    assert len(worst) == len(model.trainable_weights)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pooling_3d_gradient_goes_to_every_tied_maximum(kernel_set, padding):
    """All ones: every element of a window is its maximum; each gets the window's whole dy
    (the 2-D layer gives it to the first only)."""
    x = np.ones((1, 3, 2, 2, 1), np.float32)
    layer = layers.MaxPooling3D(2, padding=padding)
    y = layer(x)
    dx = layer.backward(np.full(y.shape, 3.0, np.float32))
    expected = np.full(x.shape, 3.0, np.float32)
    if padding == "valid":
        expected[:, 2] = 0  # the last depth slice is in no window
    np.testing.assert_array_equal(dx, expected)
    flat = layers.MaxPooling2D(2)
    flat(x[:, 0])
    assert flat.backward(np.full((1, 1, 1, 1), 3.0, np.float32)).sum() == 3.0


def test_3d_kernels_agree_across_sets():
    """The compiled 3-D kernels against the NumPy reference, float32: copies are equal, sums
    within a few roundings (taps·eps·Σ|·|)."""
    x = rng.standard_normal((2, 4, 5, 3, 3)).astype(np.float32)
    window, strides, dilation, pad = (2, 3, 2), (1, 2, 1), (1, 1, 2), (0, 1, 1)
    out = (3, 3, 3)
    pool = ((2, 3, 2), (2, 2, 1), (0, 1, 0), (2, 3, 3))  # window, strides, pad, out
    results = []
    for K in (numba_kernels, numpy_kernels):
        cols = np.full((2, *out, *window, 3), np.nan, np.float32)
        K.im2col(x, window, strides, dilation, pad, cols)
        back = np.full(x.shape, np.nan, np.float32)
        K.col2im(cols, window, strides, dilation, pad, back)
        y = np.full((2, *pool[3], 3), np.nan, np.float32)
        arg = np.full(y.shape, -7, np.int64)
        K.max_pool_forward(x, *pool[:3], y, arg)
        dmax = np.full(x.shape, np.nan, np.float32)
        K.max_pool_backward_ties(x, y, y, *pool[:3], dmax)
        avg = np.full(y.shape, np.nan, np.float32)
        K.average_pool_forward(x, *pool[:3], avg)
        davg = np.full(x.shape, np.nan, np.float32)
        K.average_pool_backward(avg, *pool[:3], davg)
        results.append((cols, back, y, arg, dmax, avg, davg))
    for name, a, b in zip(("cols", "col2im", "max", "argmax", "dmax", "avg", "davg"), *results):
        assert not np.isnan(a.astype(float)).any() and a.dtype == b.dtype, name
        bound = 4 * 12 * np.finfo(np.float32).eps * (np.abs(b) + 1)
        assert np.all(np.abs(a.astype(float) - b) <= bound), name
    # the flat index of the maximum runs over (depth, row, column), as the 2-D one over (row,
    # column): the element it names holds the maximum
    cols, back, y, arg, *_ = results[0]
    flat = x.reshape(2, -1, 3)
    chosen = np.take_along_axis(flat, arg.reshape(2, -1, 3), axis=1).reshape(y.shape)
    np.testing.assert_array_equal(chosen, y)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.Cropping3D((1, 2)), ValueError, r"`cropping` should have 3 elements"),
        (lambda: layers.Cropping3D(-1), ValueError, r"`cropping` cannot be negative"),
        (lambda: layers.Cropping3D(((1, 2), (3, 4), (5, -6))), ValueError, r"3rd entry of"),
        (lambda: layers.Cropping3D(1.5), ValueError, r"`cropping` should be either an int"),
        (lambda: layers.ZeroPadding3D((1, 2, 3, 4)), ValueError, r"should have 3 elements"),
        (lambda: layers.ZeroPadding3D(((1, 2), (3, 4), "5")), ValueError, r"3rd entry"),
        (lambda: layers.UpSampling3D((2, 2)), ValueError, r"tuple of 3 integers"),
        (lambda: layers.UpSampling3D((2, 0, 2)), ValueError, r"value > 0"),
        (lambda: layers.Conv3D(2, (3, 3)), ValueError, r"tuple of 3 integers"),
        (lambda: layers.MaxPooling3D((2, 2)), ValueError, r"tuple of 3 integers"),
        (
            lambda: layers.Conv3DTranspose(2, 3, strides=(2, 3, 2), output_padding=(1, 1, 2)),
            ValueError,
            r"`output_padding` must be strictly less than `strides` for all dimensions. At "
            r"dimension 2, `output_padding` is 2 but `strides` is 2",
        ),
        (
            lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=2),
            ValueError,
            r"`output_padding` must be strictly less than `strides`",
        ),
    ],
)
def test_bad_arguments_raise_before_naming_a_layer(make, error, match):
    with pytest.raises(error, match=match):
        make()
    assert layers.Cropping3D().name == "cropping3d"  # the refused layer used up no name


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.ZeroPadding3D(),
        lambda: layers.Cropping3D(),
        lambda: layers.UpSampling3D(),
        lambda: layers.MaxPooling3D(),
        lambda: layers.Conv3D(2, 1),
    ],
)
def test_a_4d_input_is_refused_symbolic_or_not(layer):
    """Keras's InputSpec(ndim=5), checked on an Input as on an array."""
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        layer()(layers.Input(batch_shape=(1, 3, 4, 3)))
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        layer()(np.ones((1, 3, 4, 3), np.float32))


def test_conv3d_accepts_other_spatial_sizes_once_built():
    layer = layers.Conv3D(2, 2)
    assert layer(np.ones((1, 3, 3, 3, 1))).shape == (1, 2, 2, 2, 2)
    assert layer(np.ones((2, 4, 3, 5, 1))).shape == (2, 3, 2, 4, 2)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 1"):
        layer(np.ones((1, 3, 3, 3, 2)))
