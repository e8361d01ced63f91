"""SGD, with optional momentum and Nesterov momentum."""

from minikeras import kernels
from minikeras.optimizers.optimizer import Optimizer, keras_constant


class SGD(Optimizer):
    """Gradient descent, as Keras:

    momentum = 0:  w ← w − lr·g
    momentum μ:    m ← μ·m − lr·g;  w ← w + m
    nesterov:      m ← μ·m − lr·g;  w ← w + μ·m − lr·g

    >>> from minikeras.optimizers import SGD
    >>> SGD().learning_rate
    0.009999999776482582
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        super().build(variables)
        if self.momentum != 0:
            self.add_slot(variables, "momentum")

    def update_step(self, gradient, variable, index, learning_rate):
        m = self.slots["momentum"][index] if self.momentum != 0 else None
        momentum = keras_constant(self.momentum, variable.dtype)  # μ as Keras casts it
        kernels.sgd_update(variable, gradient, m, learning_rate, momentum, self.nesterov)

    def update_all(self, weights, gradient, learning_rate):
        m = self._layout.slots["momentum"] if self.momentum != 0 else None
        momentum = keras_constant(self.momentum, gradient.dtype)
        kernels.sgd_update_all(weights, gradient, m, learning_rate, momentum, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
