"""Adafactor: Adam-like steps with the second moment of a matrix stored as a row and a column."""

import numpy as np

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor, as Keras, at step t (1 for the first update). For a weight of 2 or more
    dimensions, r (one value per row) and c (one per column) stand for the second moment:

    ρ = min(lr, 1/√t);   α = max(ε₂, rms(w))·ρ;   β = 1 − t^beta_2_decay;   G = g² + ε₁
    r ← β·r + (1 − β)·mean(G, rows);   c ← β·c + (1 − β)·mean(G, columns)
    v = r·cᵀ / mean(r)                 (a 1-D weight keeps a full v ← β·v + (1 − β)·G)
    u = g/√v;   w ← w − α·u / max(1, rms(u)/clip_threshold)

    Slots in Keras's order, weight by weight: r, c, velocity. A weight of fewer than 2 dimensions
    gets two placeholders for r and c, int32 zeros, as Keras's.

    >>> from minikeras.optimizers import Adafactor
    >>> Adafactor().get_config()["beta_2_decay"]
    -0.8
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables):
        super().build(variables)
        for name in ("r", "c", "velocity"):
            self.slot_names.append(name)
            self.slots[name] = []
        for v in variables:
            if v.ndim < 2:
                r, c = np.zeros((), np.int32), np.zeros((), np.int32)
            else:
                r = np.zeros(v.shape[:-1], v.dtype)
                c = np.zeros(v.shape[:-2] + v.shape[-1:], v.dtype)
            for name, array in (("r", r), ("c", c), ("velocity", np.zeros_like(v))):
                self.slots[name].append(array)
                self._track_slot(array, v, name)

    def update_step(self, gradient, variable, index, learning_rate):
        # `relative_step` caps lr at 1/√t, which ρ = min(lr, 1/√t) does in every case anyway
        kernels.adafactor_update(
            variable,
            gradient,
            self.slots["r"][index],
            self.slots["c"][index],
            self.slots["velocity"][index],
            learning_rate,
            self.beta_2_decay,
            self.epsilon_1,
            self.epsilon_2,
            self.clip_threshold,
            self.iterations + 1,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
