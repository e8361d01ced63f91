"""Sums and weighted means over every value seen: `Sum`, `Mean`, and `MeanMetricWrapper`, which
turns a per-sample function `fn(y_true, y_pred)` into a running mean over samples.

Mean: total = Σᵢ wᵢ·vᵢ, count = Σᵢ wᵢ (the number of samples when unweighted), result total/count.
A value with more axes than its weight is first averaged over the extra axes, so weights given
per sample weigh each sample's mean.
"""

import numpy as np

from minikeras.losses.loss import apply_mask
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.utils import object_registration


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """(values reduced to one per sample and weighted, the weights reduced to one per sample),
    in `dtype`, as Keras's `reduce_to_samplewise_values`."""
    values = np.asarray(values).astype(dtype, copy=False)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight).astype(dtype, copy=False)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values.ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of every value given: Σ wᵢ·vᵢ.

    >>> float(Sum()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]))
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, np.sum, self.dtype)
        self.total.assign_add(np.sum(values))

    def result(self):
        return self.total.numpy()


class Mean(Metric):
    """The (weighted) mean of every value given: Σ wᵢ·vᵢ / Σ wᵢ.

    >>> float(Mean()([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]))
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (float, np.floating)) and isinstance(sample_weight, int):
            # the loss tracker, every step: one batch loss weighted by the batch size
            weight = self.total.dtype.type(sample_weight)
            self.total.assign_add(self.total.dtype.type(values) * weight)
            self.count.assign_add(weight)
            return
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, np.mean, self.dtype
        )
        self.total.assign_add(np.sum(values))
        if sample_weight is not None:
            self.count.assign_add(np.sum(sample_weight))
        else:
            self.count.assign_add(values.shape[0] if values.ndim else 1)

    def result(self):
        total, count = self.total[()], self.count[()]  # scalars of the variables' dtype
        return total / count if count else total * 0  # 0 before any count, as divide_no_nan


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **kwargs)`.

    >>> import numpy as np
    >>> def squared_error(y_true, y_pred):
    ...     return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2, axis=-1)
    >>> metric = MeanMetricWrapper(squared_error, name="se")
    >>> float(metric([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if getattr(fn, "__module__", None) == "minikeras.losses":
            self._direction = "down"  # a loss, to be minimized (as Keras marks a wrapped loss)

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)  # an eager output's (layers/keras_mask.py)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:  # a masked timestep weighs 0, as Keras's MeanMetricWrapper
            sample_weight = apply_mask(sample_weight, mask, self.dtype)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        """`fn` serialized as Keras 3.15 writes a function here: by its registered name (or
        its own), with module "builtins" whatever module defines it."""
        fn = {
            "module": "builtins",
            "class_name": "function",
            "config": object_registration.get_registered_name(self._fn),
            "registered_name": "function",
        }
        return {**super().get_config(), "fn": fn, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        """The function found again by name: a registered one of yours (or one in a
        `custom_object_scope`), else minikeras's loss or metric function of that name."""
        config = dict(config)
        if "fn" not in config:  # a subclass that names its own function (Accuracy, ...)
            return cls(**config)
        fn = config.pop("fn")
        if isinstance(fn, dict):
            fn = fn["config"]
        if isinstance(fn, str):
            from minikeras import losses, metrics

            name = fn
            fn = object_registration.get_registered_object(
                name, module_objects={**vars(losses), **vars(metrics)}
            )
            if not callable(fn):
                raise ValueError(f"Could not interpret function identifier: {name}")
        return cls(fn, **config)
