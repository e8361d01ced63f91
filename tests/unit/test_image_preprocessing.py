"""The image preprocessing and augmentation layers: backward passes against their exact
gradients (float64), the random draws (ranges, seeds), inference, configs and files, and a
model that trains with augmentation in front of a Conv2D.

Gradients: once its transformation is drawn, each layer is affine in the images (an inversion
adds a constant; the colour layers are affine only up to their clip), so its exact input
gradient is Jᵀ·dy with column i of J the output for the unit image eᵢ less the output for 0:
`linear_gradient` builds that without a step size, to rounding (~1e-15 relative; tolerance
1e-10). The clipped layers use central differences (ε = 1e-6, float64: no truncation error
on a piecewise-linear map away from its kinks, rounding ~1e-16·|L|/ε ≈ 1e-9 for the |L| ≈ 10
of these sums; tolerance 1e-8). Resizing computes in float32, as TensorFlow's kernels do,
whatever the input's dtype: 1e-6. A wrong index, weight or fold is off by O(1).
"""

import json

import numpy as np
import pytest

from minikeras import Sequential, layers, ops, saving
from minikeras.autodiff import GradientTape, Tensor
from minikeras.testing.gradient_check import numerical_gradient

RNG = np.random.default_rng(3)
LINEAR_TOL, CLIPPED_TOL, FLOAT32_TOL = 1e-10, 1e-8, 1e-6


def relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def linear_gradient(f, x, dy):
    """Jᵀ·dy for a function f affine in x: entry i is Σ dy·(f(eᵢ) − f(0))."""
    grad = np.zeros(x.shape)
    at_zero = f(np.zeros(x.shape))
    for index in np.ndindex(x.shape):
        unit = np.zeros(x.shape)
        unit[index] = 1.0
        grad[index] = np.sum(dy * (f(unit) - at_zero))
    return grad


def check_transform_gradient(layer, x, transformation, linear=True):
    """backward_images(dy) against the gradient of Σ dy·transform_images(x)."""
    y = layer.transform_images(x, transformation, training=True)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward_images(dy, transformation)
    assert dx.shape == x.shape
    if linear:
        expected = linear_gradient(lambda u: layer.transform_images(u, transformation), x, dy)
        assert relative_error(dx, expected) < LINEAR_TOL
    else:
        probe = x.copy()
        expected = numerical_gradient(
            lambda: np.sum(dy * layer.transform_images(probe, transformation)), probe
        )
        assert relative_error(dx, expected) < CLIPPED_TOL


def images(shape=(2, 4, 5, 1)):
    return RNG.uniform(0, 1, size=shape)


AFFINE_OPTIONS = [
    ("reflect", "bilinear"),
    ("wrap", "bilinear"),
    ("constant", "bilinear"),
    ("nearest", "bilinear"),
    ("reflect", "nearest"),
    ("constant", "nearest"),
]


@pytest.mark.parametrize("fill_mode, interpolation", AFFINE_OPTIONS)
def test_rotation_backward_is_the_transpose_of_its_resampling(fill_mode, interpolation):
    layer = layers.RandomRotation(
        0.3, fill_mode=fill_mode, interpolation=interpolation, dtype="float64"
    )
    x = images()
    check_transform_gradient(layer, x, layer.get_random_transformation(x))


@pytest.mark.parametrize("fill_mode", ["reflect", "constant"])
def test_zoom_translation_shear_backward_channels_first(fill_mode):
    x = images((2, 1, 4, 5))
    for layer in (
        layers.RandomZoom((-0.4, 0.5), (0.2, 0.6), fill_mode=fill_mode, dtype="float64",
                          data_format="channels_first"),
        layers.RandomTranslation(0.3, (-0.5, 0.2), fill_mode=fill_mode, dtype="float64",
                                 data_format="channels_first"),
        layers.RandomShear(0.4, 0.3, fill_mode=fill_mode, dtype="float64",
                           data_format="channels_first"),
    ):  # fmt: skip
        check_transform_gradient(layer, x, layer.get_random_transformation(x))


def test_flip_mix_invert_grayscale_backward():
    x = images((3, 2, 3, 3))
    flip = layers.RandomFlip(dtype="float64")
    check_transform_gradient(flip, x, {"flips": np.array([True, False, True])[:, None, None, None]})
    mix = {"mix_weight": np.array([0.2, 0.7, 0.5]), "permutation_order": np.array([2, 0, 1])}
    check_transform_gradient(layers.MixUp(dtype="float64"), x, mix)
    cut = layers.CutMix(dtype="float64", seed=2)
    check_transform_gradient(cut, x, cut.get_random_transformation(x))
    invert = {"apply_inversion": np.array([True, False, True])}
    check_transform_gradient(layers.RandomInvert(dtype="float64"), x, invert)
    gray = np.array([True, False, True])[:, None, None, None]
    check_transform_gradient(layers.RandomGrayscale(dtype="float64"), x, gray)
    erase = layers.RandomErasing((1.0, 1.0), scale=(0.3, 0.5), dtype="float64", seed=1)
    check_transform_gradient(erase, x, erase.get_random_transformation(x))


def test_clipped_colour_layers_backward():
    x = images((2, 3, 4, 2))
    contrast = layers.RandomContrast((0.4, 0.9), value_range=(0, 1), dtype="float64")
    factor = {"contrast_factor": np.array([0.7, 1.8])[:, None, None, None]}
    check_transform_gradient(contrast, x, factor, linear=False)
    brightness = layers.RandomBrightness(0.5, value_range=(0, 1), dtype="float64")
    delta = {"rgb_delta": np.array([0.3, -0.25])[:, None, None, None]}
    check_transform_gradient(brightness, x, delta, linear=False)
    # the clips were active on some pixels (the gradient is zero there): a real test of them
    assert (x + 0.3 > 1).any() and (x - 0.25 < 0).any()
    solarize = layers.Solarization(0.2, (0.4, 0.6), value_range=(0, 1), dtype="float64")
    draws = {"additions": np.array([10.0, 60.0])[:, None, None, None],
             "thresholds": np.array([120.0, 140.0])[:, None, None, None]}  # fmt: skip
    check_transform_gradient(solarize, x, draws, linear=False)
    auto = layers.AutoContrast(value_range=(0, 1), dtype="float64")
    check_transform_gradient(auto, x, None, linear=False)


@pytest.mark.parametrize(
    "layer, tolerance",
    [
        (layers.RandomRotation((0.1, 0.1), dtype="float64"), LINEAR_TOL),  # one angle
        (layers.RandomZoom((-0.3, -0.3), dtype="float64"), LINEAR_TOL),
        (layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3), dtype="float64"), LINEAR_TOL),
        (layers.Resizing(3, 7, dtype="float64"), FLOAT32_TOL),  # (the tape's backward)
        (layers.CenterCrop(3, 2, dtype="float64"), LINEAR_TOL),
        (layers.CenterCrop(6, 2, dtype="float64"), FLOAT32_TOL),  # taller: the resize path
        (layers.RandomCrop(3, 2, seed=4, dtype="float64"), LINEAR_TOL),
        (
            layers.RandomGaussianBlur(
                (1.0, 1.0), sigma=(0.5, 0.5), value_range=(-9, 9), dtype="float64"
            ),
            LINEAR_TOL,
        ),  # fmt: skip
    ],
    ids=lambda p: type(p).__name__ if isinstance(p, layers.Layer) else "",
)
def test_backward_of_a_training_call_unbatched_and_batched(layer, tolerance):
    """`backward` after `forward(training=True)` (hand-written, or the tape's for the layers
    made of ops) against the exact gradient of the call (its draws held fixed)."""
    for x in (images((4, 5, 1)), images((2, 4, 5, 1))):

        def call(u):
            if hasattr(layer, "generator"):  # the same draws at every call
                layer.generator = type(layer.generator)(4)
            return layer.forward(u, training=True)

        y = call(x)
        dy = RNG.normal(size=y.shape)
        dx = layer.backward(dy)
        assert relative_error(dx, linear_gradient(call, x, dy)) < tolerance


@pytest.mark.parametrize(
    "layer",
    [
        layers.RandomFlip(),
        layers.RandomRotation(0.2),
        layers.RandomZoom(0.2),
        layers.RandomTranslation(0.2, 0.2),
        layers.RandomContrast(0.5),
        layers.RandomBrightness(0.5),
        layers.RandomShear(0.2, 0.2),
        layers.RandomGrayscale(),
        layers.RandomInvert(),
        layers.Solarization(),
        layers.RandomPosterization(4),
        layers.MixUp(),
        layers.CutMix(),
        layers.RandomErasing(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_inference_is_the_identity_forward_and_backward(layer):
    x = images((2, 5, 6, 3)).astype("float32")
    y = layer(x, training=False)
    np.testing.assert_array_equal(y, x)
    layer.forward(x, training=False)
    dy = RNG.normal(size=x.shape).astype("float32")
    np.testing.assert_array_equal(layer.backward(dy), dy)


def test_called_directly_the_random_layers_augment_as_keras():
    """Keras reads an unspecified `training` from `call`'s signature (True) outside a model."""
    x = np.arange(25.0).reshape(1, 5, 5, 1)
    np.testing.assert_allclose(
        layers.RandomRotation((0.5, 0.5))(x)[0, ..., 0], x[0, ::-1, ::-1, 0], atol=1e-4
    )
    model = Sequential([layers.Input((5, 5, 1)), layers.RandomRotation((0.5, 0.5))])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference in a model


def test_a_seed_reproduces_the_draws_and_each_call_draws_anew():
    x = images((4, 6, 6, 1))
    a, b = layers.RandomRotation(0.3, seed=11), layers.RandomRotation(0.3, seed=11)
    first_a, first_b = a(x), b(x)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.allclose(a(x), first_a)  # the SeedGenerator moved on
    assert not np.allclose(layers.RandomRotation(0.3, seed=12)(x), first_a)


def test_the_draws_cover_their_ranges():
    x = np.zeros((4000, 1, 1, 1), "float32")
    angles = layers.RandomRotation((-0.1, 0.25), seed=1).get_random_transformation(x)["angle"]
    assert -36 <= angles.min() < -35 and 89 < angles.max() < 90
    zoom = layers.RandomZoom((-0.5, 0.2), seed=1).get_random_transformation(x)
    assert 0.5 <= zoom["height_zoom"].min() < 0.51 and 1.19 < zoom["height_zoom"].max() <= 1.2
    assert zoom["width_zoom"] is zoom["height_zoom"]  # no width_factor: the same zoom
    flips = layers.RandomFlip(seed=1).get_random_transformation(x)["flips"]
    assert 0.45 < flips.mean() < 0.55
    delta = layers.RandomBrightness((-0.2, 0.4), value_range=(0, 10), seed=1)
    delta = delta.get_random_transformation(x)["rgb_delta"]
    assert -2 <= delta.min() < -1.9 and 3.9 < delta.max() <= 4
    # RandomContrast's factor f alone is the range (0, f), as Keras's: the contrast grows
    factor = layers.RandomContrast(0.5, seed=1).get_random_transformation(x)["contrast_factor"]
    assert 1 <= factor.min() < 1.01 and 1.49 < factor.max() <= 1.5


def test_random_crop_window_is_uniform_over_the_places_that_fit():
    layer = layers.RandomCrop(2, 3, seed=5)
    starts = {layer.get_random_transformation(np.zeros((1, 4, 6, 1))) for _ in range(300)}
    assert starts == {(h, w) for h in range(3) for w in range(4)}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.RandomRotation(1.5), "The `factor` argument should be a number"),
        (lambda: layers.RandomZoom(-1.0), "in the range \\(-1.0, 1.0\\]"),
        (lambda: layers.RandomTranslation(0.1, [0.1, 0.2, 0.3]), "Received: width_factor="),
        (lambda: layers.RandomContrast(-0.1), "in the range \\[0, 1\\]"),
        (lambda: layers.RandomBrightness(0.1, value_range=[1]), "`value_range` argument"),
        (lambda: layers.RandomFlip(factor=0.1), "does not take a `factor` argument"),
    ],
)
def test_bad_arguments_raise_as_keras(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_fill_mode_and_rank():
    with pytest.raises(NotImplementedError, match="Unknown `fill_mode` mirror"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="rank 3 \\(single image\\) or 4"):
        layers.RandomFlip()(np.zeros((3, 3)))


def test_a_model_with_augmentation_before_conv2d_trains_and_saves(tmp_path):
    x = RNG.uniform(0, 1, size=(16, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    model = Sequential(
        [
            layers.Input((8, 8, 3)),
            layers.RandomFlip("horizontal", seed=1),
            layers.RandomRotation(0.1, seed=2),
            layers.RandomZoom(0.1, seed=3),
            layers.RandomTranslation(0.1, 0.1, seed=4),
            layers.RandomContrast(0.2, value_range=(0, 1), seed=5),
            layers.RandomBrightness(0.1, value_range=(0, 1), seed=6),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = saving.load_model(path)
    for before, after in zip(model.layers, loaded.layers):
        # (through JSON a tuple comes back a list, in Keras too)
        assert type(after) is type(before)
        assert json.dumps(after.get_config()) == json.dumps(before.get_config())
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_on_a_gradient_tape_the_input_gradient_is_the_backward():
    x = images((1, 5, 5, 1)).astype("float32")
    layer = layers.RandomRotation((0.25, 0.25), fill_mode="constant")
    t = Tensor(x)
    with GradientTape() as tape:
        tape.watch(t)
        y = layer(t, training=True)
        target = ops.sum(y * y)
    dx = tape.gradient(target, t)
    layer.forward(x, training=True)
    np.testing.assert_allclose(dx, layer.backward(2 * np.asarray(y)), rtol=1e-6)


def test_dict_inputs_transform_images_labels_and_masks_together():
    data = {
        "images": images((2, 4, 5, 3)),
        "labels": RNG.random((2, 7)),
        "segmentation_masks": RNG.integers(0, 3, (2, 4, 5, 1)).astype("float32"),
    }
    out = layers.RandomCrop(3, 3, seed=1)(dict(data))
    assert out["images"].shape == (2, 3, 3, 3) and out["segmentation_masks"].shape == (2, 3, 3, 1)
    np.testing.assert_array_equal(out["labels"], data["labels"])
    with pytest.raises(ValueError, match="bounding box format"):
        layers.RandomFlip()({"images": data["images"], "bounding_boxes": {}})


@pytest.mark.parametrize(
    "layer",
    [
        layers.RandomHue((0.3, 0.3), value_range=(0, 1), dtype="float64"),
        layers.RandomSaturation((0.3, 0.8), value_range=(0, 1), dtype="float64"),
        layers.RandomColorJitter(
            (0, 1),
            brightness_factor=0.1,
            contrast_factor=0.3,
            saturation_factor=0.6,
            hue_factor=0.2,
            dtype="float64",
        ),
    ],  # fmt: skip
    ids=lambda layer: type(layer).__name__,
)
def test_hsv_layers_backward_through_the_tape(layer):
    """dx of a training call (the tape's through rgb_to_hsv and back, or the jitter's steps in
    reverse) against central differences of the call, its draws held fixed (away from the
    kinks of max and the hue's fold, which random pixels do not meet)."""
    x = images((2, 2, 3, 3)) * 0.8 + 0.1

    def call(u):
        for owner in [layer, *getattr(layer, "_steps", [])]:
            owner.generator = type(owner.generator)(7)  # the same draws at every call
        return layer.forward(u, training=True)

    dy = RNG.normal(size=call(x).shape)
    dx = layer.backward(dy)
    probe = x.copy()
    expected = numerical_gradient(lambda: np.sum(dy * call(probe)), probe)
    assert relative_error(dx, expected) < CLIPPED_TOL


def test_a_dict_is_updated_in_place_as_keras_does():
    """Keras's layers write the transformed entries back into the dict they are given."""
    data = {"images": images((2, 4, 5, 3)), "segmentation_masks": images((2, 4, 5, 1))}
    out = layers.RandomCrop(3, 3, seed=1)(data)
    assert out is data and data["images"].shape == (2, 3, 3, 3)
    assert data["segmentation_masks"].shape == (2, 3, 3, 1)


def test_degeneration_and_sharpness_backward():
    x = images((2, 4, 5, 3))
    degenerate = layers.RandomColorDegeneration(0.5, value_range=(0, 1), dtype="float64")
    draws = {"factor": np.array([0.3, -0.6])[:, None, None, None]}
    check_transform_gradient(degenerate, x, draws, linear=False)
    for data_format, u in (("channels_last", x), ("channels_first", np.moveaxis(x, -1, 1))):
        sharpen = layers.RandomSharpness(
            0.5, value_range=(-9, 9), data_format=data_format, dtype="float64"
        )
        check_transform_gradient(sharpen, u, {"factor": np.array([0.2, 0.9])})
