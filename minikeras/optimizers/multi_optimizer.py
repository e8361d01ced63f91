"""MultiOptimizer: each weight updated by the optimizer chosen for it (Keras's
`keras.optimizers.MultiOptimizer` and `OptimizerMap`, keras/src/optimizers/multi_optimizer.py).

The choice is made once, when the optimizer is built: an `OptimizerMap` picks by the weight's
path (an exact key first, else the one key that matches it as a regular expression, else its
default optimizer), or any function `variable -> optimizer` picks. A step hands each
sub-optimizer its own weights and gradients; each keeps its own slots, learning rate and
counter, so a sub-optimizer none of whose weights were given does not count the step.

>>> import numpy as np
>>> from minikeras import backend, optimizers
>>> with backend.name_scope("encoder"):
...     w = backend.Variable(np.array([1.0]), name="kernel")
>>> v = backend.Variable(np.array([1.0]), name="bias")
>>> chooser = optimizers.OptimizerMap(default_optimizer=optimizers.SGD(learning_rate=0.5))
>>> chooser["encoder/.*"] = optimizers.SGD(learning_rate=0.1)
>>> optimizer = optimizers.MultiOptimizer(chooser)
>>> optimizer.apply([np.array([1.0]), np.array([1.0])], [w, v])
>>> w.numpy(), v.numpy()
(array([0.9]), array([0.5]))
"""

import re
from collections.abc import MutableMapping

from minikeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from minikeras.optimizers.optimizer import Optimizer


class OptimizerMap(MutableMapping):
    """Weight paths (or regular expressions over them) to optimizers, with a default for the
    weights no key matches. Called on a weight, it gives that weight's optimizer."""

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "default_optimizer must be a Keras Optimizer instance. "
                f"Received: {default_optimizer}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        """The optimizer of the key `key` itself, else of the one pattern `re.fullmatch`es it,
        else the default. Two matching patterns are a ValueError, as in Keras: the choice
        would depend on the order the keys were added in."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        from minikeras.saving import serialize_keras_object

        return {
            "default_optimizer": serialize_keras_object(self._default_optimizer),
            "optimizer_map": serialize_keras_object(self._optimizer_map),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving import deserialize_keras_object

        default = deserialize_keras_object(config["default_optimizer"], custom_objects)
        optimizer_map = deserialize_keras_object(config["optimizer_map"], custom_objects)
        return cls(default, optimizer_map)


class MultiOptimizer(Optimizer):
    """Delegates each weight to the optimizer `optimizer_map` gives it.

    Args:
        optimizer_map: an `OptimizerMap`, or a function of a weight returning its optimizer.
        loss_scale_factor: set on every sub-optimizer too (it replaces theirs), so that each
            divides its gradients by it.
        name: the optimizer's name.

    `optimizers` lists the sub-optimizers (those of the map first, its default last, then any
    a function chose while building). It has no learning rate of its own: read or set each
    sub-optimizer's. `iterations` counts the steps of the MultiOptimizer; its `variables` are
    its own iteration and (unused) learning rate, then each sub-optimizer's, in that order.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        known = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in known + ([default] if default is not None else []):
            if optimizer not in self._inner_optimizers:
                optimizer.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(optimizer)

    @property
    def optimizers(self):
        return self._inner_optimizers

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        # a LossScaleOptimizer around this one sets None: the sub-optimizers must follow
        self._loss_scale_factor = value
        for optimizer in getattr(self, "_inner_optimizers", ()):
            optimizer.loss_scale_factor = value

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. "
            "Access the learning rate on the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. "
            "Set the learning rate on the individual sub-optimizers instead."
        )

    def _var_key(self, variable):
        """Keras's key for a weight in the tables below: the weight itself (its id)."""
        return id(variable)

    def build(self, var_list):
        """Choose each weight's optimizer and build every sub-optimizer on its weights. The
        checks come before any sub-optimizer is built, so a refusal changes nothing."""
        if self.built:
            return
        var_list = list(var_list)
        chosen = []
        for variable in var_list:
            optimizer = self._optimizer_map(variable)
            if not isinstance(optimizer, Optimizer):
                raise ValueError(f"Optimizer for variable {variable} is not an Optimizer instance.")
            if isinstance(optimizer, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(optimizer, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            chosen.append(optimizer)
        self._var_to_optimizer_idx = {}
        self._trainable_variables_indices = {}
        for i, (variable, optimizer) in enumerate(zip(var_list, chosen)):
            if optimizer not in self._inner_optimizers:  # a function's new choice
                optimizer.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(optimizer)
            self._var_to_optimizer_idx[self._var_key(variable)] = self._inner_optimizers.index(
                optimizer
            )
            self._trainable_variables_indices[self._var_key(variable)] = i
        for optimizer, variables in zip(self._inner_optimizers, self._split(var_list)):
            if variables:
                optimizer.build(variables)
        super().build(var_list)

    def _split(self, items, key=lambda item: item):
        """`items` (weights, or (gradient, weight) pairs) in one list per sub-optimizer."""
        groups = [[] for _ in self._inner_optimizers]
        for item in items:
            groups[self._var_to_optimizer_idx[self._var_key(key(item))]].append(item)
        return groups

    @property
    def variables(self):
        own = super().variables  # iteration, learning rate
        return own + [v for optimizer in self._inner_optimizers for v in optimizer.variables]

    def set_variables(self, values):
        own = len(super().variables)
        super().set_variables(values[:own])
        start = own
        for optimizer in self._inner_optimizers:
            count = len(optimizer.variables)
            if count and optimizer.built:
                optimizer.set_variables(values[start : start + count])
            start += count

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        own = len(super().variables)
        super().set_variables(weights[:own])
        start = own
        for optimizer in self._inner_optimizers:
            count = len(optimizer.variables)
            if count:
                optimizer.set_weights(weights[start : start + count])
                start += count

    def apply(self, grads, trainable_variables=None):
        """Each sub-optimizer applies its weights' gradients (dividing by the loss scale
        factor itself); then this optimizer counts the step."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._built_variables()
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables_indices):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. Received "
                f"{len(grads)} gradients and {len(self._trainable_variables_indices)} variables."
            )
        pairs = self._split(zip(grads, trainable_variables), key=lambda pair: pair[1])
        for optimizer, group in zip(self._inner_optimizers, pairs):
            if group:
                optimizer.apply([g for g, _ in group], [v for _, v in group])
        self._iterations += 1

    def finalize_variable_values(self, var_list):
        if not self.built:  # no step was taken: nothing to put in
            return
        for optimizer, variables in zip(self._inner_optimizers, self._split(var_list)):
            if variables:
                optimizer.finalize_variable_values(variables)

    def get_state(self):
        return {
            "own": super().get_state(),
            "inner": [optimizer.get_state() for optimizer in self._inner_optimizers],
        }

    def set_state(self, state):
        super().set_state(state["own"])
        for optimizer, inner in zip(self._inner_optimizers, state["inner"]):
            optimizer.set_state(inner)

    def get_config(self):
        from minikeras.saving import serialize_keras_object

        return {
            "optimizer_map": serialize_keras_object(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving import deserialize_keras_object

        config = dict(config)
        config["optimizer_map"] = deserialize_keras_object(config["optimizer_map"], custom_objects)
        return cls(**config)
