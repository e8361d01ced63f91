"""Convolution and pooling layers against real Keras on TensorFlow, with the same weights: the
output, dL/dx and dL/dw (tf.GradientTape on L = Σ r ⊙ y for a fixed random r), configs, errors,
a small convnet's `fit(shuffle=False)` History and weights, and `.keras` files both ways.

Differences are normwise, max|a − b| / max(‖a‖∞, ‖b‖∞), held to the parity suite's tolerances
(minikeras/parity/compare.py, docs/parity.md):
- float64: 1e-10. Each output or gradient entry is one dot product of at most
  kh·kw·channels ≤ 50 terms (or a sum over ≤ 200 positions for dW), summed in a different order
  on each side: about 50 roundings of 2⁻⁵³ ≈ 1.1e-16 each, < 1e-14 relative.
- float32: 1e-5 for one pass. The same sums at u = 2⁻²⁴ ≈ 6e-8: √50·u to 200·u ≈ 1.2e-5 in
  the worst (fully correlated) case for dW's 200-term sums, ~1e-6 typically; the largest
  measured is written beside each test. After k training steps: + 1e-6 per step, as the parity
  suite derives.
Pooling copies or averages input values, so max pooling is compared exactly (==), with ties.

The `keras` fixture (tests/conftest.py) skips these tests without Keras, and fails them when
MINIKERAS_REQUIRE_KERAS=1.
"""

import json

import numpy as np
import pytest
import strategies as sts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layer_twins import assert_trained_alike, fit_both, floatx, rel

import minikeras
from minikeras.parity.compare import tolerance

rng = np.random.default_rng(7)


def keras_twin(keras, layer, input_shape):
    """The Keras layer made from minikeras's serialized layer (built from its build_config),
    with the same weights."""
    twin = keras.layers.deserialize(minikeras.layers.serialize(layer))
    if not twin.built:
        twin.build((None,) + tuple(input_shape[1:]))
    if layer.weights:
        twin.set_weights(layer.get_weights())
    return twin


def compare_layer(keras, layer, x, exact=False):
    """Output, dL/dx and dL/dw of `layer` and its Keras twin on x; returns the worst normwise
    difference (asserting exact equality when `exact`)."""
    import tensorflow as tf

    y = layer(x)
    r = rng.standard_normal(y.shape).astype(y.dtype)
    layer.input_gradient_needed = True
    dx = layer.backward(r)
    twin = keras_twin(keras, layer, x.shape)
    x_tf = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        y_tf = twin(x_tf)
        total = tf.reduce_sum(y_tf * r)
    grads = tape.gradient(total, [x_tf] + twin.trainable_weights)
    pairs = [(y, y_tf), (dx, grads[0])] + list(zip(layer.grads, grads[1:]))
    assert len(pairs) == 2 + len(layer.trainable_weights)
    worst = 0.0
    for ours, theirs in pairs:
        theirs = theirs.numpy()
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        if exact:
            np.testing.assert_array_equal(ours, theirs)
        worst = max(worst, rel(ours, theirs))
    return worst


# (class name, arguments, input shape): each option, odd sizes, strides that do not divide,
# dilation, 'same' with even kernels, groups, causal, every pooling padding
LAYER_CASES = [
    ("Conv2D", dict(filters=4, kernel_size=3), (2, 7, 6, 3)),
    (
        "Conv2D",
        dict(filters=5, kernel_size=(3, 2), strides=(2, 3), padding="same", activation="relu"),
        (2, 9, 10, 3),
    ),
    (
        "Conv2D",
        dict(filters=3, kernel_size=4, strides=2, padding="same", activation="tanh"),
        (2, 7, 8, 2),
    ),
    (
        "Conv2D",
        dict(
            filters=4,
            kernel_size=2,
            padding="same",
            dilation_rate=2,
            groups=2,
            activation="sigmoid",
        ),
        (2, 7, 6, 4),
    ),
    (
        "Conv2D",
        dict(filters=6, kernel_size=3, dilation_rate=(1, 2), groups=3, use_bias=False),
        (2, 6, 7, 3),
    ),
    ("Conv2D", dict(filters=3, kernel_size=(1, 3), activation="softmax"), (2, 4, 5, 2)),
    ("Conv2D", dict(filters=4, kernel_size=3, activation="elu"), (2, 5, 5, 2)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    (
        "Conv1D",
        dict(filters=4, kernel_size=4, strides=3, padding="same", activation="relu"),
        (2, 10, 3),
    ),
    ("Conv1D", dict(filters=4, kernel_size=2, groups=2, activation="gelu"), (2, 6, 2)),
    (
        "Conv2DTranspose",
        dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="same", activation="sigmoid"),
        (2, 4, 5, 2),
    ),
    ("Conv2DTranspose", dict(filters=3, kernel_size=2, strides=3), (2, 4, 5, 2)),
    (
        "Conv2DTranspose",
        dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1),
        (2, 4, 5, 2),
    ),
    (
        "Conv2DTranspose",
        dict(filters=2, kernel_size=3, strides=2, output_padding=(0, 1), activation="relu"),
        (2, 3, 3, 2),
    ),
    (
        "Conv2DTranspose",
        dict(filters=4, kernel_size=4, strides=2, padding="same", use_bias=False),
        (2, 3, 4, 3),
    ),
    (
        "Conv1DTranspose",
        dict(filters=3, kernel_size=5, strides=2, padding="same", activation="relu"),
        (2, 6, 2),
    ),
    # (not dilated: TensorFlow's CPU kernel refuses a dilated Conv1DTranspose)
    (  # by its long name, the same class in both libraries
        "Convolution1DTranspose",
        dict(filters=2, kernel_size=3, strides=3, output_padding=1, use_bias=False),
        (2, 4, 3),
    ),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 8, 7, 3)),
    ("MaxPooling2D", dict(pool_size=(2, 3)), (2, 7, 8, 3)),
    ("MaxPooling1D", dict(pool_size=3, strides=2), (2, 8, 3)),
    ("MaxPooling1D", dict(pool_size=2, padding="same"), (2, 7, 3)),
    ("AveragePooling2D", dict(pool_size=(3, 2), strides=(2, 3), padding="same"), (2, 8, 7, 3)),
    ("AveragePooling2D", dict(pool_size=2), (2, 5, 5, 2)),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 8, 3)),
    ("AveragePooling1D", dict(pool_size=4, strides=1), (2, 7, 2)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (2, 4, 5, 3)),
    ("GlobalMaxPooling1D", dict(), (2, 4, 3)),
    ("GlobalAveragePooling2D", dict(), (2, 4, 5, 3)),
    ("GlobalAveragePooling1D", dict(keepdims=True), (2, 4, 3)),
]
CASE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(LAYER_CASES)]


def make(module, name, args):
    return getattr(module.layers, name)(**args)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, args, shape", LAYER_CASES, ids=CASE_IDS)
def test_layer_forward_and_gradients_match_tensorflow(keras, dtype, name, args, shape):
    # largest measured over these cases: float64 4.9e-16, float32 2.5e-7 (normwise)
    with floatx(keras, dtype):
        layer = make(minikeras, name, args)
        x = rng.standard_normal(shape).astype(dtype)
        assert compare_layer(keras, layer, x) < tolerance(dtype)


@pytest.mark.parametrize("name, args, shape", LAYER_CASES, ids=CASE_IDS)
def test_config_equals_keras_config(keras, name, args, shape):
    with floatx(keras, "float32"):
        ours = make(minikeras, name, args).get_config()
        theirs = make(keras, name, args).get_config()
        assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
        # and each side reads the other's
        back = getattr(minikeras.layers, name).from_config(theirs)
        assert json.loads(json.dumps(back.get_config())) == json.loads(json.dumps(theirs))


@pytest.mark.parametrize("name", ["MaxPooling2D", "MaxPooling1D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pooling_with_ties_is_exactly_tensorflows(keras, name, padding):
    """Small integers: most windows hold several equal maxima. TensorFlow's MaxPool gives
    the whole gradient to the first in row-major order; its max reduction (global pooling)
    shares it equally. Both are copied exactly."""
    with floatx(keras, "float64"):
        rank = 1 if name.endswith("1D") else 2
        shape = (2, 7, 3) if rank == 1 else (2, 7, 6, 3)
        x = rng.integers(0, 3, size=shape).astype(np.float64)
        if name.startswith("Global"):
            layer = make(minikeras, name, {})
        else:
            layer = make(minikeras, name, dict(pool_size=3, strides=2, padding=padding))
        compare_layer(keras, layer, x, exact=True)


examples = settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("rank", [1, 2])
@examples
@given(data=st.data())
def test_random_convolutions_match_tensorflow(keras, rank, data):
    paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    geometry = data.draw(sts.conv_geometries(rank, paddings))
    groups = data.draw(st.sampled_from([1, 2]))
    args = dict(
        filters=groups * data.draw(st.integers(1, 3)),
        kernel_size=geometry["kernel_size"],
        strides=geometry["strides"],
        padding=geometry["padding"],
        dilation_rate=geometry["dilation_rate"],
        groups=groups,
        activation=data.draw(st.sampled_from(["linear", "relu", "tanh"])),
    )
    with floatx(keras, "float64"):
        layer = make(minikeras, "Conv1D" if rank == 1 else "Conv2D", args)
        x = rng.standard_normal((2, *geometry["spatial"], groups * data.draw(st.integers(1, 2))))
        assert compare_layer(keras, layer, x) < tolerance("float64")


@pytest.mark.parametrize("name", ["MaxPooling2D", "AveragePooling2D"])
@examples
@given(geometry=sts.pool_geometries(2))
def test_random_poolings_match_tensorflow(keras, name, geometry):
    args = {k: geometry[k] for k in ("pool_size", "strides", "padding")}
    with floatx(keras, "float64"):
        layer = make(minikeras, name, args)
        x = rng.standard_normal((2, *geometry["spatial"], 2))
        assert compare_layer(keras, layer, x) < tolerance("float64")


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("Conv2D", dict(filters=2, kernel_size=5), (1, 4, 6, 1)),
        ("Conv2D", dict(filters=2, kernel_size=3), (1, 6, 6)),
        ("Conv1D", dict(filters=2, kernel_size=4), (1, 3, 2)),
        ("Conv2D", dict(filters=4, kernel_size=3, groups=2), (1, 6, 6, 3)),
    ],
)
def test_bad_inputs_raise_the_same_exception_type_as_keras(keras, name, args, shape):
    x = np.ones(shape, np.float32)
    with pytest.raises(Exception) as theirs:
        make(keras, name, args)(x)
    with pytest.raises(type(theirs.value)):
        make(minikeras, name, args)(x)


def test_pooling_window_larger_than_the_input_raises_where_keras_returns_nothing(keras):
    # Keras on TensorFlow returns an empty (1, 0, 1, 1) array when called eagerly (its
    # compute_output_shape raises only on symbolic inputs); minikeras raises Keras's
    # compute_output_shape ValueError on every call
    x = np.ones((1, 2, 5, 1), np.float32)
    assert make(keras, "MaxPooling2D", dict(pool_size=3))(x).shape == (1, 0, 1, 1)
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        make(minikeras, "MaxPooling2D", dict(pool_size=3))(x)


@pytest.mark.parametrize(
    "name, args",
    [
        ("Conv2D", dict(filters=0, kernel_size=3)),
        ("Conv2D", dict(filters=4, kernel_size=0)),
        ("Conv2D", dict(filters=4, kernel_size=3, strides=0)),
        ("Conv2D", dict(filters=4, kernel_size=3, padding="full")),
        ("Conv2D", dict(filters=5, kernel_size=3, groups=2)),
        ("Conv2D", dict(filters=4, kernel_size=3, strides=2, dilation_rate=2)),
        ("Conv2D", dict(filters=4, kernel_size=3, data_format="channels_middle")),
        ("Conv1D", dict(filters=4, kernel_size=(3, 3))),
        ("MaxPooling2D", dict(pool_size=-1)),
        ("AveragePooling1D", dict(pool_size=2, padding="causal")),
    ],
)
def test_bad_arguments_raise_the_same_exception_type_as_keras(keras, name, args):
    """Keras raises when the layer is made, or (a pooling padding) at its first call, from
    TensorFlow; minikeras always raises a ValueError when the layer is made."""
    with pytest.raises(Exception) as theirs:
        make(keras, name, args)(np.ones((1, 6, 6, 1)[: 3 if name.endswith("1D") else 4]))
    assert isinstance(theirs.value, ValueError) or "padding" in str(theirs.value)
    with pytest.raises(ValueError):
        make(minikeras, name, args)


# ---------------------------------------------------------------------- a convnet, whole
def convnet(K):
    """A small convnet touching every layer family: conv, pooling, transpose, global pooling."""
    return K.Sequential(
        [
            K.Input(shape=(8, 8, 1)),
            K.layers.Conv2D(4, 3, padding="same", activation="relu"),
            K.layers.MaxPooling2D(),
            K.layers.Conv2DTranspose(3, 2, strides=2, activation="tanh"),
            K.layers.Conv2D(6, 3, strides=2, groups=3, activation="relu"),
            K.layers.AveragePooling2D(2, padding="same"),
            K.layers.Conv2D(5, 1),
            K.layers.GlobalAveragePooling2D(),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def convnet_twins(keras):
    ours, theirs = convnet(minikeras), convnet(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def convnet_data(n=40):
    data = np.random.default_rng(3)
    x = data.standard_normal((n, 8, 8, 1))
    y = np.eye(3)[data.integers(0, 3, n)]
    return x, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_convnet_fit_history_and_weights(keras, dtype):
    # largest measured (weights after 12 steps): float64 8.0e-16, float32 1.0e-6 in most runs
    # (2.9e-5 in one: the drift bound, assert_trained_alike); History 1.1e-7
    with floatx(keras, dtype):
        ours, theirs = convnet_twins(keras)
        for model, K in ((ours, minikeras), (theirs, keras)):
            model.compile(
                optimizer=K.optimizers.Adam(0.01),
                loss="categorical_crossentropy",
                metrics=["accuracy"],
            )
        x, y = convnet_data()
        fit = dict(epochs=3, batch_size=8, validation_split=0.25, shuffle=False, verbose=0)
        ours_history, theirs_history, drift = fit_both(ours, theirs, x, y, **fit)
        steps = 3 * 4
        assert sorted(ours_history) == sorted(theirs_history)
        for key, values in theirs_history.items():
            assert rel(ours_history[key], values) < tolerance(dtype, steps), key
        assert_trained_alike(ours, theirs, tolerance(dtype, steps), drift)
        # predictions on the same (Keras's) weights: how far the weights drift is checked above
        ours.set_weights(theirs.get_weights())
        p, q = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
        assert rel(p, q) < tolerance(dtype)


def test_convnet_summary_as_keras_prints_it(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with floatx(keras, "float32"):
        ours, theirs = convnet_twins(keras)
        printed = {}
        for side, model in (("ours", ours), ("theirs", theirs)):
            lines = []
            model.summary(print_fn=lines.append)
            printed[side] = "\n".join(lines).rstrip("\n")
        assert printed["ours"] == printed["theirs"]


def test_convnet_keras_files_both_ways(keras, tmp_path):
    with floatx(keras, "float32"):
        ours, theirs = convnet_twins(keras)
        x, y = convnet_data(12)
        for model in (ours, theirs):
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
        ours.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        ours.save(tmp_path / "mk.keras")
        opened = keras.saving.load_model(tmp_path / "mk.keras")
        assert rel(opened.predict(x, verbose=0), ours.predict(x, verbose=0)) < tolerance("float32")
        theirs.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        theirs.save(tmp_path / "keras.keras")
        back = minikeras.models.load_model(tmp_path / "keras.keras")
        assert [layer.name for layer in back.layers] == [layer.name for layer in theirs.layers]
        assert rel(back.predict(x, verbose=0), theirs.predict(x, verbose=0)) < tolerance("float32")
        # the optimizer state came along: one more step on each side stays together
        back.fit(x, y, epochs=1, batch_size=12, shuffle=False, verbose=0)
        theirs.fit(x, y, epochs=1, batch_size=12, shuffle=False, verbose=0)
        for w, v in zip(back.get_weights(), theirs.get_weights()):
            assert rel(w, v) < tolerance("float32", 4)
