"""Keras's Operation classes, against Keras's own: each op of `minikeras.ops` that becomes a
graph node names, in a saved config, the class and module Keras's node of it has
(`keras.src.ops.numpy` / `Arctan2`, not minikeras's file), and each Operation class of Keras's
op groups is in minikeras's group of the same name."""

import importlib
import inspect

import pytest

from minikeras import ops
from minikeras.layers.op_config import keras_class, keras_module, op_name

GROUPS = ["numpy", "nn", "math", "linalg", "image", "core", "einops"]
# Keras's classes minikeras does without: ops that never make a node in minikeras (creation
# functions and shape queries run on their arguments), a base class, and two ops it lacks
NOT_CLASSES = {
    "numpy": {"Array", "GetItem", "Ndim", "Size", "Slogdet"},
    "math": {"SegmentReduction"},
    "linalg": {"JVP"},
    "image": {"ElasticTransform"},
}


def _keras_classes(keras, group):
    from keras.src.ops.operation import Operation

    module = importlib.import_module(f"keras.src.ops.{group}")
    return {
        name: cls
        for name, cls in vars(module).items()
        if inspect.isclass(cls) and issubclass(cls, Operation) and cls.__module__ == module.__name__
    }


def test_each_node_op_is_named_by_keras_class_and_module(keras):
    classes = {}
    for group in GROUPS:
        for name, cls in _keras_classes(keras, group).items():
            classes[name] = cls.__module__
    wrong = []
    for name in ops.__all__:
        if not hasattr(getattr(ops, name), "shape_rule") or name == "tri":  # (no node in Keras)
            continue
        cls = keras_class(name)
        if classes.get(cls) != keras_module(name):
            wrong.append(f"{name}: {keras_module(name)}.{cls} (Keras: {classes.get(cls)})")
        elif name not in ("swish", "hard_swish", "true_divide") and op_name(cls) != name:
            wrong.append(f"{cls} is read back as {op_name(cls)}, not {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("group", GROUPS)
def test_keras_operation_classes_are_in_the_same_group(keras, group):
    module = importlib.import_module(f"minikeras.ops.{group}")
    absent = set(_keras_classes(keras, group)) - NOT_CLASSES.get(group, set())
    absent = {name for name in absent if not hasattr(module, name)}
    assert not absent
