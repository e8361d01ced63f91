"""Where a weight's `path` comes from: the layers whose build or call is under way.

Keras names a weight by the layers it was made in: a Dense built inside a subclassed model's
call has the kernel `my_model/dense/kernel`, one built inside a Sequential's build
`sequential/dense/kernel`, one built by a call on an `Input` (the Functional API) plain
`dense/kernel`. Each layer fixes where it lives the first time its build or call starts
(Keras's `_parent_path`), and keeps that place even when it is called from elsewhere later.

>>> import numpy as np
>>> from minikeras import layers
>>> class Block(layers.Layer):
...     def __init__(self):
...         super().__init__(name="block")
...         self.dense = layers.Dense(2, name="inner")
...     def call(self, x):
...         return self.dense(x)
>>> block = Block()
>>> _ = block(np.zeros((1, 3)))
>>> block.dense.kernel.path
'block/inner/kernel'
"""

import contextlib

_OPEN = [""]  # the path of each layer whose build or call is under way, innermost last


def current_path():
    """The path of the innermost layer at work ("" outside any)."""
    return _OPEN[-1]


def join(*parts):
    return "/".join(part for part in parts if part)


@contextlib.contextmanager
def layer_scope(layer):
    """Within this block, weights and sublayers made are `layer`'s (Keras's name scope)."""
    if layer._parent_path is None:
        layer._parent_path = current_path()
    _OPEN.append(join(layer._parent_path, layer.name))
    try:
        yield
    finally:
        _OPEN.pop()


def weight_path(layer, name):
    """The path of `layer`'s weight `name`: its place, its name, the weight's name."""
    if layer._parent_path is None:
        layer._parent_path = current_path()
    return join(layer._parent_path, layer.name, name)


class name_scope:
    """Keras's `backend.name_scope`: a Variable made within the block is `name/...`, under the
    scopes already open (or under `override_parent`). A scope entered again by the same
    `caller` right inside itself (a layer re-entering its own scope) adds nothing, as Keras
    deduplicates it; minikeras's own layers use `layer_scope`. The name is checked when the
    scope is made, before it is entered."""

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pop_on_exit = False

    def __enter__(self):
        inner = _NAME_SCOPES[-1] if _NAME_SCOPES else None
        same = inner is not None and inner.name == self.name and inner.caller is self.caller
        if self.deduplicate and self.caller is not None and same:
            return self  # the caller's own scope again: the path stays
        parent = current_path() if self.override_parent is None else self.override_parent
        _OPEN.append(join(parent.strip("/"), self.name))
        _NAME_SCOPES.append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *exc_info):
        if self._pop_on_exit:
            _OPEN.pop()
            _NAME_SCOPES.pop()
            self._pop_on_exit = False


_NAME_SCOPES = []  # the name_scope objects open, innermost last (for deduplication)
