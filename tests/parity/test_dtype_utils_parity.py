"""minikeras.utils.dtype_utils beside Keras's: sizes, the float test, and the common float
dtype of mixed tensors (dtypes compared exactly; values are exact casts of small integers)."""

import numpy as np
import pytest

from minikeras import backend
from minikeras.utils import dtype_utils

NAMES = ["bool", "bfloat16", "float16", "float32", "float64", "int8", "uint16", "int64"]


@pytest.mark.parametrize("dtype", NAMES)
def test_dtype_size_and_is_float(keras, dtype):
    theirs = keras.src.utils.dtype_utils
    assert dtype_utils.dtype_size(dtype) == theirs.dtype_size(dtype)
    assert dtype_utils.is_float(dtype) == theirs.is_float(dtype)


def test_dtype_size_of_an_unknown_dtype(keras):
    with pytest.raises(ValueError, match="Invalid dtype: complex64"):
        keras.src.utils.dtype_utils.dtype_size("complex64")
    with pytest.raises(ValueError, match="Invalid dtype: complex64"):
        dtype_utils.dtype_size("complex64")


@pytest.mark.parametrize(
    "dtypes",
    [
        ("int32", "int8"),
        ("int32", "float16"),
        ("float16", "bfloat16"),
        ("float16", "bfloat16", "float64"),
        ("float32", "float64", "uint8"),
        ("bfloat16", "int64"),
    ],
)
def test_cast_to_common_dtype(keras, dtypes):
    arrays = [np.arange(3).astype(backend.standardize_dtype(d)) for d in dtypes]
    tensors = [keras.ops.convert_to_tensor(np.arange(3), dtype=d) for d in dtypes]
    theirs = keras.src.utils.dtype_utils.cast_to_common_dtype(tensors)
    ours = dtype_utils.cast_to_common_dtype(arrays)
    for a, b in zip(ours, theirs):
        assert backend.standardize_dtype(a.dtype) == keras.backend.standardize_dtype(b.dtype)
        np.testing.assert_array_equal(np.asarray(a, "float64"), keras.ops.convert_to_numpy(b))
