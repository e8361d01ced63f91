"""ScheduleFreeAdamW (Defazio et al., 2024, "The Road Less Scheduled"), as Keras writes it:
AdamW without a learning-rate schedule. It keeps two sequences besides the weights y:

    z, the point the Adam steps move (slot `momentum`, starting at the weights), and
    x, the running average of the z's, recovered from y and z: x = (y − (1 − β₁)·z) / β₁.

One update at step t (1 for the first), with Adam's second moment v (slot `velocity`):

    v ← v + (g² − v)·(1 − β₂)
    z ← z − lr·g / (√(v / (1 − β₂ᵗ)) + ε)           (lr·min(t / warmup_steps, 1) in warm-up)
    x ← (1 − 1/t)·x + (1/t)·z                         x recovered from y and z (see below)
    y ← (1 − β₁)·z + β₁·x                             the weights: between z and the average

Keras means to recover x from the z of before the step, but the `momentum.value` it keeps for
that is the variable itself, which the z update has already changed: its x is (y − (1 − β₁)·z)/β₁
with the new z. minikeras does the same, so the weights agree with Keras's to the last bit.
Weight decay is the base optimizer's, on y before the step. z starts at the weights, as in
Keras's `apply_gradients`; Keras's `fit` builds its optimizer in a stateless scope that drops
that copy (its z starts at zeros there), a difference minikeras does not reproduce.
"""

import numpy as np

from minikeras.optimizers.optimizer import Optimizer, keras_constant


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW: no learning-rate schedule needed; `warmup_steps` ramps the rate.

    >>> import numpy as np
    >>> w = np.array([1.0, 2.0])
    >>> ScheduleFreeAdamW(learning_rate=0.5).apply([np.array([1.0, -1.0])], [w])
    >>> w.round(4).tolist()
    [0.5, 2.5]
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["momentum", "velocity"])
        for z, w in zip(self.slots["momentum"], variables):
            z[...] = w  # z starts at the weights

    def update_step(self, gradient, variable, index, learning_rate):
        t_ = variable.dtype.type
        # Keras casts each constant from a Python float (through float32: keras_constant)
        b1, b2, eps = (
            t_(keras_constant(c, variable.dtype)) for c in (self.beta_1, self.beta_2, self.epsilon)
        )
        step = t_(self.iterations + 1)
        lr = t_(learning_rate)
        if self.warmup_steps > 0:
            lr = lr * min(step / t_(self.warmup_steps), t_(1))
        z, v = self.slots["momentum"][index], self.slots["velocity"][index]
        v += (gradient * gradient - v) * (1 - b2)
        z -= lr * gradient / (np.sqrt(v / (1 - b2**step)) + eps)
        c = t_(1) / step
        x = (variable - (1 - b1) * z) / b1  # the new z, as Keras
        x = (1 - c) * x + c * z
        variable[...] = (1 - b1) * z + b1 * x

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
