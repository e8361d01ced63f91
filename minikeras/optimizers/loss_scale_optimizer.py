"""LossScaleOptimizer: dynamic loss scaling around another optimizer (Keras's
`keras.optimizers.LossScaleOptimizer`, also `keras.mixed_precision.LossScaleOptimizer`).

In float16 small gradients underflow to zero; multiplying the loss by a large scale S keeps
them representable, and dividing the gradients by S before the update undoes it. The scale
adapts: a step whose gradients hold an inf or NaN is skipped and S halved; after
`dynamic_growth_steps` finite steps in a row, S doubles. minikeras computes in float32 or
float64, where nothing underflows this way, but code written for mixed precision runs
unchanged and its steps, skips and scales are Keras's.

>>> import numpy as np
>>> from minikeras.optimizers import SGD, LossScaleOptimizer
>>> optimizer = LossScaleOptimizer(SGD(learning_rate=0.5), initial_scale=4.0)
>>> w = np.array([1.0, 2.0])
>>> optimizer.apply([np.array([np.inf, 4.0])], [w])  # skipped: the scale halves
>>> w.tolist(), float(optimizer.dynamic_scale)
([1.0, 2.0], 2.0)
>>> optimizer.apply([np.array([2.0, 4.0])], [w])  # gradients / 2, then SGD
>>> w.tolist()
[0.5, 1.0]
"""

import numpy as np

from minikeras.autodiff import Variable
from minikeras.optimizers.optimizer import Optimizer

_NOT_SUPPORTED_HERE = (
    "weight_decay",
    "clipnorm",
    "global_clipnorm",
    "clipvalue",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)
_BASE_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99}


class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer`, whose update it applies to the unscaled gradients.

    Args:
        inner_optimizer: the optimizer that updates the weights.
        initial_scale: the first loss scale (2¹⁵ by default).
        dynamic_growth_steps: after this many finite steps in a row, the scale doubles.

    Its variables are its own iteration and learning rate (unused, as Keras keeps them),
    `step_counter` and `dynamic_scale`, then the inner optimizer's. `iterations` and
    `learning_rate` are the inner optimizer's.
    """

    def __init__(
        self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None, **kwargs
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for argument in _NOT_SUPPORTED_HERE:
            if argument in kwargs and kwargs.pop(argument) != _BASE_DEFAULTS.get(argument):
                raise ValueError(
                    f"LossScaleOptimizer does not support `{argument}`. Instead, set "
                    f"`{argument}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # the loss is scaled here; a factor of the inner optimizer's would scale it twice
        inner_optimizer.loss_scale_factor = None

    def build(self, variables):
        self.step_counter = Variable(np.int64(0), trainable=False, name="step_counter")
        self.dynamic_scale = Variable(
            np.float32(self.initial_scale), trainable=False, name="dynamic_scale"
        )
        self.inner_optimizer.build(variables)
        self.built = True

    def _built_variables(self):
        return self.inner_optimizer._built_variables()

    @property
    def variables(self):
        own = super().variables  # its own iteration and learning rate (never used)
        if not self.built:
            return own
        return own + [self.step_counter, self.dynamic_scale] + self.inner_optimizer.variables

    def set_variables(self, values):
        _, _, step_counter, dynamic_scale, *inner = values  # its own two are never used
        self.step_counter[...] = step_counter
        self.dynamic_scale[...] = dynamic_scale
        self.inner_optimizer.set_variables(inner)

    def apply(self, grads, trainable_variables=None):
        """Skip the step (halving the scale) if any gradient is not finite; otherwise let the
        inner optimizer apply gradients / scale, and count towards the next doubling."""
        grads = list(grads)
        if trainable_variables is None:  # Keras allows it once built: the built variables
            trainable_variables = self.inner_optimizer._built_with
        if not self.built:
            self.build(trainable_variables)
        if not self.check_finite(grads):
            self.step_counter[...] = 0
            self.dynamic_scale[...] = self.dynamic_scale * np.float32(0.5)
            return
        scale = self.dynamic_scale
        # a weight that takes its gradient as its value (`overwrite_with_gradient`) takes it
        # unscaled, as Keras's
        unscaled = [
            g
            if g is None or getattr(v, "overwrite_with_gradient", False)
            else np.asarray(g) / scale.astype(np.asarray(g).dtype)
            for g, v in zip(grads, trainable_variables)
        ]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter[...] = 0
            self.dynamic_scale[...] = self.dynamic_scale * np.float32(2.0)
        else:
            self.step_counter[...] = self.step_counter + 1

    @staticmethod
    def check_finite(grads):
        """Whether every gradient given holds only finite numbers."""
        return all(np.all(np.isfinite(g)) for g in grads if g is not None)

    def scale_loss(self, loss):
        """`loss · scale`: the current scale once built, `initial_scale` before."""
        return loss * (self.dynamic_scale.value if self.built else np.float32(self.initial_scale))

    def current_loss_scale(self):
        return self.dynamic_scale.copy() if self.built else np.float32(self.initial_scale)

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_state(self):
        state = {"inner": self.inner_optimizer.get_state(), "built": self.built}
        if self.built:
            state["own"] = (self.step_counter.copy(), self.dynamic_scale.copy())
        return state

    def set_state(self, state):
        self.inner_optimizer.set_state(state["inner"])
        self.built = state["built"]
        if self.built:
            self.step_counter[...], self.dynamic_scale[...] = state["own"]

    def get_config(self):
        from minikeras import optimizers

        return {
            "name": self.name,
            "inner_optimizer": optimizers.serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from minikeras import optimizers

        config_ = dict(config_)
        inner = optimizers.deserialize(config_.pop("inner_optimizer"))
        return cls(inner, **config_)
