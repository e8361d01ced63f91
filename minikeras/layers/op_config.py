"""How an op node of a Functional graph (`x + y`, `ops.relu(x)`) is written in a config, as
Keras 3 writes its Operations (keras/src/models/functional.py, `serialize_node`), and read back.

Keras keeps each op as an Operation object: its entry in `config["layers"]` is

    {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"},
     "registered_name": "Add", "name": "add", "inbound_nodes": [{"args": [<x>, <y>], ...}]}

The class is the op's name in CamelCase, in the module of `keras.ops` that defines it; its
`config` holds the op's name and its non-tensor options (`Mean`: axis, keepdims); the call's
arguments, tensors and constants, are in `inbound_nodes` (`x * 2.0`: [<x>, 2.0]). A few ops
spell something differently from minikeras's functions: the tables below say where.

>>> keras_class("leaky_relu"), keras_module("leaky_relu")
('LeakyRelu', 'keras.src.ops.nn')
>>> op_name("TrueDivide")
'divide'
"""

import numpy as np

from minikeras.utils import naming

# Keras's class for an op, where it is not the op's name in CamelCase
_CLASSES = {
    "true_divide": "TrueDivide",
    "allclose": "AllClose",
    "isin": "IsIn",
    "searchsorted": "SearchSorted",
    "svd": "SVD",
    "cdist": "CDist",
    "fft": "FFT",
    "fft2": "FFT2",
    "ifft2": "IFFT2",
    "rfft": "RFFT",
    "irfft": "IRFFT",
    "stft": "STFT",
    "istft": "ISTFT",
    "batch_normalization": "BatchNorm",
    "ctc_decode": "CTCDecode",
    "ctc_loss": "CTCLoss",
    "layer_normalization": "LayerNorm",
    "psnr": "PSNR",
    "rms_normalization": "RMSNorm",
}
# minikeras's other names for an op, which Keras's nodes name by the op itself
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
# Keras's module for an op, where minikeras keeps its function elsewhere
_MODULES = {"get_item": "numpy", "true_divide": "numpy", "ldexp": "numpy", "slogdet": "numpy"}
# the files minikeras splits a Keras group into: the group's module is Keras's
_GROUPS = {
    "numpy_arrays": "numpy",
    "numpy_elementwise": "numpy",
    "nn_activations": "nn",
    "nn_attention": "nn",
    "nn_blocks": "nn",
    "nn_conv": "nn",
    "nn_ctc": "nn",
    "spectral": "math",
    "control_flow": "core",
    "core_operations": "core",
}
# the op a Keras class is read as, where it is not the class name in snake_case: `x / y`
# is Keras's TrueDivide, `ops.divide` its Divide; both are minikeras's divide
_OPS = {
    "TrueDivide": "divide",
    "Matmul": "matmul",
    "Logsumexp": "logsumexp",
    **{cls: op for op, cls in _CLASSES.items() if op != "true_divide"},
}
# Keras's config key for an option, where minikeras keeps it under another name (the
# function's own argument is Keras's: `ops.reshape(x, newshape)`)
_RENAMED = {"reshape": {"shape": "newshape"}, "tile": {"reps": "repeats"}}
# (which arguments are the call's and which the op's options is decided where the node is
# made, by the parameter's name: ops/symbolic.py; `x[:, 0]`'s key is a call argument, clip's
# x_min and x_max are options, as in Keras)
_CONFIG_ARGUMENTS = {}
_CALL_ARGUMENTS = {}


def keras_class(name):
    """Keras's Operation class name for the op `name` ("log_softmax" → "LogSoftmax")."""
    name = _ALIASES.get(name, name)
    return _CLASSES.get(name) or "".join(part.capitalize() for part in name.split("_"))


def keras_module(name):
    """The module of Keras's Operation class for the op `name`."""
    from minikeras import ops

    function = getattr(ops, name, None)
    group = _MODULES.get(name) or (function.__module__.rsplit(".", 1)[-1] if function else "numpy")
    return f"keras.src.ops.{_GROUPS.get(group, group)}"


def op_name(class_name):
    """The minikeras op for Keras's Operation class ("LogSoftmax" → "log_softmax")."""
    if class_name in _OPS:
        return _OPS[class_name]
    return "".join("_" + c.lower() if c.isupper() else c for c in class_name).lstrip("_")


def is_op_entry(entry):
    """Whether a config's layer entry is an op (Keras's Operation), not a layer."""
    return str(entry.get("module", "")).startswith("keras.src.ops.")


# ---------------------------------------------------------------------- writing
def entry(layer):
    """The op node's layer entry, as Keras writes its Operation (without inbound_nodes)."""
    name = layer.op_name
    config = {"name": layer.name}
    positional = _CONFIG_ARGUMENTS.get(name, ())
    trailing = layer.template[len(layer.template) - len(positional) :] if positional else []
    config.update({key: to_json(item[1]) for key, item in zip(positional, trailing)})
    renamed = _RENAMED.get(name, {})
    for key, value in layer.static.items():
        if key not in _CALL_ARGUMENTS.get(name, ()):
            config[renamed.get(key, key)] = to_json(value)
    cls = layer.keras_class or keras_class(name)
    return {
        "module": keras_module(name),
        "class_name": cls,
        "config": config,
        "registered_name": cls,
    }


def call_args(layer, tensor_config):
    """The node's call arguments: tensors (by `tensor_config`) and constants, in order."""
    positional = _CONFIG_ARGUMENTS.get(layer.op_name, ())

    def write(item):
        if isinstance(item, list):
            return [write(one) for one in item]
        kind, value = item
        return tensor_config(layer._tensors[value]) if kind == "tensor" else to_json(value)

    args = [write(item) for item in layer.template]
    if positional:  # those constants are in the config
        args = args[: len(args) - len(positional)]
    return args + [to_json(layer.static[key]) for key in _CALL_ARGUMENTS.get(layer.op_name, ())]


def to_json(value):
    """A constant as Keras's `serialize_keras_object` writes it: slices, arrays, tuples."""
    if isinstance(value, slice):
        return {
            "class_name": "__slice__",
            "config": {"start": value.start, "stop": value.stop, "step": value.step},
        }
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, np.ndarray) and value.ndim > 0:
        config = {"value": value.tolist(), "dtype": value.dtype.name}
        return {"class_name": "__numpy__", "config": config}
    if isinstance(value, (np.generic, np.ndarray)):  # a number (0-d): plain, as Keras writes it
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


# ---------------------------------------------------------------------- reading
def from_json(value):
    """The constant `to_json` wrote (a list of indices is the tuple an index is)."""
    if isinstance(value, dict):
        kind, config = value.get("class_name"), value.get("config", {})
        if kind == "__slice__":
            return slice(config.get("start"), config.get("stop"), config.get("step"))
        if kind == "__ellipsis__":
            return Ellipsis
        if kind in ("__numpy__", "__tensor__"):
            return np.asarray(config["value"], dtype=config.get("dtype"))
        raise ValueError(f"An op's argument {value!r} is not a constant minikeras can read.")
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


class OpCall:
    """An op entry of a config, callable as its layer is in `Functional.from_config`: each call
    runs the op on the symbolic tensors given, and its nodes are those of the OpLayers made."""

    def __init__(self, entry_):
        self.name = entry_.get("name") or entry_["config"]["name"]
        self.op = op_name(entry_["class_name"])
        self.keras_class = entry_["class_name"]
        config = {key: value for key, value in entry_["config"].items() if key != "name"}
        positional = _CONFIG_ARGUMENTS.get(self.op, ())
        self.trailing = [from_json(config.pop(key)) for key in positional if key in config]
        # Keras's keys are the arguments of minikeras's functions too (ops.reshape's newshape)
        self.static = {key: from_json(value) for key, value in config.items()}
        self._inbound_nodes = []

    def __call__(self, *args):
        from minikeras import ops

        function = getattr(ops, self.op, None)
        if function is None:
            raise ValueError(
                f"Op {self.keras_class!r} (in op node {self.name!r}) is not supported by "
                "minikeras.ops."
            )
        args = [arg if _is_tensor(arg) else from_json(arg) for arg in args]
        if self.op == "get_item":
            args = [args[0], *(_as_index(arg) for arg in args[1:])]
        y = function(*args, *self.trailing, **self.static)
        # the op's node keeps the config's name (an op minikeras writes as several, as
        # `ops.norm`, is named so at its last); the class it was read as is written back
        naming.release_name(y.layer.name, y.layer.auto_name_prefix)
        y.layer.name = self.name
        if y.layer.op_name == self.op:
            y.layer.keras_class = self.keras_class
        self._inbound_nodes.append(y.node)
        return y


def _is_tensor(value):
    from minikeras.layers.node import KerasTensor

    if isinstance(value, (list, tuple)):
        return any(_is_tensor(item) for item in value)
    return isinstance(value, KerasTensor)


def _as_index(value):
    """An index read from JSON: a list of parts is the tuple `x[:, 0]` was given."""
    return tuple(value) if isinstance(value, list) else value
