"""Functional: a model as a graph of layers (several inputs and outputs, branches, shared layers).

    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    shared = Dense(5, activation="relu")
    h = concatenate([shared(a), shared(Dense(4)(b))])    # one Dense, called on two tensors
    out_a = Dense(2, activation="softmax", name="out_a")(h)
    out_b = Dense(1, name="out_b")(h)
    model = Model([a, b], [out_a, out_b])               # Keras hands this to Functional

Calling layers on symbolic tensors recorded the graph (layers/node.py); `Model(inputs, outputs)`
walks it once (models/graph.py) and keeps its nodes in topological order. Then:

    forward    the nodes first to last; each reads the arrays of its input tensors and writes
               the arrays of its output tensors
    backward   the nodes last to first; each receives dL/d(its output) and passes
               dL/d(its inputs) back to the nodes that made them

A stack (Sequential) needs nothing more. A graph adds two rules, both sums (the multivariable
chain rule):

    fan-out        a tensor read by several nodes: dL/dt = Σ over its readers
    shared layer   a layer called several times: dL/dW = Σ over its calls

docs/backprop-through-a-graph.md works through an example.
"""

import numpy as np

from minikeras import autodiff
from minikeras.layers import node as node_module
from minikeras.layers import op_config, recorded_call
from minikeras.layers import serialization as layer_serialization
from minikeras.layers.input_layer import InputLayer
from minikeras.layers.layer import Layer
from minikeras.layers.op_layer import OpLayer
from minikeras.models import graph
from minikeras.models import inputs as input_checks
from minikeras.models.arrays import Arrays, as_list
from minikeras.models.model import Model

# ---------------------------------------------------------------------- per-call state
# A layer keeps what its backward pass needs in its own attributes (Dense: self.x, self.z,
# self.y), and computes into scratch arrays it reuses from step to step (self.buffer(...)).
# A shared layer is called several times in one forward pass: its second call would overwrite
# the first call's x, z, y, and its scratch arrays. So the graph gives each node (one call):
#   - its own scratch arrays: `use_scratch` before the call, and
#   - its own memory: `remember` after the call keeps the layer's call state (by default a copy
#     of its attributes: references, not the arrays), and `recall` puts it back just before that
#     node's backward.
# Layers stay unaware of the graph. A model used as a layer is remembered with its layers.


def family(layer):
    """The layer and, when it is a model, every layer inside it (at any depth)."""
    yield layer
    if isinstance(layer, Model):
        for sublayer in layer.layers:
            yield from family(sublayer)


def use_scratch(layer, scratch):
    """Make the layer (and its sublayers) compute into this node's own scratch arrays."""
    for member in family(layer):
        member._buffers = scratch.setdefault(member, {})


def remember(layer):
    """What the layer's last call left for its backward pass (`Layer.get_call_state`)."""
    return [(member, member.get_call_state()) for member in family(layer)]


def recall(memory):
    """Put back what `remember` saved: the layer is as right after that call."""
    for member, state in memory:
        member.set_call_state(state)


class Functional(Model):
    """A model defined by its input and output tensors: `Model(inputs, outputs, name=...)`.

    >>> import numpy as np
    >>> from minikeras import Model
    >>> from minikeras.layers import Dense, Input, concatenate
    >>> a, b = Input(shape=(2,), name="a"), Input(shape=(3,), name="b")
    >>> out = Dense(1, name="out")(concatenate([a, b]))
    >>> model = Model([a, b], out)
    >>> model.predict([np.ones((4, 2)), np.ones((4, 3))], verbose=0).shape
    (4, 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, dtype=None):
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self.inputs, input_keys = _flatten(inputs, "inputs")
        self.outputs, output_keys = _flatten(outputs, "outputs")
        for tensor in self.inputs:
            if not isinstance(tensor.layer, InputLayer):
                raise NotImplementedError(
                    f"Model inputs must come from `Input(...)`; {tensor} is the output of layer "
                    f"'{tensor.layer.name}'. Start the model at a new Input of that shape."
                )
        nodes, self._layers = graph.map_graph(self.inputs, self.outputs)
        self._all_nodes = nodes  # every node of this model, Inputs' included, in order
        self._nodes = [node for node in nodes if not node.is_input]  # the ones that compute
        # the names data given as a dict is matched by (and the logs use for outputs): the keys
        # of a dict of inputs or outputs, else the layers' names
        self._input_keys = input_keys or [tensor.layer.name for tensor in self.inputs]
        self._output_keys = output_keys or [tensor.layer.name for tensor in self.outputs]
        shapes = [t.shape for t in self.inputs], [t.shape for t in self.outputs]
        self.input_shape, self.output_shape = (s[0] if len(s) == 1 else s for s in shapes)
        self._read_tensors = {t for node in self._nodes for t in node.input_tensors}
        self.input_gradient_needed = False  # True when this model is a layer of another
        self._memory = {}  # node → remember(...) from the last forward pass
        if len(self.inputs) == 1:  # known from the start: a Sequential it begins is built at once
            self._input_shape_arg = self.inputs[0].shape[1:]
        self.built = True

    @property
    def layers(self):
        """Every layer, InputLayers included, in Keras's order (that of `get_weights`)."""
        return list(self._layers)

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Model.layers` attribute is reserved and should not be used. Please use another name."
        )

    @property
    def input(self):
        """The input tensor(s), as given to the constructor (one, a list or a dict)."""
        return self._inputs_struct

    @property
    def output(self):
        """The output tensor(s), as given to the constructor."""
        return self._outputs_struct

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        """Forward over the graph: each node, in topological order, on its inputs' arrays.

        Returns one array for one output, else an `Arrays` (in `self.outputs` order)."""
        values = dict(zip(self.inputs, self._input_arrays(inputs)))  # tensor → its array
        masks = {}  # tensor → its mask, where a layer made one (Embedding(mask_zero=True))
        self._memory, self._masks = {}, {}
        for node in self._nodes:
            layer = node.layer
            use_scratch(layer, self._buffers.setdefault(node, {}))
            # dL/dx is wasted work on model inputs
            layer.input_gradient_needed = self.input_gradient_needed or any(
                t not in self.inputs for t in node.input_tensors
            )
            x = node.map_inputs(values.__getitem__)
            single = not isinstance(node.inputs, (list, tuple))
            mask = masks.get(node.inputs) if single else None
            # Keras hands `call` the input's mask only when the input is the call's one tensor
            # argument: an RNN given initial_state tensors runs unmasked (Layer.__call__'s
            # step 6), while its output still carries the input's mask
            call_mask = None if node.kwargs else mask
            # a node's own `training=` (kept for its config) yields to the model's mode, as
            # Keras's `operation_fn` sets the call context's training over it
            result = layer.forward(
                x, training=training, mask=call_mask, **node.map_kwargs(values.get)
            )
            self._memory[node] = remember(layer)
            outputs = list(result) if isinstance(result, list) else as_list(result)
            values.update(zip(node.outputs, outputs))
            self._masks[node] = call_mask
            output_masks = layer.compute_mask(x, mask)
            if len(outputs) == 1:
                output_masks = [output_masks]
            for tensor, output_mask in zip(node.outputs, output_masks or []):
                if output_mask is not None:
                    masks[tensor] = output_mask
        self.output_masks = [masks.get(t) for t in self.outputs]
        results = [values[t] for t in self.outputs]
        return results[0] if len(results) == 1 else Arrays(results)

    # ------------------------------------------------------------------ backward
    def backward(self, d_outputs, from_logits=False):
        """Backward over the graph: each node in reverse topological order receives dL/d(its
        outputs), and its layer's backward turns that into dL/d(its inputs) and weight grads.

        d_outputs: dL/d(output), one per output (None where no loss depends on it).
        from_logits: per output (or one for all), the layer at whose logits d_output arrives,
        or None (`Model.logits_path`): there the loss and the softmax or sigmoid were
        differentiated together, so that layer skips its activation.
        Returns dL/d(input) for each input (one array for one input).
        """
        if not isinstance(from_logits, (list, tuple)):
            from_logits = [from_logits] * len(self.outputs)
        logits_nodes = {t.node for t, flag in zip(self.outputs, from_logits) if flag}
        grad = {}  # tensor → dL/dtensor, summed over the nodes that read it (fan-out)
        for tensor, d in zip(self.outputs, _as_flat_list(d_outputs)):
            _accumulate(grad, tensor, d)
        weight_grads = {}  # layer → dL/dW, summed over the layer's calls (shared layers)
        for node in reversed(self._nodes):
            dys = [grad.pop(t, None) for t in node.outputs]
            recall(self._memory[node])  # the layer's x, z, y as this node's call left them
            layer = node.layer
            if all(d is None for d in dys) and not _added_losses(layer):
                continue  # nothing after this node reaches a loss
            if node in logits_nodes:
                dx = layer.backward_logits(dys[0])
            else:
                dy = dys[0] if len(dys) == 1 else Arrays(_fill(dys, node))
                dx = layer.backward_pass(dy, self._masks.get(node))
            for member in _weight_layers(layer):
                previous = weight_grads.get(member)
                weight_grads[member] = (
                    list(member.grads)
                    if previous is None
                    else [a + b for a, b in zip(previous, member.grads)]
                )
            for tensor, d in zip(node.input_tensors, _as_flat_list(dx)):
                _accumulate(grad, tensor, d)
        for member in _weight_layers(self):  # a layer no loss depends on: zero gradients
            member.grads = weight_grads.get(member) or [
                np.zeros_like(w) for w in member.trainable_weights
            ]
        dxs = [grad.get(t) for t in self.inputs]
        return dxs[0] if len(dxs) == 1 else dxs

    # ------------------------------------------------------------------ as a layer
    def __call__(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("inputs")
        if node_module.is_symbolic(x) or recorded_call.is_traced(x) or autodiff.is_recording():
            return Layer.__call__(self, *args, **kwargs)  # a layer of a model, or on a tape
        training = kwargs.get("training")
        training = recorded_call.current_training() if training is None else bool(training)
        if not recorded_call.in_a_call():  # an outer call: Keras's `_clear_losses`
            self.clear_losses()
        return self._pack_outputs(as_list(self.call(self._prepare_x(x), training)), copy=True)

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def check_input_shape(self, shape):
        shapes = shape if len(self.inputs) > 1 else [shape]
        if len(shapes) != len(self.inputs):
            raise ValueError(
                f"Model '{self.name}' has {len(self.inputs)} inputs {self._input_keys}; "
                f"it was called on {len(shapes)}."
            )
        for tensor, one in zip(self.inputs, shapes):
            tensor.layer.check_input_shape(tuple(one))

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model.predict; with several outputs, a list (or a dict, as the outputs were given)."""
        out = super().predict(x, batch_size, verbose, steps, callbacks)
        return self._pack_outputs(as_list(out))

    def predict_on_batch(self, x):
        return self._pack_outputs(as_list(self.call(self._prepare_x(x))), copy=True)

    # ------------------------------------------------------------------ data at the edge
    def _input_arrays(self, x):
        """The input arrays in `self.inputs` order, from one array, a list, a dict by input name
        (or by the keys `inputs` was given with), or an Arrays."""
        n = len(self.inputs)
        if isinstance(x, Arrays):
            arrays = x.arrays
        elif isinstance(x, dict):
            missing = [key for key in self._input_keys if key not in x]
            if missing:
                raise ValueError(
                    f"Model '{self.name}' has inputs {self._input_keys}; the dict given has no "
                    f"{missing} (its keys: {list(x)})."
                )
            arrays = [x[key] for key in self._input_keys]
        elif n > 1 or (isinstance(x, (list, tuple)) and len(x) == 1 and _is_array(x[0])):
            arrays = list(x) if isinstance(x, (list, tuple)) else [x]
        else:
            arrays = [x]
        if len(arrays) != n:
            raise ValueError(
                f"Model '{self.name}' has {n} inputs {self._input_keys}; received "
                f"{len(arrays)} arrays. Pass a list in that order, or a dict by input name."
            )
        return arrays

    def _target_arrays(self, y):
        """One label array per output (None for an output without a loss and without labels),
        from one array, a list (one per output, or one per output that has a loss), a dict by
        output name, or an Arrays."""
        if isinstance(y, Arrays):
            return y.arrays
        keys, specs = self._output_keys, self.output_specs or []
        if isinstance(y, dict):
            unknown = [key for key in y if key not in keys]
            if unknown:
                raise ValueError(
                    f"The labels name outputs {unknown} that model '{self.name}' does not have; "
                    f"its outputs are {keys}."
                )
            return [y.get(key) for key in keys]
        with_loss = [i for i, spec in enumerate(specs) if spec.loss is not None]
        several = isinstance(y, (list, tuple)) and all(_is_array(a) or a is None for a in y)
        if len(keys) == 1 and not (several and len(y) == 1):
            return [y]
        if not several and len(with_loss) == 1:  # one array: the labels of the one loss
            y, several = [y], True
        if several and len(y) == len(keys):
            return list(y)
        if several and len(y) == len(with_loss):  # labels only for the outputs with a loss
            arrays = [None] * len(keys)
            for i, array in zip(with_loss, y):
                arrays[i] = array
            return arrays
        raise ValueError(
            f"Model '{self.name}' has {len(keys)} outputs {keys}: pass the labels as a list of "
            "arrays in that order, or a dict by output name."
        )

    def _sliceable(self, data, which):
        arrays = self._input_arrays(data) if which == "x" else self._target_arrays(data)
        if len(arrays) == 1:
            return np.asarray(arrays[0])
        return Arrays([None if a is None else np.asarray(a) for a in arrays])

    def _prepare_x(self, x, name="x"):
        arrays = []
        for key, tensor, array in zip(self._input_keys, self.inputs, self._input_arrays(x)):
            label = name if len(self.inputs) == 1 else f"{name}['{key}']"
            array = input_checks.to_array(array, self.dtype, label)
            tensor.layer.check_input_shape(array.shape)
            arrays.append(array)
        input_checks.check_same_length(
            **{f"{name}['{key}']": a for key, a in zip(self._input_keys, arrays)}
        )
        return arrays[0] if len(arrays) == 1 else Arrays(arrays)

    def _prepare_y(self, y, n, name="y"):
        arrays = []
        given = self._target_arrays(y)
        for i, (key, tensor, array) in enumerate(zip(self._output_keys, self.outputs, given)):
            label = name if len(self.outputs) == 1 else f"{name}['{key}']"
            spec = self.output_specs[i]
            if array is None:
                if spec.loss is not None or spec.metrics:
                    raise ValueError(
                        f"No labels for output '{key}', which has a loss or metrics: pass one "
                        f"array per output {self._output_keys}."
                    )
            elif spec.loss is None:
                array = input_checks.to_array(array, self.dtype, label)
            else:
                loss = spec.resolve_loss(np.shape(array), tensor.shape)
                array = super()._prepare_y(array, n, label, out_shape=tensor.shape, loss=loss)
            arrays.append(array)
        return arrays[0] if len(arrays) == 1 else Arrays(arrays)

    def prepare_data(self, x, y, sample_weight=None, class_weight=None):
        if self.own_steps():
            return self.prepare_own_step_data(x, y, sample_weight, class_weight)
        self._assert_compiled()
        x = self._prepare_x(x)
        if y is None and not self.has_compiled_loss():  # trained on add_loss terms only
            w = input_checks.sample_weights(sample_weight, class_weight, None, len(x), self.dtype)
            return x, None, w
        if y is None:
            raise ValueError("`y` is None: training and evaluation need labels for every sample.")
        y = self._prepare_y(y, len(x))
        input_checks.check_same_length(
            **{"x": x},
            **{f"y['{k}']": a for k, a in zip(self._output_keys, as_list(y)) if a is not None},
        )
        if class_weight is not None and len(self.outputs) > 1:
            raise ValueError("`class_weight` is only supported for Models with a single output.")
        if len(self.outputs) > 1 and isinstance(sample_weight, (list, tuple, dict)):
            w = self._output_sample_weights(sample_weight, len(x))
        else:
            w = input_checks.sample_weights(sample_weight, class_weight, y, len(x), self.dtype)
        self._build_metrics(y)
        return x, y, w

    def _output_sample_weights(self, sample_weight, n):
        """One weight array per output (a list in the outputs' order, or a dict by name), each
        weighing that output's loss, as Keras; None for an output left unweighted."""
        keys = self._output_keys
        if isinstance(sample_weight, dict):
            unknown = [key for key in sample_weight if key not in keys]
            if unknown:
                raise ValueError(
                    f"`sample_weight` names outputs {unknown} that model '{self.name}' does not "
                    f"have; its outputs are {keys}."
                )
            given = [sample_weight.get(key) for key in keys]
        else:
            given = list(sample_weight)
            if len(given) != len(keys):
                raise ValueError(
                    f"`sample_weight` has {len(given)} entries for a model with {len(keys)} "
                    f"outputs {keys}: give one per output (None for none), or a dict by name."
                )
        return Arrays(
            [
                None if w is None else input_checks.sample_weights(w, None, None, n, self.dtype)
                for w in given
            ]
        )

    def _pack_outputs(self, arrays, copy=False):
        """Arrays in `self.outputs` order → the structure the outputs were given in."""
        if copy:
            arrays = [a.copy() for a in arrays]
        if isinstance(self._outputs_struct, dict):
            by_key = dict(zip(self._output_keys, arrays))
            return {key: by_key[key] for key in self._outputs_struct}
        return arrays[0] if len(arrays) == 1 else list(arrays)

    # ------------------------------------------------------------------ outputs and the loss path
    @property
    def output_names(self):
        return [tensor.layer.name for tensor in self.outputs]

    @property
    def output_keys(self):
        """The keys of a dict of outputs, else the output layers' names."""
        return self._output_keys

    def logits_chain(self, index):
        """The output layer, when nothing else reads that output (else its gradient would
        arrive partly at z and partly at y). Its state is put back to that node's call, so
        that its `logits` are this output's."""
        tensor = self.outputs[index]
        if tensor in self._read_tensors or self.outputs.count(tensor) != 1:
            return []
        recall(self._memory[tensor.node])
        return [tensor.layer]

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Keras 3's schema (keras/src/models/functional.py `get_config`): every layer with
        the calls that feed it (`inbound_nodes`), and the model's input and output tensors as
        [layer name, node index, tensor index]."""

        def node_index(tensor):  # counting only this model's calls of that layer
            own = [n for n in tensor.layer._inbound_nodes if n in self._all_nodes]
            return own.index(tensor.node)

        def tensor_config(tensor):
            history = [tensor.layer.name, node_index(tensor), tensor.tensor_index]
            return {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(tensor.shape),
                    "dtype": tensor.dtype,
                    "keras_history": history,
                },
            }

        def address(tensor):  # Keras counts a nested Functional's calls from 1 here
            offset = 1 if isinstance(tensor.layer, Functional) else 0
            return [tensor.layer.name, node_index(tensor) + offset, tensor.tensor_index]

        entries = []
        for layer in self.layers:
            is_op = isinstance(layer, OpLayer)  # written as Keras writes its Operations
            entry = op_config.entry(layer) if is_op else serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {
                    "args": (
                        op_config.call_args(layer, tensor_config)
                        if is_op
                        else _call_args(node, tensor_config)
                    ),
                    "kwargs": _call_kwargs(layer, node, tensor_config),
                }
                for node in layer._inbound_nodes
                if node in self._all_nodes and not node.is_input
            ]
            entries.append(entry)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": entries,
            "input_layers": _map_struct(self._inputs_struct, address),
            "output_layers": _map_struct(self._outputs_struct, address),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from `get_config()`'s dict (Keras's or minikeras's): make every layer,
        then replay the calls, each once the tensors it reads exist."""
        if custom_objects:
            from minikeras.utils import object_registration

            with object_registration.custom_object_scope(custom_objects):
                return functional_from_config(cls, config)
        return functional_from_config(cls, config)


def functional_from_config(cls, config):
    """A model of class `cls` from a Functional config: the layers made, their calls
    replayed, then `cls(inputs=..., outputs=..., name=..., trainable=..., **rest)`, where
    `rest` holds the keys a subclass's `get_config` added (Keras's `functional_from_config`)."""
    entries = config["layers"]
    created = {  # an op (`x + y`) as a maker of op nodes, a layer as itself
        entry["name"]: (
            op_config.OpCall(entry) if op_config.is_op_entry(entry) else deserialize_layer(entry)
        )
        for entry in entries
    }
    pending = {entry["name"]: list(entry.get("inbound_nodes", [])) for entry in entries}

    def tensor(history):
        name, index, tensor_index = history
        nodes = created[name]._inbound_nodes
        if index >= len(nodes):
            raise _NotYet
        return nodes[index].outputs[tensor_index]

    def resolve(arg):
        if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
            return tensor(arg["config"]["keras_history"])
        if isinstance(arg, (list, tuple)) and len(arg) == 3 and isinstance(arg[0], str):
            return tensor(arg)  # Keras 2's [layer name, node index, tensor index]
        if isinstance(arg, (list, tuple)):
            return [resolve(a) for a in arg]
        return arg  # a constant an op is called with (`x * 2.0`, a slice of `x[:, 0]`)

    while any(pending.values()):
        progress = False
        for name, calls in pending.items():
            while calls:
                try:
                    args = [resolve(a) for a in calls[0]["args"]]
                    # the call's keywords: tensors (initial_state) and constants
                    # (`training`, `mask`: None), replayed as given
                    kwargs = {
                        key: resolve(value) for key, value in calls[0].get("kwargs", {}).items()
                    }
                except _NotYet:
                    break
                created[name](*args, **kwargs)
                calls.pop(0)
                progress = True
        if not progress:
            raise ValueError(
                "Invalid Functional model configuration: the graph has loops or layers "
                f"reading tensors no layer makes. Calls left: "
                f"{ {n: len(c) for n, c in pending.items() if c} }"
            )

    def address(history):
        name, index, tensor_index = history
        offset = 1 if isinstance(created[name], Functional) else 0
        return tensor((name, index - offset, tensor_index))

    graph_keys = ("name", "trainable", "layers", "input_layers", "output_layers")
    return cls(
        inputs=_map_struct(config["input_layers"], address, leaf=_is_address),
        outputs=_map_struct(config["output_layers"], address, leaf=_is_address),
        name=config.get("name"),
        trainable=config.get("trainable", True),
        **{key: value for key, value in config.items() if key not in graph_keys},
    )


# ---------------------------------------------------------------------- helpers
class _NotYet(Exception):
    """A call in a config reads a tensor whose own call has not been replayed yet."""


def _holds_tensor(value):
    """A config's call argument that is a tensor, or a list of them."""
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    return isinstance(value, (list, tuple)) and bool(value) and all(map(_holds_tensor, value))


def _call_args(node, tensor_config):
    """A node's positional arguments as Keras writes them: one, or one per tensor of a call
    on several (`LogisticEndpoint()(targets, logits)`)."""
    args = node.map_inputs(tensor_config)
    return list(args) if isinstance(args, node_module.CallArguments) else [args]


def _call_kwargs(layer, node, tensor_config):
    """A node's keywords as Keras writes them: as the call gave them (`{"training": False}`,
    `{"mask": None}`), tensors as tensor configs; a nested model's call adds `mask: None`."""
    tensors = node.map_kwargs(tensor_config)
    kwargs = {key: tensors.get(key, value) for key, value in node.call_kwargs.items()}
    if isinstance(layer, Model):
        kwargs.setdefault("mask", None)
    return kwargs


def _flatten(struct, what):
    """(flat list of KerasTensors, keys): a dict is flattened in sorted key order, as Keras."""
    if isinstance(struct, dict):
        keys = sorted(struct)
        flat = [struct[k] for k in keys]
    else:
        flat, keys = (list(struct) if isinstance(struct, (list, tuple)) else [struct]), None
    for value in flat:
        if not isinstance(value, node_module.KerasTensor):
            raise ValueError(
                f"All `{what}` values must be KerasTensors. Received: {what}={struct} including "
                f"invalid value {value} of type {type(value)}"
            )
    if not flat:
        raise ValueError(f"`{what}` argument cannot be empty. Received: {what}={struct}")
    return flat, keys


def _map_struct(struct, fn, leaf=lambda x: not isinstance(x, (list, tuple, dict))):
    """fn applied to every leaf of a nested list/dict, the nesting kept."""
    if leaf(struct):
        return fn(struct)
    if isinstance(struct, dict):
        return {key: _map_struct(value, fn, leaf) for key, value in struct.items()}
    return [_map_struct(value, fn, leaf) for value in struct]


def _is_address(x):
    return isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str)


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _as_flat_list(dx):
    return list(dx) if isinstance(dx, (list, tuple)) else as_list(dx)


def _fill(dys, node):
    """Zeros for the outputs of a node (a model with several outputs) that got no gradient."""
    batch = next(len(d) for d in dys if d is not None)
    return [
        np.zeros((batch,) + t.shape[1:], dtype=node.layer.dtype) if d is None else d
        for d, t in zip(dys, node.outputs)
    ]


def _added_losses(layer):
    """Whether the layer's recorded call added loss terms (add_loss): its backward must run
    even when no gradient reaches its output (`LogisticEndpoint`, compiled without a loss)."""
    recorded = layer._call_tape  # declared by Layer
    return recorded is not None and bool(recorded.losses)


def _accumulate(grad, tensor, d):
    """grad[tensor] += d (a new array: d may be another node's scratch array)."""
    if d is not None:
        grad[tensor] = d if tensor not in grad else grad[tensor] + d


def _weight_layers(layer):
    """The layers inside `layer` (itself included) that hold weights of their own."""
    return [
        member
        for member in family(layer)
        if not isinstance(member, Model) and member.trainable and member.weights
    ]


def serialize_layer(layer):
    """A layer's entry in the model's config; a nested model as Keras writes one."""
    if isinstance(layer, Functional):
        return {
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "config": layer.get_config(),
            "registered_name": "Functional",
            "build_config": {"input_shape": None},
            "compile_config": {},
        }
    entry = layer_serialization.serialize(layer)
    if isinstance(layer, Model):
        entry.update(module="keras", compile_config={})
    return entry


def deserialize_layer(entry):
    from minikeras.models.sequential import Sequential

    class_name = entry.get("class_name")
    if class_name == "Sequential":
        return Sequential.from_config(entry["config"])
    if class_name in ("Functional", "Model"):
        return Functional.from_config(entry["config"])
    return layer_serialization.deserialize(entry)
