"""Adam: momentum on the gradient and on its square, with bias correction."""

from minikeras import kernels
from minikeras.optimizers.moments import MomentsOptimizer


class Adam(MomentsOptimizer):
    """Adam, as Keras, at step t (1 for the first update):

    α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)                 the bias correction, folded into the step size
    m ← m + (g − m)·(1 − β₁);  v ← v + (g² − v)·(1 − β₂)
    amsgrad:  v̂ ← max(v̂, v), used in place of v
    w ← w − α·m / (√v + ε)

    >>> from minikeras.optimizers import Adam
    >>> Adam().get_config()["beta_2"]
    0.999
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name=name, **kwargs)
        self.amsgrad = amsgrad

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["momentum", "velocity"])  # created together, as in Keras
        if self.amsgrad:
            self.add_slot(variables, "velocity_hat")

    def update_step(self, gradient, variable, index, learning_rate):
        m = self.slots["momentum"][index]
        v = self.slots["velocity"][index]
        vhat = self.slots["velocity_hat"][index] if self.amsgrad else None
        kernels.adam_update(
            variable,
            gradient,
            m,
            v,
            vhat,
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )

    def update_all(self, weights, gradient, learning_rate):
        slots = self._layout.slots
        kernels.adam_update_all(
            weights,
            gradient,
            slots["momentum"],
            slots["velocity"],
            slots.get("velocity_hat"),
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.iterations + 1,
        )

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}
