"""FTRL-proximal: follow the regularized leader, with L1 and L2 penalties (sparse models)."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """FTRL, as Keras, with an accumulator n (starting at `initial_accumulator_value`), a linear
    term z, and p = learning_rate_power:

    g' = g + 2·l2_shrinkage·w;   n' = n + g²
    z ← z + g' − (n'^(−p) − n^(−p))/lr · w
    w ← (clip(z, −l1, l1) − z) / (n'^(−p)/lr + 2·(l2 + β/(2·lr)));   n ← n'

    >>> from minikeras.optimizers import Ftrl
    >>> Ftrl().get_config()["learning_rate_power"]
    -0.5
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        for arg, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
        ):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(
                "`l2_shrinkage_regularization_strength` needs to be positive or zero. Received: "
                f"l2_shrinkage_regularization_strength={l2_shrinkage_regularization_strength}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        super().build(variables)
        self.add_slot(variables, ["accumulator", "linear"], [self.initial_accumulator_value, 0.0])

    def update_step(self, gradient, variable, index, learning_rate):
        kernels.ftrl_update(
            variable,
            gradient,
            self.slots["accumulator"][index],
            self.slots["linear"][index],
            learning_rate,
            self.learning_rate_power,
            self.l1_regularization_strength,
            self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength,
            self.beta,
        )

    def update_all(self, weights, gradient, learning_rate):
        kernels.ftrl_update_all(
            weights,
            gradient,
            self._layout.slots["accumulator"],
            self._layout.slots["linear"],
            learning_rate,
            self.learning_rate_power,
            self.l1_regularization_strength,
            self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength,
            self.beta,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
