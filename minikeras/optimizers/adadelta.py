"""Adadelta: steps sized by the running RMS of past steps over the running RMS of gradients."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta, as Keras (the learning rate still multiplies the step, 0.001 by default):

    E[g²] ← ρ·E[g²] + (1 − ρ)·g²
    Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)
    E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
    w ← w + lr·Δ

    >>> from minikeras.optimizers import Adadelta
    >>> Adadelta().get_config()["rho"]
    0.95
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, index, learning_rate):
        kernels.adadelta_update(
            variable,
            gradient,
            self.slots["accumulated_grad"][index],
            self.slots["accumulated_delta_var"][index],
            learning_rate,
            self.rho,
            self.epsilon,
        )

    def update_all(self, weights, gradient, learning_rate):
        kernels.adadelta_update_all(
            weights,
            gradient,
            self._layout.slots["accumulated_grad"],
            self._layout.slots["accumulated_delta_var"],
            learning_rate,
            self.rho,
            self.epsilon,
        )

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
