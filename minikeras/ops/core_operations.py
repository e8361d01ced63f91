"""Keras's Operation classes of the core ops: `Scan()(f, init, xs)` is `ops.scan(f, init, xs)`.

Keras makes each op an object: its options go to the constructor (`Slice(shape)`), its array
arguments to the call (`Slice(shape)(inputs, start_indices)`). Called on arrays, the object
runs the op (`call`); called on KerasTensors, it adds one node to the graph
(`symbolic_call`), whose output KerasTensors have the shapes and dtypes `compute_output_spec`
gives. Most ops find those by running `call` on stand-in arrays (ops/symbolic.py); a few know
them without running anything, as Keras's do: a while loop keeps its variables' shapes (its
condition may never be false on stand-ins), a slice's `-1` runs to the end of its axis.

>>> import numpy as np
>>> from minikeras.ops.core import Slice
>>> Slice((2, 2))(np.arange(9).reshape(3, 3), np.array([1, 1]))
array([[4, 5],
       [7, 8]])
"""

import inspect

import numpy as np

from minikeras import tree
from minikeras.ops import control_flow, core
from minikeras.ops.dtypes import standardize_dtype
from minikeras.ops.symbolic import has_symbolic, output_spec
from minikeras.utils.naming import auto_name, to_snake_case


def _keras_tensor():
    from minikeras.layers.node import KerasTensor  # (layers import ops)

    return KerasTensor


class Operation:
    """One op with its options fixed; `__call__` runs it on arrays or adds a graph node.

    As Keras's, an Operation subclass that takes options in its constructor gets a config
    without writing `get_config`: the arguments it was constructed with, kept by `__new__`
    (`OpWithAlpha(alpha=0.2).get_config()` is `{"alpha": 0.2, "name": ...}`).
    """

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
            arguments = dict(list(bound.arguments.items())[1:])  # without self
        except TypeError:
            arguments = None  # the constructor itself will say what is wrong
        instance._constructor_arguments = arguments
        return instance

    def __init__(self, *, name=None):
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self._inbound_nodes = []

    def __call__(self, *args, **kwargs):
        if has_symbolic(args) or has_symbolic(kwargs):
            return self.symbolic_call(*args, **kwargs)
        return self.call(*args, **kwargs)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no `call`.")

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensors (in the structure `call` returns) with the shapes and dtypes of the
        output, found by running `call` on stand-in arrays for the KerasTensor arguments."""
        kind = _keras_tensor()
        flat = tree.flatten((args, kwargs))
        tensors = [leaf for leaf in flat if isinstance(leaf, kind)]
        found = {}

        def run(arrays):
            a, k = _filled(args, kwargs, flat, arrays, kind)
            result = self.call(*a, **k)
            found["structure"] = result
            return tree.flatten(result)

        specs, _ = output_spec(run, tensors)
        outputs = [kind(shape, dtype=dtype) for shape, dtype in specs]
        return tree.pack_sequence_as(found["structure"], outputs)

    def symbolic_call(self, *args, **kwargs):
        """One graph node for this op on KerasTensors: its inputs are the KerasTensors among
        the arguments (flattened), its outputs are `compute_output_spec`'s. Given no
        KerasTensor at all, only the output spec (Keras's `Cast(dtype).symbolic_call(x)`)."""
        from minikeras.layers.node import Node
        from minikeras.layers.op_layer import OpLayer

        kind = _keras_tensor()
        spec = self.compute_output_spec(*args, **kwargs)
        flat = tree.flatten((args, kwargs))
        tensors = [leaf for leaf in flat if isinstance(leaf, kind)]
        if not tensors:
            return spec
        single = not tree.is_nested(spec)

        def node_function(*operands):
            a, k = _filled(args, kwargs, flat, operands, kind)
            result = tree.flatten(self.call(*a, **k))
            return result[0] if single else result

        arguments = [(f"operands[{i}]", tensor) for i, tensor in enumerate(tensors)]
        signature = inspect.signature(node_function)
        # the node's layer carries the op's name at its first call (as Keras's one object)
        name = None if self._inbound_nodes else self.name
        layer = OpLayer(self.name, node_function, signature, arguments, {}, name=name)
        outputs = [kind(t.shape, dtype=t.dtype) for t in tree.flatten(spec)]
        layer.built = True
        node = Node(layer, tensors if len(tensors) > 1 else tensors[0], outputs)
        self._inbound_nodes.append(node)
        return outputs[0] if single else tree.pack_sequence_as(spec, outputs)

    @property
    def input(self):
        """The KerasTensors of the op's first call, as a flat list."""
        return list(self._inbound_nodes[0].input_tensors)

    @property
    def output(self):
        """The output of the op's first call: a KerasTensor, or a list of them."""
        outputs = self._inbound_nodes[0].outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def get_config(self):
        """{"name": ...} for an op without constructor options; else the options it was
        constructed with (their defaults too), and the name where the constructor takes one.
        A NotImplementedError where those cannot go in a config (*args, or values that are
        not plain numbers, strings, lists or dicts): write `get_config` then, as in Keras."""
        init = type(self).__init__
        if init is Operation.__init__:
            return {"name": self.name}
        parameters = inspect.signature(init).parameters
        kinds = {p.kind for p in parameters.values()}
        if inspect.Parameter.VAR_POSITIONAL in kinds or self._constructor_arguments is None:
            raise NotImplementedError(
                f"{type(self).__name__} takes *args in its constructor: its config cannot be "
                "made automatically. Write its `get_config()` method."
            )
        config = {
            key: p.default
            for key, p in list(parameters.items())[1:]
            if p.default is not inspect.Parameter.empty and key != "name"
        }
        for key, value in self._constructor_arguments.items():
            if parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                config.update(value)
            else:
                config[key] = value
        if "name" in parameters or inspect.Parameter.VAR_KEYWORD in kinds:
            config["name"] = self.name
        else:
            config.pop("name", None)
        for key, value in config.items():
            if not _plain_value(value):
                raise NotImplementedError(
                    f"The argument `{key}` of {type(self).__name__} ({value!r}) cannot be "
                    "written in a config automatically. Write its `get_config()` method."
                )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _plain_value(value):
    """Whether `value` can be written in a JSON config as it is."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_value(v) for k, v in value.items())
    return False


def _filled(args, kwargs, flat, arrays, kind):
    """(args, kwargs) with their KerasTensor leaves replaced by `arrays`, in order."""
    arrays = iter(arrays)
    leaves = [next(arrays) if isinstance(leaf, kind) else leaf for leaf in flat]
    return tree.pack_sequence_as((args, kwargs), leaves)


# ---------------------------------------------------------------- control flow
class Map(Operation):
    def call(self, f, xs):
        return control_flow.map(f, xs)


class Scan(Operation):
    def __init__(self, length=None, reverse=False, unroll=1, *, name=None):
        super().__init__(name=name)
        self.length, self.reverse, self.unroll = length, reverse, unroll

    def call(self, f, init, xs=None):
        return control_flow.scan(f, init, xs, self.length, self.reverse, self.unroll)


class AssociativeScan(Operation):
    def __init__(self, reverse=False, axis=0, *, name=None):
        super().__init__(name=name)
        self.reverse, self.axis = reverse, axis

    def call(self, f, elems):
        return control_flow.associative_scan(f, elems, reverse=self.reverse, axis=self.axis)


class Switch(Operation):
    def call(self, index, branches, *operands):
        return control_flow.switch(index, branches, *operands)

    def compute_output_spec(self, index, branches, *operands):
        # the first branch gives the output's shape, whatever the index (Keras's rule)
        return super().compute_output_spec(0, branches[:1], *operands)


class Cond(Operation):
    def call(self, pred, true_fn, false_fn):
        return control_flow.cond(pred, true_fn, false_fn)

    def compute_output_spec(self, pred, true_fn, false_fn):
        true_spec = _spec_of(true_fn)
        false_spec = _spec_of(false_fn)
        if not self._check_output_spec(true_spec, false_spec):
            raise ValueError(
                "`true_fn` and `false_fn` should return outputs of the same kind (struct, "
                f"dtype and shape). Got {true_spec} and {false_spec} instead."
            )
        return true_spec

    def _check_output_spec(self, true_fn_spec, false_fn_spec):
        """Whether both branches give the same structure, and leaves of the same shape and
        dtype (None only where the other is None)."""
        try:
            tree.assert_same_structure(true_fn_spec, false_fn_spec)
        except ValueError:
            return False

        def same(a, b):
            if a is None or b is None:
                return a is None and b is None
            return tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype

        return all(tree.flatten(tree.map_structure(same, true_fn_spec, false_fn_spec)))


def _spec_of(fn):
    """What `fn()` returns, as KerasTensors (None stays None)."""
    kind = _keras_tensor()

    def spec(value):
        if value is None or isinstance(value, kind):
            return value
        value = np.asarray(value)
        return kind(value.shape, dtype=standardize_dtype(value.dtype))

    return tree.map_structure(spec, fn())


class WhileLoop(Operation):
    def __init__(self, cond, body, maximum_iterations=None, *, name=None):
        super().__init__(name=name)
        self.cond, self.body, self.maximum_iterations = cond, body, maximum_iterations

    def call(self, loop_vars):
        return control_flow.while_loop(self.cond, self.body, loop_vars, self.maximum_iterations)

    def compute_output_spec(self, loop_vars):
        # the loop variables keep their shapes and dtypes; the loop is not run (its condition
        # may hold forever on stand-in values)
        kind = _keras_tensor()
        return tree.map_structure(lambda v: kind(v.shape, dtype=v.dtype), loop_vars)


class ForiLoop(Operation):
    def __init__(self, lower, upper, body_fun, *, name=None):
        super().__init__(name=name)
        self.lower, self.upper, self.body_fun = lower, upper, body_fun

    def call(self, init_val):
        return control_flow.fori_loop(self.lower, self.upper, self.body_fun, init_val)

    def compute_output_spec(self, init_val):
        kind = _keras_tensor()
        return tree.map_structure(lambda v: kind(v.shape, dtype=v.dtype), init_val)


class VectorizedMap(Operation):
    def __init__(self, function, *, name=None):
        super().__init__(name=name)
        self.function = function

    def call(self, elements):
        return control_flow.vectorized_map(self.function, elements)


# ---------------------------------------------------------------- the other core ops
class Cast(Operation):
    def __init__(self, dtype, *, name=None):
        super().__init__(name=name)
        self.dtype = standardize_dtype(dtype)

    def call(self, x):
        return core.cast(x, self.dtype)

    def compute_output_spec(self, x):
        return _keras_tensor()(np.shape(x), dtype=self.dtype)


class SaturateCast(Cast):
    def call(self, x):
        return core.saturate_cast(x, self.dtype)


class ConvertToTensor(Operation):
    def __init__(self, dtype=None, sparse=None, ragged=None, *, name=None):
        super().__init__(name=name)
        self.dtype, self.sparse, self.ragged = dtype, sparse, ragged

    def call(self, x):
        return core.convert_to_tensor(x, self.dtype, self.sparse, self.ragged)

    def compute_output_spec(self, x):
        # sparse=False or ragged=False makes a dense tensor; True or None keeps x's kind
        dtype = standardize_dtype(x.dtype if self.dtype is None else self.dtype)
        sparse = x.sparse and self.sparse is not False
        ragged = x.ragged and self.ragged is not False
        return _keras_tensor()(x.shape, dtype=dtype, sparse=sparse, ragged=ragged)


class StopGradient(Operation):
    def call(self, variable):
        return core.stop_gradient(variable)

    def compute_output_spec(self, variable):
        return _keras_tensor()(variable.shape, dtype=variable.dtype)


class Unstack(Operation):
    def __init__(self, num=None, axis=0, *, name=None):
        super().__init__(name=name)
        self.num, self.axis = num, axis

    def call(self, x):
        return core.unstack(x, self.num, self.axis)

    def compute_output_spec(self, x):
        shape = tuple(x.shape)
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"axis {self.axis} is out of bounds for a tensor of rank {len(shape)}")
        axis = self.axis % len(shape)
        num = shape[axis] if self.num is None else self.num
        if num is None:
            raise ValueError(
                f"Cannot infer argument `num` from shape {shape}. Either provide a tensor "
                "with a concrete shape in the `axis` dimension or explicitly pass the `num` "
                "argument."
            )
        kind = _keras_tensor()
        return [kind(shape[:axis] + shape[axis + 1 :], dtype=x.dtype) for _ in range(num)]


class Slice(Operation):
    def __init__(self, shape, *, name=None):
        super().__init__(name=name)
        self.shape = shape

    def call(self, inputs, start_indices):
        return core.slice(inputs, start_indices, self.shape)

    def compute_output_spec(self, inputs, start_indices):
        core.check_slice(inputs.shape, start_indices, self.shape)
        shape = [int(n) for n in np.asarray(self.shape).reshape(-1)]
        kind = _keras_tensor()
        out = []
        for i, (size, n) in enumerate(zip(inputs.shape, shape)):
            if n != -1:
                out.append(n)
            elif isinstance(start_indices, kind) or size is None:
                out.append(None)  # runs to the end of an axis, from where is not known
            else:
                out.append(size - int(start_indices[i]))
        return kind(tuple(out), dtype=standardize_dtype(inputs.dtype))


class SliceUpdate(Operation):
    def call(self, inputs, start_indices, updates):
        return core.slice_update(inputs, start_indices, updates)

    def compute_output_spec(self, inputs, start_indices, updates):
        return _keras_tensor()(inputs.shape, dtype=standardize_dtype(inputs.dtype))


class Scatter(Operation):
    def __init__(self, shape, *, name=None):
        super().__init__(name=name)
        self.shape = shape

    def call(self, indices, values):
        return core.scatter(indices, values, self.shape)

    def compute_output_spec(self, indices, values):
        return _keras_tensor()(tuple(self.shape), dtype=standardize_dtype(values.dtype))


class ScatterUpdate(Operation):
    def __init__(self, reduction=None, *, name=None):
        super().__init__(name=name)
        self.reduction = reduction

    def call(self, inputs, indices, updates):
        return core.scatter_update(inputs, indices, updates, self.reduction)

    def compute_output_spec(self, inputs, indices, updates):
        return _keras_tensor()(inputs.shape, dtype=standardize_dtype(inputs.dtype))
