"""Adagrad: each weight's step shrinks with the sum of all its squared gradients so far."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad, as Keras (ε inside the square root; the accumulator starts at
    `initial_accumulator_value`, not 0):

    a ← a + g²
    w ← w − lr·g / √(a + ε)

    >>> from minikeras.optimizers import Adagrad
    >>> Adagrad().get_config()["initial_accumulator_value"]
    0.1
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, "accumulator", self.initial_accumulator_value)

    def update_step(self, gradient, variable, index, learning_rate):
        accumulator = self.slots["accumulator"][index]
        kernels.adagrad_update(variable, gradient, accumulator, learning_rate, self.epsilon)

    def update_all(self, weights, gradient, learning_rate):
        accumulator = self._layout.slots["accumulator"]
        kernels.adagrad_update_all(weights, gradient, accumulator, learning_rate, self.epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
