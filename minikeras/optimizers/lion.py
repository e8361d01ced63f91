"""Lion: steps of equal size in every coordinate, the sign of an interpolated momentum."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion, as Keras:

    w ← w − lr·sign(β₁·m + (1 − β₁)·g)
    m ← β₂·m + (1 − β₂)·g

    >>> from minikeras.optimizers import Lion
    >>> Lion().get_config()["beta_2"]
    0.99
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, "momentum")

    def update_step(self, gradient, variable, index, learning_rate):
        m = self.slots["momentum"][index]
        kernels.lion_update(variable, gradient, m, learning_rate, self.beta_1, self.beta_2)

    def update_all(self, weights, gradient, learning_rate):
        m = self._layout.slots["momentum"]
        kernels.lion_update_all(weights, gradient, m, learning_rate, self.beta_1, self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
