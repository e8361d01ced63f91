"""Nadam: Adam with Nesterov momentum (a look-ahead on the first moment)."""

import numpy as np

from minikeras import config, kernels
from minikeras.optimizers.moments import MomentsOptimizer


class Nadam(MomentsOptimizer):
    """Nadam, as Keras, at step t (1 for the first update), with a momentum schedule
    μₜ = β₁·(1 − ½·0.96ᵗ) and its running product Πμ (one extra variable, `u_product`):

    Πμ ← Πμ·μₜ                                           once per update, before the weights
    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    m̂ = μₜ₊₁·m / (1 − Πμ·μₜ₊₁) + (1 − μₜ)·g / (1 − Πμ);   v̂ = v / (1 − β₂ᵗ)
    w ← w − lr·m̂ / (√v̂ + ε)

    >>> from minikeras.optimizers import Nadam
    >>> Nadam().get_config()["beta_1"]
    0.9
    """

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["momentum", "velocity"])
        # Keras's last variable: a scalar in the first weight's dtype, starting at 1
        dtype = variables[0].dtype if variables else np.dtype(config.floatx())
        self.add_variable("u_product", np.ones((), dtype=dtype))

    @property
    def _u_product(self):
        """Keras's attribute name for the running product Πμ."""
        return self.slots["u_product"][0]

    def _update(self, grads, variables, learning_rate, indices=None):
        # Keras updates the product once per update, before the weights (`_backend_update_step`)
        kernels.nadam_u_product(self.slots["u_product"][0], self.beta_1, self.iterations + 1)
        super()._update(grads, variables, learning_rate, indices)

    def update_step(self, gradient, variable, index, learning_rate):
        kernels.nadam_update(
            variable,
            gradient,
            self.slots["momentum"][index],
            self.slots["velocity"][index],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
            float(self.slots["u_product"][0]),
        )

    def update_all(self, weights, gradient, learning_rate):
        kernels.nadam_update_all(
            weights,
            gradient,
            self._layout.slots["momentum"],
            self._layout.slots["velocity"],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
            float(self.slots["u_product"][0]),
        )
