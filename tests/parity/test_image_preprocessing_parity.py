"""The image preprocessing layers against Keras's (TensorFlow backend): outputs for the same
transformation, the transformation's matrices, the gradient that reaches the images, configs,
and a .keras file Keras opens.

Random draws cannot match TensorFlow's stream, so the random layers are compared through
`transform_images(images, transformation)` with a transformation given to both (Keras's own
tests do the same), or with ranges of one value.

Tolerances (normwise, max|a − b| / max|b|):
- index-only work (crops, flips, nearest resizing and sampling, the dtype of the output): 0;
- resampling (bilinear/bicubic/lanczos resizing, bilinear affine sampling), 1e-5: TensorFlow
  computes in float32, minikeras in float64 then rounds to float32; a pixel mixes at most ~11
  terms, so they differ by a few float32 ulps (measured below 3e-6); a wrong centre, kernel
  or matrix is off by 1e-2 or more;
- the colour arithmetic (contrast, brightness) and the affine matrices, 1e-6: the same
  float32 operations, reordered by at most a mean's summation order.
"""

import numpy as np
import pytest

from minikeras import Sequential, layers
from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

RNG = np.random.default_rng(11)
IMAGES = (RNG.random((2, 9, 11, 3)) * 255).astype("float32")
RESAMPLING = 1e-5
ARITHMETIC = 1e-6


def normwise(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def both(keras, name, **kwargs):
    return getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos5", "area"])
@pytest.mark.parametrize("crop_pad", [(False, False), (True, False), (False, True)])
def test_resizing_as_keras(keras, interpolation, crop_pad):
    crop, pad = crop_pad
    for data_format, x in (
        ("channels_last", IMAGES),
        ("channels_first", IMAGES.transpose(0, 3, 1, 2)),
    ):
        ours, theirs = both(
            keras, "Resizing", height=5, width=13, interpolation=interpolation,
            crop_to_aspect_ratio=crop, pad_to_aspect_ratio=pad, fill_value=3.0,
            data_format=data_format,
        )  # fmt: skip
        tolerance = 0 if interpolation == "nearest" else RESAMPLING
        assert normwise(ours(x), theirs(x)) <= tolerance
        assert normwise(ours(x[0]), theirs(x[0])) <= tolerance  # one image
        assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))


@pytest.mark.parametrize("size", [(5, 7), (4, 11), (9, 2), (15, 10), (6, 17)])
def test_center_crop_as_keras(keras, size):
    ours, theirs = both(keras, "CenterCrop", height=size[0], width=size[1])
    tolerance = 0 if size[0] <= 9 and size[1] <= 11 else RESAMPLING  # larger: smart_resize
    assert normwise(ours(IMAGES), theirs(IMAGES)) <= tolerance
    assert normwise(ours(IMAGES[1]), theirs(IMAGES[1])) <= tolerance


@pytest.mark.parametrize("window", [(0, 0), (2, 5), (4, 6)])
def test_random_crop_with_a_given_window_as_keras(keras, window):
    ours, theirs = both(keras, "RandomCrop", height=5, width=5)
    assert (
        normwise(ours.transform_images(IMAGES, window), theirs.transform_images(IMAGES, window))
        == 0
    )
    # inference leaves the images as they are, as Keras's
    assert normwise(ours(IMAGES, training=False), theirs(IMAGES, training=False)) == 0
    # a window larger than the images: the centre at the target's aspect ratio, resized
    big_ours, big_theirs = both(keras, "RandomCrop", height=12, width=8)
    t = big_theirs.get_random_transformation(IMAGES, training=True)
    assert big_ours.get_random_transformation(IMAGES, training=True) == tuple(int(v) for v in t)
    assert (
        normwise(big_ours(IMAGES, training=True), big_theirs(IMAGES, training=True)) <= RESAMPLING
    )


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_with_given_flips_as_keras(keras, mode):
    ours, theirs = both(keras, "RandomFlip", mode=mode)
    t = {"flips": np.array([True, False])[:, None, None, None]}
    assert normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) == 0


def rotation(layer, angle, height=9, width=11):
    zeros, ones = np.zeros_like(angle), np.ones_like(angle)
    return layer._compute_affine_matrix(
        0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros, height, width
    )


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_random_rotation_with_a_given_angle_as_keras(keras, fill_mode, interpolation):
    ours, theirs = both(
        keras, "RandomRotation", factor=0.2, fill_mode=fill_mode, interpolation=interpolation,
        fill_value=5.0,
    )  # fmt: skip
    angle = np.array([23.0, -61.5], "float32")
    matrix = rotation(ours, angle)
    assert (
        normwise(matrix, np.asarray(rotation(theirs, keras.ops.convert_to_tensor(angle))))
        <= ARITHMETIC
    )
    t = {"rotation_matrix": matrix}
    tolerance = RESAMPLING if interpolation == "bilinear" else 0
    assert (
        normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) <= tolerance
    )


@pytest.mark.parametrize("fill_mode", ["reflect", "constant"])
def test_random_zoom_and_translation_with_given_draws_as_keras(keras, fill_mode):
    zoom = {
        "height_zoom": np.array([[0.6], [1.3]], "float32"),
        "width_zoom": np.array([[1.2], [0.7]], "float32"),
    }
    ours, theirs = both(
        keras, "RandomZoom", height_factor=0.5, width_factor=0.5, fill_mode=fill_mode
    )
    assert (
        normwise(ours.transform_images(IMAGES, zoom), theirs.transform_images(IMAGES, zoom))
        <= RESAMPLING
    )
    shift = {"translations": np.array([[2.5, -1.25], [-3.0, 4.5]], "float32")}
    ours, theirs = both(
        keras, "RandomTranslation", height_factor=0.5, width_factor=0.5, fill_mode=fill_mode
    )
    assert (
        normwise(ours.transform_images(IMAGES, shift), theirs.transform_images(IMAGES, shift))
        <= RESAMPLING
    )


def test_contrast_and_brightness_with_given_draws_as_keras(keras):
    ours, theirs = both(keras, "RandomContrast", factor=0.8)
    t = {"contrast_factor": np.array([0.4, 1.7], "float32")[:, None, None, None]}
    assert (
        normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) <= ARITHMETIC
    )
    ours, theirs = both(keras, "RandomBrightness", factor=0.5, value_range=(0, 255))
    t = {"rgb_delta": np.array([60.0, -80.0], "float32")[:, None, None, None]}
    assert (
        normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES.copy(), t))
        <= ARITHMETIC
    )


def keras_input_gradient(keras, layer, x, transformation, dy):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer.transform_images(x, transformation, training=True)
    return tape.gradient(y, x, output_gradients=tf.constant(dy)).numpy()


def test_input_gradients_as_tensorflows(keras):
    """dL/d(images) for the same transformation: flips, crops, contrast and brightness (its
    clip included) as tf.GradientTape gives them; the rotation by half a turn too (a
    permutation; for other angles TensorFlow's gradient of ImageProjectiveTransformV3 warps
    dy back by the inverse transform, which is not the transpose: minikeras gives the exact
    transpose, checked by central differences in tests/unit/test_image_preprocessing.py)."""
    x = IMAGES
    per_image = (slice(None), None, None, None)
    cases = [
        ("RandomFlip", {}, {"flips": np.array([True, False])[per_image]}),
        ("RandomContrast", {"factor": 0.8},
         {"contrast_factor": np.array([0.4, 1.7], "float32")[per_image]}),
        ("RandomBrightness", {"factor": 0.5},
         {"rgb_delta": np.array([60.0, -80.0], "float32")[per_image]}),
        ("RandomRotation", {"factor": 0.5, "fill_mode": "constant"}, None),
    ]  # fmt: skip
    for name, kwargs, t in cases:
        ours, theirs = both(keras, name, **kwargs)
        if name == "RandomRotation":
            t = {"rotation_matrix": rotation(ours, np.array([180.0, -180.0], "float32"))}
        y = ours.transform_images(x, t)
        dy = RNG.normal(size=y.shape).astype("float32")
        ours._last = (True, t, False)  # what a training call on x leaves
        expected = keras_input_gradient(keras, theirs, x, t, dy)
        # (half a turn in float32 is not an exact permutation: sin(π) ≈ −8.7e-8 leaves
        # bilinear weights of ~1e-7 on the neighbours, which the two gradients spread apart)
        tolerance = RESAMPLING if name == "RandomRotation" else ARITHMETIC
        assert normwise(ours.backward(dy), expected) <= tolerance, name


def test_resizing_and_crop_gradients_as_tensorflows(keras):
    import tensorflow as tf

    for ours, theirs in (
        both(keras, "Resizing", height=5, width=14),
        both(keras, "CenterCrop", height=4, width=6),
    ):
        y = ours.forward(IMAGES, training=True)
        dy = RNG.normal(size=y.shape).astype("float32")
        x = tf.constant(IMAGES)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = theirs(x)
        expected = tape.gradient(out, x, output_gradients=tf.constant(dy)).numpy()
        assert normwise(ours.backward(dy), expected) <= RESAMPLING


CONFIGS = [
    (
        "Resizing",
        {"height": 4, "width": 5, "interpolation": "bicubic", "pad_to_aspect_ratio": True},
    ),
    ("CenterCrop", {"height": 4, "width": 4, "data_format": "channels_first"}),
    ("RandomFlip", {"mode": "vertical", "seed": 3}),
    ("RandomRotation", {"factor": (-0.2, 0.3), "fill_mode": "wrap", "seed": 1}),
    ("RandomZoom", {"height_factor": 0.2, "width_factor": (-0.1, 0.3)}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.1, "fill_value": 2.0}),
    ("RandomCrop", {"height": 4, "width": 4, "seed": 9}),
    ("RandomContrast", {"factor": 0.3, "value_range": (0, 1)}),
    ("RandomBrightness", {"factor": (-0.2, 0.4), "value_range": (255, 0)}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_configs_as_keras(keras, name, kwargs):
    ours, theirs = both(keras, name, **kwargs)
    mine, keras_config = ours.get_config(), theirs.get_config()
    for config in (mine, keras_config):
        config.pop("name")
    assert mine == keras_config
    assert type(layers.deserialize(keras.layers.serialize(theirs))) is type(ours)


def test_a_keras_file_of_an_augmented_model_opens_in_keras(keras, tmp_path):
    model = Sequential(
        [
            layers.Input((8, 8, 3)),
            layers.Resizing(6, 6),
            layers.RandomFlip("horizontal", seed=1),
            layers.RandomRotation(0.1, seed=2),
            layers.RandomZoom(0.1),
            layers.RandomContrast(0.2),
            layers.Conv2D(2, 3),
        ]
    )
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = RNG.random((2, 8, 8, 3)).astype("float32")
    # at inference the augmentation is the identity: the same Resizing and Conv2D outputs
    assert normwise(loaded.predict(x, verbose=0), model.predict(x, verbose=0)) <= RESAMPLING
    for ours, theirs in zip(model.layers, loaded.layers):
        assert type(ours).__name__ == type(theirs).__name__


def test_rescaling_as_keras(keras):
    """A per-channel scale on channels-first images, masks passed on, NumPy arguments kept
    in the config as Keras writes them."""
    from minikeras import config

    x = IMAGES.transpose(0, 3, 1, 2)
    before = config.image_data_format()
    try:
        config.set_image_data_format("channels_first")
        keras.config.set_image_data_format("channels_first")
        ours, theirs = both(keras, "Rescaling", scale=[1 / 255, 2 / 255, 3 / 255], offset=0.5)
        assert normwise(ours(x), theirs(x)) <= ARITHMETIC
        assert (
            normwise(ours.backward(np.ones_like(x)), np.ones_like(x) * ours._scale("float32")) == 0
        )
    finally:
        config.set_image_data_format(before)
        keras.config.set_image_data_format(before)
    ours, theirs = both(keras, "Rescaling", scale=np.array(1 / 255), offset=np.array(0.5))
    assert ours.supports_masking and theirs.supports_masking
    mine, keras_config = ours.get_config(), theirs.get_config()
    assert {k: mine[k] for k in ("scale", "offset")} == {
        k: keras_config[k] for k in ("scale", "offset")
    }
    revived = layers.Rescaling.from_config(ours.get_config())
    assert normwise(revived(IMAGES), theirs(IMAGES)) <= ARITHMETIC


def test_affine_transform_wrap_as_tensorflows(keras):
    """TensorFlow's "wrap" moves the source coordinate by whole images (a count found by
    dividing by size − 1) and clamps it, rather than wrapping pixel indices: shifts past the
    edge, and images of one and two pixels, as its kernel."""
    from minikeras import ops

    rng = np.random.default_rng(5)
    for size in (1, 2, 7):
        x = rng.random((2, size + 1, size, 2)).astype("float32")
        t = rng.uniform(-1, 1, (2, 8)).astype("float32")
        t[:, [0, 4]] += 1
        t[:, [2, 5]] *= 30
        t[:, 6:] = 0
        for interpolation in ("nearest", "bilinear"):
            ours = ops.image.affine_transform(x, t, interpolation, "wrap", fill_value=7.0)
            theirs = keras.ops.image.affine_transform(x, t, interpolation, "wrap", fill_value=7.0)
            assert normwise(ours, theirs) <= RESAMPLING


def test_hue_and_saturation_with_given_draws_as_keras(keras):
    """Outputs for the same draws, and the gradient of rgb_to_hsv as TensorFlow's (the HSV
    arithmetic in float32 on both sides; the gradient divides by a pixel's spread: 1e-5).
    TensorFlow has no gradient for HSVToRGB, so Keras's two layers pass none to the images;
    minikeras's tape gives the true one (central differences in the unit tests)."""
    import tensorflow as tf

    x = IMAGES / 255.0
    for name, draws in (("RandomHue", [0.3, -0.2]), ("RandomSaturation", [0.4, 2.5])):
        ours, theirs = both(keras, name, factor=0.5, value_range=(0, 1))
        t = {"factor": np.array(draws, "float32")}
        assert normwise(ours.transform_images(x, t), theirs.transform_images(x, t)) <= ARITHMETIC
    dy = RNG.normal(size=x.shape).astype("float32")
    u = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(u)
        y = tf.image.rgb_to_hsv(u)
    expected = tape.gradient(y, u, output_gradients=tf.constant(dy)).numpy()
    with GradientTape() as tape:
        v = Tensor(x)
        tape.watch(v)
        y = mops.image.rgb_to_hsv(v)
    assert normwise(np.asarray(tape.gradient(y, v, output_gradients=dy)), expected) <= RESAMPLING


BOXES = np.array([[[2.0, 1.0, 4.0, 3.0], [6.0, 4.0, 8.0, 9.5], [0.0, 0.0, 0.0, 0.0]]])
LABELS = np.array([[1, 2, 0]])


def keras_boxes(layer, transformation, image_shape=(1, 10, 8, 3)):
    """Keras's layer's boxes for the same transformation (on fresh copies)."""
    boxes = {"boxes": BOXES.copy(), "labels": LABELS.copy()}
    return layer.transform_bounding_boxes(boxes, transformation, training=True)


def test_bounding_box_formats_as_keras(keras):
    from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes.converters import (
        SUPPORTED_FORMATS,
        convert_format,
    )

    boxes = BOXES[0, :2] * [1.0, 1.5, 2.0, 1.0]
    for source in SUPPORTED_FORMATS:
        for target in SUPPORTED_FORMATS:
            ours = convert_format(boxes, source, target, height=10, width=8)
            theirs = keras.utils.bounding_boxes.convert_format(boxes, source, target, 10, 8)
            assert normwise(ours, theirs) <= ARITHMETIC, (source, target)


@pytest.mark.parametrize(
    "name, kwargs, transformation",
    [
        ("Resizing", {"height": 20, "width": 20}, (10, 8)),
        ("Resizing", {"height": 20, "width": 14, "crop_to_aspect_ratio": True}, (10, 8)),
        ("Resizing", {"height": 12, "width": 20, "pad_to_aspect_ratio": True}, (10, 8)),
        ("CenterCrop", {"height": 6, "width": 5}, {"input_shape": (1, 10, 8, 3)}),
        ("CenterCrop", {"height": 12, "width": 5}, {"input_shape": (1, 10, 8, 3)}),
        ("RandomFlip", {"mode": "horizontal_and_vertical"},
         {"flips": np.array([[[[True]]]]), "input_shape": (1, 10, 8, 3)}),
        ("RandomFlip", {"mode": "vertical"},
         {"flips": np.array([[[[True]]]]), "input_shape": (1, 10, 8, 3)}),
        ("RandomCrop", {"height": 6, "width": 5}, (2, 1)),
    ],
)  # fmt: skip
def test_bounding_boxes_moved_as_keras(keras, name, kwargs, transformation):
    ours, theirs = both(keras, name, bounding_box_format="xyxy", **kwargs)
    expected = keras_boxes(theirs, transformation)
    got = ours.transform_bounding_boxes(
        {"boxes": BOXES.copy(), "labels": LABELS.copy()}, transformation, training=True
    )
    assert normwise(got["boxes"], expected["boxes"]) <= ARITHMETIC
    np.testing.assert_array_equal(got["labels"], np.asarray(expected["labels"]))


def test_degeneration_and_sharpness_with_given_draws_as_keras(keras):
    ours, theirs = both(keras, "RandomColorDegeneration", factor=0.5)
    t = {"factor": np.array([0.3, -0.6], "float32")[:, None, None, None]}
    assert (
        normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) <= ARITHMETIC
    )
    for data_format, x in (
        ("channels_last", IMAGES),
        ("channels_first", IMAGES.transpose(0, 3, 1, 2)),
    ):
        ours, theirs = both(keras, "RandomSharpness", factor=0.5, data_format=data_format)
        t = {"factor": np.array([0.2, 0.9], "float32")}
        assert normwise(ours.transform_images(x, t), theirs.transform_images(x, t)) <= ARITHMETIC


def test_a_keras_file_with_image_layers_opens_in_minikeras(keras, tmp_path):
    keras_model = keras.Sequential(
        [
            keras.layers.Input((8, 8, 3)),
            keras.layers.Resizing(6, 5, interpolation="bicubic"),
            keras.layers.RandomRotation(0.2, fill_mode="wrap"),
            keras.layers.CenterCrop(4, 4),
        ]
    )
    keras_model.save(tmp_path / "images.keras")
    from minikeras import saving

    loaded = saving.load_model(tmp_path / "images.keras")
    x = RNG.random((2, 8, 8, 3)).astype("float32")
    assert normwise(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0)) <= RESAMPLING
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Resizing", "RandomRotation", "CenterCrop"
    ]  # fmt: skip
