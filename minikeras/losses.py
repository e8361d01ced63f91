"""Losses: each computes its value and its gradient with respect to the model's output.

A loss object is called like Keras's, on plain arrays: `loss(y_true, y_pred, sample_weight=None)`
returns the reduced value (Σ wᵢ·lossᵢ / N for the default reduction 'sum_over_batch_size').

For training, `value_and_grad(y_true, y_pred, sample_weight)` returns that value and
dL/dy_pred. Crossentropies can also start from the logits z of the softmax or sigmoid that made
y_pred (`value_and_grad_from_logits`): that is what Keras does inside `fit`/`evaluate`
(no clipping, gradient (p − y)/N), and the model does the same when its output layer's activation
is a softmax or a sigmoid, whichever crossentropy follows, as Keras (`LOGITS_ACTIVATIONS` in
models/model.py).

>>> import numpy as np
>>> from minikeras import losses
>>> y = np.eye(3)
>>> p = np.array([[.9, .05, .05], [.5, .89, .6], [.05, .01, .94]])
>>> round(float(losses.CategoricalCrossentropy()(y, p)), 4)
0.3239
"""

import math

import numpy as np

from minikeras import config, kernels

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def _clip(p):
    eps = config.epsilon()
    return np.clip(p, eps, 1 - eps)


def _inside_clip(p):
    """1 where clip(p, ε, 1 − ε) lets the gradient through, 0 where it is flat."""
    eps = config.epsilon()
    return ((p >= eps) & (p <= 1 - eps)).astype(p.dtype)


def same_rank(y_true, y_pred):
    """Keras's `squeeze_or_expand_to_same_rank`: when the ranks differ by one and the longer
    array ends in an axis of size 1, a rank-1 partner gains that axis, else the longer one loses
    it. So labels (N,) meet predictions (N, 1) as (N, 1), and labels (N, 1) meet (N,) as (N, 1).
    """
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def check_same_shape(y_true, y_pred):
    """Keras's crossentropies (categorical, binary) refuse labels shaped unlike the outputs."""
    what = "rank (ndim)" if y_true.ndim != y_pred.ndim else "shape"
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Arguments `target` and `output` must have the same {what}. "
            f"Received: target.shape={y_true.shape}, output.shape={y_pred.shape}"
        )


class Loss:
    """Base class. Subclasses define `call(y_true, y_pred)` (one loss per sample) and
    `gradient(y_true, y_pred)` (d lossᵢ / d y_pred, same shape as y_pred)."""

    # name of the output activation whose logits this loss can start from (None: cannot)
    logits_activation = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or type(self).__name__
        self.reduction = reduction
        self.dtype = dtype

    # -- what subclasses write
    def call(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def prepare_targets(self, y_true, y_pred):
        """y_true as `call` expects it (e.g. smoothed labels); here, y_pred's dtype."""
        return np.asarray(y_true, dtype=y_pred.dtype)

    def _targets(self, y_true, y_pred):
        """(y_true, y_pred) with their ranks matched as Keras does, y_true prepared for `call`."""
        y_true, y_pred = same_rank(np.asarray(y_true), y_pred)
        return self.prepare_targets(y_true, y_pred), y_pred

    # -- the reduction, shared by every loss
    def _weights_and_divisor(self, sample_weight, shape, dtype):
        """(w, d) such that the reduced loss is Σ wᵢ·lossᵢ / d, for per-sample losses of `shape`.

        d is the number of losses for 'sum_over_batch_size' (Keras divides by it, whatever the
        weights), Σw for 'mean_with_sample_weight', 1 for 'sum'. A weight per sample, shape (N,)
        or (N, 1), spreads over any further axes of the losses (timesteps); weights shaped like
        the losses weigh each one. So d(reduced loss)/d lossᵢ = wᵢ/d.
        """
        if sample_weight is None:
            w, total = self._ones(shape, dtype), None
        else:
            w = np.asarray(sample_weight, dtype)
            while w.ndim > len(shape) and w.shape[-1] == 1:  # (N, 1) weights for (N,) losses
                w = w[..., 0]
            total = float(np.sum(w))
            w = np.broadcast_to(w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)
        if self.reduction in ("sum", "none", None):
            return w, 1.0
        if self.reduction == "mean_with_sample_weight" and total is not None:
            return w, total
        return w, float(max(math.prod(shape), 1))

    def _ones(self, shape, dtype):
        # the unweighted case happens every step: keep its all-ones weights (never written to)
        cached = getattr(self, "_ones_cache", None)
        if cached is None or cached.shape != shape or cached.dtype != dtype:
            cached = self._ones_cache = np.ones(shape, dtype)
        return cached

    def _reduce(self, losses, sample_weight):
        if sample_weight is None and self.reduction == "sum_over_batch_size":
            # every unweighted step: Σ lossᵢ / N, without the product by all-ones (×1 is exact)
            return losses.sum(dtype=losses.dtype) / losses.dtype.type(max(losses.size, 1))
        w, divisor = self._weights_and_divisor(sample_weight, losses.shape, losses.dtype)
        if self.reduction in ("none", None):
            return losses if sample_weight is None else losses * w
        # Σ wᵢ·lossᵢ / d in the loss's dtype, as Keras does (0 when d = 0, like divide_no_nan)
        total = np.sum(losses * w, dtype=losses.dtype)
        return total / losses.dtype.type(divisor) if divisor else total * 0

    def _loss_scale(self, sample_weight, shape, dtype):
        """wᵢ/d: how much each per-sample loss counts in the reduced loss (see above)."""
        w, divisor = self._weights_and_divisor(sample_weight, shape, dtype)
        return w / divisor if divisor else w * 0

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss on plain arrays (probabilities are clipped, as in Keras)."""
        y_pred = np.asarray(y_pred)
        if not np.issubdtype(y_pred.dtype, np.floating):
            y_pred = y_pred.astype(config.floatx())
        y_true, y_pred = self._targets(y_true, y_pred)
        return self._reduce(self.call(y_true, y_pred), sample_weight)

    def value_and_grad(self, y_true, y_pred, sample_weight=None):
        """(reduced loss, dL/dy_pred), the gradient shaped like y_pred."""
        shape = y_pred.shape
        y_true, y_pred = self._targets(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        grad = self.gradient(y_true, y_pred)
        # chain rule through the reduction: each row of the gradient times wᵢ/d
        grad *= self._loss_scale(sample_weight, losses.shape, y_pred.dtype)[..., None]
        return self._reduce(losses, sample_weight), grad.reshape(shape)

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None):
        """(reduced loss, dL/dlogits), for losses with a `logits_activation`."""
        raise NotImplementedError(f"{type(self).__name__} cannot start from logits")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _mean_last_axis_scale(y_pred):
    """1/C: each per-sample loss below is a mean over the last axis of C entries."""
    return 1.0 / y_pred.shape[-1]


class MeanSquaredError(Loss):
    """lossᵢ = meanⱼ (yᵢⱼ − pᵢⱼ)²        d lossᵢ / d pᵢⱼ = 2(pᵢⱼ − yᵢⱼ)/C"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return np.mean(np.square(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) * (2 * _mean_last_axis_scale(y_pred))


class MeanAbsoluteError(Loss):
    """lossᵢ = meanⱼ |yᵢⱼ − pᵢⱼ|         d lossᵢ / d pᵢⱼ = sign(pᵢⱼ − yᵢⱼ)/C"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) * y_pred.dtype.type(_mean_last_axis_scale(y_pred))


class CategoricalCrossentropy(Loss):
    """lossᵢ = −Σⱼ yᵢⱼ·log pᵢⱼ for one-hot (or smoothed) labels y.

    On probabilities (plain arrays, or outputs not made by a softmax), as Keras: each row is
    renormalised (q = p/Σp) and clipped to [ε, 1 − ε], ε = 1e-7. From logits z (inside `fit`
    after a softmax, or `from_logits=True`): lossᵢ = Σⱼ yᵢⱼ·(logsumexp(zᵢ) − zᵢⱼ), exact.
    """

    logits_activation = "softmax"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        y = np.asarray(y_true, dtype=y_pred.dtype)
        check_same_shape(y, y_pred)
        if self.label_smoothing:
            # y ← y·(1 − s) + s/C: every class keeps a little probability mass
            y = y * (1 - self.label_smoothing) + self.label_smoothing / y_pred.shape[-1]
        return y

    def call(self, y_true, y_pred):
        if self.from_logits:
            return _softmax_xent(y_true, y_pred, None)[0]
        q = _clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True))
        return -np.sum(y_true * np.log(q), axis=-1)

    def gradient(self, y_true, y_pred):
        """From probabilities: with S = Σp, q = clip(p/S), g = −y/q (0 where clipped flat),
        d lossᵢ/d pₖ = (gₖ − Σⱼ gⱼ·(pⱼ/S)) / S     (the chain rule through the renormalisation)."""
        if self.from_logits:
            return _softmax_xent(y_true, y_pred, None)[1]
        s = np.sum(y_pred, axis=-1, keepdims=True)
        p_norm = y_pred / s
        g = -y_true / _clip(p_norm) * _inside_clip(p_norm)
        return (g - np.sum(g * p_norm, axis=-1, keepdims=True)) / s

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None):
        y, logits = self._targets(y_true, logits)
        scale = self._loss_scale(sample_weight, logits.shape[:-1], logits.dtype)
        losses, dlogits = _softmax_xent(y, logits, scale)
        return self._reduce(losses, sample_weight), dlogits

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


def _softmax_xent(y, logits, row_scale):
    """Per-sample crossentropy from logits and its gradient (p − y)·row_scale, via the kernel.

    The kernel works on rows: any leading axes (batch, timesteps, ...) are flattened into one.
    """
    shape = logits.shape
    rows = math.prod(shape[:-1])
    if row_scale is None:
        row_scale = np.ones(rows, logits.dtype)
    probs = np.empty((rows, shape[-1]), logits.dtype)
    dlogits = np.empty_like(probs)
    losses = np.empty(rows, logits.dtype)
    kernels.softmax_crossentropy(
        np.ascontiguousarray(logits).reshape(rows, shape[-1]),
        np.ascontiguousarray(y, dtype=logits.dtype).reshape(rows, shape[-1]),
        np.ascontiguousarray(row_scale, dtype=logits.dtype).reshape(rows),
        probs,
        losses,
        dlogits,
    )
    return losses.reshape(shape[:-1]), dlogits.reshape(shape)


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer labels yᵢ ∈ {0, …, C−1} (shape (N,) or (N, 1)).

    From logits: lossᵢ = logsumexp(zᵢ) − zᵢ,yᵢ. On probabilities, as Keras: c = clip(p, ε, 1 − ε),
    then the same formula with z = log c: lossᵢ = log Σⱼ cᵢⱼ − log cᵢ,yᵢ (no renormalisation).
    """

    logits_activation = "softmax"

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        axis=-1,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        if ignore_class is not None:
            raise NotImplementedError("ignore_class is not supported by minikeras yet")
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        """The labels as one-hot rows: the dense form every formula below is written for."""
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        labels = labels.astype(np.int64)
        num_classes = y_pred.shape[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"Received labels from {int(labels.min())} to {int(labels.max())}, outside the "
                f"valid range of [0, {num_classes})."
            )
        return np.eye(num_classes, dtype=y_pred.dtype)[labels]

    def call(self, y_true, y_pred):
        z = y_pred if self.from_logits else np.log(_clip(y_pred))
        return _softmax_xent(y_true, z, None)[0]

    def gradient(self, y_true, y_pred):
        """From probabilities, with c = clip(p) and y one-hot:
        d lossᵢ / d pₖ = (1/Σⱼcⱼ − yₖ/cₖ) · [p inside the clip]."""
        if self.from_logits:
            return _softmax_xent(y_true, y_pred, None)[1]
        c = _clip(y_pred)
        return (1 / np.sum(c, axis=-1, keepdims=True) - y_true / c) * _inside_clip(y_pred)

    value_and_grad_from_logits = CategoricalCrossentropy.value_and_grad_from_logits

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


class BinaryCrossentropy(Loss):
    """lossᵢ = meanⱼ −(y·log p + (1 − y)·log(1 − p)), for labels in [0, 1].

    On probabilities p is clipped to [ε, 1 − ε]. From logits z (after a sigmoid inside `fit`,
    or `from_logits=True`): meanⱼ max(z, 0) − z·y + log(1 + e^(−|z|)), gradient (σ(z) − y)/C.
    """

    logits_activation = "sigmoid"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(name, reduction, dtype)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def prepare_targets(self, y_true, y_pred):
        y = np.asarray(y_true, dtype=y_pred.dtype)
        check_same_shape(y, y_pred)
        if self.label_smoothing:
            # y ← y·(1 − s) + s/2: pulls the labels toward 0.5
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y

    def call(self, y_true, y_pred):
        if self.from_logits:
            return np.mean(_sigmoid_xent(y_true, y_pred), axis=-1)
        c = _clip(y_pred)
        return np.mean(-(y_true * np.log(c) + (1 - y_true) * np.log(1 - c)), axis=-1)

    def gradient(self, y_true, y_pred):
        """From probabilities: d lossᵢ / d pⱼ = (−y/c + (1 − y)/(1 − c)) / C, c = clip(p).
        From logits: (σ(z) − y) / C."""
        scale = y_pred.dtype.type(_mean_last_axis_scale(y_pred))
        if self.from_logits:
            return (_sigmoid(y_pred) - y_true) * scale
        c = _clip(y_pred)
        return (-y_true / c + (1 - y_true) / (1 - c)) * _inside_clip(y_pred) * scale

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None):
        shape = logits.shape
        y, logits = self._targets(y_true, logits)
        losses = np.mean(_sigmoid_xent(y, logits), axis=-1)
        scale = self._loss_scale(sample_weight, losses.shape, logits.dtype)
        grad = (_sigmoid(logits) - y) * logits.dtype.type(_mean_last_axis_scale(logits))
        grad *= scale[..., None]
        return self._reduce(losses, sample_weight), grad.reshape(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def _sigmoid_xent(y, z):
    """−(y·log σ(z) + (1 − y)·log(1 − σ(z)))
    = max(z, 0) − z·y + log(1 + e^(−|z|)), which never overflows."""
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


# -- Keras's functional forms: one loss per sample, no reduction
def mean_squared_error(y_true, y_pred):
    return MeanSquaredError(reduction="none")(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError(reduction="none")(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = CategoricalCrossentropy(from_logits, label_smoothing, axis, reduction="none")
    return loss(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class, axis, reduction="none")
    return loss(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = BinaryCrossentropy(from_logits, label_smoothing, axis, reduction="none")
    return loss(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

ALL_LOSSES = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
}
_BY_FUNCTION = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in ALL_LOSSES.values()}


def get(identifier):
    """A Loss object from a name ('categorical_crossentropy', 'mse', ...), a Keras loss function,
    a class name or a Loss instance; unknown names raise ValueError listing the valid ones."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = ALL_LOSSES.get(identifier) or _BY_CLASS_NAME.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret loss identifier: {identifier!r}. "
                f"Expected one of {sorted(ALL_LOSSES)}."
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_CLASS_NAME.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier['class_name']!r}")
        return cls.from_config(identifier.get("config", {}))
    if identifier in _BY_FUNCTION:
        return _BY_FUNCTION[identifier]()
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. minikeras needs each loss's "
        "gradient: pass one of its names, or a `minikeras.losses.Loss` subclass with "
        "`call` and `gradient`."
    )


def serialize(loss):
    return {
        "module": "keras.losses",
        "class_name": type(loss).__name__,
        "config": loss.get_config(),
        "registered_name": None,
    }
