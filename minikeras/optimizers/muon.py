"""Muon: momentum orthogonalised by a Newton–Schulz iteration for the 2-D weights, AdamW for
the rest (Keras's `keras.optimizers.Muon`)."""

import re

import numpy as np

from minikeras.optimizers.optimizer import Optimizer, keras_constant


class Muon(Optimizer):
    """Muon, as Keras's. A 2-D weight (a Dense kernel) takes the Muon step:

        m ← β·m + g                       (β = `momentum`)
        u ← g + β·m  (nesterov)  or  m
        O ← NS₅(u), close to U·Vᵀ of u's SVD: every singular value pushed towards 1
        w ← w − lr · O · √max(rows, cols) · rms_rate     (the last factor left out if None)

    NS₅ first scales u to Frobenius norm ≤ 1, then `ns_steps` times X ← a·X + (b·A + c·A²)·X
    with A = X·Xᵀ (on the wider orientation of X), `muon_a/b/c` its quintic's coefficients.
    Every other weight (biases, embeddings, names matching `exclude_layers`) takes an AdamW
    step with learning rate `lr · adam_lr_ratio`; the weight decay is `weight_decay` for Muon
    weights and `adam_weight_decay` for the others, w ← w − w·wd·lr before the step.

    >>> from minikeras.optimizers import Muon
    >>> Muon().get_config()["ns_steps"]
    5
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        # clipping, EMA and accumulation arrive in kwargs, as for every optimizer
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = exclude_layers or []
        self.exclude_embeddings = exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        """Whether `variable` takes the AdamW step: not 2-D, an embedding (by its path), or a
        path matching one of `exclude_layers` (a regular-expression search)."""
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", None) or getattr(variable, "name", None) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, variables):
        """A momentum for every weight, and a velocity after it for the AdamW ones: Keras
        lists them weight by weight (m₀, v₀, m₁, m₂, v₂, ...)."""
        if self.built:
            return
        super().build(variables)
        self.slot_names += ["momentum", "velocity"]
        self.momentums, self.adam_velocities = [], []
        for v in variables:
            m = np.zeros_like(np.asarray(v))
            self.momentums.append(m)
            self._track_slot(m, v, "momentum")
            velocity = None
            if self._should_use_adamw(v):
                velocity = np.zeros_like(np.asarray(v))
                self._track_slot(velocity, v, "velocity")
            self.adam_velocities.append(velocity)
        self.slots["momentum"] = self.momentums
        self.slots["velocity"] = self.adam_velocities

    def _update(self, grads, variables, learning_rate, indices=None):
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables, learning_rate)
        indices = range(len(variables)) if indices is None else indices
        for index, g, v in zip(indices, grads, variables):
            self._step(np.asarray(g), v, index, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """One weight's step, as Keras's `update_step(gradient, variable, learning_rate)`."""
        self._step(np.asarray(gradient), variable, self._indices[id(variable)], learning_rate)

    def _step(self, gradient, variable, index, learning_rate):
        velocity = self.adam_velocities[index]
        if velocity is None:
            self._muon_step(gradient, variable, learning_rate, self.momentums[index])
        else:
            lr = learning_rate * self.adam_lr_ratio
            self._adamw_step(gradient, variable, lr, self.momentums[index], velocity)

    def _muon_step(self, gradient, variable, learning_rate, m):
        m += gradient + m * (self.momentum - 1)  # m ← β·m + g, in Keras's order of operations
        update = gradient + self.momentum * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(update, self.ns_steps)
        variable -= self.lr_adjust(learning_rate * update).astype(variable.dtype)

    def _adamw_step(self, gradient, variable, learning_rate, m, v):
        """Adam's step (Keras's Adam without amsgrad), counted from this optimizer's
        iterations."""
        dtype = variable.dtype.type
        step = dtype(self.iterations + 1)
        beta_1 = dtype(keras_constant(self.adam_beta_1, variable.dtype))
        beta_2 = dtype(keras_constant(self.adam_beta_2, variable.dtype))
        alpha = dtype(learning_rate) * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m += (gradient - m) * dtype(1 - self.adam_beta_1)
        v += (np.square(gradient) - v) * dtype(1 - self.adam_beta_2)
        variable -= (m * alpha) / (np.sqrt(v) + dtype(self.epsilon))

    @staticmethod
    def transpose_last_axis(x):
        """`x` with its last two axes swapped."""
        return np.swapaxes(x, -1, -2)

    def lr_adjust(self, x):
        """Scale an update by √max(rows, cols)·rms_rate, so that Muon can share Adam's learning
        rate and weight decay (Moonlight's rule); unchanged when `rms_rate` is None."""
        if self.rms_rate is None:
            return x
        return x * np.sqrt(max(x.shape[0], x.shape[1])) * self.rms_rate

    def zeropower_via_newtonschulz5(self, x, steps):
        """An approximation of U·Vᵀ for x = U·S·Vᵀ: `steps` quintic Newton–Schulz iterations,
        X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ, run on the orientation with fewer rows (so A
        is the smaller square) after scaling X to Frobenius norm ≤ 1."""
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(
                "Expected gradient or momentum to have at least 2 dimensions. "
                f"Received: shape={x.shape}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        norm = np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True))
        x = x / (norm + x.dtype.type(1e-7))
        for _ in range(steps):
            gram = x @ self.transpose_last_axis(x)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return self.transpose_last_axis(x) if tall else x

    def _apply_weight_decay(self, variables, learning_rate=None):
        """w ← w − w·wd·lr before the step: `weight_decay` on the Muon weights,
        `adam_weight_decay` on the AdamW ones (None leaves a weight alone)."""
        if learning_rate is None:
            learning_rate = float(self._current_learning_rate())
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(v) else self.weight_decay
            if decay is None:
                continue
            wd = v.dtype.type(keras_constant(decay, v.dtype))
            v -= v * wd * v.dtype.type(learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
