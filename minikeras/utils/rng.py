"""The one random-number generator behind weight initialisation, shuffling and dropout.

`set_random_seed(seed)` resets it (and Python's and NumPy's global generators, as Keras does),
so a seeded run is bit-identical when repeated.
"""

import random

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness minikeras uses (and `random`, `np.random`), as Keras's."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    _generator = np.random.default_rng(int(seed))
    # as Keras: the global SeedGenerator (seed=None) is made again, from Python's seeded `random`
    from minikeras.random import seed_generator

    seed_generator.forget_global()


def generator() -> np.random.Generator:
    """The shared generator (reset by `set_random_seed`)."""
    return _generator


def make_generator(seed=None) -> np.random.Generator:
    """A generator for one user: its own if `seed` is given, else the shared one."""
    if seed is None:
        return _generator
    if not isinstance(seed, (int, np.integer)):  # a SeedGenerator: its next state, new each call
        from minikeras.random.seed_generator import generator

        return generator(seed)
    return np.random.default_rng(seed)
