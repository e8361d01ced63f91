"""RMSprop: divide each step by a running root mean square of the gradients."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop, as Keras (ε inside the square root):

    v ← ρ·v + (1 − ρ)·g²
    centered:  a ← ρ·a + (1 − ρ)·g;  d = v − a²     else d = v
    inc = lr·g / √(d + ε)
    momentum μ > 0:  m ← μ·m + inc;  w ← w − m      else w ← w − inc

    >>> from minikeras.optimizers import RMSprop
    >>> RMSprop().get_config()["rho"]
    0.9
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, "velocity")
        if self.momentum > 0:
            self.add_slot(variables, "momentum")
        if self.centered:
            self.add_slot(variables, "average_gradient")

    def update_step(self, gradient, variable, index, learning_rate):
        v = self.slots["velocity"][index]
        m = self.slots["momentum"][index] if self.momentum > 0 else None
        a = self.slots["average_gradient"][index] if self.centered else None
        kernels.rmsprop_update(
            variable,
            gradient,
            v,
            m,
            a,
            learning_rate,
            self.rho,
            self.momentum,
            self.epsilon,
            self.centered,
        )

    def update_all(self, weights, gradient, learning_rate):
        slots = self._layout.slots
        kernels.rmsprop_update_all(
            weights,
            gradient,
            slots["velocity"],
            slots.get("momentum"),
            slots.get("average_gradient"),
            learning_rate,
            self.rho,
            self.momentum,
            self.epsilon,
            self.centered,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
