"""BatchNormalization: normalize each channel with the batch's statistics (training) or the
moving ones (inference), then scale by γ and shift by β.

With `renorm=True` (batch renormalization, Ioffe 2017) a training call corrects the batch's
normalization towards the moving statistics it keeps for training, with constants r and d
(no gradient flows through them, as in Keras):

    r = clip(σ_batch / σ_renorm, rmin, rmax)     d = clip((μ_batch − μ_renorm) / σ_renorm, ±dmax)
    y = (x̂·r + d)·γ + β = x̂·(r·γ) + (d·γ + β)    so dγ = Σ dy·(x̂·r + d), dβ = Σ dy

and it keeps the moving standard deviation, from which moving_variance = σ² − ε follows.
"""

import numpy as np

from minikeras import constraints, initializers, kernels, regularizers
from minikeras.layers.layer import Layer

# Keras options minikeras does not implement: accepted only at these (default) values
_UNSUPPORTED = {"synchronized": False}


class BatchNormalization(Layer):
    """y = γ·(x − mean)/√(variance + ε) + β, per channel (the `axis` entries).

    training=True: mean and variance of this batch (biased variance), and the moving statistics
    move towards them: moving ← moving·momentum + batch·(1 − momentum).
    training=False (predict, evaluate): the moving statistics.

    >>> import numpy as np
    >>> from minikeras.layers import BatchNormalization
    >>> layer = BatchNormalization()
    >>> y = layer(np.array([[1.0, 2.0], [3.0, 6.0]]), training=True)
    >>> np.round(y.astype(float), 4).tolist()   # ±1/√(1 + 0.001), ±2/√(4 + 0.001)
    [[-0.9995, -0.9999], [0.9995, 0.9999]]
    >>> layer.weight_names
    ['gamma', 'beta', 'moving_mean', 'moving_variance']
    >>> layer.moving_mean.tolist()   # 0.99·0 + 0.01·(batch mean)
    [0.019999999552965164, 0.03999999910593033]
    """

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        given = locals()
        for arg, off in _UNSUPPORTED.items():
            if given[arg] != off:
                raise NotImplementedError(
                    f"BatchNormalization({arg}=...) is not supported by minikeras yet"
                )
        self.axis = int(axis)  # Keras 3 takes one axis only: int([1, 2]) is its TypeError too
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        self.renorm_clipping = _check_renorm_clipping(renorm_clipping) if renorm else None
        self.renorm_momentum = renorm_momentum
        self.input_gradient_needed = True  # a model turns it off for its first layer
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    # Keras's attribute names for the four weights (None when center/scale is off)
    @property
    def gamma(self):
        return self.weights[0] if self.scale else None

    @property
    def beta(self):
        return self.weights[int(self.scale)] if self.center else None

    def _weight(self, name):
        return self.weights[self.weight_names.index(name)]

    @property
    def moving_mean(self):
        return self._weight("moving_mean")

    @property
    def moving_variance(self):
        return self._weight("moving_variance")

    # with renorm: the moving standard deviation and the statistics the training corrects to
    moving_stddev = property(lambda self: self._weight("moving_stddev"))
    renorm_mean = property(lambda self: self._weight("renorm_mean"))
    renorm_stddev = property(lambda self: self._weight("renorm_stddev"))

    def fixed_axes(self):
        """The normalized axis only, as Keras's InputSpec(axes={axis: ...})."""
        return (self.axis,)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Keras's ValueError for an axis out of range
        shape = (input_shape[self.axis],)
        if self.scale:
            self.add_weight(
                shape,
                self.gamma_initializer,
                name="gamma",
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.add_weight(
                shape,
                self.beta_initializer,
                name="beta",
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        self.add_weight(shape, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.add_weight(
            shape, self.moving_variance_initializer, name="moving_variance", trainable=False
        )
        if self.renorm:
            # Keras: the standard deviations start at √(moving_variance_initializer)
            variance_initializer = self.moving_variance_initializer

            def stddev_initializer(shape, dtype=None):
                return np.sqrt(_clone(variance_initializer)(shape, dtype=dtype))

            for name, initializer in (
                ("moving_stddev", stddev_initializer),
                ("renorm_mean", _clone(self.moving_mean_initializer)),
                ("renorm_stddev", stddev_initializer),
            ):
                self.add_weight(shape, initializer, name=name, trainable=False)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask  # the mask passes through unchanged

    def _rows(self, x):
        """x as (rows, channels): the channel axis moved last, every other axis flattened."""
        moved = np.moveaxis(x, self.axis, -1)
        self.moved_shape = moved.shape
        return np.ascontiguousarray(moved).reshape(-1, moved.shape[-1])

    def _unrows(self, a):
        """The inverse of `_rows`: (rows, channels) back to the input's layout."""
        return np.ascontiguousarray(np.moveaxis(a.reshape(self.moved_shape), -1, self.axis))

    def _mask_weights(self, x, mask):
        """Keras's mask (the input's shape without its last axis) as weights of the rows:
        one per row (rows,) when the channels are the last axis; else, as Keras broadcasts
        the mask along the input's last axis whatever the channel axis, one per entry
        (rows, channels)."""
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.ndim != x.ndim - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={mask.shape}, inputs.shape={x.shape}"
            )
        # Keras: expand_dims(mask, -1) broadcast to the input's shape (a mask of size 1 along
        # an axis covers the whole axis)
        every = np.broadcast_to(mask[..., None], x.shape).astype(x.dtype)
        if self.axis % x.ndim == x.ndim - 1:
            return np.ascontiguousarray(every[..., 0].reshape(-1))
        return self._rows(every)

    def call(self, x, training=False, mask=None):
        """training: mean, variance = moments of this batch (then the moving update);
        else mean, variance = moving_mean, moving_variance.
        x̂ = (x − mean)/√(variance + ε);   y = γ·x̂ + β
        """
        weights = self._mask_weights(x, mask)
        rows = self._rows(x)
        channels = rows.shape[1]
        # Keras: `training and self.trainable`; a frozen layer normalizes with its moving stats
        self.training = bool(training) and self.trainable
        if self.training:
            mean = self.buffer("mean", (channels,))
            variance = self.buffer("variance", (channels,))
            if weights is not None and weights.ndim == 2:  # weights per entry: by channel
                for c in range(channels):
                    column = slice(c, c + 1)
                    kernels.batchnorm_moments(
                        np.ascontiguousarray(rows[:, column]),
                        np.ascontiguousarray(weights[:, c]),
                        mean[column],
                        variance[column],
                    )
            else:
                kernels.batchnorm_moments(rows, weights, mean, variance)
        else:
            mean, variance = self.moving_mean.value, self.moving_variance.value
        gamma, beta = _plain(self.gamma), _plain(self.beta)
        self.correction = None
        if self.training and self.renorm:
            self.correction = self._renorm_correction(mean, variance)
            gamma, beta = _compose(*self.correction, gamma, beta, rows.dtype)
            self._update_renorm_statistics(mean, variance)
        elif self.training:
            self._update_moving_statistics(mean, variance)
        self.xhat = self.buffer("xhat", rows.shape)
        self.inv_std = self.buffer("inv_std", (channels,))
        y = self.buffer("y", rows.shape)
        kernels.batchnorm_forward(
            rows, mean, variance, gamma, beta, self.epsilon, self.xhat, self.inv_std, y
        )
        self.mask_weights = weights
        return self._unrows(y)

    def _update_moving_statistics(self, mean, variance):
        """moving ← moving·momentum + batch·(1 − momentum), in place, in the weights' dtype
        (Keras multiplies float32 variables by float32 constants of momentum and 1 − momentum).
        The variance is the biased one, the same that normalized the batch."""
        dtype = self.moving_mean.dtype.type
        keep, take = dtype(self.momentum), dtype(1.0 - self.momentum)
        self.moving_mean[...] = self.moving_mean * keep + mean * take
        self.moving_variance[...] = self.moving_variance * keep + variance * take

    def _renorm_correction(self, mean, variance):
        """r = σ/σ_renorm, d = (μ − μ_renorm)/σ_renorm, clipped (σ_renorm at least √ε)."""
        dtype = mean.dtype.type
        stddev = np.sqrt(variance + dtype(self.epsilon))
        renorm_stddev = np.maximum(self.renorm_stddev.value, np.sqrt(dtype(self.epsilon)))
        r = stddev / renorm_stddev
        d = (mean - self.renorm_mean.value) / renorm_stddev
        clipping = self.renorm_clipping
        if clipping.get("rmin") is not None:
            r = np.maximum(r, dtype(clipping["rmin"]))
        if clipping.get("rmax") is not None:
            r = np.minimum(r, dtype(clipping["rmax"]))
        if clipping.get("dmax") is not None:
            d = np.clip(d, -dtype(clipping["dmax"]), dtype(clipping["dmax"]))
        return r.astype(dtype), d.astype(dtype)

    def _update_renorm_statistics(self, mean, variance):
        """renorm_* ← renorm_*·renorm_momentum + batch·(1 − renorm_momentum); the moving mean
        and standard deviation with `momentum`; moving_variance = relu(σ_moving² − ε)."""
        dtype = self.moving_mean.dtype.type
        stddev = np.sqrt(variance + dtype(self.epsilon))
        keep, take = dtype(self.renorm_momentum), dtype(1.0 - self.renorm_momentum)
        self.renorm_mean[...] = self.renorm_mean * keep + mean * take
        self.renorm_stddev[...] = self.renorm_stddev * keep + stddev * take
        keep, take = dtype(self.momentum), dtype(1.0 - self.momentum)
        self.moving_mean[...] = self.moving_mean * keep + mean * take
        moving_stddev = self.moving_stddev * keep + stddev * take
        self.moving_stddev[...] = moving_stddev
        self.moving_variance[...] = np.maximum(moving_stddev * moving_stddev - self.epsilon, 0)

    def backward(self, dy, mask=None):
        """dβ = Σ dy;   dγ = Σ dy·x̂                         (sums over every axis but `axis`)
        inference:  dx = γ·dy/σ                              (mean and variance are constants)
        training:   dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂))  (through the batch mean and
        variance; with a mask, means weighted by it: see kernels.batchnorm_backward)
        """
        dy_rows = self._rows(dy)
        channels = dy_rows.shape[1]
        dgamma = self.buffer("dgamma", (channels,)) if self.scale else None
        dbeta = self.buffer("dbeta", (channels,)) if self.center else None
        dx = self.buffer("dx", dy_rows.shape) if self.input_gradient_needed else None
        weights, gamma = self.mask_weights, _plain(self.gamma)
        if self.correction is not None:  # renorm: the output's scale is r·γ
            gamma = _compose(*self.correction, gamma, None, dy_rows.dtype)[0]
        if self.training and weights is not None and weights.ndim == 2:
            self._backward_by_channel(dy_rows, weights, gamma, dgamma, dbeta, dx)
        else:
            kernels.batchnorm_backward(
                dy_rows, self.xhat, self.inv_std, gamma, weights, self.training,
                dgamma, dbeta, dx,
            )  # fmt: skip
        if self.correction is not None and dgamma is not None:
            r, d = self.correction  # dγ = Σ dy·(x̂·r + d)
            dgamma[...] = dgamma * r + d * np.sum(dy_rows, axis=0)
        grads = [g for g in (dgamma, dbeta) if g is not None]
        self.grads = grads if self.trainable else []
        return None if dx is None else self._unrows(dx)

    def _backward_by_channel(self, dy_rows, weights, gamma, dgamma, dbeta, dx):
        """The training backward with weights per entry: each channel has its own row weights,
        so the kernel runs on one channel (one column) at a time."""
        for c in range(dy_rows.shape[1]):
            column = slice(c, c + 1)
            dx_c = None if dx is None else np.empty((len(dy_rows), 1), dtype=dy_rows.dtype)
            kernels.batchnorm_backward(
                np.ascontiguousarray(dy_rows[:, column]),
                np.ascontiguousarray(self.xhat[:, column]),
                self.inv_std[column],
                None if gamma is None else gamma[column],
                np.ascontiguousarray(weights[:, c]),
                True,
                None if dgamma is None else dgamma[column],
                None if dbeta is None else dbeta[column],
                dx_c,
            )
            if dx is not None:
                dx[:, column] = dx_c

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": False,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _plain(weight):
    """A weight's plain array (compiled kernels take an ndarray ten times faster than a
    Variable), or None."""
    return None if weight is None else weight.value


def _check_renorm_clipping(clipping):
    """Keras's checks of `renorm_clipping` (its messages); {} when not given."""
    clipping = clipping or {}
    keys = ["rmax", "rmin", "dmax"]
    if set(clipping) - set(keys):
        raise ValueError(
            f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
            f"Supported values: {keys}."
        )
    rmax, rmin, dmax = (clipping.get(k) for k in keys)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(
            "rmax should be greater than rmin in the `renorm_clipping` argument. "
            f"Received: rmax={rmax}, rmin={rmin}."
        )
    if dmax is not None and dmax < 0:
        raise ValueError(
            f"dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
        )
    return clipping


def _compose(r, d, gamma, beta, dtype):
    """The renorm correction folded into the scale and shift: (r·γ, d·γ + β)."""
    scale = r if gamma is None else r * gamma
    shift = d if gamma is None else d * gamma
    if beta is not None:
        shift = shift + beta
    return scale.astype(dtype), shift.astype(dtype)


def _clone(initializer):
    """A fresh copy of an initializer (Keras clones each use: a seeded one repeats itself)."""
    if hasattr(initializer, "get_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer
