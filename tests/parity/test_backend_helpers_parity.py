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
