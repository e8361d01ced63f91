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

import warnings

import numpy as np

from minikeras import autodiff, tree
from minikeras.layers import node as node_module
from minikeras.layers import op_config, recorded_call
from minikeras.layers import serialization as layer_serialization
from minikeras.layers.input_layer import InputLayer
from minikeras.layers.input_spec import InputSpec, assert_input_compatibility
from minikeras.layers.layer import Layer
from minikeras.layers.op_layer import OpLayer
from minikeras.models import functional_inputs, graph
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
        # a functional model's ops (`x + y`) keep call state too: its operations, not layers
        for sublayer in layer.operations if isinstance(layer, Functional) else layer.layers:
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

    _manual_input_spec = None  # an InputSpec set on the model replaces the derived ones

    def __init__(self, inputs, outputs, name=None, trainable=True, dtype=None):
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        if isinstance(inputs, dict):
            for key, value in inputs.items():
                if isinstance(value, node_module.KerasTensor) and key != value.name:
                    warnings.warn(
                        "When providing `inputs` as a dict, all keys in the dict must match the "
                        f"names of the corresponding tensors. Received key '{key}' mapping to "
                        f"value {value} which has name '{value.name}'. Change the tensor name "
                        f"to '{key}' (via `Input(..., name='{key}')`)",
                        stacklevel=2,
                    )
        _flatten(inputs, "inputs")  # Keras's checks first: every value a KerasTensor
        _flatten(outputs, "outputs")
        if not all(_is_input_tensor(t) for t in tree.flatten(inputs)):
            # a model between intermediate tensors: it starts at new Inputs (Keras's
            # `clone_graph_nodes`), its layers shared with the model they come from
            inputs, outputs = _start_at_inputs(inputs, outputs)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self.inputs, input_keys = _flatten(inputs, "inputs")
        self.outputs, output_keys = _flatten(outputs, "outputs")
        output_paths = [
            ".".join(map(str, path)) for path, _ in tree.flatten_with_path(self._outputs_struct)
        ]
        nodes, self._layers = graph.map_graph(self.inputs, self.outputs, output_paths)
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
        """Every layer, InputLayers included, in Keras's order (that of `get_weights`); the
        ops of the graph (`x + y`) are operations, not layers, as in Keras."""
        return [layer for layer in self._layers if not isinstance(layer, OpLayer)]

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Model.layers` attribute is reserved and should not be used. Please use another name."
        )

    @property
    def operations(self):
        """Every operation of the graph, layers and ops (`x + y`), in Keras's order."""
        return list(self._layers)

    @property
    def _operations(self):  # Keras's spelling, which its tests read
        return self.operations

    @property
    def input_spec(self):
        """One InputSpec per input, as Keras derives them (a trailing axis of 1 may be missing
        or extra); a spec set on the model replaces them."""
        if self._manual_input_spec is not None:
            return self._manual_input_spec
        struct = self._inputs_struct
        if isinstance(struct, dict):
            if not all(isinstance(t, node_module.KerasTensor) for t in struct.values()):
                return None  # a nested dict: Keras checks nothing here
            return [_input_spec(struct[key], key) for key in sorted(struct)]
        return [_input_spec(tensor) for tensor in self.inputs]

    @input_spec.setter
    def input_spec(self, value):
        self._manual_input_spec = value

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
            # a call that returns a tuple (keras.io's Involution: `return output, kernel`)
            # gives one tensor per item, as the node recorded them
            several = isinstance(result, list) or (
                isinstance(result, tuple) and len(node.outputs) > 1
            )
            outputs = list(result) if several else as_list(result)
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
        if any(node_module.is_symbolic(leaf) for leaf in tree.flatten(x)):
            # a layer of another model: its node reads the tensors in this model's input order
            values = functional_inputs.flat_values(self, x, symbolic=True)
            x = values[0] if len(values) == 1 else values
            args = (x,) + tuple(args[1:]) if args else args
            if not args:
                kwargs["inputs"] = x
            return self._pack_outputs(_as_flat_list(Layer.__call__(self, *args, **kwargs)))
        if recorded_call.is_traced(x) or autodiff.is_recording():
            return Layer.__call__(self, *args, **kwargs)  # on a tape
        training = kwargs.get("training", args[1] if len(args) > 1 else None)
        training = recorded_call.current_training() if training is None else bool(training)
        if not recorded_call.in_a_call():  # an outer call: Keras's `_clear_losses`
            self.clear_losses()
        # Keras checks for None, then the input specs, before it standardizes the inputs
        functional_inputs.check_not_none(self, tree.flatten(x))
        assert_input_compatibility(self.input_spec, x, self.name)
        return self._pack_outputs(as_list(self.call(self._prepare_x(x), training)), copy=True)

    def compute_output_shape(self, input_shape):
        """The built output shapes, with the batch size of the inputs when they all give the
        same one (Keras runs its graph on the inputs' shapes: `Input(batch_size=2)` gives
        outputs of batch 2)."""
        shapes = input_shape if len(self.inputs) > 1 else [input_shape]
        batches = {tuple(shape)[0] for shape in shapes if shape is not None and len(shape)}
        batch = batches.pop() if len(batches) == 1 else None
        outputs = [t.shape for t in self.outputs]
        if batch is not None:
            outputs = [(batch,) + s[1:] if s and s[0] is None else s for s in outputs]
        return outputs[0] if len(outputs) == 1 else outputs

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
        """The input arrays in `self.inputs` order (None for an optional input given None),
        from the structure the model was built with, or one Keras also reads
        (models/functional_inputs.py), or an Arrays."""
        if isinstance(x, Arrays):
            return x.arrays
        if len(self.inputs) == 1 and not _is_data_structure(x):
            return [x]  # one array, maybe written as nested lists
        given = len(tree.flatten(x)) if _is_data_structure(x) else 1
        if not isinstance(x, dict) and given != len(self.inputs):  # Keras's input spec check
            raise ValueError(
                f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{given} input tensors. Pass a list in the order {self._input_keys}, or a dict "
                "by input name."
            )
        return functional_inputs.flat_values(self, x)

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
        if which == "y" and self._compile_loss is not None and tree.is_nested(data):
            return self._structured_labels(data)
        arrays = self._input_arrays(data) if which == "x" else self._target_arrays(data)
        if len(arrays) == 1:
            return np.asarray(arrays[0])
        return Arrays([None if a is None else np.asarray(a) for a in arrays])

    def _prepare_x(self, x, name="x"):
        arrays = []
        values = self._input_arrays(x)
        functional_inputs.check_not_none(self, values)
        for i, (key, tensor, array) in enumerate(zip(self._input_keys, self.inputs, values)):
            if array is None:  # an optional input left out
                arrays.append(None)
                continue
            label = name if len(self.inputs) == 1 else f"{name}['{key}']"
            array = functional_inputs.adjust_rank(self, i, array)
            # each input in its Input's dtype (an int32 Input stays int32), as Keras converts
            if tensor.dtype == "string":  # text for a StringLookup or TextVectorization
                array = input_checks.to_string_array(array, label)
            else:
                array = input_checks.to_array(array, _input_dtype(tensor, self.dtype), label)
            tensor.layer.check_input_shape(array.shape)
            arrays.append(array)
        input_checks.check_same_length(
            **{f"{name}['{key}']": a for key, a in zip(self._input_keys, arrays) if a is not None}
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
        if self._compile_loss is not None:
            return self.prepare_structured_data(x, y, sample_weight, class_weight)
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

    def _outputs_as_given(self, arrays):
        return self._pack_outputs(arrays)

    def _pack_outputs(self, arrays, copy=False):
        """Arrays in `self.outputs` order → the structure the outputs were given in (a list or
        tuple of one output: that output, as Keras's `unpack_singleton`)."""
        if copy:
            arrays = [a.copy() for a in arrays]
        struct = self._outputs_struct
        if isinstance(struct, (list, tuple)) and len(struct) == 1:
            struct = struct[0]
        return tree.pack_sequence_as(struct, arrays)

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
        for layer in self.operations:
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
        name, index, tensor_index = history[:3]
        if name not in created:
            raise ValueError(f"Invalid Functional model configuration. Missing node: {name}")
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
                    args, kwargs = _call_arguments(calls[0], resolve, tensor)
                except _NotYet:
                    break
                created[name](*args, **kwargs)
                calls.pop(0)
                progress = True
        if not progress:
            raise ValueError(
                "Invalid Functional model configuration. The graph of the Functional model "
                "either has loops or disconnected nodes. The following nodes failed to be "
                f"resolved: { {n: len(c) for n, c in pending.items() if c} } (calls left)"
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


def _call_arguments(node_data, resolve, tensor):
    """(args, kwargs) of one call in a config: Keras 3's {"args", "kwargs"}, tensors as
    tensor configs; or Keras 2's list of [layer name, node index, tensor index, kwargs], one
    per input tensor."""
    if isinstance(node_data, list):
        tensors = [tensor(history) for history in node_data]
        kwargs = node_data[0][3] if node_data and len(node_data[0]) == 4 else {}
        return [tensors[0] if len(tensors) == 1 else tensors], dict(kwargs)
    args = [resolve(a) for a in node_data["args"]]
    # the call's keywords: tensors (initial_state) and constants (`training`, `mask`: None),
    # replayed as given
    kwargs = {key: resolve(value) for key, value in node_data.get("kwargs", {}).items()}
    return args, kwargs


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
    """(flat list of KerasTensors, keys): a dict is flattened in sorted key order, as Keras;
    the keys of a dict of tensors, else None."""
    flat = tree.flatten(struct)
    for value in flat:
        if not isinstance(value, node_module.KerasTensor):
            raise ValueError(
                f"All `{what}` values must be KerasTensors. Received: {what}={struct} including "
                f"invalid value {value} of type {type(value)}"
            )
    if not flat:
        raise ValueError(f"`{what}` argument cannot be empty. Received: {what}={struct}")
    flat_dict = isinstance(struct, dict) and all(
        isinstance(v, node_module.KerasTensor) for v in struct.values()
    )
    return flat, (sorted(struct) if flat_dict else None)


def _is_input_tensor(tensor):
    """Whether the tensor is an Input's own (Keras's `is_input_keras_tensor`)."""
    return tensor.node.is_input


def _start_at_inputs(inputs, outputs):
    """Inputs and outputs of a model whose inputs include intermediate tensors (Keras's
    `clone_graph_nodes`): each such tensor is replaced by a new Input of its shape and dtype
    (named after it, `...CLONE`), and every call between the inputs and the outputs is
    recorded again, on the new tensors, as a new node of the same layer."""
    new = {}
    for tensor in tree.flatten(inputs):
        if _is_input_tensor(tensor):
            new[tensor] = tensor
        else:
            optional = tensor.layer.optional
            layer = InputLayer(
                batch_shape=tensor.shape,
                dtype=tensor.dtype,
                name=f"{tensor.name}CLONE",
                optional=optional,
            )
            new[tensor] = layer.output
    for node in graph.nodes_between(list(new), tree.flatten(outputs)):
        copies = []
        for tensor in node.outputs:
            copy = node_module.KerasTensor(tensor.shape, tensor.dtype, name=tensor.name)
            copy._keras_mask = tensor._keras_mask
            copies.append(copy)
        node_module.Node(
            node.layer,
            node.map_inputs(new.__getitem__),
            copies,
            node.map_kwargs(new.__getitem__),
            {key: _map_tensors(value, new) for key, value in node.call_kwargs.items()},
        )
        new.update(zip(node.outputs, copies))
    return (
        tree.map_structure(new.__getitem__, inputs),
        tree.map_structure(new.__getitem__, outputs),
    )


def _map_tensors(value, new):
    if isinstance(value, node_module.KerasTensor):
        return new[value]
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(v, new) for v in value)
    return value


def _input_spec(tensor, name=None):
    """Keras's spec of a Functional's input: its shape with any batch size, and a trailing
    axis of 1 that may be missing or extra."""
    shape = (None,) + tuple(tensor.shape[1:]) if tensor.shape else ()
    return InputSpec(
        shape=shape,
        allow_last_axis_squeeze=True,
        name=tensor.layer.name if name is None else name,
        optional=tensor.layer.optional,
    )


def _input_dtype(tensor, model_dtype):
    """The dtype data for this input is converted to: the Input's, as Keras converts."""
    return tensor.dtype if tensor.dtype not in (None, "string") else model_dtype


def _is_data_structure(x):
    """Whether data holds several values (a dict, or a list or tuple of arrays, dicts, lists of
    them or None), rather than one array written as nested lists."""
    if isinstance(x, dict):
        return True
    if not isinstance(x, (list, tuple)) or not x:
        return False
    return all(
        item is None or _is_array(item) or isinstance(item, dict) or _is_data_structure(item)
        for item in x
    )


def _map_struct(struct, fn, leaf=lambda x: not isinstance(x, (list, tuple, dict))):
    """fn applied to every leaf of a nested list/dict, the nesting kept."""
    if leaf(struct):
        return fn(struct)
    if isinstance(struct, dict):
        return {key: _map_struct(value, fn, leaf) for key, value in struct.items()}
    return type(struct)(_map_struct(value, fn, leaf) for value in struct)  # a tuple stays one


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
