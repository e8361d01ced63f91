"""keras.ops.image's checks and symbolic shapes, against Keras on TensorFlow: pad_images and
crop_images on images of unknown height or width, perspective_transform on unknown batches
and wrong ranks, map_coordinates's coordinate rank; and affine_transform's "mirror" fill
(Keras's NumPy and JAX backends have it; TensorFlow's has not), against NumPy's pad.
Shapes and messages are compared exactly; values are index-only, so compared exactly too."""

import numpy as np
import pytest

from minikeras import ops as mops
from minikeras.layers.node import KerasTensor

PAD_CASES = [  # (images shape, args, kwargs)
    ((None, 15, 25, 3), (2, 3), {"target_height": 20, "target_width": 30}),
    ((None, None, 3), (2, 3), {"target_height": 20, "target_width": 30}),
    ((None, None, 3), (2, 3, 2, 3), {}),
    ((4, None, 7, 3), (1, None, 2), {"right_padding": 1, "target_width": 10}),
]
CROP_CASES = [
    ((None, None, 3), (2, 3), {"target_height": 4, "target_width": 5}),
    ((None, 15, 25, 3), (2, 3, 4, 5), {}),
]


@pytest.mark.parametrize("shape, args, kwargs", PAD_CASES)
def test_pad_images_symbolic_shape(keras, shape, args, kwargs):
    theirs = keras.ops.image.pad_images(keras.KerasTensor(shape), *args, **kwargs)
    ours = mops.image.pad_images(KerasTensor(shape), *args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("shape, args, kwargs", CROP_CASES)
def test_crop_images_symbolic_shape(keras, shape, args, kwargs):
    theirs = keras.ops.image.crop_images(keras.KerasTensor(shape), *args, **kwargs)
    ours = mops.image.crop_images(KerasTensor(shape), *args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("shape", [(None, 10, 3), (10, None, 3)])
def test_crop_images_unknown_size_needs_a_target(keras, shape):
    axis = "height" if shape[0] is None else "width"
    with pytest.raises(ValueError, match=f"When the {axis} of the images is unknown"):
        keras.ops.image.crop_images(keras.KerasTensor(shape), 2, 3, 4, 5)
    with pytest.raises(ValueError, match=f"When the {axis} of the images is unknown"):
        mops.image.crop_images(KerasTensor(shape), 2, 3, 4, 5)


def test_pad_images_symbolic_negative_padding(keras):
    kwargs = {"target_height": 3, "target_width": 10}
    with pytest.raises(ValueError) as theirs:
        keras.ops.image.pad_images(keras.KerasTensor((10, 10, 3)), None, None, 1, 0, **kwargs)
    with pytest.raises(ValueError) as ours:
        mops.image.pad_images(KerasTensor((10, 10, 3)), None, None, 1, 0, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_perspective_transform_symbolic_unknown_batch(keras):
    theirs = keras.ops.image.perspective_transform(
        keras.KerasTensor((None, 20, 20, 3)),
        keras.KerasTensor((None, 4, 2)),
        keras.KerasTensor((None, 4, 2)),
    )
    ours = mops.image.perspective_transform(
        KerasTensor((None, 20, 20, 3)), KerasTensor((None, 4, 2)), KerasTensor((None, 4, 2))
    )
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("shape", [(10, 10), (2, 10, 10, 3, 1)])
def test_perspective_transform_names_the_images_rank_first(keras, shape):
    images, points = np.zeros(shape, "float32"), np.zeros((6,), "float32")
    with pytest.raises(ValueError, match="Invalid images rank: expected rank 3"):
        keras.ops.image.perspective_transform(images, points, points)
    with pytest.raises(ValueError, match="Invalid images rank: expected rank 3"):
        mops.image.perspective_transform(images, points, points)


@pytest.mark.parametrize("coordinates_shape", [(2, 4, 4), (3,)])
def test_map_coordinates_coordinate_rank(keras, coordinates_shape):
    image = np.zeros((4, 4, 3), "float32")
    coordinates = np.zeros(coordinates_shape, "float32")
    with pytest.raises(ValueError) as theirs:
        keras.ops.image.map_coordinates(image, coordinates, 0)
    with pytest.raises(ValueError) as ours:
        mops.image.map_coordinates(image, coordinates, 0)
    # the same check fails: the first sentence is the same
    assert str(ours.value).split(".")[0] == str(theirs.value).split(".")[0]


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_transform_mirror_fill(interpolation):
    """A whole-pixel shift by (3, 2) reads the pixels mirrored about the edge (its pixel
    not repeated): NumPy's pad with mode="reflect"."""
    image = np.arange(5 * 6 * 2, dtype="float32").reshape(5, 6, 2)
    transform = np.array([1, 0, -2, 0, 1, -3, 0, 0], "float32")  # reads (y − 3, x − 2)
    out = mops.image.affine_transform(
        image, transform, interpolation=interpolation, fill_mode="mirror"
    )
    expected = np.pad(image, ((3, 0), (2, 0), (0, 0)), mode="reflect")[:5, :6]
    np.testing.assert_array_equal(out, expected)
