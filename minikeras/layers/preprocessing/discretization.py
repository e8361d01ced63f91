"""Discretization: numbers → the index of the bin they fall in."""

import numpy as np

from minikeras import config
from minikeras.layers.preprocessing.preprocessing_layer import (
    PreprocessingLayer,
    adapt_batches,
    to_numpy,
)
from minikeras.utils.numerical_utils import encode_categorical_inputs


class Discretization(PreprocessingLayer):
    """bin(x) = the number of boundaries b with b ≤ x (np.digitize): boundaries [0, 1] give
    bins (−∞, 0), [0, 1), [1, ∞). The boundaries are given (`bin_boundaries`) or, with
    `num_bins`, learnt by `adapt` as approximate quantiles of the data (a weighted summary
    of about 1/`epsilon` points per batch, merged batch by batch, as Keras computes them).

    >>> from minikeras.layers import Discretization
    >>> Discretization(bin_boundaries=[0.0, 1.0, 2.0])([[-1.5, 1.0, 3.4, 0.5]]).tolist()
    [[0, 2, 3, 1]]
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
    ):
        if sparse:  # Keras's message on its backends without sparse tensors
            raise ValueError(f"`sparse=True` cannot be used with backend {'numpy'}")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                "Unknown value for `output_mode` argument of layer Discretization. Allowed "
                "values are: ('int', 'one_hot', 'multi_hot', 'count'). Received: "
                f"{output_mode}"
            )
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. Received: "
                f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        super().__init__(name=name, dtype=dtype)
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else _empty_summary()

    @property
    def output_dtype(self):
        return "int32" if self.output_mode == "int" else self.dtype

    # ------------------------------------------------------------------ adapt
    def adapt(self, data, steps=None):
        """Learn `num_bins` − 1 boundaries: approximate quantiles of `data` (an array, a
        tf.data.Dataset or an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        self.reset_state()
        if isinstance(data, (list, tuple)) and data and hasattr(data[0], "shape"):
            batches = (to_numpy(batch) for batch in data)  # a list of arrays: batches
        else:
            batches, _ = adapt_batches(data, steps)
        for batch in batches:
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Merge the summary of one batch into the layer's."""
        summary = _summarize(np.asarray(data, dtype=np.float32), self.epsilon)
        self.summary = _merge_summaries(summary, self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        # the summary compressed to num_bins points; the last one (the maximum) is no boundary
        self.bin_boundaries = _compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is None:
            return
        self.summary = _empty_summary()

    # ------------------------------------------------------------------ call
    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time "
                "or call `adapt(dataset)` before you can start using the `Discretization` "
                "layer."
            )
        # float32 inputs against float32 boundaries, as Keras converts both
        inputs = np.asarray(inputs, dtype=config.floatx())
        boundaries = np.asarray(self.bin_boundaries, dtype=inputs.dtype)
        indices = np.digitize(inputs, boundaries).astype(np.int64)
        depth = len(self.bin_boundaries) + 1
        return encode_categorical_inputs(indices, self.output_mode, depth, self.output_dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        if len(input_shape) >= 2:  # Keras's count sums axis 1
            return (input_shape[0],) + input_shape[2:] + (depth,)
        return (depth,)

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if isinstance(config_.get("dtype"), dict):
            config_["dtype"] = config_["dtype"].get("config", {}).get("name")
        config_.pop("trainable", None)
        bin_boundaries = config_.get("bin_boundaries")
        if bin_boundaries is not None and config_.get("num_bins") is not None:
            # an adapted layer has both; the constructor takes one
            config_.pop("bin_boundaries")
            layer = cls(**config_)
            layer.bin_boundaries = bin_boundaries
            return layer
        return cls(**config_)


def _empty_summary():
    return np.zeros((2, 0), dtype=np.float32)


def _summarize(values, epsilon):
    """A 2 × k summary of the values: every step-th of them in order (the first at step − 1)
    with the weight `step`, step = max(n·epsilon, 1): about 1/epsilon points."""
    values = np.sort(values.reshape(-1))
    step = max(values.size * epsilon, 1)
    points = values[int(step - 1) :: int(step)]
    return np.stack([points, np.full_like(points, step)])


def _merge_summaries(summary, other, epsilon):
    """Two summaries side by side, in order of their points, compressed."""
    merged = np.concatenate((summary, other), axis=1)
    return _compress_summary(merged[:, np.argsort(merged[0])], epsilon)


def _compress_summary(summary, epsilon):
    """A summary of 1/epsilon points at the cumulative weight fractions epsilon, 2·epsilon,
    ..., 1, each point and weight interpolated linearly from the cumulative weights of
    `summary` (kept as it is when it has fewer than 1/epsilon points)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = np.arange(0.0, 1.0, epsilon) + epsilon
    cumulative = summary[1].cumsum()
    cumulative_fraction = cumulative / cumulative[-1]
    points = np.interp(fractions, cumulative_fraction, summary[0])
    at = np.interp(fractions, cumulative_fraction, cumulative)
    weights = np.diff(at, prepend=0.0)
    return np.stack((points, weights)).astype(np.float32)
