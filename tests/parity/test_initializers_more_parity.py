"""Identity, Constant with an array value, and the variance-scaling initializers' einsum axes,
against Keras 3: values (exact: no randomness, or the same fans), configs and lookups."""

import numpy as np
import pytest

from minikeras import initializers


def test_identity_values_config_and_names_as_keras(keras):
    ours, theirs = initializers.Identity(gain=2.0), keras.initializers.Identity(gain=2.0)
    np.testing.assert_array_equal(ours((3, 4)), np.asarray(theirs((3, 4))))
    # Keras's config forgets the gain ({}); minikeras writes it, and Keras reads it back
    assert theirs.get_config() == {} and ours.get_config() == {"gain": 2.0}
    revived = keras.initializers.Identity.from_config(ours.get_config())
    np.testing.assert_array_equal(np.asarray(revived((2, 2))), ours((2, 2)))
    assert isinstance(initializers.get("IdentityInitializer"), initializers.Identity)
    assert isinstance(initializers.get("identity"), initializers.Identity)
    for lib in (initializers, keras.initializers):
        with pytest.raises(ValueError, match="only be used for 2D matrices"):
            lib.Identity()((2, 2, 2))


def test_constant_with_an_array_value_writes_keras_config(keras):
    value = np.arange(6.0).reshape(2, 3)
    ours, theirs = initializers.Constant(value), keras.initializers.Constant(value)
    np.testing.assert_array_equal(ours((2, 3)), np.asarray(theirs((2, 3))))
    assert ours.get_config() == theirs.get_config()
    again = initializers.Constant.from_config(theirs.get_config())
    np.testing.assert_array_equal(again((2, 3)), value)


@pytest.mark.parametrize(
    "shape, input_axes, output_axes", [((512, 8, 64), [0], [1, 2]), ((512, 8, 64), [0, 1], [2])]
)
def test_compute_fans_with_axes_as_keras(keras, shape, input_axes, output_axes):
    from keras.src.initializers.random_initializers import compute_fans

    ours = initializers.compute_fans(shape, input_axes=input_axes, output_axes=output_axes)
    assert ours == compute_fans(shape, input_axes=input_axes, output_axes=output_axes)


@pytest.mark.parametrize("name", ["VarianceScaling", "GlorotUniform", "HeNormal", "LecunUniform"])
def test_variance_scaling_axes_config_and_spread_as_keras(keras, name):
    ours = getattr(initializers, name)(seed=3, input_axes=[0], output_axes=[1, 2])
    theirs = getattr(keras.initializers, name)(seed=3, input_axes=[0], output_axes=[1, 2])
    assert ours.get_config() == theirs.get_config()
    again = initializers.deserialize(initializers.serialize(ours))
    assert again.get_config() == ours.get_config()
    # the same fans give the same limit (uniform) or scale: compare the largest magnitude
    # bound, deterministic for the uniform ones
    if "Uniform" in name:
        limit = np.abs(np.asarray(theirs((32, 4, 16)))).max()
        assert np.abs(ours((32, 4, 16))).max() <= limit * 1.05 + 1e-7
        assert np.abs(ours((32, 4, 16))).max() > limit * 0.8
