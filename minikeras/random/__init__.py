"""Random numbers as Keras's `keras.random`: stateless functions of a seed.

>>> from minikeras import random
>>> seed = random.SeedGenerator(1337)
>>> a = random.normal((2, 3), seed=seed)      # a SeedGenerator: new numbers at each call
>>> b = random.normal((2, 3), seed=seed)
>>> bool((a != b).any()), a.dtype.name
(True, 'float32')
>>> bool((random.uniform((4,), seed=7) == random.uniform((4,), seed=7)).all())  # an int: the same
True

The numbers are NumPy's, not TensorFlow's: the same seed gives the same numbers in minikeras
every time, not the numbers Keras gives. Shapes, dtypes and the way seeds behave are Keras's.
"""

from minikeras.random.random import (
    beta,
    binomial,
    categorical,
    dropout,
    gamma,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from minikeras.random.seed_generator import SeedGenerator

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
