"""Every variable of a model by its path, as Keras's `Model._get_variable_map()`: the layers'
weights ("first_dense/kernel", "sequential/dense_1/bias"), the optimizer's
("adam/learning_rate") and the metrics' ("loss/total"), each object visited once."""

from minikeras.layers.layer import Layer
from minikeras.metrics.metric import Metric
from minikeras.optimizers.optimizer import Optimizer


def map_saveable_variables(saveable, store, visited_saveables):
    """Add `saveable`'s own variables to `store` (path → variable), then those of the objects
    it holds (sublayers; a model's optimizer and metrics), skipping objects already visited.
    ValueError when two variables share a path."""
    if id(saveable) in visited_saveables:
        return
    visited_saveables.add(id(saveable))
    for variable in _own_variables(saveable):
        if variable.path in store:
            raise ValueError(
                "The model contains two variables with a duplicate path: "
                f"path='{variable.path}' appears at least twice. This path is used for "
                f"{variable} and for {store[variable.path]}. In order to get a variable map, "
                "make sure to use unique paths/names for each variable."
            )
        store[variable.path] = variable
    for child in _children(saveable):
        map_saveable_variables(child, store, visited_saveables)


def _own_variables(saveable):
    if isinstance(saveable, Layer):
        return saveable._trainable_variables + saveable._non_trainable_variables
    if isinstance(saveable, (Optimizer, Metric)):
        return list(saveable.variables)
    return []


def _children(saveable):
    if not isinstance(saveable, Layer):
        return []
    children = list(saveable._sublayers())
    optimizer = getattr(saveable, "optimizer", None)
    if isinstance(optimizer, Optimizer):
        children.append(optimizer)
    if hasattr(saveable, "compiled"):  # a model: its metrics (the loss tracker first)
        children += list(saveable.metrics)
    return children
