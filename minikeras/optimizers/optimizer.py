"""The base optimizer: slots, the step counter, the learning rate (a number or a schedule), and
the options every Keras optimizer takes (keras/src/optimizers/base_optimizer.py).

Subclasses follow Keras's shape: `build(variables)` creates the slot arrays (momentum, velocity...)
after `super().build(variables)`, and `update_step(gradient, variable, index, learning_rate)`
changes one weight in place. One call of `apply(grads, variables)` does, in Keras's order:

    g ← g / loss_scale_factor                          (only None is supported)
    gradient_accumulation_steps N:  every N-th call g ← (Σ of the N gradients) / N and the update
        below runs; on the other calls the gradient is only added to its accumulator
    g ← clip(g)                                        clipnorm, global_clipnorm or clipvalue
    w ← w − w·wd·lr                                    weight_decay, decoupled from the gradient
    update_step(g, w, ...)                             the optimizer's own rule, weight by weight,
        or update_all(...): the same rule over every weight in one compiled call, for the
        optimizers that have one (slots and gradient laid out flat: flat_update.py)
    use_ema:  a ← μ·a + (1 − μ)·w  (a ← w on the first step); every `ema_overwrite_frequency`
        steps w ← a
    w ← constraint(w)                                  each weight that has a constraint
    iterations ← iterations + 1
"""

import re
import warnings

import numpy as np

from minikeras import config
from minikeras.autodiff import Variable
from minikeras.autodiff.foreign import convert_foreign
from minikeras.optimizers.flat_update import FlatLayout
from minikeras.optimizers.schedules import LearningRateSchedule
from minikeras.utils.naming import auto_name, to_snake_case


def keras_constant(value: float, dtype) -> float:
    """A Python-float hyper-parameter as Keras's `ops.cast(value, dtype)` makes it.

    TensorFlow first turns a Python float into a float32 constant, then casts that, so in float64
    Keras computes with float32's rounding of the value: SGD's momentum 0.9 acts as
    0.8999999761581421. Keras casts this way SGD's momentum, Adam's β₁ and β₂ (in βᵗ) and the
    weight decay (keras/src/optimizers/sgd.py, adam.py, base_optimizer.py); doing the same keeps
    float64 runs equal to Keras's to the last bits. In float32 it changes nothing.
    """
    return float(np.dtype(dtype).type(np.float32(value)))


_SCHEDULE_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
    "constructor argument, hence its learning rate is not settable. If you need the learning "
    "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
    "argument."
)


class LearningRateValue(float):
    """What `optimizer.learning_rate` reads: a Python float (arithmetic, comparisons and
    `float()` work as on a number) that also answers like Keras's learning-rate variable,
    whose `.value` and `.numpy()` give the rate in its dtype (floatx, or float32 for a
    schedule)."""

    def __new__(cls, stored):
        number = super().__new__(cls, float(stored))
        number._stored = stored
        return number

    @property
    def value(self):
        return self._stored

    def numpy(self):
        return self._stored


class IterationsValue(int):
    """What `optimizer.iterations` reads: a Python int that also answers like Keras's
    iteration variable (`.value`, `.numpy()`: int64; `.assign(n)` sets the optimizer's count)."""

    def __new__(cls, count, optimizer):
        number = super().__new__(cls, count)
        number._optimizer = optimizer
        return number

    @property
    def value(self):
        return np.int64(self)

    def numpy(self):
        return np.int64(self)

    def assign(self, value):
        self._optimizer.iterations = value


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
        if kwargs.pop("decay", None) is not None:  # Keras 2's spelling, ignored as Keras 3 does
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.", stacklevel=3
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    f"`ema_momentum` must be in the range [0, 1]. Received: "
                    f"ema_momentum={ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                    f"ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        # Keras names an optimizer like a layer: snake_case class name, unique in the session
        # (sgd, rm_sprop, adam_w, then sgd_1, ...), from the same counter as the layers'
        self.name = name if name is not None else auto_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        # calls of apply: Keras's int64 counter, the one files hold, kept in a 0-d array so that
        # `variables` can hand it out as a Variable whose `assign` changes the optimizer
        self._iteration_array = np.zeros((), dtype=np.int64)
        self._learning_rate_array = None  # the rate when it is a number (0-d, floatx)
        self._learning_rate_schedule = None  # else the schedule or function
        self._learning_rate = self._initial_learning_rate(learning_rate)
        self.built = False
        self.slot_names = []  # e.g. ["velocity", "momentum"], in Keras's order
        self.slots = {}  # name → list of arrays, one per trainable weight
        self._slot_variables = []  # every slot array, in the order Keras lists its variables
        self._slot_names = {}  # id(slot array) → its variable's name, where known
        self._layout = None  # a FlatLayout once built, for an optimizer with `update_all`

    # ------------------------------------------------------------------ the step counter
    @property
    def _iterations(self):
        """Calls of `apply` (Keras's `_iterations`), a Python int."""
        return int(self._iteration_array)

    @_iterations.setter
    def _iterations(self, value):
        self._iteration_array[...] = value

    @property
    def iterations(self):
        """Updates applied. With gradient accumulation, Keras counts an update per N calls.
        An int, with Keras's variable's `.value`, `.numpy()` and `.assign`."""
        count = self._iterations
        if self.gradient_accumulation_steps:
            count //= self.gradient_accumulation_steps
        return IterationsValue(count, self)

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value)

    # ------------------------------------------------------------------ the learning rate
    @property
    def _learning_rate(self):
        """The rate as given: a schedule or function, or a number (a floatx NumPy scalar)."""
        if self._learning_rate_schedule is not None:
            return self._learning_rate_schedule
        return self._learning_rate_array[()]

    @_learning_rate.setter
    def _learning_rate(self, value):
        if callable(value):
            self._learning_rate_schedule = value
            return
        self._learning_rate_schedule = None
        array = self._learning_rate_array
        if array is not None and array.dtype == np.asarray(value).dtype:
            array[...] = value  # in place: a Variable handed out by `variables` sees it
        else:
            self._learning_rate_array = np.array(value)

    def _initial_learning_rate(self, learning_rate):
        if callable(learning_rate):  # a LearningRateSchedule, or a function of no argument
            return learning_rate
        if not isinstance(learning_rate, float):  # Keras takes floats only, not 1 or np.float32
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration value "
                "and returns the corresponding learning rate value). Received instead: "
                f"learning_rate={learning_rate}"
            )
        return self._learning_rate_value(learning_rate)

    @staticmethod
    def _learning_rate_value(value):
        """A number as Keras's learning-rate variable holds it: floatx."""
        value = float(value)
        if value < 0:  # Keras accepts it and climbs the loss: refused here
            raise ValueError(f"learning_rate must be >= 0. Received: learning_rate={value}")
        return np.dtype(config.floatx()).type(value)

    def _current_learning_rate(self):
        """The rate for the update about to run. A schedule is evaluated at the counter before
        the increment (Keras passes `self._iterations`: calls, not accumulated updates) and
        gives float32, as Keras's schedules compute in float32 whatever floatx is."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return np.float32(self._learning_rate(self._iterations))
        if callable(self._learning_rate):
            return np.float32(self._learning_rate())
        return self._learning_rate

    @property
    def learning_rate(self):
        """The learning rate as a float (the number, or the schedule's value at this step),
        with Keras's variable's `.value` and `.numpy()` too."""
        return LearningRateValue(self._current_learning_rate())

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        elif isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(_SCHEDULE_NOT_SETTABLE)
        else:
            self._learning_rate = self._learning_rate_value(value)

    @property
    def _has_learning_rate_variable(self):
        """Keras keeps a learning-rate variable (saved in files) only for a number."""
        return not callable(self._learning_rate)

    # ------------------------------------------------------------------ slots
    def add_slot(self, variables, name, initial_value=0.0):
        """One array per variable, same shape and dtype, filled with `initial_value`, listed
        under `name`.

        `name` may be a list (Adam's ["momentum", "velocity"]): those slots are created together,
        and Keras lists them interleaved, weight by weight (m₀, v₀, m₁, v₁, ...); `initial_value`
        may then be a list too (Ftrl's accumulator starts at 0.1, its linear at 0).
        The value is cast as Keras's Constant initializer casts it (through float32).
        """
        names = [name] if isinstance(name, str) else list(name)
        initial = initial_value if isinstance(initial_value, (list, tuple)) else [initial_value]
        initial = initial * len(names) if len(initial) == 1 else initial
        for n in names:
            self.slot_names.append(n)
            self.slots[n] = []
        layout = self._layout
        if layout is not None and not layout.matches(variables):
            layout = None
        if layout is not None:  # each group one flat array; the weights get views of their part
            views = {
                n: layout.add_slot(n, keras_constant(value, layout.dtype))
                for n, value in zip(names, initial)
            }
        for i, v in enumerate(variables):
            for n, value in zip(names, initial):
                if layout is not None:
                    array = views[n][i]
                else:
                    array = np.full_like(v, keras_constant(value, v.dtype))
                self.slots[n].append(array)
                self._track_slot(array, v, n)
        return self.slots[name] if isinstance(name, str) else [self.slots[n] for n in names]

    def _track_slot(self, array, weight, name):
        """List a slot array among the variables, named as Keras names a slot after its
        weight's path ("output_a_kernel_momentum")."""
        self._slot_variables.append(array)
        self._slot_names[id(array)] = f"{_path(weight).replace('/', '_')}_{name}"

    def add_variable(self, name, array):
        """One more optimizer variable (not one per weight), appended to Keras's list."""
        self.slot_names.append(name)
        self.slots[name] = [array]
        self._slot_variables.append(array)
        self._slot_names[id(array)] = name
        return array

    def build(self, variables):
        """Create the slots for these variables. Subclasses call super().build, then add_slot:
        the EMA averages and gradient accumulators come first in Keras's list."""
        variables = list(variables)
        self._indices = {id(v): i for i, v in enumerate(variables)}
        self._built_with = variables  # kept alive, so that their ids stay theirs
        if type(self).update_all is not Optimizer.update_all and FlatLayout.fits(variables):
            self._layout = FlatLayout(variables)
        if self.use_ema:
            self.add_slot(variables, "average")
        if self.gradient_accumulation_steps:
            self.add_slot(variables, "gradient_accumulator")
        self.built = True

    @property
    def variables(self):
        """Keras's order: iterations, learning_rate (only when it is a number), then the slots
        group by group (one group per add_slot call), weight by weight inside a group. RMSprop:
        every velocity, then every momentum; Adam: m₀, v₀, m₁, v₁, ..., then every
        velocity_hat.

        Each is a Variable over the optimizer's own memory, as Keras's are variables: `.value`
        reads it and `.assign` changes the optimizer (as `stateless_apply`'s callers do). Its
        `path` is Keras's ("adam/iteration", "adam/learning_rate", "adam/dense_kernel_momentum"),
        which `Model.get_state_tree` reads."""
        out = [self._variable(self._iteration_array, "iteration")]
        if self._has_learning_rate_variable:
            out.append(self._variable(self._learning_rate_array, "learning_rate"))
        for array in self._slot_variables:
            out.append(self._variable(array, self._slot_names.get(id(array), "variable")))
        return out

    def _variable(self, array, name):
        return Variable.wrap(array, trainable=False, name=name, path=f"{self.name}/{name}")

    @property
    def _model_variables_moving_average(self):
        """Keras's attribute name for the EMA averages (use_ema), one Variable per weight."""
        return [Variable.wrap(a, trainable=False) for a in self.slots.get("average", [])]

    @property
    def _accumulated_gradients(self):
        """Keras's attribute name for the gradient accumulators, one Variable per weight."""
        return [
            Variable.wrap(a, trainable=False) for a in self.slots.get("gradient_accumulator", [])
        ]

    def set_weights(self, weights):
        """Keras's `set_weights`: `variables`' values, in that order, into a built optimizer."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        weights = [np.asarray(w) for w in weights]
        for i, (variable, weight) in enumerate(zip(self.variables, weights)):
            if variable.shape != weight.shape:
                raise ValueError(
                    f"Optimizer variable {i} has shape {variable.shape} not compatible with "
                    f"provided weight shape {weight.shape}."
                )
        self.set_variables(weights)

    def set_variables(self, values):
        """Copy `values` (as `variables` lists them, e.g. read from a file) into the optimizer."""
        iterations, *rest = values
        self._iterations = int(iterations)
        if self._has_learning_rate_variable:
            learning_rate, *rest = rest
            self._learning_rate = self._learning_rate_value(learning_rate)
        for target, value in zip(self._slot_variables, rest):
            target[...] = value

    # ------------------------------------------------------------------ one step
    def apply(self, grads, trainable_variables):
        """One call: accumulate or update (clip, decay, update_step), EMA, count the call."""
        # a tf.Tensor gradient (Keras on TensorFlow takes one) as the array it holds
        grads = [convert_foreign(g) for g in grads]
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(variables)} variables; expected one each."
            )
        if not self.built:
            self.build(variables)
        indices = self._slot_indices(variables)
        grads, variables, indices = _drop_missing(grads, variables, indices)
        grads, variables, indices = self._overwrite_with_gradients(grads, variables, indices)
        if not grads:  # every weight was overwritten: only the counter moves
            self._iterations += 1
            return
        if self.loss_scale_factor is not None:  # the gradients of scale_loss(loss): unscaled
            grads = [g / self.loss_scale_factor for g in grads]
        learning_rate = float(self._current_learning_rate())  # a Python float: weak in NumPy
        steps = self.gradient_accumulation_steps
        if steps:
            accumulators = [self.slots["gradient_accumulator"][i] for i in indices]
            if (self._iterations + 1) % steps == 0:
                # the mean of the N gradients (Keras: (g + Σ earlier) / N), then a normal update
                grads = [(g + a) / a.dtype.type(steps) for g, a in zip(grads, accumulators)]
                self._update(grads, variables, learning_rate, indices)
                for a in accumulators:
                    a[...] = 0
            else:
                for g, a in zip(grads, accumulators):
                    a += g
        else:
            self._update(grads, variables, learning_rate, indices)
        if self.use_ema:
            self._update_moving_average(variables)
            frequency = self.ema_overwrite_frequency
            # Keras counts this in updates (iterations), checked on every call
            if frequency and (self.iterations + 1) % frequency == 0:
                self._overwrite_with_moving_average(variables)
        self._apply_constraints(variables)
        self._iterations += 1

    @staticmethod
    def _apply_constraints(variables):
        """w ← constraint(w) for each weight given that has one, after its update, as Keras's
        `apply` does: a custom `train_step` that calls `apply_gradients` gets constrained
        weights too. With gradient accumulation Keras projects on every call, update or not."""
        for v in variables:
            constraint = v.constraint if isinstance(v, Variable) else None
            if constraint is not None:
                v[...] = constraint(v)

    def _overwrite_with_gradients(self, grads, variables, indices):
        """Weights flagged `overwrite_with_gradient` (Keras's Variable attribute, used for
        float8 scaling factors) take their gradient as their new value, unscaled and unclipped,
        and leave the update. With gradient accumulation, Keras keeps the largest gradient seen
        (an element-wise maximum) and writes it on the N-th call
        (base_optimizer.py `_overwrite_variables_directly_with_gradients`)."""
        if not any(getattr(v, "overwrite_with_gradient", False) for v in variables):
            return grads, variables, indices
        steps = self.gradient_accumulation_steps
        kept = []
        for g, v, index in zip(grads, variables, indices):
            if not getattr(v, "overwrite_with_gradient", False):
                kept.append((g, v, index))
                continue
            g = np.asarray(g, dtype=v.dtype)
            if not steps:
                v[...] = g
                continue
            accumulator = self.slots["gradient_accumulator"][index]
            if (self._iterations + 1) % steps == 0:
                v[...] = np.maximum(g, accumulator)
                accumulator[...] = 0
            else:
                accumulator[...] = np.maximum(g, accumulator)
        return [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Keras's functional step: the weights' and the optimizer's new values, as two lists,
        from their current values given as lists (`[v.value for v in optimizer.variables]`),
        leaving the optimizer and the weights it was built with as they were.

        minikeras computes it with `apply` itself: the given values are written into the built
        weights and the optimizer, one step is taken, the results are read out, and the
        values from before are put back."""
        if not self.built:
            raise ValueError(
                f"To call `stateless_apply`, {type(self).__name__} must be built (i.e. its "
                "variables must have been created). You can build it via "
                "`optimizer.build(trainable_variables)`."
            )
        own = self.variables
        built = self._built_variables()
        if len(optimizer_variables) != len(own):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                f"{type(self).__name__}().variables. Received list with length "
                f"{len(optimizer_variables)}, but expected {len(own)} variables."
            )
        if len(trainable_variables) != len(built):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                "the trainable variables list that the optimizer was built with. Received "
                f"len(trainable_variables) == {len(trainable_variables)} whereas the optimizer "
                f"was built with {len(built)} variables."
            )
        saved_weights = [np.array(v) for v in built]
        saved_state = [np.array(v) for v in own]
        try:
            for v, value in zip(built, trainable_variables):
                v[...] = value
            self.set_variables([np.asarray(value) for value in optimizer_variables])
            self.apply(grads, built)
            new_weights = [np.array(v) for v in built]
            new_state = [np.array(v) for v in self.variables]
        finally:
            for v, value in zip(built, saved_weights):
                v[...] = value
            self.set_variables(saved_state)
        return new_weights, new_state

    def _built_variables(self):
        """The weights the optimizer was built with, in that order."""
        return list(self._built_with)

    def _slot_indices(self, variables):
        """Each variable's place among those the optimizer was built with (its slots'), so
        that a step may update some of them, in any order, as Keras's. A weight it was not
        built with is refused, as Keras refuses it; plain arrays are taken by position."""
        known = getattr(self, "_indices", None)
        indices = []
        for position, v in enumerate(variables):
            index = None if known is None else known.get(id(v))
            if index is None and isinstance(v, Variable):
                raise ValueError(
                    f"Unknown variable: {v!r}. This optimizer can only be called for the "
                    "variables it was originally built with. When working with a new set of "
                    "variables, you should recreate a new optimizer instance."
                )
            indices.append(position if index is None else index)
        return indices

    def _update(self, grads, variables, learning_rate, indices=None):
        """Clip, decay, then each weight's update_step (the part accumulation runs every N)."""
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables, learning_rate)
        layout = self._layout
        if layout is not None and layout.matches(variables):  # every weight in one call
            self.update_all(layout.weights, layout.gather(grads), learning_rate)
            return
        indices = range(len(variables)) if indices is None else indices
        for index, g, v in zip(indices, grads, variables):
            # the weight's plain array: a compiled update takes an ndarray ten times faster
            # than a Variable (an ndarray subclass); both are the same memory
            self.update_step(g, v.view(np.ndarray), index, learning_rate)

    def gradient_buffers(self, variables):
        """Arrays shaped like `variables` that `apply` reads without a copy (views of its flat
        gradient), once built for them; None for an optimizer that updates weight by weight."""
        layout = self._layout
        return layout.gradient_views if layout is not None and layout.matches(variables) else None

    def scale_loss(self, loss):
        """`loss · loss_scale_factor` (unchanged without one): a custom training step
        differentiates this, and `apply` divides the gradients by the factor again."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def current_loss_scale(self):
        """The factor `apply` divides the gradients by, or None: `fit` multiplies its gradients
        by it, as if it had differentiated `scale_loss(loss)` (exact for a power of two)."""
        return self.loss_scale_factor

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)

    def update_step(self, gradient, variable, index, learning_rate):
        raise NotImplementedError

    def update_all(self, weights, gradient, learning_rate):
        """`update_step` for every weight at once: `weights` their flat views, `gradient` and
        the slots (`self._layout.slots`) flat (flat_update.py). Optional: an optimizer without
        it updates weight by weight."""
        raise NotImplementedError

    def _apply_weight_decay(self, variables, learning_rate):
        """Decoupled weight decay, as Keras (base_optimizer.py `_apply_weight_decay`), before the
        update and on the weights as they are: w ← w − w·wd·lr. Keras casts wd from a Python
        float (through float32) and lr from its variable or schedule value."""
        if self.weight_decay is None:
            return
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            wd = v.dtype.type(keras_constant(self.weight_decay, v.dtype))
            v -= v * wd * v.dtype.type(learning_rate)

    def _use_weight_decay(self, variable):
        """Whether the weight decay applies to `variable`: not excluded by
        `exclude_from_weight_decay`, as an array or by name."""
        if id(variable) in getattr(self, "_excluded_from_weight_decay", ()):
            return False
        pattern = getattr(self, "_excluded_from_weight_decay_pattern", None)
        return pattern is None or not re.search(pattern, getattr(variable, "name", None) or "")

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leave these weights out of the weight decay: the arrays of `var_list` (e.g.
        `model.layers[0].bias`), and every weight whose name contains one of `var_names` (a
        regular-expression search, as Keras: "bias" matches every bias). Call before the
        optimizer is built."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer is "
                "built."
            )
        self._excluded_from_weight_decay = {id(v) for v in var_list or ()}
        self._excluded_from_weight_decay_pattern = "|".join(var_names) if var_names else None

    def _clip_gradients(self, grads):
        """clipnorm: g ← g·c/max(‖g‖, c) per weight; global_clipnorm: the same with the norm over
        all gradients together; clipvalue: g ← clip(g, −c, c). Keras checks them in this order
        and skips a value ≤ 0."""
        if self.clipnorm and self.clipnorm > 0:
            return [
                g * (self.clipnorm / max(float(np.sqrt(np.sum(g * g))), self.clipnorm))
                for g in grads
            ]
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads)))
            scale = self.global_clipnorm / max(norm, self.global_clipnorm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ------------------------------------------------------------------ moving average (EMA)
    def _update_moving_average(self, variables):
        """a ← μ·a + (1 − μ)·w, with μ = 0 while `iterations` is 0 (so a starts as the weights
        after the first update; with accumulation, after each of the first N calls)."""
        momentum = self.ema_momentum if self.iterations != 0 else 0.0
        for v, a in zip(variables, self.slots["average"]):
            mu = v.dtype.type(momentum)
            a[...] = mu * a + (v.dtype.type(1) - mu) * v

    def _overwrite_with_moving_average(self, variables):
        for v, a in zip(variables, self.slots["average"]):
            v[...] = a

    def finalize_variable_values(self, var_list):
        """Put the moving averages into the weights when use_ema is on (Keras's `fit` calls this
        after the last epoch)."""
        if self.use_ema:
            if len(var_list) != len(self.slots["average"]):
                raise ValueError(
                    f"The length of model variables ({len(var_list)}) to override does not "
                    "match the length of model variables stored in the optimizer "
                    f"({len(self.slots['average'])}). Please check if the optimizer was called "
                    "on your model."
                )
            self._overwrite_with_moving_average(var_list)

    # ------------------------------------------------------------------ state and config
    def get_state(self):
        """Everything that changes during training, as copies (to roll back a failed fit)."""
        return {
            "iterations": self._iterations,
            "learning_rate": self._learning_rate,
            "built": self.built,
            "values": [a.copy() for a in self._slot_variables],
        }

    def set_state(self, state):
        self._iterations = state["iterations"]
        self._learning_rate = state["learning_rate"]
        if not state["built"]:  # built during the failed fit: back to no slots at all
            self.built = False
            self.slot_names, self.slots, self._slot_variables = [], {}, []
            self._slot_names = {}
            self._layout = None
            return
        for target, value in zip(self._slot_variables, state["values"]):
            target[...] = value

    def get_config(self):
        learning_rate = self._learning_rate
        if isinstance(learning_rate, LearningRateSchedule):
            from minikeras.optimizers import schedules

            learning_rate = schedules.serialize(learning_rate)
        elif callable(learning_rate):
            raise NotImplementedError("a learning rate given as a function cannot be serialized")
        else:
            learning_rate = float(learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
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
        config_ = dict(config_)
        if isinstance(config_.get("learning_rate"), dict):
            from minikeras.optimizers import schedules

            config_["learning_rate"] = schedules.deserialize(config_["learning_rate"])
        return cls(**config_)


def _drop_missing(grads, variables, indices):
    """Leave out the weights whose gradient is None (the loss does not reach them), with
    Keras's warning naming them; none at all is Keras's ValueError."""
    kept = [i for i, g in enumerate(grads) if g is not None]
    if len(kept) == len(grads):
        return grads, variables, indices
    if not kept:
        raise ValueError("No gradients provided for any variable.")
    missing = [
        v.path if isinstance(v, Variable) else f"array {i}"
        for i, (g, v) in enumerate(zip(grads, variables))
        if g is None
    ]
    warnings.warn(
        f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
        "`model.compile()`, did you forget to provide a `loss` argument?",
        stacklevel=3,
    )
    return [grads[i] for i in kept], [variables[i] for i in kept], [indices[i] for i in kept]


def _path(variable):
    """A weight's path ("output_a/kernel"), or its name for an array without one."""
    return getattr(variable, "path", None) or getattr(variable, "name", None) or "variable"
