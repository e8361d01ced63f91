"""Lambda: a function of `minikeras.ops` as a layer (`layers.Lambda(lambda x: ops.abs(x))`).

Its backward is the tape's: the function's ops are recorded in a training call and replayed
(layers/recorded_call.py), so any function written with ops trains.

Saving: a named function is saved by name (register it with
`minikeras.saving.register_keras_serializable` to load it back); a Python lambda is saved as
its bytecode, as Keras saves it, and loading that runs code from the file, which is refused in
safe mode (the default) with Keras's message. Bytecode loads only in the Python version that
wrote it.

>>> import numpy as np
>>> from minikeras import layers, ops
>>> layers.Lambda(lambda x: ops.square(x) + 1)(np.array([[1.0, 2.0]]))
array([[2., 5.]], dtype=float32)
"""

import base64
import marshal
import types

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.utils import object_registration


class Lambda(Layer):
    """y = function(x, **arguments)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(
                "The `function` argument of the Lambda layer must be callable. "
                f"Received: function={function!r}"
            )
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        self._built_shape = None  # the first call's input shape: the build_config Keras writes

    def build(self, input_shape):
        """Nothing to make: as Keras, a Lambda counts as built at its first call, and keeps
        that input's shape only for its build_config (a later call may have another)."""
        self._built_shape = input_shape
        self.built = True

    def get_build_config(self):
        shape = self._built_shape
        return None if shape is None else {"input_shape": tuple(shape)}

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            from minikeras.layers import recorded_call

            return recorded_call.probe_output_shape(self, input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return (input_shape[0],) + tuple(self._output_shape)

    def get_config(self):
        config = {**super().get_config(), "function": function_config(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (
                function_config(self._output_shape)
                if callable(self._output_shape)
                else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = (
                function_config(self.mask) if callable(self.mask) else _array_config(self.mask)
            )
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Keras's signature: `safe_mode=False` allows a Python lambda's code to be rebuilt
        (None follows the loading function's setting, safe by default)."""
        config = dict(config)
        with (
            object_registration.custom_object_scope(custom_objects),
            object_registration.safe_mode_scope(safe_mode),
        ):
            for key in ("function", "output_shape", "mask"):
                value = config.get(key)
                if isinstance(value, dict) and value.get("class_name") in _ARRAY_CLASSES:
                    config[key] = np.asarray(value["config"]["value"], value["config"]["dtype"])
                elif isinstance(value, dict):
                    config[key] = function_from_config(value)
        config.pop("dtype", None)
        return cls(**config)


# how Keras's serialize_keras_object writes a NumPy array and a backend tensor
_ARRAY_CLASSES = ("__numpy__", "__tensor__")


def _array_config(value):
    """A fixed mask (an array) as Keras writes it: {"class_name": "__numpy__", "config":
    {"value": nested lists, "dtype": ...}}, so the config stays JSON. Other values as given."""
    if not isinstance(value, np.ndarray):
        return value
    return {
        "class_name": "__numpy__",
        "config": {"value": value.tolist(), "dtype": value.dtype.name},
    }


def function_config(fn):
    """Keras's form: a lambda's bytecode (base64 of marshal), else the function by name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        # base64 in lines of 76 characters, as Keras's `func_dump` writes it (codecs' base64)
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__, "closure": closure},
        }
    return {
        "module": fn.__module__,
        "class_name": "function",
        "config": object_registration.get_registered_name(fn),
        "registered_name": "function",
    }


def function_from_config(config):
    if config.get("class_name") == "__lambda__":
        if object_registration.in_safe_mode():
            raise ValueError(
                "Requested the deserialization of a `Lambda` layer whose `function` is a Python "
                "lambda. This carries a potential risk of arbitrary code execution and thus it "
                "is disallowed by default. If you trust the source of the artifact, you can "
                "override this error by passing `safe_mode=False` to the loading function, or "
                "calling `minikeras.config.enable_unsafe_deserialization()`."
            )
        inner = config["config"]
        code = marshal.loads(base64.b64decode(inner["code"]))
        from minikeras import ops

        closure = inner.get("closure")
        cells = tuple(types.CellType(v) for v in closure) if closure else None
        defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
        return types.FunctionType(code, {"ops": ops}, code.co_name, defaults, cells)
    name = config.get("config")
    fn = object_registration.get_registered_object(name)
    if fn is None:
        raise ValueError(
            f"Lambda: the function {name!r} is not registered; register it with "
            "`minikeras.saving.register_keras_serializable` or pass it in `custom_objects`."
        )
    return fn
