"""The `Loss` base class: what every loss shares (ranks matched, the class axis, the reduction
with sample weights and masks, the chain rule through that reduction).

A subclass writes two things: `call(y_true, y_pred)`, one loss per sample, and
`gradient(y_true, y_pred)`, d lossᵢ / d y_pred shaped like y_pred. The base turns them into
the reduced value (`loss(y_true, y_pred, sample_weight)`) and, for training, the value and
dL/dy_pred (`value_and_grad`).
"""

import math

import numpy as np

from minikeras import autodiff, config

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def _compute_dtype(dtype):
    """The dtype a loss was given (a name, or a DTypePolicy's compute dtype), or None.
    "bfloat16" is taken as Keras takes it, though minikeras's layers refuse it: a loss computes
    in it with the ml_dtypes package's NumPy type."""
    if dtype is None:
        return None
    if dtype == "bfloat16":
        config.learn_ml_dtypes(dtype)
        return dtype
    from minikeras import dtype_policies

    return dtype_policies.get(dtype).compute_dtype


def _clip(p, high=None):
    """clip(p, ε, 1 − ε) (or [ε, high]), ε = config.epsilon() = 1e-7, as Keras clips."""
    eps = config.epsilon()
    return np.clip(p, eps, 1 - eps if high is None else high)


def _inside_clip(p, high=None):
    """1 where clip(p, ε, high) lets the gradient through, 0 where it is flat. TensorFlow's
    clip_by_value passes the gradient at the bounds themselves, hence ≤ and ≥."""
    eps = config.epsilon()
    high = 1 - eps if high is None else high
    return ((p >= eps) & (p <= high)).astype(p.dtype)


def _mean_last_axis_scale(y_pred):
    """1/C: a per-sample loss that is a mean over the last axis of C entries."""
    return y_pred.dtype.type(1.0 / y_pred.shape[-1])


def apply_mask(sample_weight, mask, dtype):
    """A model output's mask joined to the sample weights as Keras's metrics join it
    (`apply_mask` with reduction "sum", keras/src/losses/loss.py): the mask as 0/1 floats,
    times the weights (a weight per sample spreads over the mask's timesteps)."""
    if mask is None:
        return sample_weight
    float_mask = np.asarray(mask, dtype=dtype)
    if sample_weight is None:
        return float_mask
    float_mask, w = same_rank(float_mask, np.asarray(sample_weight, dtype=dtype))
    return float_mask * w.reshape(w.shape + (1,) * (float_mask.ndim - w.ndim))


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


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's name for `same_rank`; with `expand_rank_1=False` a rank-1 partner is never
    expanded: the longer array loses its last axis of size 1 instead."""
    if expand_rank_1:
        return same_rank(np.asarray(x1), np.asarray(x2))
    x1, x2 = np.asarray(x1), np.asarray(x2)
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        x2 = x2[..., 0]
    return x1, x2


def check_same_shape(y_true, y_pred):
    """Keras's crossentropies (categorical, binary) refuse labels shaped unlike the outputs."""
    what = "rank (ndim)" if y_true.ndim != y_pred.ndim else "shape"
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Arguments `target` and `output` must have the same {what}. "
            f"Received: target.shape={y_true.shape}, output.shape={y_pred.shape}"
        )


def to_last_axis(a, axis):
    """`a` with its axis `axis` moved last (a view), so every formula can reduce over axis −1."""
    if axis is None or axis == -1 or axis == a.ndim - 1:
        return a
    return np.moveaxis(a, axis, -1)


def from_last_axis(a, axis):
    """The inverse of `to_last_axis`: a gradient computed with the axis last, put back."""
    if axis is None or axis == -1 or axis == a.ndim - 1:
        return a
    return np.moveaxis(a, -1, axis)


def per_sample_losses(loss, y_true, y_pred):
    """`loss` (built with reduction "none") on y_pred in y_pred's own float dtype (integers:
    floatx): Keras's functional forms (`losses.mean_squared_error(y_true, y_pred)`) convert
    y_pred without a dtype, where a Loss object converts it to its own dtype."""
    dtype = getattr(y_pred, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        loss._dtype = np.dtype(dtype).name
    return loss(y_true, y_pred)


class Loss:
    """Base class. Subclasses define `call(y_true, y_pred)` (one loss per sample) and
    `gradient(y_true, y_pred)` (d lossᵢ / d y_pred, same shape as y_pred).

    Losses that take Keras's `axis` argument (the crossentropies, cosine similarity) see their
    axis moved last before `call` and `gradient`, and the gradient moved back after.
    """

    # name of the output activation whose logits this loss can start from (None: cannot)
    logits_activation = None
    # the axis `call` reduces over; only the losses with Keras's `axis` argument change it
    axis = -1

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or type(self).__name__
        self.reduction = reduction
        # fixed here, as Keras fixes it (keras/src/losses/loss.py): a loss made while floatx is
        # float32 computes in float32 even if floatx changes later
        self._dtype = _compute_dtype(dtype) or config.floatx()

    @property
    def dtype(self):
        """The dtype a direct call computes in, as Keras: the one given to the loss (a name, or a
        DTypePolicy's compute dtype), else floatx() when the loss was made (not the global
        dtype policy), so float64 arrays give a float32 loss under the default floatx. Keras's
        functional forms (`mean_squared_error(y, p)`) keep y_pred's own float dtype
        (`per_sample_losses`); training (`value_and_grad`) computes in the model's dtype."""
        return self._dtype

    # -- what subclasses write
    def call(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def prepare_targets(self, y_true, y_pred):
        """y_true as `call` expects it (e.g. smoothed labels); here, y_pred's dtype."""
        return np.asarray(y_true, dtype=y_pred.dtype)

    def loss_mask(self, y_true, y_pred):
        """Which per-sample losses count (a boolean array shaped like them), or None: all.
        Keras attaches such a mask to the losses of `ignore_class`; see `_weights_and_divisor`."""
        return None

    def _joint_mask(self, y_true, y_pred, mask):
        """The loss's own mask (`loss_mask`) and the model output's (`mask`, e.g. from
        Embedding(mask_zero=True)) together: a loss counts where both keep it, as Keras joins
        `y_pred._keras_mask` and the losses' own mask (keras/src/losses/loss.py `__call__`)."""
        own = self.loss_mask(y_true, y_pred)
        if mask is None:
            return own
        mask = np.asarray(mask, dtype=bool)
        return mask if own is None else own & mask

    def _targets(self, y_true, y_pred):
        """(y_true, y_pred) with their ranks matched as Keras does, y_true prepared for `call`,
        and the loss's axis moved last in both."""
        y_true, y_pred = same_rank(np.asarray(y_true), y_pred)
        y_true = self.prepare_targets(y_true, y_pred)
        return to_last_axis(y_true, self.axis), to_last_axis(y_pred, self.axis)

    # -- the reduction, shared by every loss
    def _weights_and_divisor(self, sample_weight, shape, dtype, mask=None):
        """(w, d) such that the reduced loss is Σ wᵢ·lossᵢ / d, for per-sample losses of `shape`.

        d is the number of losses for 'sum_over_batch_size' (Keras divides by it, whatever the
        weights), Σw for 'mean_with_sample_weight', 1 for 'sum'. A weight per sample, shape (N,)
        or (N, 1), spreads over any further axes of the losses (timesteps); weights shaped like
        the losses weigh each one. So d(reduced loss)/d lossᵢ = wᵢ/d.

        A mask (ignore_class) joins the weights as Keras's `apply_mask` does: for the two means
        each kept loss is weighted total/kept (so Σ/total becomes a mean over the kept losses),
        for the other reductions by 1; masked losses by 0.
        """
        if sample_weight is None and mask is None:
            w, total = self._ones(shape, dtype), None
        else:
            w = np.ones((), dtype) if sample_weight is None else np.asarray(sample_weight, dtype)
            while w.ndim > len(shape) and w.shape[-1] == 1:  # (N, 1) weights for (N,) losses
                w = w[..., 0]
            w = np.broadcast_to(w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)
            total = None if sample_weight is None else float(np.sum(sample_weight))
            if mask is not None:
                keep = mask.astype(dtype)
                if self.reduction in ("sum_over_batch_size", "mean"):
                    kept = float(keep.sum())
                    keep = keep * dtype.type(math.prod(shape) / kept if kept else 0.0)
                w = w * keep
                total = float(np.sum(w))
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

    def _reduce(self, losses, sample_weight, mask=None):
        if sample_weight is None and mask is None and self.reduction == "sum_over_batch_size":
            # every unweighted step: Σ lossᵢ / N, without the product by all-ones (×1 is exact)
            return losses.sum(dtype=losses.dtype) / losses.dtype.type(max(losses.size, 1))
        if self.reduction in ("none", None):
            return self._unreduced(losses, sample_weight, mask)
        w, divisor = self._weights_and_divisor(sample_weight, losses.shape, losses.dtype, mask)
        # Σ wᵢ·lossᵢ / d in the loss's dtype, as Keras does (0 when d = 0, like divide_no_nan)
        total = np.sum(losses * w, dtype=losses.dtype)
        return total / losses.dtype.type(divisor) if divisor else total * 0

    def _unreduced(self, losses, sample_weight, mask):
        """reduction='none': each loss times its weight. Keras first matches the ranks of the
        losses and the weights (`squeeze_or_expand_to_same_rank`), so (N,) losses with (N, 1)
        weights come back (N, 1); a weight per sample still spreads over further axes."""
        if mask is not None:
            losses = losses * mask.astype(losses.dtype)
        if sample_weight is None:
            return losses
        losses, w = same_rank(losses, np.asarray(sample_weight, losses.dtype))
        return losses * w.reshape(w.shape + (1,) * (losses.ndim - w.ndim))

    def _loss_scale(self, sample_weight, shape, dtype, mask=None):
        """wᵢ/d: how much each per-sample loss counts in the reduced loss (see above)."""
        w, divisor = self._weights_and_divisor(sample_weight, shape, dtype, mask)
        return w / divisor if divisor else w * 0

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss on plain arrays (probabilities are clipped, as in Keras), computed
        in the `dtype` given to the loss, else in y_pred's (see `dtype`). A mask attached to y_pred
        (`backend.set_keras_mask`) joins the loss's own, as Keras's `__call__` joins them.

        While a GradientTape records (a custom train_step), the loss is one entry on it, whose
        gradient is `value_and_grad`'s."""
        if autodiff.is_recording() and isinstance(y_pred, autodiff.Tensor):
            return self._on_the_tape(y_true, y_pred, sample_weight)
        from minikeras import backend

        in_mask = backend.get_keras_mask(y_pred)
        y_pred = np.asarray(y_pred).astype(self.dtype, copy=False)
        y_true, y_pred = self._targets(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        if in_mask is not None:  # a (N, 1) mask meets (N,) losses as (N,), and the reverse
            in_mask, losses = squeeze_or_expand_to_same_rank(np.asarray(in_mask), losses, False)
        mask = self._joint_mask(y_true, y_pred, in_mask)
        # in the loss's dtype, as Keras's, even where a formula's constants promoted it
        return self._reduce(losses, sample_weight, mask).astype(self.dtype, copy=False)

    def _on_the_tape(self, y_true, y_pred, sample_weight):
        """One entry: the loss, and its gradient times the incoming one. An output that carries
        its softmax's or sigmoid's logits is differentiated from them, as Keras does (its
        crossentropies look for `_keras_logits`): exact where a probability rounds to 0 or 1."""
        y_true = autodiff.unwrap(y_true)
        start = self.logits_of(y_pred)
        if start is not None:
            value, grad = self.value_and_grad_from_logits(y_true, start.value, sample_weight)
        else:
            start = y_pred
            value, grad = self.value_and_grad(y_true, np.asarray(y_pred.value), sample_weight)

        def vjp(g):
            g = np.asarray(g[0])
            if g.ndim < grad.ndim:  # reduction="none": one loss per row, each row's gradient
                g = np.expand_dims(g, self.axis)
            return [g * grad], []

        (loss,) = autodiff.record([start], [np.asarray(value)], vjp)
        return loss

    def logits_of(self, y_pred):
        """The logits Tensor `y_pred` carries when this loss starts from logits, else None."""
        if not self.logits_activation or not isinstance(y_pred, autodiff.Tensor):
            return None
        return y_pred._keras_logits

    def value_and_grad(self, y_true, y_pred, sample_weight=None, mask=None):
        """(reduced loss, dL/dy_pred), the gradient shaped like y_pred. A loss that writes no
        `gradient` (a `call` made of ops) gets it from the tape. `mask`: the model output's
        mask, shaped like the per-sample losses (a masked timestep's loss counts 0)."""
        if type(self).call is Loss.call and type(self).__call__ is not Loss.__call__:
            return self._reduced_value_and_grad_by_tape(y_true, y_pred, sample_weight)
        if type(self).gradient is Loss.gradient:
            return self._value_and_grad_by_tape(y_true, y_pred, sample_weight, mask)
        shape = y_pred.shape
        y_true, y_pred = self._targets(y_true, y_pred)
        losses = self.call(y_true, y_pred)
        grad = self.gradient(y_true, y_pred)
        mask = self._joint_mask(y_true, y_pred, mask)
        # chain rule through the reduction: each row of the gradient times wᵢ/d
        grad *= self._loss_scale(sample_weight, losses.shape, y_pred.dtype, mask)[..., None]
        grad = from_last_axis(grad, self.axis)
        return self._reduce(losses, sample_weight, mask), grad.reshape(shape)

    def _value_and_grad_by_tape(self, y_true, y_pred, sample_weight=None, mask=None):
        """`call` recorded on a tape, then each per-sample loss's gradient times its weight in
        the reduced loss (wᵢ/d), in one backward pass."""
        y_pred = np.asarray(y_pred)
        y_true = np.asarray(y_true, dtype=y_pred.dtype)
        y_true, y_pred = same_rank(y_true, y_pred)
        traced = autodiff.Tensor(y_pred)
        with autodiff.GradientTape() as tape:
            tape.watch(traced)
            losses = self.call(y_true, traced)
        values = np.asarray(autodiff.unwrap(losses), dtype=y_pred.dtype)
        mask = None if mask is None else np.asarray(mask, dtype=bool)
        scale = self._loss_scale(sample_weight, values.shape, y_pred.dtype, mask)
        grad = tape.gradient(losses, traced, output_gradients=scale)
        grad = np.zeros_like(y_pred) if grad is None else grad
        return self._reduce(values, sample_weight, mask), grad

    def _reduced_value_and_grad_by_tape(self, y_true, y_pred, sample_weight=None):
        """A loss of yours that writes `__call__` (the reduced loss itself) and no `call`, as
        Keras allows (its own tests train with one): that `__call__` recorded on a tape."""
        y_pred = np.asarray(y_pred)
        traced = autodiff.Tensor(y_pred)
        with autodiff.GradientTape() as tape:
            tape.watch(traced)
            loss = self(y_true, traced, sample_weight=sample_weight)
        grad = tape.gradient(loss, traced)
        # a fresh array: the tape may hand back a broadcast view, which a backward writes into
        grad = np.zeros_like(y_pred) if grad is None else np.array(grad, dtype=y_pred.dtype)
        return np.asarray(autodiff.unwrap(loss), dtype=y_pred.dtype), grad

    def value_and_grad_from_logits(self, y_true, logits, sample_weight=None, mask=None):
        """(reduced loss, dL/dlogits), for losses with a `logits_activation`."""
        raise NotImplementedError(f"{type(self).__name__} cannot start from logits")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A plain function `fn(y_true, y_pred)` → one loss per sample, as a Loss (Keras's name):
    reduced as any loss, its gradient from the tape when `fn` is written with ops.

    >>> import numpy as np
    >>> from minikeras import ops
    >>> def my_mse(y_true, y_pred):
    ...     return ops.mean(ops.square(y_true - y_pred), axis=-1)
    >>> loss = LossFunctionWrapper(my_mse)
    >>> value, grad = loss.value_and_grad(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
    >>> float(value), grad.ravel().tolist()
    (5.0, [1.0, 3.0])
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(
            name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype
        )
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        from minikeras.utils import object_registration

        return {
            **super().get_config(),
            "fn": object_registration.get_registered_name(self.fn),
            **self.fn_kwargs,
        }
