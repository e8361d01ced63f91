"""Integer and boolean inputs of a float32 layer, called directly. Keras casts only floating
inputs to the layer's dtype (DTypePolicy.convert_input: autocast): a layer that only moves
values about returns the integers it was given (uint8 images stay uint8); a layer that
computes returns floats (Keras's Dense, Rescaling and Normalization cast inside `call`).
Exact comparisons: moving integers rounds nothing, and the float results here are exact
sums and products of small integers (1e-6 relative for Rescaling's 1/255)."""

import numpy as np
import pytest

import minikeras

IMAGES = np.arange(2 * 4 * 4 * 3).reshape(2, 4, 4, 3)
ROWS = np.arange(10).reshape(2, 5)

MOVERS = [
    ("Flatten", {}, IMAGES),
    ("Reshape", {"target_shape": (5,)}, ROWS),
    ("Permute", {"dims": (2, 1)}, ROWS[:, :, None]),
    ("Identity", {}, ROWS),
    ("ZeroPadding2D", {}, IMAGES),
    ("Cropping2D", {"cropping": 1}, IMAGES),
    ("ZeroPadding1D", {}, ROWS[:, :, None]),
]
COMPUTERS = [
    ("Dense", {"units": 2, "kernel_initializer": "ones"}, ROWS),
    ("Rescaling", {"scale": 1 / 255}, IMAGES),
    ("Normalization", {"mean": 1.0, "variance": 4.0}, ROWS),
]


CASES = [(*case, dtype) for case in MOVERS for dtype in ("uint8", "int64", "bool")]
CASES += [(*case, dtype) for case in COMPUTERS for dtype in ("uint8", "int64")]


@pytest.mark.parametrize("name, kwargs, x, dtype", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_output_dtype_and_values_as_keras(keras, name, kwargs, x, dtype):
    x = x.astype(dtype)
    ours = getattr(minikeras.layers, name)(**kwargs)(x)
    theirs = np.asarray(getattr(keras.layers, name)(**kwargs)(x))
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours.astype("float64"), theirs.astype("float64"), rtol=1e-6)
