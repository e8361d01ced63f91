"""minikeras.random: Keras's random functions and SeedGenerator. The numbers are NumPy's, so
what is checked is what Keras's own tests check (keras/src/random/random_test.py,
seed_generator_test.py): shapes, dtypes, ranges, determinism given a seed, the errors."""

import numpy as np
import pytest

from minikeras import GradientTape, config, ops, random, utils
from minikeras.random import seed_generator


@pytest.mark.parametrize("shape", [(5,), (2, 3), [2, 3, 4]])
def test_shapes_and_default_dtypes(shape):
    assert random.normal(shape, mean=10, stddev=3, seed=10).shape == tuple(shape)
    u = random.uniform(shape, minval=-1, maxval=1, seed=10)
    assert u.shape == tuple(shape) and -1 <= u.min() and u.max() < 1
    t = random.truncated_normal(shape, mean=10, stddev=3, seed=10)
    assert t.shape == tuple(shape) and np.all(np.abs(t - 10) <= 6)
    assert random.normal(shape).dtype == config.floatx() == "float32"
    assert random.randint(shape, 1, 3, seed=1).dtype == "int32"


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_dtypes(dtype):
    for values in (
        random.normal((2, 3), dtype=dtype),
        random.uniform((2, 3), dtype=dtype),
        random.truncated_normal((2, 3), dtype=dtype),
        random.gamma((2, 3), 2.0, dtype=dtype),
        random.beta((2, 3), 2.0, 3.0, dtype=dtype),
        random.binomial((2,), 1e5, 0.5, dtype=dtype),
        random.dropout(np.ones((3, 5), dtype), rate=0.8, seed=0),
    ):
        assert values.dtype == dtype


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "int64"])
def test_randint_range_and_dtype(dtype):
    values = random.randint((2, 3, 4), minval=0, maxval=10, seed=10, dtype=dtype)
    assert values.dtype == dtype and values.min() >= 0 and values.max() < 10


def test_an_int_seed_repeats_and_a_seed_generator_moves_on():
    np.testing.assert_array_equal(random.normal((3,), seed=7), random.normal((3,), seed=7))
    seed = random.SeedGenerator(1337)
    first, second = random.normal((3,), seed=seed), random.normal((3,), seed=seed)
    assert not np.array_equal(first, second)
    again = random.SeedGenerator(1337)  # the same sequence from the same initial seed
    np.testing.assert_array_equal(random.normal((3,), seed=again), first)
    np.testing.assert_array_equal(random.normal((3,), seed=again), second)
    assert not np.array_equal(random.normal((3,)), random.normal((3,)))  # the global one


def test_seed_generator_state_and_config():
    gen = random.SeedGenerator(seed=12345, name="sg")
    assert gen.state.dtype == "int64" and gen.state[0] == 12345
    before = gen.next()
    assert not np.array_equal(before, gen.next())
    assert gen.get_config() == {"seed": 12345, "name": "sg"}
    assert random.SeedGenerator.from_config(gen.get_config()).get_config() == gen.get_config()
    assert seed_generator.global_seed_generator() is seed_generator.global_seed_generator()
    assert seed_generator.draw_seed(2**32 - 1).dtype == "int64"


def test_keras_errors():
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        random.SeedGenerator(seed="invalid_seed")
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        random.SeedGenerator(invalid_arg="unexpected_value")
    with pytest.raises(ValueError, match="Argument `seed` must be either an integer"):
        seed_generator.draw_seed("invalid_seed")
    with pytest.raises(ValueError, match="`keras.random.randint` requires an integer `dtype`."):
        random.randint((3, 4), minval=0, maxval=10, dtype="float64")
    with pytest.raises(ValueError, match="`keras.random.uniform` requires a floating point"):
        random.uniform((3, 4), minval=0, maxval=10, dtype="int64")
    for logits in (np.ones((5,)), np.ones((5, 5, 5))):
        with pytest.raises(ValueError):
            random.categorical(logits, 5)


@pytest.mark.parametrize("batch_size, num_samples", [(1, 1), (2, 5), (8, 15)])
def test_categorical_follows_huge_logits(batch_size, num_samples):
    logits = np.eye(batch_size) * 1e5 + 1e6  # each row certainly picks its own index
    samples = random.categorical(logits, num_samples, seed=10)
    assert samples.shape == (batch_size, num_samples) and samples.dtype == "int32"
    np.testing.assert_array_equal(samples, np.tile(np.arange(batch_size)[:, None], num_samples))


def test_dropout_keeps_and_scales_and_its_gradient_is_the_mask():
    x = np.ones((10, 10), "float32")
    np.testing.assert_array_equal(random.dropout(x, rate=0, seed=0), x)
    np.testing.assert_array_equal(random.dropout(x, rate=1.0, seed=0), np.zeros((10, 10)))
    dropped = random.dropout(x, rate=0.5, seed=0)
    assert set(np.unique(dropped)) == {0.0, 2.0} and np.sum(dropped == 0) > 2
    shared = random.dropout(np.ones((2, 3, 5, 7)), rate=0.3, noise_shape=[None, 3, 5, 1], seed=0)
    assert shared.shape == (2, 3, 5, 7) and np.all(shared == shared[..., :1])
    w = np.ones((4, 6))
    with GradientTape() as tape:
        tape.watch(w)
        y = ops.sum(random.dropout(w, rate=0.5, seed=3))
    np.testing.assert_array_equal(tape.gradient(y, w), random.dropout(w, rate=0.5, seed=3))


def test_shuffle_permutes_along_one_axis():
    x = np.arange(100).reshape(10, 10)
    y = random.shuffle(x, seed=0)
    assert not np.array_equal(x, y)
    np.testing.assert_array_equal(np.sort(y, axis=0), x)  # rows moved whole
    y = random.shuffle(x, axis=1, seed=0)
    np.testing.assert_array_equal(np.sort(y, axis=1), x)


def test_set_random_seed_makes_unseeded_draws_repeat():
    utils.set_random_seed(3)
    first = random.normal((4,))
    utils.set_random_seed(3)
    np.testing.assert_array_equal(random.normal((4,)), first)


def test_a_layer_lists_its_seed_generator_state_among_its_variables_not_its_weights():
    from minikeras import layers

    class Noisy(layers.Layer):
        def __init__(self):
            super().__init__()
            self.seed_generator = random.SeedGenerator(1337, name="noise_seed")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x) + random.normal((1, 2), seed=self.seed_generator)

    layer = Noisy()
    layer(np.zeros((1, 3)))
    assert [v.path for v in layer.variables] == [
        "noise_seed/seed_generator_state",
        "dense/kernel",
        "dense/bias",
    ][:1] + [w.path for w in layer.weights]
    assert len(layer.weights) == len(layer.get_weights()) == 2
