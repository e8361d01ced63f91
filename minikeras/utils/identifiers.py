"""How a regularizer or a constraint is named, as Keras names it: the dict a file keeps
(`serialize`), the object back from that dict or a name (`deserialize`), and the object from
whatever a layer's argument may be (`get`). `regularizers.py` and `constraints.py` each call
these with their own table of names."""


def serialize(obj, module):
    """Keras's serialized form of a built-in object; None stays None (nothing to describe)."""
    if obj is None:
        return None
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def deserialize(config, all_objects, kind, custom_objects=None):
    """The object of `serialize`'s dict, or of a name, from `all_objects` (and the caller's
    `custom_objects`); `kind` names it in the error ('regularizer')."""
    objects = {**all_objects, **(custom_objects or {})}
    if isinstance(config, str):
        return get(objects.get(config, config), all_objects, kind)
    cls = objects.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Could not interpret {kind} identifier: {config}")
    return cls.from_config(config.get("config", {}))


def get(identifier, all_objects, kind):
    """None, a name, a config dict, a class (made with its defaults), an instance or any
    callable, as Keras's `get` takes them."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier, all_objects, kind)
    obj = all_objects.get(identifier) if isinstance(identifier, str) else identifier
    if isinstance(obj, type):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
