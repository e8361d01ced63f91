"""Equalization, CLAHE, RandomPerspective, RandomElasticTransform, RandAugment, AugMix and
MaxNumBoundingBoxes: their backward passes against exact gradients (float64), their random
draws (ranges, seeds), and a model that fits with them in front of a Conv2D.

Tolerances, as in test_image_preprocessing.py: a layer affine in the images once its draws
are made (the warps, and chains of affine augmentations) is checked against Jᵀ·dy built
column by column (`linear_gradient`, no step size: rounding only, 1e-10); a clipped or
piecewise-constant one (the histogram layers, posterization) against central differences at
points away from its kinks (ε = 1e-6 in float64, 1e-8). A wrong weight or fold is off by O(1).
"""

import numpy as np
import pytest

from minikeras import Sequential, layers
from minikeras.testing.gradient_check import numerical_gradient

RNG = np.random.default_rng(5)
LINEAR_TOL, CLIPPED_TOL = 1e-10, 1e-8


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
    dy = RNG.normal(size=np.shape(y))
    dx = layer.backward_images(dy, transformation)
    assert dx.shape == x.shape
    if linear:
        expected = linear_gradient(lambda u: layer.transform_images(u, transformation), x, dy)
        tolerance = LINEAR_TOL
    else:
        probe = x.copy()
        expected = numerical_gradient(
            lambda: np.sum(dy * layer.transform_images(probe, transformation)), probe
        )
        tolerance = CLIPPED_TOL
    assert relative_error(dx, expected) < tolerance
    return dx


def corners(height, width):
    return np.array([[[0.0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]]])


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_perspective_backward_is_the_transpose_of_its_warp(interpolation, data_format):
    layer = layers.RandomPerspective(
        interpolation=interpolation, fill_value=0.5, data_format=data_format, dtype="float64"
    )
    start = np.repeat(corners(4, 5), 2, axis=0)
    moves = np.array([[[0.3, 0.1], [-0.2, 0.4], [0.1, -0.3], [0.35, 0.2]]] * 2)
    t = {"apply_perspective": np.array([True, False]), "start_points": start,
         "end_points": start + start * moves}  # fmt: skip
    shape = (2, 4, 5, 2) if data_format == "channels_last" else (2, 2, 4, 5)
    x = RNG.uniform(0, 1, shape)
    dx = check_transform_gradient(layer, x, t)
    assert not np.allclose(dx[0], 0)


def test_elastic_backward_is_the_transpose_of_its_resampling():
    for fill_mode, interpolation in [("reflect", "bilinear"), ("constant", "nearest"),
                                     ("mirror", "bilinear")]:  # fmt: skip
        layer = layers.RandomElasticTransform(
            fill_mode=fill_mode, interpolation=interpolation, value_range=(-50, 50),
            dtype="float64",
        )  # fmt: skip
        # an int seed draws the same field at every call: f is one fixed resampling
        t = {"apply_transform": np.array([True, False]), "distortion_factor": 3.0, "seed": 7}
        check_transform_gradient(layer, RNG.uniform(0, 1, (2, 4, 5, 1)), t)
    # the clip to value_range stops the gradient where it acted
    layer = layers.RandomElasticTransform(value_range=(0.2, 0.8), dtype="float64")
    t = {"apply_transform": np.array([True]), "distortion_factor": 3.0, "seed": 7}
    x = RNG.uniform(0, 1, (1, 4, 5, 1))
    check_transform_gradient(layer, x, t, linear=False)


def test_histogram_layers_pass_no_gradient_but_through_a_flat_channel():
    x = np.floor(RNG.uniform(0, 255, (2, 4, 4, 2))) + 0.5  # half-way between the bins' edges
    x[..., 1] = 100.5  # one filled bin: Equalization leaves this channel as it is
    layer = layers.Equalization(dtype="float64")
    layer.transform_images(x, None)
    dy = RNG.normal(size=x.shape)
    dx = layer.backward_images(dy, None)
    np.testing.assert_array_equal(dx[..., 0], 0)
    np.testing.assert_array_equal(dx[..., 1], dy[..., 1])
    # central differences agree; their rounding is ~1e-16·|L|/ε ≈ 1e-7 here (|L| ≈ Σ|dy·x|)
    probe = x.copy()
    expected = numerical_gradient(lambda: np.sum(dy * layer.transform_images(probe, None)), probe)
    assert np.max(np.abs(dx - expected)) < 1e-6
    clahe = layers.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(2, 2), dtype="float64"
    )
    y = clahe(x)
    assert np.array_equal(clahe.backward(np.ones_like(y)), np.zeros_like(x))
    probe = x.copy()
    assert np.all(numerical_gradient(lambda: np.sum(clahe.transform_images(probe)), probe) == 0)


def test_rand_augment_backward_is_the_chain_rule_through_its_picks():
    # images in (0, 1): the differences' rounding, ~1e-16·|L|/ε, stays near 1e-9
    x = RNG.uniform(0.08, 0.9, (1, 3, 4, 3))
    layer = layers.RandAugment((0, 1), num_ops=2, factor=0.4, seed=3, dtype="float64")
    t = layer.get_random_transformation(x)
    for picks in ([0, 2], [2, 2], [1, 0]):  # warps only: affine in x
        t["layer_idxes"] = np.array(picks)
        check_transform_gradient(layer, x, t)
    for picks in ([5, 6], [4, 9], [3, 3], [8, 1], [10, 2]):  # through clips and tables
        t["layer_idxes"] = np.array(picks)
        check_transform_gradient(layer, x, t, linear=False)


def test_aug_mix_backward_is_the_mixture_of_its_chains():
    x = RNG.uniform(0.08, 0.9, (1, 3, 4, 3))
    layer = layers.AugMix((0, 1), seed=3, dtype="float64")
    t = layer.get_random_transformation(x)
    draws = {s["layer_name"]: s["transformation"] for c in t["chain_transforms"] for s in c}
    for name in ("random_shear", "random_rotation", "random_translation", "random_contrast"):
        if name not in draws:
            draws[name] = getattr(layer, name).get_random_transformation(x)
    steps = lambda *names: [{"layer_name": n, "transformation": draws[n]} for n in names]  # noqa: E731
    t["chain_transforms"] = [steps("random_shear"), steps("random_rotation", "random_shear"), []]
    check_transform_gradient(layer, x, t)
    t["chain_transforms"] = [steps("random_contrast", "random_translation"), steps(), steps()]
    check_transform_gradient(layer, x, t, linear=False)


def test_the_draws_cover_their_ranges_and_a_seed_repeats_them():
    x = np.zeros((2000, 3, 4, 1), "float32")
    t = layers.RandomPerspective(factor=(0.3, 0.3), scale=0.4, seed=1).get_random_transformation(x)
    assert 0.27 < t["apply_perspective"].mean() < 0.33
    moves = (t["end_points"] - t["start_points"])[:, 1:] / t["start_points"][:, 1:].clip(1e-9)
    moves = moves[t["start_points"][:, 1:] > 0]
    assert -0.2 <= moves.min() < -0.19 and 0.19 < moves.max() <= 0.2
    elastic = layers.RandomElasticTransform(factor=(0.5, 0.5), scale=(0.2, 0.6), seed=1)
    t = elastic.get_random_transformation(x)
    assert 0.45 < t["apply_transform"].mean() < 0.55 and 0.2 <= t["distortion_factor"] < 0.6
    picks = np.concatenate(
        [layers.RandAugment(num_ops=50, seed=s).get_random_transformation(x[:1])["layer_idxes"]
         for s in range(40)]
    )  # fmt: skip
    assert set(picks.tolist()) == set(range(11))
    aug = layers.AugMix(num_chains=4, chain_depth=2, seed=2).get_random_transformation(x[:1])
    assert abs(np.sum(aug["chain_mixing_weights"]) - 1) < 1e-6
    assert 0 <= aug["weight_sample"] <= 1 and all(len(c) <= 2 for c in aug["chain_transforms"])
    # the same seed, the same draws; each call draws anew
    images = RNG.uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    for make in (
        lambda: layers.RandomPerspective(seed=4),
        lambda: layers.RandomElasticTransform(seed=4),
        lambda: layers.RandAugment(num_ops=3, seed=4),
        lambda: layers.AugMix(seed=4),
    ):
        a, b = make(), make()
        first = a(images)
        np.testing.assert_array_equal(first, b(images))
        assert not np.array_equal(a(images), first) or not np.array_equal(a(images), first)


def test_inference_and_no_op_settings_leave_the_images():
    x = RNG.uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    for layer in (layers.RandomPerspective(), layers.RandomElasticTransform(),
                  layers.RandAugment(), layers.AugMix(), layers.Equalization()):  # fmt: skip
        np.testing.assert_array_equal(layer(x, training=False), x)
        np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    np.testing.assert_array_equal(layers.RandomPerspective(factor=0)(x), x)
    np.testing.assert_array_equal(layers.RandomElasticTransform(scale=0)(x), x)
    np.testing.assert_array_equal(layers.RandAugment(num_ops=0)(x), x)


def test_bad_arguments_raise_as_keras():
    with pytest.raises(ValueError, match="`scale` argument should be a number in the range"):
        layers.RandomPerspective(scale=1.5)
    with pytest.raises(NotImplementedError, match="Unknown `interpolation` cubic"):
        layers.RandomPerspective(interpolation="cubic")
    with pytest.raises(ValueError, match="`scale` argument should be a number"):
        layers.RandomElasticTransform(scale=2)
    with pytest.raises(NotImplementedError, match="Unknown `fill_mode` edge"):
        layers.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match="`factor` argument should be a number"):
        layers.RandAugment(factor=1.5)
    with pytest.raises(ValueError, match="`value_range` argument should be a list of two"):
        layers.Equalization(value_range=5)
    with pytest.raises(KeyError, match="unsupported keys in `bounding_boxes`: \\['scores'\\]"):
        layers.MaxNumBoundingBoxes(3).compute_output_shape(
            {
                "images": (1, 4, 4, 3),
                "bounding_boxes": {"boxes": (1, 2, 4), "labels": (1, 2), "scores": (1, 2)},
            }  # fmt: skip
        )


def test_max_num_bounding_boxes_pads_and_cuts():
    boxes = {"boxes": np.arange(12.0).reshape(1, 3, 4), "labels": np.array([[1, 2, 3]])}
    data = {"images": np.zeros((1, 4, 4, 3)), "bounding_boxes": dict(boxes)}
    out = layers.MaxNumBoundingBoxes(2, bounding_box_format="xyxy")(data)["bounding_boxes"]
    assert out["labels"].tolist() == [[1, 2]] and out["boxes"].shape == (1, 2, 4)
    data = {"images": np.zeros((4, 4, 3)), "bounding_boxes": {k: v[0] for k, v in boxes.items()}}
    layer = layers.MaxNumBoundingBoxes(5, fill_value=-7, bounding_box_format="xyxy")
    out = layer(data)["bounding_boxes"]
    assert out["labels"].tolist() == [1, 2, 3, -7, -7] and out["boxes"][4].tolist() == [-7] * 4


def test_a_model_with_these_layers_before_conv2d_fits():
    x = RNG.uniform(0, 255, (16, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 127).astype("float32")
    model = Sequential(
        [
            layers.Input((8, 8, 3)),
            layers.Equalization(),
            layers.RandomPerspective(scale=0.3, seed=1),
            layers.RandomElasticTransform(scale=0.5, seed=2),
            layers.RandAugment(seed=3),
            layers.AugMix(seed=4),
            layers.Rescaling(1 / 255),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    kernel = model.layers[6].kernel.numpy().copy()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert not np.allclose(model.layers[6].kernel.numpy(), kernel)  # the Conv2D learned
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_docstring_examples_run():
    import doctest
    import importlib

    base = "minikeras.layers.preprocessing.image_preprocessing."
    for name in ("equalization", "random_perspective", "random_elastic_transform",
                 "rand_augment", "aug_mix", "max_num_bounding_box", "bounding_boxes.iou",
                 "bounding_boxes.geometry"):  # fmt: skip
        result = doctest.testmod(importlib.import_module(base + name))
        assert result.attempted > 0 and result.failed == 0, name
    result = doctest.testmod(importlib.import_module("minikeras.utils.bounding_boxes"))
    assert result.attempted > 0 and result.failed == 0
