"""Your own classes and functions in saved models: registered by name, as Keras registers them.

A file names every class it holds. minikeras's own layers, losses, metrics, optimizers and
activations are found by that name; anything of yours must be made known first, in one of three
ways (looked up in this order):

    load_model(path, custom_objects={"MyLayer": MyLayer})    for this call
    with custom_object_scope({"MyLayer": MyLayer}): ...       for a block of code
    @register_keras_serializable(package="my_package")        for the whole program

>>> from minikeras import layers, saving
>>> @saving.register_keras_serializable(package="demo")
... class Doubler(layers.Layer):
...     def call(self, x):
...         return 2 * x
>>> saving.get_registered_name(Doubler)
'demo>Doubler'
>>> saving.get_registered_object("demo>Doubler") is Doubler
True
"""

import contextlib

_GLOBAL_CUSTOM_OBJECTS = {}  # registered name → class or function
_GLOBAL_CUSTOM_NAMES = {}  # class or function → registered name
_SCOPES = []  # the dicts of the `custom_object_scope`s open now, innermost last


def register_keras_serializable(package="Custom", name=None):
    """Register a class or function under `package>name` (name: its own `__name__`), so that
    saved models holding it can be loaded; a class needs `get_config` (a layer has one)."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name `obj` is registered under, else its own `__name__`."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_custom_objects():
    """The global dict of registered objects (name → object); changing it registers."""
    return _GLOBAL_CUSTOM_OBJECTS


def registered_objects():
    """Every object loading may use now by name: the global registry's and the open scopes'."""
    found = dict(_GLOBAL_CUSTOM_OBJECTS)
    for scope in _SCOPES:
        found.update(scope)
    return found


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """Within this block, the objects of `custom_objects` (name → object) can be loaded."""
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()


CustomObjectScope = custom_object_scope  # Keras's class-style name


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or given) under `name`: `custom_objects` first, then the open
    scopes (innermost first), then the global registry, then `module_objects`; else None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def find_custom(entry, custom_objects=None):
    """The user's class or function a serialized entry names (by its registered name, or its
    class name as a `custom_objects` key), or None when it is not one of the user's."""
    if not isinstance(entry, dict):
        return None
    for key in (entry.get("registered_name"), entry.get("class_name")):
        if isinstance(key, str):
            found = get_registered_object(key, custom_objects)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------- safe mode
# Loading runs no code from a file, with one exception Keras makes too: a `Lambda` layer's
# function, which is stored as Python bytecode, is rebuilt only when safe mode is off
# (`load_model(..., safe_mode=False)`, or `minikeras.config.enable_unsafe_deserialization()`).
_SAFE_MODE = [True]


@contextlib.contextmanager
def safe_mode_scope(safe_mode=True):
    """Within this block, loading is in safe mode (True) or may rebuild Lambda code (False);
    None leaves the current setting."""
    _SAFE_MODE.append(_SAFE_MODE[-1] if safe_mode is None else bool(safe_mode))
    try:
        yield
    finally:
        _SAFE_MODE.pop()


def in_safe_mode():
    return _SAFE_MODE[-1]


def chosen_safe_mode():
    """The safe mode a scope or `enable_unsafe_deserialization` chose, or None when neither
    did: then a loading function's own `safe_mode` argument decides, as in Keras."""
    if len(_SAFE_MODE) > 1 or not _SAFE_MODE[0]:
        return _SAFE_MODE[-1]
    return None


def loading_in_safe_mode():
    """True while a file is being loaded in safe mode: Keras's `in_safe_mode()` is unset
    outside loading, so a vocabulary file given to a layer you make yourself is read."""
    return len(_SAFE_MODE) > 1 and _SAFE_MODE[-1]


def enable_unsafe_deserialization():
    """Allow loading Lambda layers' code from now on (Keras's `keras.config` function)."""
    _SAFE_MODE[0] = False


# ---------------------------------------------------------------------- shared objects
# Inside `ObjectSharingScope` (Keras's), an object written twice (a layer used in a graph and
# wrapped by another layer, one activation object given to two layers) gets the same
# "shared_object_id" in both entries, and reading them back makes one object, not two.
_SHARING = []  # one (configs written by object id, objects made by shared id) per open scope


@contextlib.contextmanager
def object_sharing_scope():
    _SHARING.append(({}, {}))
    try:
        yield
    finally:
        _SHARING.pop()


def record_serialized(obj, entry):
    """Note that `entry` describes `obj`; a second entry for it marks both as shared."""
    if not _SHARING:
        return
    written = _SHARING[-1][0]
    first = written.setdefault(id(obj), entry)
    if first is not entry:
        first["shared_object_id"] = entry["shared_object_id"] = id(obj)


def shared_object(entry):
    """The object already made for this entry's shared id, or None."""
    if not _SHARING or not isinstance(entry, dict) or "shared_object_id" not in entry:
        return None
    return _SHARING[-1][1].get(entry["shared_object_id"])


def record_deserialized(obj, entry):
    """Keep `obj`, made from `entry`, for the other entries with the same shared id."""
    if _SHARING and isinstance(entry, dict) and "shared_object_id" in entry:
        _SHARING[-1][1][entry["shared_object_id"]] = obj
