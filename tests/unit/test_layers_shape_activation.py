"""Activation, shape and helper layers: each backward against central differences (float64, every
element, training and inference calls), forward against NumPy written out, Keras's errors, and
Dropout's noise_shape and the spatial dropouts' masks."""

import warnings

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from minikeras import Sequential, layers
from minikeras.layers import (
    ELU,
    Cropping1D,
    Cropping2D,
    Dense,
    Dropout,
    Input,
    LeakyReLU,
    Permute,
    PReLU,
    ReLU,
    Rescaling,
    Reshape,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)


def away_from_kinks(x, kinks, gap=0.05):
    """x moved at least `gap` away from each kink, so a ±1e-6 step never crosses one."""
    for kink in kinks:
        near = np.abs(x - kink) < gap
        x = np.where(near, kink + np.where(x >= kink, gap, -gap), x)
    return x


def check_backward(layer, x, training, mask=None):
    """dx and every weight gradient against ∂/∂(·) Σ dy ⊙ layer(x) (fixed random dy)."""
    kwargs = {} if mask is None else {"mask": mask}
    if not layer.built:
        layer.build((None,) + x.shape[1:])
    # the same dropout mask at each call: the generator's state put back before each
    seeds = getattr(layer, "seed_generator", None)
    state = None if seeds is None else np.array(seeds.state)
    probe = x.copy()

    def objective():
        if state is not None:
            seeds.state.assign(state)
        return np.sum(dy * layer.call(probe, training=training, **kwargs))

    dy = np.random.default_rng(9).normal(size=layer.call(probe, training=training, **kwargs).shape)
    objective()
    dx = layer.backward(dy, **kwargs).copy()
    grads = [g.copy() for g in layer.grads]
    assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))
    return dx


CASES = [
    (lambda: ReLU(), (4, 5), [0]),
    (lambda: ReLU(max_value=1.0), (4, 5), [0, 1]),
    (lambda: ReLU(negative_slope=0.1), (4, 5), [0]),
    (lambda: ReLU(max_value=2.0, negative_slope=0.2, threshold=0.5), (4, 5), [0.5, 2]),
    (lambda: LeakyReLU(), (4, 5), [0]),
    (lambda: PReLU(alpha_initializer="random_normal"), (3, 4), [0]),
    (lambda: PReLU(alpha_initializer="random_normal", shared_axes=[1, 2]), (3, 2, 2, 3), [0]),
    (lambda: ELU(alpha=0.7), (4, 5), [0]),
    (lambda: Softmax(), (3, 4), []),
    (lambda: Softmax(axis=1), (2, 3, 2), []),
    (lambda: Softmax(axis=[1, 2]), (2, 3, 2), []),
    (lambda: Reshape((-1, 2)), (2, 3, 4), []),
    (lambda: Permute((3, 1, 2)), (2, 3, 4, 2), []),
    (lambda: ZeroPadding1D((1, 2)), (2, 3, 2), []),
    (lambda: ZeroPadding2D(((1, 0), (0, 2)), data_format="channels_first"), (2, 2, 2, 3), []),
    (lambda: Cropping1D((1, 2)), (2, 5, 2), []),
    (lambda: Cropping2D(((1, 0), (1, 1))), (2, 3, 4, 2), []),
    (lambda: UpSampling1D(3), (2, 3, 2), []),
    (lambda: UpSampling2D((2, 3)), (2, 2, 2, 2), []),
    (lambda: UpSampling2D((3, 2), interpolation="bilinear"), (2, 3, 2, 2), []),
    (lambda: UpSampling2D((2, 3), interpolation="lanczos3"), (2, 4, 3, 2), []),
    (lambda: UpSampling2D((3, 2), interpolation="bicubic"), (2, 4, 3, 2), []),
    (lambda: Rescaling([0.5, 2.0], offset=1.0), (3, 2), []),
    (lambda: Dropout(0.4, noise_shape=(None, 1, 3), seed=1), (4, 2, 3), []),
    (lambda: SpatialDropout1D(0.4, seed=1), (4, 2, 3), []),
    (lambda: SpatialDropout2D(0.4, seed=1), (2, 2, 2, 3), []),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("make, shape, kinks", CASES)
def test_backward_matches_central_differences(float64, make, shape, kinks, training):
    layer = make()
    x = away_from_kinks(np.random.default_rng(0).normal(size=shape), kinks)
    check_backward(layer, x, training)


def test_softmax_with_a_mask_backward_and_forward(float64):
    """Masked entries: output 0, gradient 0; the others are a softmax over the kept ones."""
    x = np.random.default_rng(1).normal(size=(3, 4))
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]], dtype=bool)
    layer = Softmax()
    y = layer.call(x, mask=mask)
    e = np.where(mask, np.exp(x), 0)
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    dx = check_backward(layer, x, training=False, mask=mask)
    assert np.all(dx[~mask] == 0)


def test_softmax_layer_keeps_the_logits_path():
    layer = Softmax()
    x = np.array([[1.0, 2.0, 3.0]])
    y = layer(x)
    assert layer.output_activation == "softmax"
    np.testing.assert_array_equal(layer.logits, x.astype("float32"))
    dz = np.array([[0.1, -0.2, 0.1]], dtype="float32")
    assert layer.backward_logits(dz) is dz
    assert y.sum() == pytest.approx(1.0)
    assert Softmax(axis=[1, 2]).output_activation is None  # Keras keeps no logits there


def test_relu_forward_follows_keras_formula():
    x = np.array([[-3.0, -1.0, 0.2, 0.7, 1.5, 3.0]])
    y = ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)(x)
    expected = np.where(x > 0.5, np.minimum(x, 2.0), 0) - 0.1 * np.maximum(0.5 - x, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_prelu_weight_shape_and_training():
    layer = PReLU(shared_axes=[1, 2])
    layer.build((None, 4, 5, 3))
    assert layer.weight_names == ["alpha"] and layer.alpha.shape == (1, 1, 3)
    model = Sequential([Input(shape=(3,)), PReLU(), Dense(1)])
    model.compile("sgd", "mse")
    x = -np.abs(np.random.default_rng(0).normal(size=(16, 3)))
    model.fit(x, np.ones((16, 1)), epochs=2, verbose=0)
    assert not np.allclose(model.layers[0].alpha, 0)  # alpha is trained


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: ReLU(max_value=-1.0), ValueError, "max_value of a ReLU layer"),
        (lambda: ReLU(negative_slope=-0.1), ValueError, "negative_slope of a ReLU layer"),
        (lambda: ReLU(threshold=None), ValueError, "threshold of a ReLU layer"),
        (lambda: LeakyReLU(negative_slope=-1), ValueError, "negative_slope value of a Leaky"),
        (lambda: Reshape((-1, -1)), ValueError, "at most one unknown dimension"),
        (lambda: Reshape((-2, 3)), ValueError, "non-negative integer"),
        (lambda: Permute((1, 3)), ValueError, "consecutive and start from 1"),
        (lambda: ZeroPadding1D((1, 2, 3)), ValueError, "tuple of 2 integers"),
        (lambda: ZeroPadding2D((1, 2, 3)), ValueError, "should have two elements"),
        (lambda: Cropping2D(-1), ValueError, "cannot be negative"),
        (lambda: UpSampling1D(2.0), TypeError, "Expected an integer value for `size`"),
        (lambda: UpSampling1D(0), ValueError, "positive integer"),
        (lambda: UpSampling2D(interpolation="area"), NotImplementedError, "area"),
        (lambda: Dropout(0.5, noise_shape="abc"), ValueError, "Expected a tuple or list"),
        (lambda: Dropout(0.5, noise_shape=(None, 0)), ValueError, "negative or zero value"),
        (lambda: Dropout(0.5, noise_shape=(None, 1.5)), ValueError, "integers or None"),
    ],
)
def test_keras_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_shape_errors_on_call():
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged"):
        Reshape((5,))(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        Cropping1D((2, 2))(np.zeros((1, 4, 1)))
    with pytest.raises(ValueError, match="expected ndim=3"):
        ZeroPadding1D()(np.zeros((2, 3)))


def test_leaky_relu_accepts_keras_2_alpha_with_a_warning():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = LeakyReLU(alpha=0.2)
    assert layer.negative_slope == 0.2


# ------------------------------------------------------------------ dropout masks
def test_dropout_noise_shape_shares_the_mask_and_rescales():
    """noise_shape (None, 1, 3): None is filled with the batch size, and each sample drops the
    same features at every step; kept values are scaled by 1/(1 − rate), as Keras does."""
    layer = Dropout(0.5, noise_shape=(None, 1, 3), seed=0)
    y = layer(np.ones((64, 4, 3)), training=True)
    assert np.all(y == y[:, :1, :])  # the same along the shared axis
    assert set(np.unique(y)) == {0.0, 2.0}
    assert 0.3 < np.mean(y == 0) < 0.7
    assert layer.get_config()["noise_shape"] == (None, 1, 3)


@pytest.mark.parametrize(
    "layer, shape, shared",
    [
        (SpatialDropout1D(0.5, seed=0), (32, 5, 4), (1,)),
        (SpatialDropout2D(0.5, seed=0), (16, 3, 3, 4), (1, 2)),
        (SpatialDropout2D(0.5, data_format="channels_first", seed=0), (16, 4, 3, 3), (2, 3)),
    ],
)
def test_spatial_dropout_drops_whole_channels(layer, shape, shared):
    y = layer(np.ones(shape), training=True)
    first = y[tuple(slice(0, 1) if a in shared else slice(None) for a in range(len(shape)))]
    assert np.all(y == first)
    assert set(np.unique(y)) == {0.0, 2.0}
    np.testing.assert_array_equal(layer(np.ones(shape)), np.ones(shape))  # inference


def test_spatial_dropout_checks_its_input_rank():
    with pytest.raises(ValueError, match="expected ndim=3"):
        SpatialDropout1D(0.5)(np.ones((2, 3)), training=True)


def test_new_layers_round_trip_through_serialize():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = [make() for make, _, _ in CASES]
    for layer in made:
        copy = layers.deserialize(layers.serialize(layer))
        assert type(copy) is type(layer)
        assert copy.get_config() == layer.get_config()
