"""Probabilistic metrics: running means of per-sample crossentropies, KL divergence and the
Poisson deviance (the crossentropies are minikeras.losses's functional forms)."""

import numpy as np

from minikeras import losses
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper

binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
# one function each, exported by Keras as both keras.losses.x and keras.metrics.x
kl_divergence = losses.kl_divergence
poisson = losses.poisson


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence of the predictions from the labels."""

    _direction = "down"

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(fn=kl_divergence, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    """The mean Poisson deviance p − y·log p."""

    _direction = "down"

    def __init__(self, name="poisson", dtype=None):
        super().__init__(fn=poisson, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy (from probabilities, or logits with `from_logits`)."""

    _direction = "down"

    def __init__(
        self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0
    ):
        super().__init__(
            binary_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy of one-hot labels."""

    _direction = "down"

    def __init__(
        self,
        name="categorical_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
        axis=-1,
    ):
        super().__init__(
            categorical_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy of integer labels."""

    _direction = "down"

    def __init__(
        self,
        name="sparse_categorical_crossentropy",
        dtype=None,
        from_logits=False,
        ignore_class=None,
        axis=-1,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        # An ignored label's loss is 0 (computed on label 0, then zeroed, as Keras). Keras 3.15
        # then drops those samples from the count only when weights are given (its mask reaches
        # the weights); unweighted, they count as samples with loss 0. Both kept as Keras does.
        y_true = np.asarray(y_true)
        ignored = y_true == self.ignore_class
        values = self._fn(
            np.where(ignored, 0, y_true), y_pred, **{**self._fn_kwargs, "ignore_class": None}
        )
        if ignored.ndim == np.ndim(y_pred) and ignored.shape[-1] == 1:
            ignored = ignored[..., 0]
        values = np.where(ignored.reshape(np.shape(values)), 0, values).astype(values.dtype)
        if sample_weight is None:
            return Mean.update_state(self, values)
        mask = (~ignored).astype(self.dtype)
        weight = np.asarray(sample_weight).astype(self.dtype)
        mask, weight = squeeze_or_expand_to_same_rank(mask, weight)
        return Mean.update_state(self, values, sample_weight=mask * weight)

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }
