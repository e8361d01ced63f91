"""Keras's random functions (`keras.random.normal`, ...), over NumPy's generator.

Each function draws its seed once (`seed_generator.generator`): the arguments, defaults,
dtypes and checks are Keras's (keras/src/random/random.py). `dropout` and `shuffle` act on an
array and are differentiable: on a GradientTape they are recorded as a product by the kept
mask and as a `take` of the shuffled indices.
"""

import numpy as np

from minikeras import config, ops
from minikeras.random.seed_generator import generator


def _shape(shape):
    # a shape may hold NumPy integers or 0-d arrays (`ops.shape(x)[0]`, a Tensor's size)
    return tuple(int(d) for d in shape)


def _float_dtype(dtype):
    return config.numpy_dtype(dtype or config.floatx())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution N(mean, stddev²)."""
    values = generator(seed).normal(mean, stddev, size=_shape(shape))
    return values.astype(_float_dtype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on [minval, maxval)."""
    if dtype and np.dtype(dtype).kind != "f":
        raise ValueError(
            f"`keras.random.uniform` requires a floating point `dtype`. Received: dtype={dtype} "
        )
    dtype = _float_dtype(dtype)
    values = generator(seed).uniform(size=_shape(shape)).astype(dtype)
    # minval + (maxval − minval)·u, in the dtype, as TensorFlow computes it
    return (dtype.type(minval) + (dtype.type(maxval) - dtype.type(minval)) * values).astype(dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²) kept within two standard deviations of the mean (a sample
    further away is drawn again, as TensorFlow's)."""
    rng = generator(seed)
    shape = _shape(shape)
    values = rng.normal(size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return (mean + stddev * values).astype(_float_dtype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval)."""
    if dtype and np.dtype(dtype).kind not in "iu":
        raise ValueError(
            f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} "
        )
    values = generator(seed).integers(minval, maxval, size=_shape(shape))
    return values.astype(dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of `logits` (batch, classes), `num_samples` classes drawn with
    probabilities softmax(row): the Gumbel-max trick, argmax(logits + Gumbel noise), which needs
    no exponential (so logits of 1e6 do not overflow)."""
    logits = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(
            "`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
            f"Received: logits={logits}"
        )
    batch, classes = logits.shape
    noise = generator(seed).gumbel(size=(batch, num_samples, classes))
    return np.argmax(logits[:, None, :] + noise, axis=-1).astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Each entry kept with probability 1 − rate and scaled by 1/(1 − rate), else 0.
    `noise_shape` shares one draw along its axes of size 1 (None: the input's size)."""
    if rate == 1.0:
        return ops.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    shape = ops.shape(inputs)
    if noise_shape is None:
        noise_shape = shape
    noise_shape = tuple(d if n is None else n for n, d in zip(noise_shape, shape))
    keep = generator(seed).uniform(size=_shape(noise_shape)) >= rate
    dtype = np.asarray(ops.convert_to_numpy(inputs)).dtype
    scale = (keep / (1 - rate)).astype(dtype if dtype.kind == "f" else config.floatx())
    return ops.multiply(inputs, scale)  # on a tape: d/dx = the same scaled mask


def shuffle(x, axis=0, seed=None):
    """`x` with its entries along `axis` in a random order (the same order for every slice)."""
    order = np.argsort(generator(seed).uniform(size=ops.shape(x)[axis]), kind="stable")
    return ops.take(x, order, axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the gamma distribution of shape `alpha` (scale 1)."""
    return generator(seed).gamma(alpha, size=_shape(shape)).astype(_float_dtype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the binomial distribution: successes in `counts` trials of `probabilities`."""
    values = generator(seed).binomial(counts, probabilities, size=_shape(shape))
    return values.astype(_float_dtype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the beta distribution of parameters `alpha` and `beta`."""
    return generator(seed).beta(alpha, beta, size=_shape(shape)).astype(_float_dtype(dtype))
