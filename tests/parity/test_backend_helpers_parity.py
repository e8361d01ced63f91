"""`minikeras.backend`'s helpers beside Keras's on TensorFlow: the seed dtype (minikeras keeps
TensorFlow's int64 seeds) and `standardize_data_format`'s answers and message."""

import numpy as np
import pytest

from minikeras import backend
from minikeras.random import seed_generator


def test_random_seed_dtype_is_tensorflows_and_the_seeds(keras):
    assert backend.random_seed_dtype() == keras.src.backend.random_seed_dtype()
    generator = seed_generator.SeedGenerator(seed=42)
    assert backend.standardize_dtype(generator.state.dtype) == backend.random_seed_dtype()
    seed = seed_generator.draw_seed(2**32 - 1)  # past int32: not wrapped
    assert backend.standardize_dtype(seed.dtype) == backend.random_seed_dtype()
    assert int(np.asarray(seed)[0]) == 2**32 - 1


@pytest.mark.parametrize("data_format", [None, "channels_first", "Channels_Last"])
def test_standardize_data_format(keras, data_format):
    expected = keras.src.backend.standardize_data_format(data_format)
    assert backend.standardize_data_format(data_format) == expected


def test_standardize_data_format_message(keras):
    with pytest.raises(ValueError) as theirs:
        keras.src.backend.standardize_data_format("channels_middle")
    with pytest.raises(ValueError, match="channels_middle") as ours:
        backend.standardize_data_format("channels_middle")
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "initializer, shape, dtype",
    [
        ("ones", (2, 3), None),
        ("zeros", (2,), "int32"),
        ([[1, 1], [1, 1]], None, None),  # Python ints: int32, as Keras converts them
        ([1.5, 2.0], None, None),  # Python floats: float32
        (np.ones((2,)), None, None),  # an array keeps its dtype
    ],
)
def test_variable_initializers_and_dtypes(keras, initializer, shape, dtype):
    from minikeras.autodiff import Variable

    theirs = keras.Variable(initializer, shape=shape, dtype=dtype)
    ours = Variable(initializer, shape=shape, dtype=dtype)
    assert backend.standardize_dtype(ours.dtype) == theirs.dtype
    np.testing.assert_array_equal(np.asarray(ours), keras.ops.convert_to_numpy(theirs))


def test_variable_from_an_initializer_needs_a_shape(keras):
    from minikeras.autodiff import Variable

    message = "When creating a Variable from an initializer, the `shape` argument"
    with pytest.raises(ValueError, match=message):
        keras.Variable(initializer="ones")
    with pytest.raises(ValueError, match=message):
        Variable(initializer="ones")
