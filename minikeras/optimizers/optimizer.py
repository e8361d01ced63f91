"""The base optimizer: slots, the step counter, gradient clipping, and the loop over weights.

Subclasses follow Keras's shape: `build(variables)` creates the slot arrays (momentum, velocity...)
and `update_step(gradient, variable, index)` changes one weight in place.
"""

import numpy as np

from minikeras import config


def keras_constant(value: float, dtype) -> float:
    """A Python-float hyper-parameter as Keras's `ops.cast(value, dtype)` makes it.

    TensorFlow first turns a Python float into a float32 constant, then casts that, so in float64
    Keras computes with float32's rounding of the value: SGD's momentum 0.9 acts as
    0.8999999761581421. Keras casts this way SGD's momentum, Adam's β₁ and β₂ (in βᵗ) and the
    weight decay (keras/src/optimizers/sgd.py, adam.py, base_optimizer.py); doing the same keeps
    float64 runs equal to Keras's to the last bits. In float32 it changes nothing.
    """
    return float(np.dtype(dtype).type(np.float32(value)))


class Optimizer:
    """Base class. `apply(grads, variables)` does one update of every weight."""

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if use_ema or loss_scale_factor is not None or gradient_accumulation_steps:
            raise NotImplementedError(
                "use_ema, loss_scale_factor and gradient_accumulation_steps are not supported "
                "by minikeras yet"
            )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.name = name or type(self).__name__.lower()
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.learning_rate = learning_rate
        self.iterations = 0  # number of updates applied (Keras's int64 counter)
        self.built = False
        self.slot_names = []  # e.g. ["velocity", "momentum"], in Keras's order
        self.slot_groups = []  # the names created together by one add_slot call
        self.slots = {}  # name → list of arrays, one per trainable weight

    @property
    def learning_rate(self):
        """The learning rate as a float, stored in floatx as Keras stores it in a variable."""
        return float(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            raise NotImplementedError("learning rate schedules are not supported by minikeras yet")
        value = float(value)
        if value < 0:
            raise ValueError(f"learning_rate must be >= 0. Received: learning_rate={value}")
        self._learning_rate = np.dtype(config.floatx()).type(value)

    # ------------------------------------------------------------------ slots
    def add_slot(self, variables, name):
        """One zero array per variable, same shape and dtype, listed under `name`.

        `name` may be a list (Adam's ["momentum", "velocity"]): those slots are created together,
        and Keras lists them interleaved, weight by weight (see `variables`).
        """
        names = [name] if isinstance(name, str) else list(name)
        for n in names:
            self.slot_names.append(n)
            self.slots[n] = [np.zeros_like(v) for v in variables]
        self.slot_groups.append(tuple(names))
        return self.slots[name] if isinstance(name, str) else [self.slots[n] for n in names]

    def build(self, variables):
        """Create the slots for these variables. Subclasses call add_slot, then super().build."""
        self.built = True

    @property
    def variables(self):
        """Keras's order: iterations, learning_rate, then the slots group by group (one group per
        add_slot call), weight by weight inside a group. RMSprop: every velocity, then every
        momentum; Adam: m₀, v₀, m₁, v₁, ..., then every velocity_hat."""
        out = [np.array(self.iterations, dtype=np.int64), np.array(self._learning_rate)]
        for group in self.slot_groups:
            for i in range(len(self.slots[group[0]])):
                out.extend(self.slots[name][i] for name in group)
        return out

    # ------------------------------------------------------------------ one step
    def apply(self, grads, trainable_variables):
        """One update: clip the gradients, decay the weights, update each weight, count the step."""
        grads = list(grads)
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(variables)} variables; expected one each."
            )
        if not self.built:
            self.build(variables)
        grads = self._clip_gradients(grads)
        if self.weight_decay:
            for v in variables:
                # decoupled weight decay, as Keras: w ← w − (w·wd)·lr
                wd = v.dtype.type(keras_constant(self.weight_decay, v.dtype))
                v -= v * wd * v.dtype.type(self.learning_rate)
        for index, (g, v) in enumerate(zip(grads, variables)):
            self.update_step(g, v, index)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)

    def update_step(self, gradient, variable, index):
        raise NotImplementedError

    def _clip_gradients(self, grads):
        """clipvalue: g ← clip(g, −c, c); clipnorm: g ← g·c/max(‖g‖, c) per weight;
        global_clipnorm: the same with the norm over all gradients together."""
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            return [
                g * (self.clipnorm / max(float(np.sqrt(np.sum(g * g))), self.clipnorm))
                for g in grads
            ]
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads)))
            scale = self.global_clipnorm / max(norm, self.global_clipnorm)
            return [g * g.dtype.type(scale) for g in grads]
        return grads

    # ------------------------------------------------------------------ state and config
    def get_state(self):
        """Everything that changes during training, as copies (to roll back a failed fit)."""
        return {
            "iterations": self.iterations,
            "built": self.built,
            "slots": {name: [a.copy() for a in arrays] for name, arrays in self.slots.items()},
            "slot_names": list(self.slot_names),
            "slot_groups": list(self.slot_groups),
        }

    def set_state(self, state):
        self.iterations = state["iterations"]
        self.built = state["built"]
        self.slot_names = list(state["slot_names"])
        self.slot_groups = list(state["slot_groups"])
        for name, arrays in state["slots"].items():
            for old, new in zip(self.slots[name], arrays):
                old[...] = new
        for name in list(self.slots):
            if name not in state["slots"]:
                del self.slots[name]

    def get_config(self):
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)
