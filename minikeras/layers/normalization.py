"""Normalization: shift and scale inputs to mean 0 and variance 1, with statistics of the data."""

import itertools
import math

import numpy as np

from minikeras import config
from minikeras.layers.layer import Layer
from minikeras.utils.py_dataset import PyDataset


class Normalization(Layer):
    """y = (x − mean) / max(√variance, ε), per position of the `axis` entries (the features).

    The statistics are given (`mean=`, `variance=`) or learnt from data by `adapt(data)`, before
    training; training never changes them. `invert=True` undoes the normalization:
    y = mean + x·max(√variance, ε). ε is `minikeras.config.epsilon()`.

    Adapted statistics are three non-trainable weights, as Keras's: `mean` and `variance`
    (the shape of the kept axes) and `count` (int64, which Keras leaves at 0); given ones are
    no weights at all.

    Args:
        axis: the axes that keep their own statistics (-1: each feature); the others are
            averaged over. None: one mean and variance for everything.
        mean, variance: the statistics, when known (both or neither).
        invert: map normalized values back.

    >>> import numpy as np
    >>> from minikeras.layers import Normalization
    >>> data = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> layer = Normalization()
    >>> layer.adapt(data)
    >>> layer(data).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}"
                )
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def fixed_axes(self):
        """The kept axes, which the mean and variance span."""
        return tuple(self.axis)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={input_shape}, with unknown axis at index {a}"
                )
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = tuple(
            input_shape[a] if a in self._keep_axis else 1 for a in range(ndim)
        )
        self._mean_and_var_shape = tuple(input_shape[a] for a in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                self._mean_and_var_shape, "zeros", trainable=False, name="mean"
            )
            self.adapt_variance = self.add_weight(
                self._mean_and_var_shape, "ones", trainable=False, name="variance"
            )
            self.count = self.add_weight((), "zeros", dtype="int64", trainable=False, name="count")
        # the shape it was built with (adapt's data, batch size included) is its build config,
        # as in Keras; models see a layer that takes any batch size
        self._build_input_shape = input_shape
        super().build((None,) + input_shape[1:])

    @property
    def mean(self):
        """The mean, broadcastable against the inputs (None before the layer is built)."""
        return self._statistic(self.input_mean, "adapt_mean")

    @property
    def variance(self):
        return self._statistic(self.input_variance, "adapt_variance")

    def _statistic(self, given, weight_name):
        if not self.built:
            return None
        if given is None:  # read from the weight at each use: loading weights needs no refresh
            return getattr(self, weight_name).reshape(self._broadcast_shape)
        if not isinstance(given, np.ndarray):
            # Python numbers become float32 tensors in Keras (TensorFlow's convert_to_tensor)
            # before the cast to the layer's dtype: mean=[0.1] acts as float32's 0.1 in float64
            given = np.asarray(given, dtype=np.float32)
        value = np.asarray(given, dtype=self.dtype)
        if value.ndim:  # its axes are the last kept ones (Keras lines them up from the end)
            shape = [1] * len(self._broadcast_shape)
            for i in range(1, value.ndim + 1):
                shape[self._keep_axis[-i]] = value.shape[-i]
            value = value.reshape(shape)
        return np.broadcast_to(value, self._broadcast_shape)

    def _scale(self, dtype):
        """max(√variance, ε): what divides (or, inverted, multiplies) the inputs."""
        return np.maximum(np.sqrt(self.variance.astype(dtype)), dtype.type(config.epsilon()))

    def call(self, x, training=False):
        mean = self.mean.astype(x.dtype)
        if self.invert:
            return mean + x * self._scale(x.dtype)
        return (x - mean) / self._scale(x.dtype)

    def backward(self, dy):
        """dx = dy / max(√variance, ε)        (inverted: dx = dy·max(√variance, ε))"""
        self.grads = []
        scale = self._scale(dy.dtype)
        return dy * scale if self.invert else dy / scale

    # ------------------------------------------------------------------ adapt
    def adapt(self, data):
        """Learn the mean and variance of `data`: an array, a PyDataset, or an iterable of
        batches (a list of arrays, a generator); a batch may be `(x, y, ...)`, of which x is
        read. Several batches are merged exactly (Chan et al.'s pairwise update):

            n ← n + b,  w = b/n
            mean' = (1 − w)·mean + w·mean_b
            var'  = (1 − w)·(var + (mean − mean')²) + w·(var_b + (mean_b − mean')²)
        """
        batches = None
        if isinstance(data, np.ndarray):
            input_shape = data.shape
        elif isinstance(data, PyDataset):
            input_shape = np.shape(_first_part(data[0]))
            batches = iter(data)
        elif hasattr(data, "__iter__"):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError(
                    "adapt() received an empty iterable (no batches). Expected at least one "
                    "batch. Pass a non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) "
                    "or layer.adapt(list_of_batches)."
                )
            first = _first_part(first)
            if not hasattr(first, "shape"):
                raise TypeError(
                    "adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                    f"attribute (e.g. numpy arrays or backend tensors). Got an element of type "
                    f"{type(first).__name__}. Ensure each yielded element is array-like with a "
                    "`.shape` attribute."
                )
            input_shape = tuple(first.shape)
            batches = itertools.chain([first], iterator)
        else:
            raise TypeError(
                f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, "
                "`keras.utils.PyDataset`, and iterables of batches (e.g. list, generator)."
            )
        input_shape = tuple(input_shape)
        if not self.built:
            self.build(input_shape)
        elif any(input_shape[a] != self._build_input_shape[a] for a in self._keep_axis):
            raise ValueError(
                f"The layer was built with input_shape={self._build_input_shape}, but adapt() is "
                f"being called with data with an incompatible shape, data.shape={input_shape}"
            )
        if batches is None:
            mean = np.mean(data, axis=self._reduce_axis)
            variance = np.var(data, axis=self._reduce_axis)
        else:
            mean, variance = self._merged_statistics(batches)
        self.adapt_mean[...] = mean
        self.adapt_variance[...] = variance

    def _merged_statistics(self, batches):
        dtype = np.dtype(self.dtype)
        mean = np.zeros(self._mean_and_var_shape, dtype)
        variance = np.zeros(self._mean_and_var_shape, dtype)
        total = 0
        for batch in batches:
            batch = np.asarray(_first_part(batch), dtype=dtype)
            for a in self._keep_axis:
                if batch.shape[a] != self._build_input_shape[a]:
                    raise ValueError(
                        "adapt() yielded a batch with incompatible shape. Expected "
                        f"{self._build_input_shape}, got {tuple(batch.shape)}."
                    )
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_variance = np.var(batch, axis=self._reduce_axis)
            count = math.prod(batch.shape[a] for a in self._reduce_axis)
            total += count
            w = count / total
            new_mean = mean * (1.0 - w) + batch_mean * w
            variance = (variance + (mean - new_mean) ** 2) * (1.0 - w) + (
                batch_variance + (batch_mean - new_mean) ** 2
            ) * w
            mean = new_mean
        return mean, variance

    # ------------------------------------------------------------------ config
    def get_build_config(self):
        return {"input_shape": self._build_input_shape} if self.built else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if isinstance(config_.get("axis"), list):
            config_["axis"] = tuple(config_["axis"])
        return super().from_config(config_)


def _first_part(batch):
    """The inputs of a batch given as (x, y) or (x, y, sample_weight), as Keras reads it."""
    return batch[0] if isinstance(batch, tuple) else batch
