"""`minikeras.applications` against `keras.applications`: each family is built by both at a
small input with `weights=None`, and compared layer by layer (names, classes, weight names
and shapes in order), then Keras's weights (with BatchNormalization's statistics made
non-trivial) are copied in with `set_weights` and the outputs compared; Keras's own files
(`.weights.h5`, and the legacy `.h5` its pretrained weights come in) load through
`weights=path`; a frozen base with a new head (keras.io's transfer-learning pattern) fits with
Keras's History; and the argument checks raise Keras's errors.

Tolerances (normwise, max|a − b| / max‖b‖∞):
- float64: 1e-10. Both sides round at 2⁻⁵³ ≈ 1.1e-16; measured 2.5e-16 through MobileNet.
- float32, one pass through a whole network: 1e-5 (the parity suite's one-pass tolerance,
  compare.FLOAT32_PASS_TOLERANCE). Each convolution's sums round at 2⁻²⁴ ≈ 6e-8 on each side
  in different orders (TensorFlow's blocked float32 sums, minikeras's kernels); the relative
  error of a layer's input carries forward through BatchNormalization and the activations,
  so it grows with depth but stays small: measured 1.1e-7 (MobileNet) to 7.5e-7 (VGG16) and
  6.9e-7 (ResNet50's 53 convolutions), 13× below the tolerance.
- float32 `fit` of a new head on a frozen base: 1e-5 per History entry and weight (two epochs
  of three Adam steps; the head sees the base's features, equal to 1e-6, so each step's
  update agrees as a single layer's does).
"""

import json
import re

import numpy as np
import pytest
from applications_golden import GOLDEN_FAMILIES, GOLDEN_PATH, digest
from layer_twins import assert_trained_alike, fit_both, floatx, rel

import minikeras
from minikeras import applications

FLOAT32_NETWORK = 1e-5
FLOAT64_NETWORK = 1e-10

# family → keyword arguments: small inputs, the smallest widths; each Keras twin is built once
# per module (a Keras build of a deep family costs seconds: the larger variants of a builder
# are left out, their builder is the one checked here)
FAMILIES = {
    "MobileNet": dict(
        input_shape=(32, 32, 3),
        alpha=0.25,
        classes=4,
        depth_multiplier=2,
        classifier_activation=None,  # logits: a softmax of small logits hides differences
    ),
    "MobileNetV2": dict(input_shape=(33, 35, 3), alpha=0.35, include_top=False, pooling="avg"),
    "MobileNetV3Small": dict(
        input_shape=(32, 32, 3), alpha=0.75, classes=3, classifier_activation=None
    ),
    "ResNet50": dict(input_shape=(32, 32, 3), include_top=False, pooling="max"),
    "VGG16": dict(input_shape=(32, 32, 3), include_top=False, pooling="avg"),
    "EfficientNetB0": dict(input_shape=(33, 33, 3), classes=5, classifier_activation=None),
    "Xception": dict(input_shape=(71, 71, 3), include_top=False),
    "ConvNeXtTiny": dict(input_shape=(32, 32, 3), include_top=False, pooling="avg"),
}
# families whose preprocessing is outside the model: their module's preprocess_input
PREPROCESS = {
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "ResNet50": "resnet",
    "VGG16": "vgg16",
    "Xception": "xception",
}


def build_both(keras, family, kwargs):
    """The same application from both libraries, Keras's weights (BatchNormalization's
    statistics drawn at random, so they matter) copied into minikeras's."""
    theirs = getattr(keras.applications, family)(weights=None, **kwargs)
    ours = getattr(applications, family)(weights=None, **kwargs)
    rng = np.random.default_rng(0)
    for layer in theirs.layers:
        if type(layer).__name__ == "BatchNormalization":
            values = layer.get_weights()
            n = values[0].shape
            # gamma (if scaled), beta, moving mean, moving variance
            drawn = [rng.normal(0, 0.1, n), rng.normal(0, 0.1, n), rng.uniform(0.5, 2.0, n)]
            if len(values) == 4:
                drawn.insert(0, rng.uniform(0.5, 1.5, n))
            layer.set_weights(drawn)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.fixture(scope="module")
def twins(keras):
    """family → (minikeras model, Keras model), built on first use, float32."""
    built = {}

    def get(family):
        if family not in built:
            with floatx(keras, "float32"):
                built[family] = build_both(keras, family, FAMILIES[family])
        return built[family]

    return get


def _weight_name(name):
    # an unnamed weight (ConvNeXt's LayerScale) is "variable" in minikeras; Keras numbers
    # them across the whole session ("variable_17"): files address weights by position
    return "variable" if re.fullmatch(r"variable(_\d+)?", name) else name


def layer_table(model):
    """(name, class, [(weight name, shape), ...]) of each layer, as both libraries list them."""
    return [
        (
            layer.name,
            type(layer).__name__,
            [(_weight_name(w.name), tuple(w.shape)) for w in layer.weights],
        )
        for layer in model.layers
    ]


def keras_output(model, x):
    # an eager call: predict's tf.function tracing of a deep graph costs seconds
    return np.asarray(model(x, training=False))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_matches_keras_layer_by_layer_and_output(keras, twins, family):
    ours, theirs = twins(family)
    kwargs = FAMILIES[family]
    assert ours.name == theirs.name
    assert layer_table(ours) == layer_table(theirs)
    assert ours.output_shape == tuple(theirs.output_shape)
    assert ours.count_params() == theirs.count_params()
    x = np.random.default_rng(1).uniform(0, 255, (2,) + kwargs["input_shape"]).astype("float32")
    if family in PREPROCESS:
        x = getattr(applications, PREPROCESS[family]).preprocess_input(x)
    want = keras_output(theirs, x)
    got = ours.predict(x, verbose=0)
    assert got.shape == want.shape
    assert rel(got, want) < FLOAT32_NETWORK


def test_mobilenet_in_float64_within_1e_10(keras):
    kwargs = dict(input_shape=(32, 32, 3), alpha=0.25, include_top=False)
    with floatx(keras, "float64"):
        ours, theirs = build_both(keras, "MobileNet", kwargs)
        x = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3))
        assert rel(ours.predict(x, verbose=0), keras_output(theirs, x)) < FLOAT64_NETWORK


def test_keras_weights_files_load_through_the_weights_argument(keras, twins, tmp_path):
    """A `.weights.h5` file Keras wrote, and a legacy `.h5` (Keras 2's format, the format
    of Keras's pretrained ImageNet weights), both given as `weights=path`."""
    _, theirs = twins("MobileNetV2")
    kwargs = FAMILIES["MobileNetV2"]
    theirs.save_weights(tmp_path / "m.weights.h5")
    theirs.save(tmp_path / "legacy.h5")
    x = np.random.default_rng(3).uniform(-1, 1, (2, 33, 35, 3)).astype("float32")
    want = keras_output(theirs, x)
    for path in ("m.weights.h5", "legacy.h5"):
        ours = applications.MobileNetV2(weights=str(tmp_path / path), **kwargs)
        assert rel(ours.predict(x, verbose=0), want) < FLOAT32_NETWORK, path


def test_frozen_base_with_a_new_head_fits_as_keras(keras):
    """keras.io's transfer-learning guide: base.trainable = False, base(x, training=False),
    a pooling and Dense head, Adam; the History, the head and the base after two epochs."""

    def build(K, base):
        base.trainable = False
        inputs = K.Input(shape=(32, 32, 3))
        x = base(inputs, training=False)
        x = K.layers.GlobalAveragePooling2D()(x)
        outputs = K.layers.Dense(1, kernel_initializer="ones", name="head")(x)
        model = K.Model(inputs, outputs)
        model.compile(
            optimizer=K.optimizers.Adam(0.01),
            loss=K.losses.BinaryCrossentropy(from_logits=True),
            metrics=[K.metrics.BinaryAccuracy()],
        )
        return model

    kwargs = dict(input_shape=(32, 32, 3), alpha=0.25, include_top=False)
    with floatx(keras, "float32"):
        ours_base, theirs_base = build_both(keras, "MobileNet", kwargs)
        frozen = [w.copy() for w in ours_base.get_weights()]
        ours, theirs = build(minikeras, ours_base), build(keras, theirs_base)
        rng = np.random.default_rng(4)
        x = rng.uniform(-1, 1, (12, 32, 32, 3)).astype("float32")
        y = rng.integers(0, 2, (12, 1)).astype("float32")
        fit = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
        got, want, drift = fit_both(ours, theirs, x, y, **fit)
        assert sorted(got) == sorted(want)
        for key in want:
            assert rel(np.array(got[key]), np.array(want[key])) < FLOAT32_NETWORK, key
        # the head is the only trainable weight: Adam's division by √v turns float32 rounding
        # into larger steps where a gradient entry is near zero (the drift bound, layer_twins)
        assert_trained_alike(ours, theirs, FLOAT32_NETWORK, drift)
        for before, after in zip(frozen, ours_base.get_weights()):
            np.testing.assert_array_equal(before, after)  # frozen: BN statistics too


BAD_ARGUMENTS = [
    ("MobileNet", dict(weights="no/such/file.h5")),
    ("MobileNet", dict(weights="imagenet", classes=10)),
    ("MobileNet", dict(weights=None, include_top=False, input_shape=(31, 40, 3))),
    ("MobileNet", dict(weights="imagenet", include_top=False, depth_multiplier=2)),
    ("MobileNet", dict(weights="imagenet", include_top=False, alpha=0.3)),
    ("MobileNetV2", dict(weights="imagenet", include_top=False, alpha=0.3)),
    ("ResNet50", dict(weights="imagenet", input_shape=(200, 200, 3))),
    ("ResNet50", dict(weights="imagenet", include_top=False, input_shape=(64, 64, 4))),
    ("VGG16", dict(weights=None, include_top=False, input_shape=(64, 64))),
    ("VGG16", dict(weights=None, input_shape=(None, None, 3))),
    ("ResNet50V2", dict(weights="imagenet", classifier_activation="relu", input_shape=None)),
]


@pytest.mark.parametrize(("family", "kwargs"), BAD_ARGUMENTS, ids=lambda v: str(v)[:50])
def test_bad_arguments_raise_keras_error_before_any_download(keras, family, kwargs):
    messages = []
    for library in (keras.applications, applications):
        with pytest.raises(ValueError) as error:
            getattr(library, family)(**kwargs)
        messages.append(str(error.value))
    ours, theirs = messages[1], messages[0]
    # Keras prints the activation function object; its repr differs between libraries
    cut = "classifier_activation="
    assert ours.split(cut)[0] == theirs.split(cut)[0]


def test_preprocess_input_modes_match_keras(keras):
    rng = np.random.default_rng(5)
    for data_format, shape in (("channels_last", (2, 4, 5, 3)), ("channels_first", (3, 4, 5))):
        for mode in ("caffe", "tf", "torch"):
            x = rng.uniform(0, 255, shape).astype("float32")
            want = keras.applications.imagenet_utils.preprocess_input(x.copy(), data_format, mode)
            got = applications.imagenet_utils.preprocess_input(x.copy(), data_format, mode)
            np.testing.assert_array_equal(got, want)
            ints = x.astype("int32")
            want = keras.applications.imagenet_utils.preprocess_input(ints, data_format, mode)
            got = applications.imagenet_utils.preprocess_input(ints, data_format, mode)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_preprocess_input_in_a_lambda_layer_matches_keras(keras):
    """On a symbolic tensor (a Lambda layer's input) the same arithmetic runs as ops."""
    x = np.random.default_rng(6).uniform(0, 255, (2, 6, 7, 3)).astype("float32")
    for mode in ("caffe", "tf", "torch"):
        outs = []
        for K, module in ((keras, keras.applications), (minikeras, applications)):
            inputs = K.Input(shape=(6, 7, 3))
            outputs = K.layers.Lambda(
                lambda t, m=module, mode=mode: m.imagenet_utils.preprocess_input(t, mode=mode),
                output_shape=(6, 7, 3),
            )(inputs)
            outs.append(K.Model(inputs, outputs).predict(x, verbose=0))
        assert rel(outs[1], outs[0]) < 1e-6, mode


@pytest.mark.parametrize("family", list(GOLDEN_FAMILIES))
def test_larger_families_have_keras_layer_table(family):
    """The families too slow to build in Keras at each run, against digests of Keras's
    layer tables (applications_golden.json, written from Keras by applications_golden.py):
    the same layers, names, classes, weight names and shapes, in the same order."""
    expected = json.loads(GOLDEN_PATH.read_text())[family]
    minikeras.utils.clear_session()  # automatic names count from a fresh session, as recorded
    ours = getattr(applications, family)(weights=None, **GOLDEN_FAMILIES[family])
    assert ours.name == expected["name"]
    assert digest(ours) == expected["digest"]
