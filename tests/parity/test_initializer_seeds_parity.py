"""Initializers given a SeedGenerator (new values at each call, the generator serialized in
the config as Keras writes it, and read back), and the Identity initializer's config, which
shares its class name with the Identity layer: a file's module says which one it is. Configs
are compared with Keras's; no numbers (the streams differ: NumPy's generator, not TF's)."""

import numpy as np
import pytest

from minikeras import backend, initializers, layers, random
from minikeras.saving import deserialize_keras_object, serialize_keras_object

SEEDED = ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Orthogonal"]


@pytest.mark.parametrize("name", SEEDED)
def test_a_seed_generator_gives_new_values_at_each_call(name):
    initializer = getattr(initializers, name)(seed=backend.random.SeedGenerator(1337))
    first, second = initializer((4, 4)), initializer((4, 4))
    assert not np.allclose(first, second)
    again = getattr(initializers, name)(seed=random.SeedGenerator(1337))
    np.testing.assert_array_equal(again((4, 4)), first)  # the same sequence from the same seed


@pytest.mark.parametrize("name", SEEDED)
def test_a_seed_generator_is_serialized_as_keras(keras, name):
    ours = getattr(initializers, name)(seed=random.SeedGenerator(7, name="gen"))
    theirs = getattr(keras.initializers, name)(seed=keras.random.SeedGenerator(7, name="gen"))
    assert ours.get_config() == theirs.get_config()
    revived = deserialize_keras_object(serialize_keras_object(ours))
    assert isinstance(revived.seed, random.SeedGenerator)
    assert revived.get_config() == ours.get_config()


def test_the_identity_initializer_is_read_back_as_an_initializer(keras):
    config = serialize_keras_object(initializers.Identity(gain=2.0))
    assert config["module"] == "keras.initializers"
    assert (
        config["class_name"]
        == keras.saving.serialize_keras_object(keras.initializers.Identity())["class_name"]
    )
    revived = deserialize_keras_object(config)
    assert isinstance(revived, initializers.Identity) and revived.gain == 2.0
    layer = deserialize_keras_object(serialize_keras_object(layers.Identity()))
    assert isinstance(layer, layers.Identity)
