"""What Adam, Adamax, Nadam and Lamb share: the arguments of their two moving averages of the
gradient (β₁ for the first, β₂ for the second) and the ε of their denominator. Each keeps its
own slots and update rule in its own file."""

from minikeras.optimizers.optimizer import Optimizer


class MomentsOptimizer(Optimizer):
    """An optimizer with Keras's `beta_1`, `beta_2` and `epsilon` arguments (and defaults), kept
    as attributes and written in `get_config` after the base optimizer's keys, as Keras's."""

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
