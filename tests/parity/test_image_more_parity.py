"""Equalization, CLAHE, RandomPerspective, RandomElasticTransform, RandAugment, AugMix and
MaxNumBoundingBoxes against Keras's (TensorFlow backend), for the same draws: pixels, boxes
and configs.

The draws themselves cannot match TensorFlow's stream, so both layers are given one
transformation (Keras's own tests do the same).

Tolerances (normwise, max|a − b| / max|b|):
- table lookups and padding (Equalization, CLAHE, MaxNumBoundingBoxes, nearest sampling): 0,
  except where `value_range` is not [0, 255]: the map there and back is float32 arithmetic
  in another order, 1e-6;
- bilinear resampling (the warps, and the chains that contain one), 1e-5: TensorFlow
  computes in float32, minikeras in float64 then rounds to float32 (measured below 2e-6); a
  wrong corner, weight or fold is off by 1e-2 or more. A table lookup (posterization,
  equalization) after a resampling can put a pixel one float32 ulp across a bin edge, so the
  chains compared here put the lookups first.
"""

import copy

import numpy as np
import pytest

from minikeras import layers
from minikeras.ops.image import elastic_coordinates

RNG = np.random.default_rng(17)
IMAGES = (RNG.random((2, 9, 11, 3)) * 255).astype("float32")
RESAMPLING = 1e-5
ARITHMETIC = 1e-6


def normwise(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def both(keras, name, **kwargs):
    return getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


@pytest.mark.parametrize(
    "value_range, bins, data_format",
    [((0, 255), 256, "channels_last"), ((0, 1), 64, "channels_first"), ((-1, 1), 16, None)],
)
def test_equalization_as_keras(keras, value_range, bins, data_format):
    low, high = value_range
    x = (IMAGES / 255 * (high - low) + low).astype("float32")
    x[..., 1] = low  # a flat channel: left as it is
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    ours, theirs = both(
        keras, "Equalization", value_range=value_range, bins=bins, data_format=data_format
    )
    tolerance = 0 if value_range == (0, 255) else ARITHMETIC
    assert normwise(ours(x), theirs(x)) <= tolerance
    assert normwise(ours(x[0]), theirs(x[0])) <= tolerance
    integers = IMAGES.astype("int32")
    assert normwise(ours(integers), theirs(integers)) == 0


@pytest.mark.parametrize(
    "shape, grid, clip_limit, value_range, data_format",
    [
        ((2, 16, 16, 3), (8, 8), 4.0, (0, 255), "channels_last"),
        ((2, 13, 11, 2), (3, 4), 2.0, (0, 1), "channels_last"),  # tiles padded
        ((1, 3, 17, 9), (4, 2), 0.0, (0, 255), "channels_first"),  # no clip
        ((10, 10, 3), (2, 2), 4.0, (0, 255), "channels_last"),  # one image
    ],
)
def test_clahe_as_keras(keras, shape, grid, clip_limit, value_range, data_format):
    low, high = value_range
    x = (RNG.random(shape) * (high - low) + low).astype("float32")
    ours, theirs = both(
        keras, "ContrastLimitedAdaptiveHistogramEqualization", value_range=value_range,
        clip_limit=clip_limit, tile_grid_size=grid, data_format=data_format,
    )  # fmt: skip
    assert normwise(ours(x), theirs(x)) == 0


def perspective_draws(batch=2, height=9, width=11):
    start = np.repeat(
        np.array([[[0.0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]]]),
        batch, axis=0,
    )  # fmt: skip
    moves = RNG.uniform(-0.3, 0.3, (batch, 4, 2))
    return {
        "apply_perspective": np.array([True, False] * (batch // 2)),
        "start_points": start.astype("float32"),
        "end_points": (start + start * moves).astype("float32"),
        "input_shape": (batch, height, width, 3),
    }


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_random_perspective_as_keras(keras, interpolation):
    t = perspective_draws()
    ours, theirs = both(
        keras, "RandomPerspective", interpolation=interpolation, fill_value=2.0,
        bounding_box_format="xyxy",
    )  # fmt: skip
    tolerance = 0 if interpolation == "nearest" else RESAMPLING
    assert normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) <= (
        tolerance
    )
    first = IMAGES.transpose(0, 3, 1, 2)
    ours_first, theirs_first = both(
        keras, "RandomPerspective", interpolation=interpolation, data_format="channels_first"
    )
    assert (
        normwise(ours_first.transform_images(first, t), theirs_first.transform_images(first, t))
        <= tolerance
    )
    boxes = {"boxes": np.array([[[2, 1, 4, 3], [6, 4, 9, 8]]] * 2, "float32"),
             "labels": np.array([[1, 2]] * 2)}  # fmt: skip
    a = ours.transform_bounding_boxes(copy.deepcopy(boxes), t)
    b = theirs.transform_bounding_boxes(copy.deepcopy(boxes), t)
    assert normwise(a["boxes"], b["boxes"]) <= ARITHMETIC
    np.testing.assert_array_equal(a["labels"], b["labels"])


@pytest.mark.parametrize(
    "fill_mode, interpolation, data_format",
    [("reflect", "bilinear", "channels_last"), ("constant", "bilinear", "channels_first"),
     ("wrap", "bilinear", "channels_last"), ("nearest", "nearest", "channels_last")],
)  # fmt: skip
def test_elastic_transform_reads_the_points_keras_reads(
    keras, fill_mode, interpolation, data_format
):
    """The field is minikeras's draw; given it, the sampling (Keras's map_coordinates on the
    same points), the apply mask and the clip are Keras's. ("mirror" is left out: Keras's
    TensorFlow map_coordinates indexes past the image with it.)"""
    x = IMAGES if data_format == "channels_last" else IMAGES.transpose(0, 3, 1, 2)
    layer = layers.RandomElasticTransform(
        fill_mode=fill_mode, interpolation=interpolation, fill_value=3.0, value_range=(0, 200),
        data_format=data_format,
    )  # fmt: skip
    t = {"apply_transform": np.array([True, False]), "distortion_factor": np.float32(0.9),
         "seed": 42}  # fmt: skip
    ours = layer.transform_images(x, t)
    alpha, sigma = layer.get_elastic_transform_params(9, 11, np.float32(0.9))
    ys, xs = elastic_coordinates(2, 9, 11, alpha, sigma, 42, "float32")
    order = 0 if interpolation == "nearest" else 1
    read = keras.ops.image.map_coordinates
    theirs = np.stack(
        [
            np.stack(
                [np.asarray(read(IMAGES[n, ..., c], [ys[n], xs[n]], order, fill_mode, 3.0))
                 for c in range(3)], axis=-1,
            )
            for n in range(2)
        ]
    )  # fmt: skip
    theirs[1] = IMAGES[1]
    theirs = np.clip(theirs, 0, 200)
    if data_format == "channels_first":
        theirs = theirs.transpose(0, 3, 1, 2)
    assert normwise(ours, theirs) <= (0 if order == 0 else RESAMPLING)


def test_elastic_field_is_keras_blur_of_the_noise(keras):
    """The displacement: Keras's Gaussian blur (its kernel size ⌊6σ⌋ | 1) of N(0, 1)·σ."""
    from minikeras import random

    alpha, sigma = 2.0, 0.9
    ys, xs = elastic_coordinates(1, 9, 11, alpha, sigma, 5, "float32")
    noise = random.normal((1, 9, 11, 1), dtype="float32", seed=5) * np.float32(sigma)
    size = int(6 * sigma) | 1
    blurred = np.asarray(keras.ops.image.gaussian_blur(noise, (size, size), (sigma, sigma)))
    grid_x = np.arange(11, dtype="float32")[None, None, :]
    assert normwise(xs, grid_x + alpha * blurred[..., 0]) <= ARITHMETIC


def test_rand_augment_with_given_picks_as_keras(keras):
    ours, theirs = both(keras, "RandAugment", num_ops=3, factor=0.6, seed=1)
    t = ours.get_random_transformation(IMAGES)
    # every augmentation at least once; the lookups (posterization 7, solarization 8,
    # equalization 10) before the resamplings (0–2)
    for picks in ([10, 0, 3], [7, 1, 4], [8, 2, 5], [9, 6, 0]):
        t["layer_idxes"] = np.array(picks, "int32")
        ours_out, theirs_out = ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)
        assert normwise(ours_out, theirs_out) <= RESAMPLING


def test_aug_mix_with_given_chains_as_keras(keras):
    ours, theirs = both(keras, "AugMix", seed=2, factor=0.5)
    t = ours.get_random_transformation(IMAGES)
    draws = {name: getattr(ours, name).get_random_transformation(IMAGES)
             for name in ours._augment_layers}  # fmt: skip
    steps = lambda *names: [{"layer_name": n, "transformation": draws[n]} for n in names]  # noqa: E731
    t["chain_transforms"] = [
        steps("equalization", "random_shear", "random_brightness"),
        steps("random_posterization", "solarization", "random_rotation", "random_contrast"),
        steps("auto_contrast", "random_color_degeneration", "random_sharpness",
              "random_translation"),
    ]  # fmt: skip
    assert normwise(ours.transform_images(IMAGES, t), theirs.transform_images(IMAGES, t)) <= (
        RESAMPLING
    )


def test_max_num_bounding_boxes_as_keras(keras):
    boxes = {"boxes": RNG.random((2, 3, 4)).astype("float32"), "labels": np.array([[1, 2, 3]] * 2)}
    for n in (1, 3, 5):
        ours, theirs = both(keras, "MaxNumBoundingBoxes", max_number=n, fill_value=-2,
                            bounding_box_format="xyxy")  # fmt: skip
        a = ours({"images": IMAGES, "bounding_boxes": copy.deepcopy(boxes)})["bounding_boxes"]
        b = theirs({"images": IMAGES, "bounding_boxes": copy.deepcopy(boxes)})["bounding_boxes"]
        np.testing.assert_array_equal(a["boxes"], np.asarray(b["boxes"]))
        np.testing.assert_array_equal(a["labels"], np.asarray(b["labels"]))


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Equalization", {"value_range": (0, 1), "bins": 64}),
        ("ContrastLimitedAdaptiveHistogramEqualization", {"clip_limit": 2.0}),
        ("RandomPerspective", {"factor": 0.5, "scale": 0.3, "seed": 3}),
        ("RandomElasticTransform", {"factor": (0.2, 0.7), "scale": 0.4, "fill_mode": "wrap"}),
        ("RandAugment", {"num_ops": 3, "factor": 0.2, "value_range": (0, 1)}),
        ("AugMix", {"num_chains": 2, "all_ops": False, "alpha": 0.5}),
        ("MaxNumBoundingBoxes", {"max_number": 4, "fill_value": -3}),
    ],
)
def test_configs_as_keras(keras, name, kwargs):
    ours, theirs = both(keras, name, **kwargs)
    a, b = ours.get_config(), theirs.get_config()
    a.pop("name"), b.pop("name")
    assert a == b
    # Keras rebuilds minikeras's layer from that config
    assert getattr(keras.layers, name).from_config(ours.get_config()).get_config().keys() == (
        theirs.get_config().keys()
    )


def random_boxes(batch=2, n=3, height=9, width=11):
    corner = RNG.uniform(0, [width - 3, height - 3], (batch, n, 2))
    size = RNG.uniform(1, 4, (batch, n, 2))
    boxes = np.concatenate([corner, corner + size], axis=-1).astype("float32")
    boxes[-1, 0] = [0, 0, 2, 2]  # pushed out of the image by the second shift below
    return {"boxes": boxes, "labels": np.arange(batch * n).reshape(batch, n)}


def geometric_draws(name):
    """One transformation per layer, given to both: shifts, zooms in and out, shears of
    both signs, angles; the image (2, 9, 11, 3)."""
    shape = (2, 9, 11, 3)
    if name == "RandomTranslation":
        return {"translations": np.array([[2.5, -1.5], [-4.0, 3.0]], "float32"),
                "input_shape": shape}  # fmt: skip
    if name == "RandomZoom":
        zooms = np.array([[0.6], [1.4]], "float32"), np.array([[0.8], [1.7]], "float32")
        return {"height_zoom": zooms[0], "width_zoom": zooms[1], "input_shape": shape}
    if name == "RandomShear":
        return {"shear_factor": np.array([[0.3, -0.2], [-0.4, 0.25]], "float32"),
                "input_shape": shape}  # fmt: skip
    angle = np.array([30.0, -100.0], "float32")
    return {"angle": angle, "image_height": 9, "image_width": 11, "batch_size": 2}


GEOMETRIC = [
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2}),
    ("RandomZoom", {"height_factor": 0.5}),
    ("RandomShear", {"x_factor": 0.3}),
]
FORMATS = ["xyxy", "yxyx", "rel_xyxy", "center_xywh"]


# (Keras's RandomRotation reads boxes of any format as "xyxy", a Keras bug: it is compared
# on "xyxy" boxes only)
@pytest.mark.parametrize(
    "name, kwargs, box_format",
    [(n, k, f) for n, k in GEOMETRIC for f in FORMATS]
    + [("RandomRotation", {"factor": 0.3}, "xyxy")],
)
def test_geometric_layers_move_boxes_as_keras(keras, name, kwargs, box_format):
    boxes = random_boxes()
    from minikeras.utils.bounding_boxes import convert_format

    boxes["boxes"] = convert_format(boxes["boxes"], "xyxy", box_format, height=9, width=11)
    t = geometric_draws(name)
    ours, theirs = both(keras, name, bounding_box_format=box_format, **kwargs)
    a = ours.transform_bounding_boxes(copy.deepcopy(boxes), t)
    b = theirs.transform_bounding_boxes(copy.deepcopy(boxes), t)
    assert normwise(a["boxes"], b["boxes"]) <= ARITHMETIC
    np.testing.assert_array_equal(a["labels"], np.asarray(b["labels"]))
    if name == "RandomTranslation" and box_format == "xyxy":  # a box left: its label −1
        assert (np.asarray(b["labels"]) == -1).any()


def test_boxes_of_one_image_and_in_a_dict_call_as_keras(keras):
    """Boxes (n, 4) of one image given to transform_bounding_boxes come back as Keras's
    broadcasting returns them; a dict call moves them with the images' draws."""
    boxes = random_boxes(batch=1)
    one = {"boxes": boxes["boxes"][0], "labels": boxes["labels"]}
    t = geometric_draws("RandomZoom")
    t = {k: (v[:1] if k != "input_shape" else (9, 11, 3)) for k, v in t.items()}
    ours, theirs = both(keras, "RandomZoom", height_factor=0.5, bounding_box_format="xyxy")
    a = ours.transform_bounding_boxes(copy.deepcopy(one), t)
    b = theirs.transform_bounding_boxes(copy.deepcopy(one), t)
    assert a["boxes"].shape == tuple(b["boxes"].shape)
    assert normwise(a["boxes"], b["boxes"]) <= ARITHMETIC
    layer = layers.RandomRotation(0.2, bounding_box_format="xyxy", seed=3)
    data = layer({"images": IMAGES, "bounding_boxes": random_boxes()})
    assert data["bounding_boxes"]["boxes"].shape == (2, 3, 4)


def test_bounding_box_utils_as_keras(keras):
    from minikeras.utils import bounding_boxes as ours

    theirs = keras.utils.bounding_boxes
    boxes = random_boxes()["boxes"] * 2
    ranges = [(-40, 40), (-0.2, 0.2), (-0.2, 0.2), (0.8, 1.2), (-20, 20), (-20, 20)]
    draws = [RNG.uniform(low, high, 2).astype("float32") for low, high in ranges]
    a = ours.affine_transform(boxes, *draws, height=9, width=11, center_x=0.3, center_y=0.6)
    b = theirs.affine_transform(boxes, *draws, height=9, width=11, center_x=0.3, center_y=0.6)
    assert normwise(a, b) <= ARITHMETIC
    assert normwise(ours.crop(boxes, 2, 3, 5, 6), theirs.crop(boxes, 2, 3, 5, 6)) == 0
    assert normwise(ours.pad(boxes, 2, 3), theirs.pad(boxes, 2, 3)) == 0
    clipped_ours = ours.clip_to_image_size({"boxes": boxes, "labels": np.ones((2, 3))}, 9, 11)
    clipped_theirs = theirs.clip_to_image_size({"boxes": boxes, "labels": np.ones((2, 3))}, 9, 11)
    assert normwise(clipped_ours["boxes"], clipped_theirs["boxes"]) == 0


def test_iou_as_keras(keras):
    from minikeras.utils import bounding_boxes as ours

    theirs = keras.utils.bounding_boxes
    a, b = random_boxes(n=3)["boxes"], random_boxes(n=4)["boxes"]
    b[0, 0] = -1  # a padding box: masked
    for fmt in ("xyxy", "yxyx"):
        for use_masking in (False, True):
            kwargs = {"bounding_box_format": fmt, "use_masking": use_masking, "mask_val": -2}
            assert normwise(
                ours.compute_iou(a, b, **kwargs), theirs.compute_iou(a, b, **kwargs)
            ) <= (ARITHMETIC)
        assert normwise(ours.compute_iou(a[0], b[0], fmt), theirs.compute_iou(a[0], b[0], fmt)) <= (
            ARITHMETIC
        )
    c = random_boxes(n=3)["boxes"]
    assert normwise(ours.compute_ciou(a, c, "xyxy"), theirs.compute_ciou(a, c, "xyxy")) <= (
        ARITHMETIC
    )
    # Keras's tests import the box movers from `converters` too
    from minikeras.layers.preprocessing.image_preprocessing.bounding_boxes import converters

    assert converters.affine_transform is ours.affine_transform
