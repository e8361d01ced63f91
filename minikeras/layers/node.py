"""Symbolic tensors and nodes: how `Dense(64)(Input(shape=(784,)))` records a graph.

Calling a layer on a `KerasTensor` (a shape standing for data not given yet) computes nothing.
It builds the layer for that shape, records the call as a `Node`, and returns a new KerasTensor,
the call's output:

    x = Input(shape=(4,))        a KerasTensor, produced by the InputLayer's node
    h = Dense(3)(x)              Node(dense, inputs=x, outputs=[h])
    y = Dense(1)(h)              Node(dense_1, inputs=h, outputs=[y])

Every KerasTensor knows the node that produced it and every node the tensors it read, so walking
back from the outputs finds the whole graph (`minikeras.models.graph`). A layer called twice (a
shared layer) has two nodes, `layer._inbound_nodes[0]` and `[1]`: one set of weights, two calls.
"""

from minikeras.layers.name_scope import layer_scope
from minikeras.ops.dtypes import standardize_dtype
from minikeras.utils.naming import auto_name


class KerasTensor:
    """A symbolic tensor: a shape and dtype standing for data not given yet.

    `Input(shape=(784,))` returns one; calling layers on it records the graph (Functional API).

    >>> from minikeras.layers import Dense, Input
    >>> h = Dense(3)(Input(shape=(4,)))
    >>> h.shape, h.layer.name
    ((None, 3), 'dense')
    """

    def __init__(
        self, shape, dtype=None, sparse=False, ragged=False, name=None, layer=None, inputs=()
    ):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = "string" if dtype in ("string", str) else standardize_dtype(dtype)
        # Keras's flags for sparse and ragged tensors: minikeras has neither, it keeps the flags
        self.sparse, self.ragged = bool(sparse), bool(ragged)
        self.name = name or auto_name("keras_tensor")
        self.layer = layer  # the layer that produced this tensor
        self.inputs = tuple(inputs)  # the tensors that layer was called on
        self.node = None  # the Node (the call) that produced it: set by Node
        self.tensor_index = 0  # which of that node's outputs it is
        # the mask that goes with it (Embedding(mask_zero=True)'s output), a KerasTensor of
        # booleans, as Keras attaches one; None for a tensor without a mask
        self._keras_mask = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def keras_history(self):
        """(layer name, node index, tensor index): Keras's address of this tensor, as configs
        and the summary's "Connected to" column write it (`dense[1][0]`)."""
        return (self.layer.name, self.node.index, self.tensor_index)

    @property
    def _keras_history(self):  # Keras's spelling, which its tests look for
        return self.keras_history

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # Operators build graph nodes, as Keras's do: `x + residual` is ops.add(x, residual)
    # (an OpLayer node, layers/op_layer.py)
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().subtract(self, other)

    def __rsub__(self, other):
        return _ops().subtract(other, self)

    def __mul__(self, other):
        return _ops().multiply(self, other)

    def __rmul__(self, other):
        return _ops().multiply(other, self)

    def __truediv__(self, other):
        with _true_divide():  # Keras's `/` is its TrueDivide op
            return _ops().divide(self, other)

    def __rtruediv__(self, other):
        with _true_divide():
            return _ops().divide(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __neg__(self):
        return _ops().negative(self)

    def __abs__(self):
        return _ops().absolute(self)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __floordiv__(self, other):
        return _ops().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_divide(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    # comparisons and logic build nodes too; `==` stays identity, as in Keras (graphs keep
    # KerasTensors in dicts and sets)
    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __ne__(self, other):
        return _ops().not_equal(self, other)

    def __and__(self, other):
        return _ops().logical_and(self, other)

    def __rand__(self, other):
        return _ops().logical_and(other, self)

    def __or__(self, other):
        return _ops().logical_or(self, other)

    def __ror__(self, other):
        return _ops().logical_or(other, self)

    def __xor__(self, other):
        return _ops().logical_xor(self, other)

    def __rxor__(self, other):
        return _ops().logical_xor(other, self)

    def __invert__(self):
        return _ops().logical_not(self)

    def __round__(self, ndigits=None):
        return _ops().round(self, decimals=ndigits or 0)

    def __getitem__(self, index):
        return _ops().get_item(self, index)

    def __int__(self):
        raise ValueError(_NO_VALUE + "You cannot convert it to an int.")

    def __float__(self):
        raise ValueError(_NO_VALUE + "You cannot convert it to a float.")


_NO_VALUE = (
    "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. It doesn't have "
    "any actual numerical value. "
)


def _true_divide():
    from minikeras.layers.op_layer import spelled_as  # (op_layer imports this module)

    return spelled_as("true_divide")


def _ops():
    from minikeras import ops

    return ops


class CallArguments(list):
    """The positional arguments of a call on several tensors, `LogisticEndpoint()(targets,
    logits)`: a node keeps them in one list, and `call` receives them spread out again, as
    Keras's layers do (a merge layer, by contrast, takes one list argument)."""


class Node:
    """One call of a layer on symbolic tensors: `outputs = layer(inputs)`.

    `inputs` keeps the form of the call (one tensor, or a list for a merge layer);
    `kwargs` the tensors given by keyword (an RNN's `initial_state=[h, c]`);
    `input_tensors` is always a flat list, the positional ones first. An InputLayer's node has
    no inputs.
    """

    def __init__(self, layer, inputs, outputs, kwargs=None, call_kwargs=None):
        self.layer = layer
        self.inputs = inputs
        self.kwargs = kwargs or {}
        # every keyword of the call as given, tensors and constants (`training=False`,
        # `mask=None`), in order: Keras writes them in the config, and runs the layer with them
        self.call_kwargs = call_kwargs or dict(self.kwargs)
        self.input_tensors = flatten(inputs) + [
            t for value in self.kwargs.values() for t in flatten(value)
        ]
        self.outputs = list(outputs)
        self.index = len(layer._inbound_nodes)  # this is the layer's call number `index`
        layer._inbound_nodes.append(self)
        for i, tensor in enumerate(self.outputs):
            tensor.node, tensor.layer, tensor.tensor_index = self, layer, i
            tensor.inputs = tuple(self.input_tensors)

    @property
    def is_input(self):
        return not self.input_tensors

    @property
    def parents(self):
        """The nodes whose outputs this node reads."""
        return [tensor.node for tensor in self.input_tensors]

    def map_inputs(self, fn):
        """The call's arguments with each tensor t replaced by fn(t), in the call's form."""
        if isinstance(self.inputs, CallArguments):
            return CallArguments(fn(t) for t in self.inputs)
        if isinstance(self.inputs, (list, tuple)):
            return [fn(t) for t in self.inputs]
        return fn(self.inputs)

    def map_kwargs(self, fn):
        """The call's keyword tensors, each t replaced by fn(t): {"initial_state": [...]}."""
        return {
            key: [fn(t) for t in value] if isinstance(value, (list, tuple)) else fn(value)
            for key, value in self.kwargs.items()
        }

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.index}]>"


def flatten(inputs):
    """One tensor or a list/tuple of tensors → a flat list."""
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def is_symbolic(inputs):
    """True for a KerasTensor or a non-empty list of them (a layer call that records a node)."""
    if isinstance(inputs, (list, tuple)):
        return bool(inputs) and all(isinstance(t, KerasTensor) for t in inputs)
    return isinstance(inputs, KerasTensor)


def shapes_of(inputs):
    """The shape of one tensor, or the list of shapes of a list of tensors."""
    if isinstance(inputs, (list, tuple)):
        return [t.shape for t in inputs]
    return inputs.shape


def call_symbolic(layer, inputs, **kwargs):
    """`layer(inputs)` on KerasTensors: build the layer for their shapes (or check them against
    its built shape), record the call as a Node, and return the output KerasTensor(s).
    kwargs: tensors given by keyword (`initial_state=`), recorded as the node's inputs too."""
    shape = shapes_of(inputs)
    spread = isinstance(inputs, CallArguments)
    if not layer._built and (spread or not layer._builtin):
        # a layer of yours is probed below, with its mask if it reads one: not here too
        layer.build_for_arguments(shape if spread else [shape])
    elif not layer._built:  # (a layer built at init too: it records its shapes)
        with layer_scope(layer):
            layer.build(shape)
    elif not spread:
        layer.check_input_shape(shape)
    from minikeras.layers import recorded_call

    input_mask = inputs._keras_mask if isinstance(inputs, KerasTensor) else None
    if spread:
        output_shape = recorded_call.probe_output_shape(layer, shape, spread=True)
    elif input_mask is not None and _probed_for_shape(layer):
        # a layer of yours that reads the mask is probed with one, as Keras calls it with one
        output_shape = recorded_call.probe_output_shape(layer, shape, mask_shape=input_mask.shape)
    else:
        output_shape = layer.compute_output_shape(shape)
    several = isinstance(output_shape, list)  # a model with several outputs
    shapes = output_shape if several else [output_shape]
    outputs = [KerasTensor(s, dtype=layer.dtype) for s in shapes]
    tensors = {k: v for k, v in kwargs.items() if v is not None and is_symbolic(v)}
    Node(layer, inputs, outputs, tensors, kwargs)
    if not spread:
        _attach_masks(layer, shape, input_mask, outputs)
    return outputs if several else outputs[0]


def _probed_for_shape(layer):
    """A layer of yours that reads the mask and gives no `compute_output_shape`: its output
    shape is found by calling it. With a `compute_output_shape`, Keras reads the shape from it
    and never calls the layer on placeholders, so neither does minikeras."""
    from minikeras.layers.layer import Layer

    return (
        not layer._builtin
        and "mask" in layer._call_takes
        and type(layer).compute_output_shape is Layer.compute_output_shape
    )


def _attach_masks(layer, input_shape, input_mask, outputs):
    """Give each output the mask `layer.compute_mask` makes (found on a small stand-in input),
    as Keras attaches `_keras_mask` to a symbolic output."""
    from minikeras.layers import recorded_call
    from minikeras.layers.layer import Layer

    if input_mask is None and type(layer).compute_mask is Layer.compute_mask:
        return  # no mask comes in, and this layer makes none
    masks = recorded_call.probe_mask(layer, input_shape, input_mask and input_mask.shape)
    if masks is None:
        return
    masks = masks if isinstance(masks, list) else [masks]
    for output, ndim in zip(outputs, masks):
        if ndim is not None:
            output._keras_mask = KerasTensor(output.shape[:ndim], dtype="bool")
