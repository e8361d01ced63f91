"""minikeras.ops.image against keras.ops.image (TensorFlow backend): values, dtypes, shapes,
and resize's gradient against tf.GradientTape's.

Tolerances (normwise, max|a − b| / max|b|):
- resampling (resize, affine_transform bilinear, map_coordinates order 1, the colour
  conversions, gaussian_blur), 1e-5: TensorFlow computes them in float32 (a float64 image is
  resized in float32 and cast back), minikeras in float64 then rounds; a pixel sums at most
  ~11 weighted terms (lanczos5's span), so the two differ by a few float32 ulps (measured
  ≤ 3e-6 relative); a wrong kernel, centre or normalisation is off by 1e-2 or more.
- index-only ops (nearest resize and transform, crops, pads, patches, order-0 sampling): 0.
"""

import numpy as np
import pytest

from minikeras import ops as mops
from minikeras.autodiff import GradientTape, Tensor

RNG = np.random.default_rng(7)
IMAGES = RNG.random((2, 12, 10, 3)).astype("float32") * 255
SMALL = RNG.random((2, 8, 9, 3)).astype("float32")
SMALL64 = SMALL.astype("float64")
START_POINTS = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 7.0], [8.0, 7.0]])
END_POINTS = np.array([[0.5, 1.0], [7.0, 0.2], [0.3, 6.5], [7.5, 6.9]])
VOLUMES = RNG.random((2, 6, 7, 8, 2)).astype("float32")
TRANSFORMS = np.array(
    [[1.1, 0.2, -1.0, 0.1, 0.9, 1.5, 0.01, 0.02], [0.9, -0.1, 2.0, 0.0, 1.0, 0.0, 0.0, 0.0]],
    "float32",
)
COORDINATES = [RNG.uniform(-9, 17, (6, 5)), RNG.uniform(-9, 18, (6, 5))]

CASES = [
    *[
        (
            f"resize {m} aa={aa} {size}",
            lambda o, m=m, aa=aa, size=size: o.image.resize(
                IMAGES, size, interpolation=m, antialias=aa
            ),
            0 if m == "nearest" else 1e-5,
        )
        for m in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")
        for aa in (False, True)
        for size in ((6, 5), (17, 23))
    ],  # fmt: skip
    ("resize crop", lambda o: o.image.resize(IMAGES, (4, 9), crop_to_aspect_ratio=True), 1e-5),
    (
        "resize pad",
        lambda o: o.image.resize(IMAGES, (4, 9), pad_to_aspect_ratio=True, fill_value=7.0),
        1e-5,
    ),
    ("resize float64", lambda o: o.image.resize(IMAGES.astype("float64"), (5, 7)), 1e-5),
    # (a pixel whose float32 value lies within rounding of k + ½ may round either way: ±1 of 255)
    ("resize uint8", lambda o: o.image.resize(IMAGES.astype("uint8"), (5, 7)), 1 / 200),
    (
        "resize channels_first",
        lambda o: o.image.resize(
            np.moveaxis(IMAGES, -1, 1),
            (5, 7),
            interpolation="bicubic",
            data_format="channels_first",
        ),
        1e-5,
    ),
    ("rgb_to_grayscale", lambda o: o.image.rgb_to_grayscale(SMALL), 1e-6),
    ("rgb_to_grayscale uint8", lambda o: o.image.rgb_to_grayscale(IMAGES.astype("uint8")), 0),
    ("rgb_to_hsv", lambda o: o.image.rgb_to_hsv(SMALL), 1e-6),
    ("hsv_to_rgb", lambda o: o.image.hsv_to_rgb(SMALL), 1e-6),
    (
        "rgb_to_hsv channels_first",
        lambda o: o.image.rgb_to_hsv(np.moveaxis(SMALL, -1, 1), data_format="channels_first"),
        1e-6,
    ),
    ("pad_images", lambda o: o.image.pad_images(SMALL, 1, 2, target_height=12, target_width=14), 0),
    ("pad_images sides", lambda o: o.image.pad_images(SMALL[0], 1, 2, 3, 0), 0),
    ("crop_images", lambda o: o.image.crop_images(SMALL, 1, 2, target_height=5, target_width=4), 0),
    ("extract_patches", lambda o: o.image.extract_patches(SMALL, 3), 0),
    (
        "extract_patches same",
        lambda o: o.image.extract_patches(SMALL, (2, 3), strides=(1, 2), padding="same"),
        0,
    ),
    ("extract_patches dilated", lambda o: o.image.extract_patches(SMALL, 2, 1, 2), 0),
    ("extract_patches 3-D size", lambda o: o.image.extract_patches(VOLUMES, (2, 3, 2)), 0),
    (
        "extract_patches_3d same",
        lambda o: o.image.extract_patches_3d(VOLUMES, 2, strides=1, padding="same"),
        0,
    ),
    (
        "extract_patches_3d dilated",
        lambda o: o.image.extract_patches_3d(VOLUMES[0], (2, 2, 3), 1, dilation_rate=(1, 1, 2)),
        0,
    ),
    ("sobel_edges", lambda o: o.image.sobel_edges(SMALL), 1e-6),
    (
        "sobel_edges channels_first",
        lambda o: o.image.sobel_edges(np.moveaxis(SMALL, -1, 1), data_format="channels_first"),
        1e-6,
    ),
    # (in float64: SSIM's σ² = E[x²] − μ² cancels, which float32 would amplify to ~1e-5)
    (
        "ssim",
        lambda o: o.image.ssim(SMALL64, SMALL64[::-1] * 0.7 + 0.1, filter_size=5),
        1e-9,
    ),
    (
        "ssim single image",
        lambda o: o.image.ssim(
            IMAGES[0].astype("float64"), IMAGES[1].astype("float64"), 255.0, filter_size=7
        ),
        1e-9,
    ),
    ("gaussian_blur", lambda o: o.image.gaussian_blur(SMALL, (3, 5), (1.0, 2.0)), 1e-6),
    ("gaussian_blur even", lambda o: o.image.gaussian_blur(SMALL[0], (4, 4), (1.5, 0.7)), 1e-6),
    *[
        (
            f"affine_transform {i} {f}",
            lambda o, i=i, f=f: o.image.affine_transform(SMALL, TRANSFORMS, i, f, fill_value=0.5),
            0 if i == "nearest" else 1e-5,
        )
        for i in ("nearest", "bilinear")
        for f in ("constant", "nearest", "reflect")
    ],  # fmt: skip
    *[
        (
            f"perspective_transform {i}",
            lambda o, i=i: o.image.perspective_transform(
                SMALL, START_POINTS, END_POINTS, interpolation=i, fill_value=0.25
            ),
            0 if i == "nearest" else 1e-5,
        )
        for i in ("nearest", "bilinear")
    ],
    *[
        (
            f"scale_and_translate {m} aa={aa}",
            lambda o, m=m, aa=aa: o.image.scale_and_translate(
                SMALL, (2, 7, 15, 3), np.array([0.7, 1.3]), np.array([0.5, -1.0]), (1, 2), m, aa
            ),
            1e-5,
        )
        for m in ("linear", "cubic", "lanczos3", "lanczos5")
        for aa in (False, True)
    ],
    *[
        (
            f"map_coordinates {order} {f}",
            lambda o, order=order, f=f: o.image.map_coordinates(
                SMALL[0, ..., 0], COORDINATES, order, f, fill_value=0.3
            ),
            1e-6 * order,
        )
        for order in (0, 1)
        for f in ("constant", "nearest", "wrap", "reflect")
    ],  # fmt: skip
]


@pytest.mark.parametrize("name, fn, tolerance", CASES, ids=[c[0] for c in CASES])
def test_image_op_matches_keras(keras, name, fn, tolerance):
    expected = keras.ops.convert_to_numpy(fn(keras.ops))
    got = fn(mops)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    scale = max(np.abs(expected.astype(np.float64)).max(), 1e-30)
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64)).max()
    assert diff / scale <= tolerance


@pytest.mark.parametrize(
    "method, antialias, size",
    [("bilinear", False, (5, 7)), ("bicubic", True, (5, 4)), ("nearest", False, (20, 13))],
)
def test_resize_gradient_matches_tensorflow(keras, method, antialias, size):
    """TensorFlow's resize kernels take and give float32 (1e-5, module docstring)."""
    import tensorflow as tf

    x = IMAGES[:, :9, :8] / 255
    cotangent = RNG.uniform(-1, 1, (2, *size, 3)).astype("float32")
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        loss = tf.reduce_sum(
            keras.ops.image.resize(t, size, interpolation=method, antialias=antialias) * cotangent
        )
    expected = tape.gradient(loss, t).numpy()
    ours = Tensor(x)
    with GradientTape() as our_tape:
        our_tape.watch(ours)
        out = mops.image.resize(ours, size, interpolation=method, antialias=antialias)
        our_loss = mops.sum(mops.multiply(out, cotangent))
    got = np.asarray(our_tape.gradient(our_loss, ours))
    assert np.abs(got - expected).max() / np.abs(expected).max() <= 1e-5


def test_symbolic_shapes_match_keras(keras):
    from minikeras.backend import KerasTensor

    checks = [
        lambda o, kt: o.image.resize(kt((None, 20, 30, 3)), (5, 6)),
        lambda o, kt: o.image.extract_patches(kt((None, 20, 30, 3)), (3, 3)),
        lambda o, kt: o.image.pad_images(kt((None, 20, 30, 3)), 2, 3, 1, 1),
        lambda o, kt: o.image.crop_images(kt((None, 20, 30, 3)), 2, 3, 1, 1),
        lambda o, kt: o.image.rgb_to_grayscale(kt((None, 20, 30, 3))),
    ]
    for check in checks:
        theirs = check(keras.ops, keras.KerasTensor)
        ours = check(mops, KerasTensor)
        assert ours.shape == theirs.shape


@pytest.mark.parametrize(
    "call",
    [
        lambda o: o.image.resize(SMALL, (3, 3), interpolation="cubic"),
        lambda o: o.image.resize(SMALL, (3,)),
        lambda o: o.image.resize(SMALL[0, 0], (3, 3)),
        lambda o: o.image.resize(
            SMALL, (3, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True
        ),
        lambda o: o.image.rgb_to_grayscale(SMALL[..., :2]),
        lambda o: o.image.rgb_to_hsv(IMAGES.astype("uint8")),
        lambda o: o.image.pad_images(SMALL, 1, 1, 1, 1, target_height=20),
        lambda o: o.image.affine_transform(SMALL, TRANSFORMS, "bicubic"),
        lambda o: o.image.map_coordinates(SMALL[0, ..., 0], COORDINATES[:1], 1),
        lambda o: o.image.extract_patches(SMALL, "5"),
        lambda o: o.image.extract_patches(SMALL, (2, 2, 2, 2)),
        lambda o: o.image.crop_images(SMALL, None, None, 1, 0, target_height=12, target_width=9),
    ],
)
def test_bad_input_raises_as_keras(keras, call):
    with pytest.raises(Exception) as theirs:
        call(keras.ops)
    with pytest.raises(type(theirs.value)):
        call(mops)
