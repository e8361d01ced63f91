"""minikeras.applications without Keras: shapes of the built networks, preprocessing worked
by hand, decoding predictions, the input-shape checks, `get_file` (on file:// URLs, so no
network is needed) and the legacy `.h5` weights loader."""

import hashlib
import json

import h5py
import numpy as np
import pytest

from minikeras import applications, layers, models
from minikeras.applications import imagenet_utils
from minikeras.utils import get_file


def test_preprocess_input_modes_worked_by_hand():
    pixel = np.array([[[10.0, 20.0, 30.0]]])  # one RGB pixel, channels_last
    caffe = imagenet_utils.preprocess_input(pixel.copy(), mode="caffe")
    np.testing.assert_allclose(caffe[0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68])
    tf = imagenet_utils.preprocess_input(pixel.copy(), mode="tf")
    np.testing.assert_allclose(tf[0, 0], [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1])
    torch = imagenet_utils.preprocess_input(pixel.copy(), mode="torch")
    expected = [(10 / 255 - 0.485) / 0.229, (20 / 255 - 0.456) / 0.224, (30 / 255 - 0.406) / 0.225]
    np.testing.assert_allclose(torch[0, 0], expected)


def test_preprocess_input_writes_over_a_float_array_and_checks_its_arguments():
    x = np.full((1, 2, 2, 3), 127.5)
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out is x and np.all(x == 0.0)  # in place, as Keras documents
    ints = np.full((1, 2, 2, 3), 255)
    assert imagenet_utils.preprocess_input(ints, mode="tf").dtype == np.float32
    with pytest.raises(ValueError, match="Received: mode=bgr"):
        imagenet_utils.preprocess_input(x, mode="bgr")
    with pytest.raises(ValueError, match="Received: data_format=nhwc"):
        imagenet_utils.preprocess_input(x, data_format="nhwc")


def test_decode_predictions_top_classes_best_first(monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [7, 3, 999]] = [0.2, 0.5, 0.3]
    preds[1, 42] = 1.0
    decoded = applications.mobilenet.decode_predictions(preds, top=3)
    assert [name for _, name, _ in decoded[0]] == ["class_3", "class_999", "class_7"]
    assert decoded[1][0] == ("n00000042", "class_42", np.float32(1.0))
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_obtain_input_shape():
    check = imagenet_utils.obtain_input_shape
    assert check(None, 224, 32, "channels_last", require_flatten=True) == (224, 224, 3)
    assert check(None, 224, 32, "channels_first", require_flatten=False) == (3, None, None)
    assert check((64, 48, 1), 224, 32, "channels_last", require_flatten=False) == (64, 48, 1)
    with pytest.raises(ValueError, match="at least 32x32"):
        check((31, 64, 3), 224, 32, "channels_last", require_flatten=False)
    with pytest.raises(ValueError, match="tuple of three integers"):
        check((64, 3), 224, 32, "channels_last", require_flatten=False)
    with pytest.raises(ValueError, match="3 channels"):
        check((64, 64, 5), 224, 32, "channels_last", require_flatten=False, weights="imagenet")
    with pytest.raises(ValueError, match="static `input_shape`"):
        check((None, None, 3), 224, 32, "channels_last", require_flatten=True)


def test_correct_pad_centres_a_stride_2_convolution():
    even, odd = layers.Input((32, 32, 3)), layers.Input((33, 33, 3))
    assert imagenet_utils.correct_pad(even, 3) == ((0, 1), (0, 1))
    assert imagenet_utils.correct_pad(odd, 5) == ((2, 2), (2, 2))


@pytest.mark.parametrize(
    ("build", "channels"),
    [
        (applications.MobileNet, 1024),
        (applications.MobileNetV2, 1280),
        (applications.ResNet50V2, 2048),
        (applications.VGG19, 512),
        (applications.EfficientNetB0, 1280),
    ],
)
def test_any_number_of_input_channels_and_any_image_size(build, channels):
    for input_channels in (1, 4):
        with (
            pytest.warns(UserWarning, match="1 or 3 input channels")
            if input_channels == 4
            else (_no_warning())
        ):
            model = build(weights=None, include_top=False, input_shape=(None, None, input_channels))
        assert model.output_shape == (None, None, None, channels)


def _no_warning():
    import contextlib

    return contextlib.nullcontext()


def test_input_tensor_brings_the_layers_before_it_into_the_model():
    image = layers.Input((40, 40, 4), name="custom_input")
    x = layers.Conv2D(3, 2, strides=2)(image)
    model = applications.MobileNetV2(weights=None, include_top=False, input_tensor=x, alpha=0.35)
    assert model.inputs[0] is image
    assert model.output_shape == (None, 1, 1, 1280)
    assert model.name == "mobilenetv2_0.35_None"


def test_classifier_activation_is_the_last_layers():
    model = applications.MobileNet(weights=None, alpha=0.25, classifier_activation="softmax")
    assert model.layers[-1].activation.__name__ == "softmax"
    assert model.name == "mobilenet_0.25_224"


def test_get_file_copies_once_into_the_cache_and_checks_the_hash(tmp_path):
    source = tmp_path / "class_index.json"
    source.write_text(json.dumps({"0": ["n0", "zero"]}))
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    cache = tmp_path / "home"
    cache.mkdir()  # as Keras, a cache_dir that is not writable (or absent) means /tmp/.keras
    path = get_file(
        "index.json", source.as_uri(), cache_subdir="models", cache_dir=cache, file_hash=md5
    )
    assert path == str(cache / "models" / "index.json")
    source.write_text("changed")  # the cached copy is used, not fetched again
    again = get_file(
        "index.json", source.as_uri(), cache_subdir="models", cache_dir=cache, file_hash=md5
    )
    assert json.loads(open(again).read()) == {"0": ["n0", "zero"]}
    with pytest.raises(ValueError, match="file hash does not match"):
        get_file("other.json", source.as_uri(), cache_dir=cache, file_hash=md5)


def test_get_file_failure_is_keras_url_fetch_failure_and_leaves_nothing(tmp_path):
    missing = (tmp_path / "absent.h5").as_uri()
    (tmp_path / "home").mkdir()
    with pytest.raises(Exception, match="URL fetch failure on file://"):
        get_file("absent.h5", missing, cache_dir=tmp_path / "home")
    assert not (tmp_path / "home" / "datasets" / "absent.h5").exists()
    with pytest.raises(ValueError, match="origin"):
        get_file("x")


def _tiny_model():
    inputs = layers.Input((4,))
    h = layers.Dense(3, name="d1")(inputs)
    h = layers.BatchNormalization(name="bn")(h)
    return models.Model(inputs, layers.Dense(2, name="d2")(h))


def _write_legacy(path, arrays_per_layer):
    """A Keras 2 weights file: `layer_names`, and per layer `weight_names` + datasets."""
    with h5py.File(path, "w") as f:
        group = f.create_group("model_weights")
        names = [name for name, _ in arrays_per_layer]
        group.attrs["layer_names"] = [n.encode() for n in ["input_layer"] + names]
        group.create_group("input_layer").attrs["weight_names"] = []
        for name, arrays in arrays_per_layer:
            g = group.create_group(name)
            weight_names = [f"{name}/w{i}" for i in range(len(arrays))]
            g.attrs["weight_names"] = [w.encode() for w in weight_names]
            for w, a in zip(weight_names, arrays):
                g.create_dataset(w, data=a)


def test_legacy_h5_weights_load_by_layer_order_and_check_first(tmp_path):
    model = _tiny_model()
    rng = np.random.default_rng(0)
    values = [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    # the file's layer names differ from the model's: legacy loading goes by order
    saved = [("a", values[0:2]), ("b", values[2:6]), ("c", values[6:8])]
    _write_legacy(tmp_path / "w.h5", saved)
    model.load_weights(tmp_path / "w.h5")
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)

    fresh = _tiny_model()
    before = [w.copy() for w in fresh.get_weights()]
    _write_legacy(tmp_path / "short.h5", saved[:2])
    with pytest.raises(ValueError, match="Model expected 3 layers, found 2 saved layers"):
        fresh.load_weights(tmp_path / "short.h5")
    bad = [("a", values[0:2]), ("b", values[2:6]), ("c", [values[6].T, values[7]])]
    _write_legacy(tmp_path / "bad.h5", bad)
    with pytest.raises(ValueError, match="Shape mismatch in layer #2"):
        fresh.load_weights(tmp_path / "bad.h5")
    for got, want in zip(fresh.get_weights(), before):
        np.testing.assert_array_equal(got, want)  # nothing changed


def test_custom_layers_of_the_families_backward_against_central_differences():
    """LayerScale (ConvNeXt) and CustomScaleLayer (InceptionResNetV2) write their backward
    by hand: every weight's gradient through them, in float64, against central differences;
    StochasticDepth is the identity outside training."""
    from minikeras.applications.convnext import LayerScale, StochasticDepth
    from minikeras.applications.inception_resnet_v2 import CustomScaleLayer
    from minikeras.testing import check_gradients

    inputs = layers.Input((3,))
    h = layers.Dense(4, activation="tanh", name="d1")(inputs)
    up = layers.Dense(4, name="d2")(h)
    h = CustomScaleLayer(0.3)([h, up])
    h = LayerScale(0.5, 4, name="scale")(h)
    h = StochasticDepth(0.4)(h)
    model = models.Model(inputs, layers.Dense(2, name="out")(h))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    errors = check_gradients(model, x, y, verbose=False)
    assert set(errors) >= {"scale/variable", "d1/kernel", "d2/kernel", "out/kernel"}
    assert max(errors.values()) < 1e-6
    x32 = x.astype("float32")
    np.testing.assert_array_equal(StochasticDepth(0.4)(x32), x32)


def test_stochastic_depth_drops_whole_examples_and_rescales_the_rest():
    from minikeras.applications.convnext import StochasticDepth

    layer = StochasticDepth(0.5)
    x = np.ones((400, 2, 3))
    y = layer(x, training=True)
    per_example = y.reshape(400, -1)
    assert set(np.unique(per_example)) <= {0.0, 2.0}  # kept examples scaled by 1/0.5
    assert np.all(per_example.min(axis=1) == per_example.max(axis=1))  # whole examples
    assert 0.35 < np.mean(per_example[:, 0] == 0.0) < 0.65
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)


def test_padding_and_cropping_follow_the_global_image_data_format():
    from minikeras import backend

    backend.set_image_data_format("channels_first")
    try:
        x = layers.Input((3, 6, 6))
        assert layers.ZeroPadding2D(((0, 1), (0, 1)))(x).shape == (None, 3, 7, 7)
        assert layers.Cropping2D(((1, 0), (1, 0)))(x).shape == (None, 3, 5, 5)
    finally:
        backend.set_image_data_format("channels_last")
    assert layers.ZeroPadding2D(1)(layers.Input((6, 6, 3))).shape == (None, 8, 8, 3)
