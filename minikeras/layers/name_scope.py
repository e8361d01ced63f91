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


@contextlib.contextmanager
def name_scope(name, caller=None, deduplicate=True, override_parent=None):
    """Keras's `backend.name_scope`: a Variable made within the block is `name/...`, under the
    scopes already open (or under `override_parent`). `caller` and `deduplicate` are Keras's
    arguments for its layers re-entering their own scope, which minikeras's layers do with
    `layer_scope`."""
    if not isinstance(name, str) or "/" in name:
        raise ValueError(
            "Argument `name` must be a string and cannot contain character `/`. "
            f"Received: name={name}"
        )
    parent = current_path() if override_parent is None else override_parent
    _OPEN.append(join(parent, name))
    try:
        yield
    finally:
        _OPEN.pop()
