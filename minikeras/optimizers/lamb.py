"""LAMB: Adam's direction, rescaled for each weight by the ratio of its norm to the step's."""

from minikeras import kernels
from minikeras.optimizers.moments import MomentsOptimizer


class Lamb(MomentsOptimizer):
    """LAMB, as Keras, at step t (1 for the first update):

    m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
    r = (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)
    w ← w − (‖w‖/‖r‖)·lr·r                     (ratio 1 when either norm is 0)

    Keras's `optimizers.get` does not know the name "lamb"; the class is used directly.

    >>> from minikeras.optimizers import Lamb
    >>> Lamb().get_config()["epsilon"]
    1e-07
    """

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["momentum", "velocity"])

    def update_step(self, gradient, variable, index, learning_rate):
        kernels.lamb_update(
            variable,
            gradient,
            self.slots["momentum"][index],
            self.slots["velocity"][index],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )

    def update_all(self, weights, gradient, learning_rate):
        kernels.lamb_update_all(
            weights,
            gradient,
            self._layout.slots["momentum"],
            self._layout.slots["velocity"],
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )
