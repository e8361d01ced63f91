"""`load_img`, `img_to_array`, `array_to_img`, `save_img` (keras.utils, and
keras.preprocessing.image where keras.io's scripts import them) against Keras's.

Exact: both read and write through Pillow and convert with the same NumPy casts, so every
pixel must be equal (a resize is Pillow's own filter on both sides).
"""

import numpy as np
import pytest

import minikeras
from minikeras.preprocessing import image


@pytest.fixture
def picture(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "picture.png"
    minikeras.utils.save_img(path, rng.integers(0, 256, (7, 10, 3)).astype("float32"))
    return path


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"color_mode": "grayscale"},
        {"color_mode": "rgba"},
        {"target_size": (4, 5), "interpolation": "bilinear"},
        {"target_size": (5, 5), "keep_aspect_ratio": True},
    ],
    ids=["rgb", "grayscale", "rgba", "resized", "aspect-kept"],
)
def test_load_img_and_img_to_array_as_in_keras(keras, picture, kwargs):
    ours = image.img_to_array(image.load_img(picture, **kwargs))
    theirs = keras.utils.img_to_array(keras.utils.load_img(picture, **kwargs))
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    first = keras.utils.img_to_array(keras.utils.load_img(picture), data_format="channels_first")
    np.testing.assert_array_equal(
        minikeras.utils.img_to_array(image.load_img(picture), data_format="channels_first"), first
    )


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
def test_array_to_img_as_in_keras(keras, channels, scale):
    x = np.random.default_rng(1).uniform(-1, 300 if channels == 1 else 255, (3, 4, channels))
    ours, theirs = image.array_to_img(x, scale=scale), keras.utils.array_to_img(x, scale=scale)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_bad_arguments_as_in_keras(keras, picture):
    for lib in (minikeras, keras):
        with pytest.raises(ValueError, match="rank 3"):
            lib.utils.array_to_img(np.zeros((2, 2)))
        with pytest.raises(ValueError, match="color_mode must be"):
            lib.utils.load_img(picture, color_mode="cmyk")
        with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
            lib.utils.load_img(picture, target_size=(2, 2), interpolation="cubic")
        with pytest.raises(TypeError, match="path should be path-like"):
            lib.utils.load_img(3)
