"""Learning-rate schedules: the rate as a function of the step (the optimizer's `iterations`
before the update, counted from 0).

Keras computes every schedule in float32, whatever floatx is (its `convert_to_tensor` of a Python
float is float32; an np.float64 initial rate makes it float64), and the optimizer then casts the
value to each weight's dtype. These do the same arithmetic in that dtype, operation by
operation, so that a float64 model's learning rate is the same float32 number as Keras's.
"""

import math

import numpy as np


def _dtype_of(value):
    """The dtype Keras computes a schedule in: a NumPy float's own, else float32."""
    if isinstance(value, np.floating):
        return type(value)
    return np.float32


class LearningRateSchedule:
    """The base class of a schedule: subclass it, define `__call__(step)` (the rate at `step`)
    and `get_config()` (the arguments to rebuild it), and pass it as `learning_rate`.

    >>> from minikeras.optimizers.schedules import LearningRateSchedule
    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** (step // 10)
    ...     def get_config(self):
    ...         return {}
    >>> Halving()(25)
    0.025
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_decay_steps(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate · decay_rate^(step / decay_steps); with `staircase` the
    exponent is floored, so the rate drops once every `decay_steps`.

    >>> from minikeras.optimizers.schedules import ExponentialDecay
    >>> float(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)(25))
    0.02500000037252903
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        t = _dtype_of(self.initial_learning_rate)
        p = t(step) / t(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return t(self.initial_learning_rate) * t(self.decay_rate) ** p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step ≤ boundaries[0], values[i] while boundaries[i−1] < step ≤
    boundaries[i], values[−1] after the last boundary.

    >>> from minikeras.optimizers.schedules import PiecewiseConstantDecay
    >>> schedule = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    >>> [float(schedule(s)) for s in (100, 101, 201)]
    [1.0, 0.5, 0.10000000149011612]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        # Keras does not check this and then returns a sum of several values: refused here
        if any(b >= c for b, c in zip(boundaries[:-1], boundaries[1:])):
            raise ValueError(
                f"`boundaries` must be strictly increasing. Received: boundaries={boundaries}"
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        # Keras compares in the step's integer type (a float boundary is truncated)
        boundaries = [int(b) for b in self.boundaries]
        dtype = np.int32 if isinstance(self.values[0], int) else _dtype_of(self.values[0])
        for boundary, value in zip(boundaries, self.values):
            if step <= boundary:
                return dtype(value)
        return dtype(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """lr = (initial − end)·(1 − step/decay_steps)^power + end, with step capped at decay_steps;
    with `cycle`, decay_steps is instead multiplied by ⌈step/decay_steps⌉ (1 at step 0), so the
    decay starts again, from higher, every decay_steps.

    >>> from minikeras.optimizers.schedules import PolynomialDecay
    >>> float(PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)(5))
    0.05000000074505806
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        t = _dtype_of(self.initial_learning_rate)
        initial, end = t(self.initial_learning_rate), t(self.end_learning_rate)
        step, decay_steps = t(step), t(self.decay_steps)
        if self.cycle:
            multiplier = t(1.0) if step == 0 else np.ceil(step / t(self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * (t(1) - p) ** t(self.power) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """lr = initial_learning_rate / (1 + decay_rate·step/decay_steps) (floored with staircase).

    >>> from minikeras.optimizers.schedules import InverseTimeDecay
    >>> float(InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)(3))
    0.02500000037252903
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        t = _dtype_of(self.initial_learning_rate)
        p = t(step) / t(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return t(self.initial_learning_rate) / (t(1) + t(self.decay_rate) * p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


# cos and log of a float32 through float64, then rounded: correctly rounded almost always, as
# TensorFlow's float32 kernels are; NumPy's own float32 cos is 1 ulp off on many more steps
# (measured over steps 0-999 of each schedule: 2-72 steps differed from Keras, now 0-5).
def _cos(t, x):
    return t(np.cos(np.float64(x)))


def _log(t, x):
    return t(np.log(np.float64(x)))


def _cosine(t, fraction, decay_from, alpha):
    """decay_from · ((1 − α)·½(1 + cos(π·fraction)) + α), in the dtype t, as Keras."""
    cosine_decayed = t(0.5) * (t(1.0) + _cos(t, t(math.pi) * fraction))
    return decay_from * (t(1 - alpha) * cosine_decayed + t(alpha))


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from initial_learning_rate to warmup_target over warmup_steps, then
    a half cosine from the top rate down to alpha·top over decay_steps, then flat.

    >>> from minikeras.optimizers.schedules import CosineDecay
    >>> float(CosineDecay(0.1, decay_steps=10)(5))   # Keras's float32 value too
    0.04999999701976776
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def __call__(self, step):
        t = _dtype_of(self.initial_learning_rate)
        initial, decay_steps = t(self.initial_learning_rate), t(self.decay_steps)
        step = t(step)
        if self.warmup_target is None:
            return _cosine(t, min(step, decay_steps) / decay_steps, initial, self.alpha)
        target, warmup_steps = t(self.warmup_target), t(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return _cosine(t, (step - warmup_steps) / decay_steps, target, self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the first period lasts first_decay_steps, each next
    one t_mul times longer and starting m_mul times lower.

    >>> from minikeras.optimizers.schedules import CosineDecayRestarts
    >>> float(CosineDecayRestarts(0.1, first_decay_steps=10)(10))   # a restart: back to the top
    0.10000000149011612
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        _check_decay_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        t = _dtype_of(self.initial_learning_rate)
        alpha, t_mul, m_mul = t(self.alpha), t(self._t_mul), t(self._m_mul)
        fraction = t(step) / t(self.first_decay_steps)
        if t_mul == 1:
            i_restart = np.floor(fraction)
            fraction = fraction - i_restart
        else:  # period i lasts t_mulⁱ: i = ⌊log(1 − fraction·(1 − t_mul)) / log t_mul⌋
            i_restart = np.floor(_log(t, t(1) - fraction * (t(1) - t_mul)) / _log(t, t_mul))
            sum_r = (t(1) - t_mul**i_restart) / (t(1) - t_mul)
            fraction = (fraction - sum_r) / t_mul**i_restart
        cosine_decayed = t(0.5) * m_mul**i_restart * (t(1) + _cos(t, t(math.pi) * fraction))
        return t(self.initial_learning_rate) * ((t(1) - alpha) * cosine_decayed + alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(learning_rate_schedule):
    """Keras's serialized form: module, class_name, config, registered_name."""
    cls = type(learning_rate_schedule)
    built_in = ALL_SCHEDULES.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if built_in else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if built_in else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """A schedule from its serialized form (built-in ones, or classes in `custom_objects`)."""
    table = {**ALL_SCHEDULES, **(custom_objects or {})}
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name not in table:
        raise ValueError(
            f"Could not interpret learning rate schedule {config!r}: expected one of "
            f"{sorted(ALL_SCHEDULES)} (a schedule of your own needs custom_objects)"
        )
    return table[class_name].from_config(config.get("config", {}))
