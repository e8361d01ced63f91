"""Weight initializers with Keras's names, arguments and defaults.

An initializer is called with a shape and a dtype and returns a new array:

>>> from minikeras import initializers
>>> initializers.GlorotUniform(seed=1)((3, 2)).shape
(3, 2)

A seeded initializer gives the same values on every call (as in Keras); an unseeded one draws from
minikeras's shared generator, which `minikeras.utils.set_random_seed` resets.
"""

import math

import numpy as np

from minikeras import config
from minikeras.utils.rng import make_generator


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape: (in, out) for a kernel; for a convolution kernel
    (*window, in, out) each is multiplied by the window size. Given both `input_axes` and
    `output_axes` (an EinsumDense kernel), each fan is the product of those axes' sizes; one
    of them alone is ignored, as in Keras."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: `__call__(shape, dtype=None)` returns a new array."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("seed"), dict):  # a SeedGenerator, serialized
            from minikeras.saving import deserialize_keras_object

            config["seed"] = deserialize_keras_object(config["seed"])
        return cls(**config)


def _seed_config(seed):
    """A seed as Keras's configs hold it: an int or None as is, a SeedGenerator serialized."""
    if seed is None or isinstance(seed, int):
        return seed
    from minikeras.saving import serialize_keras_object

    return serialize_keras_object(seed)


def _dtype(dtype):
    return config.numpy_dtype(dtype or config.floatx())


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to `value` (a number, or an array broadcast to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=_dtype(dtype))

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, np.generic)):  # Keras's way of writing an array
            config_ = {"value": np.asarray(value).tolist(), "dtype": np.asarray(value).dtype.name}
            value = {"class_name": "__numpy__", "config": config_}
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config["value"]
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.array(value["config"]["value"], dtype=value["config"]["dtype"])
        return cls(value)


class Identity(Initializer):
    """`gain` times the identity matrix (of a 2D shape only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        # Keras's config is {} (the gain is lost on saving); Keras reads this one back too
        return {"gain": self.gain}


class RandomNormal(Initializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        rng = make_generator(self.seed)
        return rng.normal(self.mean, self.stddev, size=shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": _seed_config(self.seed)}


class RandomUniform(Initializer):
    """Uniform on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        rng = make_generator(self.seed)
        return rng.uniform(self.minval, self.maxval, size=shape).astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": _seed_config(self.seed)}


def _truncated_normal(rng, mean, stddev, shape):
    """Normal(mean, stddev) redrawn wherever a value falls more than 2 stddev from the mean."""
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) cut at two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        rng = make_generator(self.seed)
        return _truncated_normal(rng, self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": _seed_config(self.seed)}


class VarianceScaling(Initializer):
    """Variance scale/n, n = fan_in, fan_out or their mean (`mode`), drawn from
    `distribution`: 'truncated_normal' (stddev corrected for the cut), 'untruncated_normal' or
    'uniform' (limit √(3·scale/n))."""

    # stddev of a unit normal truncated at ±2, which the truncated draw divides out
    TRUNCATION_STDDEV = 0.87962566103423978

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Invalid `mode` argument: {mode!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.input_axes, self.output_axes = input_axes, output_axes

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = make_generator(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / self.TRUNCATION_STDDEV
            values = _truncated_normal(rng, 0.0, stddev, shape)
        else:
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        return values.astype(_dtype(dtype))

    def get_config(self):  # Keras's keys, in its order
        return {
            "seed": _seed_config(self.seed),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(VarianceScaling):
    """Uniform on ±√(6 / (fan_in + fan_out)): Dense's default kernel initializer."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_avg", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev √(2 / (fan_in + fan_out))."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class HeUniform(VarianceScaling):
    """Uniform on ±√(6 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(2.0, "fan_in", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class HeNormal(VarianceScaling):
    """Truncated normal with stddev √(2 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class LecunUniform(VarianceScaling):
    """Uniform on ±√(3 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "uniform", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class LecunNormal(VarianceScaling):
    """Truncated normal with stddev √(1 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed, input_axes, output_axes)

    def get_config(self):
        return {
            "seed": _seed_config(self.seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`: the recurrent kernels' default.

    As Keras: flatten the shape to (rows, cols) = (Π shape[:-1], shape[-1]), draw a standard
    normal matrix of shape (max, min), take its QR factorisation, multiply Q's columns by the signs
    of R's diagonal (so Q is uniformly distributed over orthogonal matrices), transpose when
    rows < cols. Seeded values differ from Keras's (another generator); the distribution is
    the same.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        rng = make_generator(self.seed)
        a = rng.standard_normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # (max, min)·(min,): each column's sign
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"seed": _seed_config(self.seed), "gain": self.gain}


ALL_INITIALIZERS = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in ALL_INITIALIZERS.values()}
_BY_CLASS_NAME["OrthogonalInitializer"] = Orthogonal  # Keras's older class names, still read
_BY_CLASS_NAME["IdentityInitializer"] = Identity
# Keras exports each class under its short name too: `initializers.glorot_uniform(seed=1)`
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
OrthogonalInitializer = Orthogonal  # (Keras's older class names)
identity, IdentityInitializer = Identity, Identity
# Keras's short names (Embedding's default is "uniform")
ALIASES = {"normal": "random_normal", "one": "ones", "uniform": "random_uniform", "zero": "zeros"}


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a class name, a config dict, or itself."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        identifier = ALIASES.get(identifier, identifier)
        cls = ALL_INITIALIZERS.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret initializer identifier: {identifier!r}. "
                f"Expected one of {sorted(ALL_INITIALIZERS)}."
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_CLASS_NAME.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown initializer class: {identifier['class_name']!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _from_values(np.asarray(identifier))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()  # a class, as Keras: an instance with its defaults
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def _from_values(values):
    """An initializer that gives these values (in the dtype asked), as Keras's `get` makes of
    an array; ValueError for any other shape."""

    def initialize_fn(shape, dtype=None):
        if tuple(shape) != values.shape:
            raise ValueError(
                f"Expected `shape` to be {values.shape} for direct tensor as initializer. "
                f"Received shape={shape}"
            )
        return values.astype(_dtype(dtype))

    return initialize_fn


def serialize(initializer):
    """Keras's serialized form: {'module', 'class_name', 'config', 'registered_name'}."""
    config_ = initializer.get_config()
    return {
        "module": "keras.initializers",
        "class_name": type(initializer).__name__,
        "config": config_,
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """An initializer from its `serialize` dict (Keras's `initializers.deserialize`)."""
    if custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config", {}))
    return get(config)
