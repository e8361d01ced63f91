"""Initializers: Keras's names and defaults, the distributions they draw from (by their moments
and bounds on large samples), seeding, and configs."""

import math

import numpy as np
import pytest

from minikeras import initializers
from minikeras.utils import set_random_seed

SHAPE = (300, 200)  # fan_in 300, fan_out 200: 60,000 draws, moments within ~1%
FAN_IN, FAN_OUT = SHAPE


def sample(name_or_initializer, shape=SHAPE, dtype=None):
    initializer = initializers.get(name_or_initializer)
    return initializer(shape, dtype=dtype)


@pytest.mark.parametrize(
    "name, limit",
    [
        ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
        ("he_uniform", math.sqrt(6 / FAN_IN)),
        ("lecun_uniform", math.sqrt(3 / FAN_IN)),
        ("random_uniform", 0.05),
    ],
)
def test_uniform_initializers(name, limit):
    values = sample(name)
    assert values.shape == SHAPE and values.dtype == np.float32
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit  # the whole range is used
    assert abs(values.mean()) < 0.02 * limit
    assert values.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)  # uniform: limit/√3


@pytest.mark.parametrize(
    "name, stddev, truncated",
    [
        ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), True),
        ("he_normal", math.sqrt(2 / FAN_IN), True),
        ("lecun_normal", math.sqrt(1 / FAN_IN), True),
        ("random_normal", 0.05, False),
        ("truncated_normal", 0.05, True),
    ],
)
def test_normal_initializers(name, stddev, truncated):
    values = sample(name).astype(np.float64)
    assert abs(values.mean()) < 0.02 * stddev
    if name in ("random_normal", "truncated_normal"):
        # plain stddev; truncated at 2σ the spread shrinks to 0.8796σ
        expected = stddev * (0.87962566 if truncated else 1.0)
        assert values.std() == pytest.approx(expected, rel=0.02)
    else:
        # variance scaling: the stddev is corrected so that the truncated draw has variance 1/n
        assert values.std() == pytest.approx(stddev, rel=0.02)
    if truncated:
        sigma = stddev / 0.87962566 if name != "truncated_normal" else stddev
        assert np.abs(values).max() <= 2 * sigma * (1 + 1e-6)
    else:
        assert np.abs(values).max() > 3 * stddev  # 60,000 normal draws reach past 3σ


def test_constant_initializers():
    np.testing.assert_array_equal(sample("zeros", (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(sample("ones", (4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    assert sample("zeros", (2,), dtype="float64").dtype == np.float64


def test_fans_of_kernels():
    assert initializers.compute_fans((784, 64)) == (784, 64)
    assert initializers.compute_fans((10,)) == (10, 10)
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)  # conv: × window size


def test_seeded_initializer_repeats_itself():
    # Keras 3: a seeded initializer gives the same values on every call
    initializer = initializers.GlorotUniform(seed=42)
    np.testing.assert_array_equal(initializer((5, 4)), initializer((5, 4)))
    other = initializers.GlorotUniform(seed=43)((5, 4))
    assert not np.array_equal(initializer((5, 4)), other)


def test_unseeded_draws_follow_set_random_seed():
    set_random_seed(5)
    first = [sample("glorot_uniform", (3, 3)), sample("random_normal", (3,))]
    set_random_seed(5)
    second = [sample("glorot_uniform", (3, 3)), sample("random_normal", (3,))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], sample("glorot_uniform", (3, 3)))


@pytest.mark.parametrize(
    "name, cls",
    [
        ("glorot_uniform", initializers.GlorotUniform),
        ("glorot_normal", initializers.GlorotNormal),
        ("he_uniform", initializers.HeUniform),
        ("he_normal", initializers.HeNormal),
        ("lecun_normal", initializers.LecunNormal),
        ("random_normal", initializers.RandomNormal),
        ("random_uniform", initializers.RandomUniform),
        ("zeros", initializers.Zeros),
        ("ones", initializers.Ones),
        ("constant", initializers.Constant),
        ("GlorotUniform", initializers.GlorotUniform),
    ],
)
def test_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="glorot_unifrom") as info:
        initializers.get("glorot_unifrom")
    assert "'glorot_uniform'" in str(info.value)


def test_callables_and_instances_pass_through():
    instance = initializers.Ones()
    assert initializers.get(instance) is instance

    def halves(shape, dtype=None):
        return np.full(shape, 0.5, dtype=dtype)

    assert initializers.get(halves) is halves
    assert initializers.get(None) is None


def test_config_round_trip():
    for initializer in (
        initializers.RandomNormal(mean=1.0, stddev=0.2, seed=3),
        initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=1),
        initializers.Constant(0.3),
        initializers.HeNormal(seed=9),
    ):
        again = initializers.get(initializers.serialize(initializer))
        assert type(again) is type(initializer)
        assert again.get_config() == initializer.get_config()
        np.testing.assert_array_equal(again((3, 2)), initializer((3, 2)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 0.0}, "scale"),
        ({"mode": "fan_middle"}, "mode"),
        ({"distribution": "cauchy"}, "distribution"),
    ],
)
def test_variance_scaling_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        initializers.VarianceScaling(**kwargs)
