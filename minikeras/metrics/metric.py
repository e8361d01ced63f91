"""The base of every metric: state kept in variables, `update_state`, `result`, `reset_state`.

A metric makes its variables in `__init__` with `add_variable`, adds to them in `update_state`
and reads them in `result`, as Keras's do; the same subclass works in both:

>>> import numpy as np
>>> from minikeras import metrics
>>> class BinaryTruePositives(metrics.Metric):
...     def __init__(self, name="binary_true_positives", **kwargs):
...         super().__init__(name=name, **kwargs)
...         self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")
...     def update_state(self, y_true, y_pred, sample_weight=None):
...         values = np.logical_and(np.asarray(y_true, bool), np.asarray(y_pred, bool))
...         self.true_positives.assign(self.true_positives + np.sum(values))
...     def result(self):
...         return self.true_positives
>>> m = BinaryTruePositives()
>>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
>>> float(m.result())
2.0
"""

import contextlib

import numpy as np

from minikeras import config, initializers
from minikeras.metrics.variable import Variable
from minikeras.ops.dtypes import dtype_name
from minikeras.utils.naming import auto_name, to_snake_case


def standardize_dtype(dtype):
    """A dtype's name; 'int' and 'float' mean int64 and float32 as Keras's TensorFlow backend
    reads them (an IoU metric's default dtype is 'int', its variables int64)."""
    if dtype in ("int", int):
        return "int64"
    if dtype in ("float", float):
        return "float32"
    return dtype_name(dtype)


def _tracked_items(value):
    """The metrics and variables in `value`: itself, or inside its lists, tuples and dicts."""
    from minikeras.autodiff import Variable as WeightVariable

    if isinstance(value, (Metric, Variable, WeightVariable)):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [item for v in value for item in _tracked_items(v)]
    return []


class Metric:
    """Encapsulates a metric's state and logic. Subclasses define `update_state(...)` and
    `result()`; `reset_state()` zeroes every variable unless overridden.

    A built-in metric's class attribute `_direction` ("up" or "down") says whether higher is
    better, as in Keras: callbacks with mode "auto" (EarlyStopping, ModelCheckpoint) read it."""

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self._dtype = standardize_dtype(dtype or config.floatx())
        self._variables = []
        self._metrics = []  # metrics held as attributes: their variables are ours too

    def __setattr__(self, name, value):
        # as Keras's tracker: metrics and variables set as attributes, alone or inside lists,
        # tuples and dicts (nested too), join this metric's `variables`
        if "_metrics" in self.__dict__:
            for item in _tracked_items(value):
                if isinstance(item, Metric):
                    self._metrics.append(item)
                elif not any(item is v for v in self._variables):
                    self._variables.append(item)
        super().__setattr__(name, value)

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A new state variable of `shape`, filled by `initializer` (a name, an initializer, or
        the starting value itself, as Keras takes a tensor), dtype None: floatx, as in Keras,
        whatever the metric's own dtype."""
        self._check_super_called()
        dtype = standardize_dtype(dtype or config.floatx())
        if initializer is None:
            initializer = "zeros"
        if isinstance(initializer, (np.ndarray, list, int, float)):  # the value itself
            value = np.broadcast_to(np.asarray(initializer, dtype), tuple(shape))
        else:
            value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        path = f"{self.name.replace('/', '>')}/{name}"
        variable = Variable.create(np.asarray(value, dtype), name, path, aggregation)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras's older name for `add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def reset_state(self):
        """Zero every variable (called at the start of each epoch and of evaluate)."""
        for variable in self.variables:
            variable.assign(0)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    # ------------------------------------------------ Keras's stateless forms
    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """The variables' values after `update_state(*args)` from `metric_variables`, as new
        arrays; the metric's own state is left as it was (Keras's StatelessScope)."""
        with self._values_swapped(metric_variables):
            self.update_state(*args, **kwargs)
            return [np.array(v) for v in self.variables]

    def stateless_result(self, metric_variables):
        """`result()` computed from `metric_variables`; the metric's state is left as it was."""
        with self._values_swapped(metric_variables):
            return self.result()

    def stateless_reset_state(self):
        """The variables' values after `reset_state()`; the metric's state is left as it was."""
        with self._values_swapped([np.array(v) for v in self.variables]):
            self.reset_state()
            return [np.array(v) for v in self.variables]

    @contextlib.contextmanager
    def _values_swapped(self, metric_variables):
        """The variables hold `metric_variables` inside the block, their own values after."""
        own = self.variables
        if len(metric_variables) != len(own):
            raise ValueError(
                "Argument `metric_variables` must be a list of tensors corresponding 1:1 to "
                f"{type(self).__name__}().variables. Received list with length "
                f"{len(metric_variables)}, but expected {len(own)} variables."
            )
        saved = [np.array(v) for v in own]
        try:
            for variable, value in zip(own, metric_variables):
                variable.assign(np.asarray(value))
            yield
        finally:
            for variable, value in zip(own, saved):
                variable.assign(value)

    def __call__(self, *args, **kwargs):
        """`update_state(...)` then `result()`."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` method. Go add it!"
            )

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__
