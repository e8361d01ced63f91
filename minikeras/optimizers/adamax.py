"""Adamax: Adam with the infinity norm of the gradients in place of their RMS."""

from minikeras import kernels
from minikeras.optimizers.moments import MomentsOptimizer


class Adamax(MomentsOptimizer):
    """Adamax, as Keras, at step t (1 for the first update):

    m ← m + (g − m)·(1 − β₁)
    u ← max(β₂·u, |g|)
    w ← w − lr·m / ((1 − β₁ᵗ)·(u + ε))

    >>> from minikeras.optimizers import Adamax
    >>> Adamax().get_config()["beta_2"]
    0.999
    """

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["momentum", "norm"])

    def update_step(self, gradient, variable, index, learning_rate):
        kernels.adamax_update(
            variable,
            gradient,
            self.slots["momentum"][index],
            self.slots["norm"][index],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )

    def update_all(self, weights, gradient, learning_rate):
        kernels.adamax_update_all(
            weights,
            gradient,
            self._layout.slots["momentum"],
            self._layout.slots["norm"],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )
