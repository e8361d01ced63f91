"""Keras's automatic names: 'dense', 'dense_1', 'dense_2', ... per snake_case class name."""

import re
from collections import defaultdict

_uids = defaultdict(int)


def to_snake_case(name: str) -> str:
    """'InputLayer' → 'input_layer', 'Dense' → 'dense', 'MaxPooling2D' → 'max_pooling2d'
    (Keras's rule: a digit never starts a new word, so 'Conv2D' → 'conv2d')."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(prefix: str) -> str:
    """The next free name for `prefix`: the first is `prefix` itself, then `prefix_1`, ..."""
    uid = _uids[prefix]
    _uids[prefix] += 1
    return prefix if uid == 0 else f"{prefix}_{uid}"


def release_name(name: str, prefix: str) -> None:
    """Give `name` back when it is the last automatic name made for `prefix` (a layer renamed
    at once, as an op node read from a config: Keras spends no counter on a given name)."""
    uid = _uids[prefix] - 1
    if uid >= 0 and name == (prefix if uid == 0 else f"{prefix}_{uid}"):
        _uids[prefix] = uid


def get_uid(prefix: str = "") -> int:
    """Count one more use of `prefix` and return the count (1 the first time). It shares the
    automatic names' counters, as Keras's does: after `get_uid("dense")` a new Dense is
    'dense_1'."""
    _uids[prefix] += 1
    return _uids[prefix]


def clear_session() -> None:
    """Forget every name handed out, so the next Dense is 'dense' again."""
    _uids.clear()


def uniquify(name: str) -> str:
    """`name` the first time, then `name_1`, `name_2`, ...: auto_name without the snake case."""
    return auto_name(name)


def reset_uids() -> None:
    """Keras's name for forgetting every counter (`clear_session` does it too)."""
    _uids.clear()


def get_object_name(obj) -> str:
    """The name Keras gives an object in messages and configs: its `name`, else a function's
    or its class's name in snake_case."""
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)
