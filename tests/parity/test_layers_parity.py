"""Activation, shape and helper layers against Keras: configs equal to Keras's for the same
arguments, and forward, dx and dweights (PReLU's alpha) in float64 and float32 with the same
weights (tolerances derived in layer_twins.py); a final Softmax layer keeps Keras's
crossentropy-from-logits path in `evaluate`."""

import warnings

import numpy as np
import pytest
from layer_twins import as_json, assert_pairs_close, floatx, run_both, twins

import minikeras

CASES = [
    # activation layers
    ("ReLU", {}, (5,)),
    ("ReLU", {"max_value": 1.5}, (5,)),
    ("ReLU", {"max_value": 6}, (5,)),
    ("ReLU", {"negative_slope": 0.1}, (5,)),
    ("ReLU", {"threshold": 0.3, "negative_slope": 0.2, "max_value": 2.0}, (5,)),
    ("LeakyReLU", {}, (5,)),
    ("LeakyReLU", {"negative_slope": 0.05}, (2, 3)),
    ("PReLU", {}, (4,)),
    ("PReLU", {"shared_axes": [1]}, (3, 2)),
    ("PReLU", {"shared_axes": 2, "alpha_initializer": "ones"}, (3, 2)),
    ("ELU", {}, (5,)),
    ("ELU", {"alpha": 0.5}, (2, 3)),
    ("Softmax", {}, (4,)),
    ("Softmax", {"axis": 1}, (3, 2)),
    ("Softmax", {"axis": [1, 2]}, (3, 2)),
    # shape and helper layers
    ("Reshape", {"target_shape": (-1, 2)}, (3, 4)),
    ("Reshape", {"target_shape": (2, 6)}, (3, 4)),
    ("Permute", {"dims": (2, 1)}, (3, 4)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4)),
    ("ZeroPadding1D", {"padding": (1, 2)}, (4, 3)),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 1))}, (3, 2, 2)),
    ("ZeroPadding2D", {"padding": 1, "data_format": "channels_first"}, (2, 3, 2)),
    ("Cropping1D", {"cropping": (1, 2)}, (5, 3)),
    ("Cropping2D", {"cropping": ((1, 0), (0, 2))}, (4, 5, 2)),
    ("Cropping2D", {"cropping": 1, "data_format": "channels_first"}, (2, 4, 3)),
    ("UpSampling1D", {"size": 3}, (3, 2)),
    ("UpSampling2D", {}, (2, 3, 2)),
    ("UpSampling2D", {"size": (2, 3), "data_format": "channels_first"}, (2, 2, 3)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2)),
    ("UpSampling2D", {"size": 3, "interpolation": "bilinear"}, (2, 1, 1)),
    ("Rescaling", {"scale": 0.5, "offset": -1.0}, (3,)),
    ("Rescaling", {"scale": [1.0, 2.0, 3.0], "offset": 0.5}, (2, 3)),
    ("Dropout", {"rate": 0.3, "noise_shape": (None, 1, 3)}, (2, 3)),
    ("SpatialDropout1D", {"rate": 0.3}, (2, 3)),
    ("SpatialDropout2D", {"rate": 0.3, "data_format": "channels_first"}, (2, 2, 3)),
]
IDS = [f"{name}-{kwargs}" for name, kwargs, _ in CASES]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("class_name, kwargs, shape", CASES, ids=IDS)
def test_forward_and_gradients_match_keras(keras, class_name, kwargs, shape, dtype):
    """Inference calls (the dropout layers are the identity there; their training masks are
    random on both sides and are tested in tests/unit)."""
    rng = np.random.default_rng(len(IDS[0]) + len(shape))
    ours, theirs = twins(keras, class_name, kwargs, shape, rng, dtype)
    x = rng.normal(scale=2.0, size=(4,) + shape)
    pairs = run_both(
        keras, ours, theirs, x, rng.normal(size=ours.compute_output_shape((4,) + shape)), False
    )
    if kwargs.get("interpolation") == "bilinear":
        # TensorFlow's ResizeBilinear kernel computes in float32 whatever the input's dtype, so
        # Keras's float64 results carry float32 rounding; minikeras's stay float64
        dtype = "float32"
    assert_pairs_close(pairs, dtype)


RESIZES = [
    ("UpSampling2D", {"size": (3, 2), "interpolation": "bicubic"}, (4, 5, 2)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "lanczos3"}, (4, 5, 2)),
    ("UpSampling2D", {"size": (3, 1), "interpolation": "lanczos5"}, (3, 6, 1)),
]


@pytest.mark.parametrize("class_name, kwargs, shape", RESIZES, ids=[str(c[1]) for c in RESIZES])
def test_resize_upsampling_matches_keras_in_float32(keras, class_name, kwargs, shape):
    """float32 only: TensorFlow's ScaleAndTranslate kernel (its Lanczos resize) has no float64
    gradient, and its bicubic one computes in float32, so Keras cannot give float64 values to
    compare with."""
    rng = np.random.default_rng(7)
    ours, theirs = twins(keras, class_name, kwargs, shape, rng, "float32")
    x = rng.normal(scale=2.0, size=(4,) + shape)
    dy = rng.normal(size=ours.compute_output_shape((4,) + shape))
    assert_pairs_close(run_both(keras, ours, theirs, x, dy, False), "float32")


@pytest.mark.parametrize("class_name, kwargs, shape", CASES, ids=IDS)
def test_configs_equal_keras(keras, class_name, kwargs, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(minikeras.layers, class_name)(name="twin", **kwargs)
        theirs = getattr(keras.layers, class_name)(name="twin", **kwargs)
    assert as_json(ours.get_config()) == as_json(theirs.get_config())
    ours.build((None,) + shape)
    theirs.build((None,) + shape)
    assert ours.compute_output_shape((None,) + shape) == tuple(
        theirs.compute_output_shape((None,) + shape)
    )
    assert ours.weight_names == [w.name for w in theirs.weights]
    # a config written by Keras loads in minikeras (and the other way), unchanged
    entry = keras.layers.serialize(theirs)
    assert as_json(minikeras.layers.deserialize(entry).get_config()) == as_json(entry["config"])


def test_keras_defaults():
    """Keras 3's defaults, as its constructors have them (LeakyReLU's slope is 0.3 in Keras 3,
    Keras 2 had alpha=0.3 too; the ReLU layer's slope is 0)."""
    assert minikeras.layers.LeakyReLU().negative_slope == 0.3
    relu = minikeras.layers.ReLU()
    assert (relu.max_value, relu.negative_slope, relu.threshold) == (None, 0.0, 0.0)
    assert minikeras.layers.ELU().alpha == 1.0
    assert minikeras.layers.Softmax().axis == -1


@pytest.mark.parametrize("layer", ["Softmax", "Activation"])
def test_final_softmax_layer_keeps_the_logits_path_like_keras(keras, layer):
    """A saturated example: from the logits the crossentropy is 100 (what Keras's evaluate
    gives for a Softmax *layer*, whose activations.softmax keeps `_keras_logits`); the clipped
    probabilities would give 16.118."""

    def model(K):
        args = ("softmax",) if layer == "Activation" else ()
        return K.Sequential(
            [
                K.Input(shape=(2,)),
                K.layers.Dense(2, use_bias=False, name="logits"),
                getattr(K.layers, layer)(*args, name="probabilities"),
            ]
        )

    with floatx(keras, "float32"):
        ours, theirs = model(minikeras), model(keras)
        kernel = np.array([[-50.0, 50.0], [0.0, 0.0]], dtype="float32")
        ours.set_weights([kernel])
        theirs.set_weights([kernel])
        x, y = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
        for m in (ours, theirs):
            m.compile("sgd", "categorical_crossentropy")
        ours_loss, theirs_loss = ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)
    assert theirs_loss == pytest.approx(100.0)
    assert ours_loss == pytest.approx(theirs_loss, rel=1e-6)
