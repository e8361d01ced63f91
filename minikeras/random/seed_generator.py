"""SeedGenerator: the state that makes each seeded random call draw new numbers.

A seed is two integers. `draw_seed(seed)` turns what a random function was given into them:
an int gives [seed, 0] every time (the same numbers at each call, as Keras); a SeedGenerator
gives its state and then counts its second entry up by one (new numbers at each call, and the
same sequence from the same initial seed); None draws from one global SeedGenerator. The
numbers themselves come from NumPy's generator seeded with those two integers (`generator`).
"""

import random as python_random

import numpy as np

from minikeras.autodiff import Variable
from minikeras.utils.naming import auto_name, to_snake_case

SEED_DTYPE = "int64"  # TensorFlow's `random_seed_dtype`, which Keras's state variable keeps


class SeedGenerator:
    """The state of a sequence of random draws, as `keras.random.SeedGenerator`.

    Args:
        seed: an int, or None (a random initial seed).
        name: its name (`seed_generator`, `seed_generator_1`, ... by default).
    """

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)  # Keras's argument for another backend: one here
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self.state = Variable(
            np.array([seed, 0], dtype=SEED_DTYPE),
            trainable=False,
            name="seed_generator_state",
        )

    def next(self, ordered=True):
        """The current state (a copy); then the state moves on. `ordered=False` (the global
        generator's) jumps through a sequence of near-unique numbers instead, as Keras's."""
        seed = np.array(self.state)
        if ordered:
            self.state.assign(seed + np.array([0, 1], dtype=SEED_DTYPE))
        else:
            self.state.assign((seed + 1) * 5387 % 933199)
        return seed

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_GLOBAL = []


def global_seed_generator():
    """The SeedGenerator behind every call given `seed=None` (made on first use)."""
    if not _GLOBAL:
        _GLOBAL.append(SeedGenerator())
    return _GLOBAL[0]


def make_default_seed():
    """A random initial seed, from Python's `random` (which `set_random_seed` seeds)."""
    return python_random.randint(1, int(1e9))


def draw_seed(seed):
    """The two integers one random call uses, from an int, a SeedGenerator or None."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.array([int(seed), 0], dtype=SEED_DTYPE)
    if seed is None:
        return global_seed_generator().next(ordered=False)
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )


def generator(seed):
    """A NumPy generator for one random call, from what the call was given as `seed`."""
    words = [int(word) % 2**63 for word in draw_seed(seed)]  # SeedSequence takes naturals
    return np.random.default_rng(words)
