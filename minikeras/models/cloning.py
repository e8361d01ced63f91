"""`clone_model`: a new model of the same architecture, its layers made afresh from their
configs (new weights), as Keras's `keras.models.clone_model`.

A Sequential is rebuilt from its list of layers, a Functional by replaying its graph: each
node (one layer call), in the order the forward pass runs them, is called again on the new
tensors, with the layer `clone_function` makes of the old one. A compiled model's clone is
compiled the same way. Any other Model is rebuilt from its config.

>>> from minikeras import Sequential, layers, models
>>> model = Sequential([layers.Input(shape=(3,)), layers.Dense(2, name="d")])
>>> clone = models.clone_model(model)
>>> clone.get_layer("d") is model.get_layer("d"), clone.get_layer("d").kernel.shape
(False, (3, 2))
"""

from minikeras.layers.input_layer import Input, InputLayer
from minikeras.layers.node import CallArguments, KerasTensor
from minikeras.layers.op_layer import OpLayer
from minikeras.models.functional import Functional
from minikeras.models.sequential import Sequential


def clone_model(
    model,
    input_tensors=None,
    clone_function=None,
    call_function=None,
    recursive=False,
    **kwargs,
):
    """The model rebuilt: same layers (made afresh by `clone_function`) and connections.

    input_tensors: KerasTensors to build the clone on, in the structure of `model.input`
        (default: new Inputs like the model's).
    clone_function: `fn(layer) -> layer` for every layer but the Inputs (default: a new layer
        from the old one's config, so new weights). `lambda layer: layer` shares the layers.
    call_function: `fn(layer, *args, **kwargs) -> outputs`, how each layer is called in a
        Functional clone (default: `layer(*args, **kwargs)`); it can add layers after a layer.
    recursive: whether a model nested in the model is cloned by `clone_model` itself (with the
        same functions) rather than handed to `clone_function` whole.
    """
    cache = kwargs.pop("cache", None)  # layer id → its clone, shared by the recursive calls
    if kwargs:
        raise ValueError(f"Unexpected keyword argument(s): {tuple(kwargs.keys())}")
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "`call_function` argument is not supported with Sequential models.  In a "
                "Sequential model, layers aren't called at model-construction time (they're "
                "merely listed). Use `call_function` with Functional models only. Received "
                f"model of type '{type(model).__name__}', with call_function={call_function}"
            )
        clone = _wrap_clone_function(clone_function, None, recursive, cache)
        return _clone_sequential(model, clone, input_tensors)
    if isinstance(model, Functional) and (
        _default_get_config(model) or clone_function is not None or input_tensors is not None
    ):
        clone = _wrap_clone_function(clone_function, call_function, recursive, cache)
        return _clone_functional(model, clone, input_tensors, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "Arguments `clone_function` and `input_tensors` are only supported for Sequential "
            f"models or Functional models. Received model of type '{type(model).__name__}', "
            f"with clone_function={clone_function} and input_tensors={input_tensors}"
        )
    if call_function is not None:
        raise ValueError(
            "Argument `call_function` is only supported for Functional models. Received model "
            f"of type '{type(model).__name__}', with call_function={call_function}"
        )
    return type(model).from_config(model.get_config())


def _default_get_config(model):
    """Whether the model's class keeps Functional's own `get_config` (then its config is the
    graph, and replaying the graph is a faithful clone)."""
    return type(model).get_config is Functional.get_config


def _wrap_clone_function(clone_function, call_function, recursive, cache):
    """`clone_function` made to clone each layer once (a shared layer stays shared in the
    clone) and, when `recursive`, to clone a nested model with `clone_model`."""
    if clone_function is None:

        def clone_function(layer):
            return type(layer).from_config(layer.get_config())

    cache = {} if cache is None else cache

    def wrapped(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, Sequential):
                # Keras hands a nested Sequential no call_function: it calls no layer
                cache[id(layer)] = clone_model(
                    layer, clone_function=clone_function, recursive=True, cache=cache
                )
            elif recursive and isinstance(layer, Functional):
                cache[id(layer)] = clone_model(
                    layer,
                    clone_function=clone_function,
                    call_function=call_function,
                    recursive=True,
                    cache=cache,
                )
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    return wrapped


def _clone_sequential(model, clone_function, input_tensors):
    """A Sequential of the cloned layers, on a new Input like the model's (or on
    `input_tensors`), compiled as the model is."""
    new_layers = [clone_function(layer) for layer in model.layers]
    # the InputLayer given, or the one a build on data made (Keras's build inserts one)
    given_input = model._input_layer()
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("Argument `input_tensors` must contain a single tensor.")
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "Argument `input_tensors` must be a KerasTensor. Received invalid value: "
                f"input_tensors={input_tensors}"
            )
        # a new Input of that tensor's shape: a Sequential starts at an InputLayer of its own
        name = given_input.name if given_input is not None else None
        new_layers.insert(
            0, Input(batch_shape=input_tensors.shape, dtype=input_tensors.dtype, name=name)
        )
    elif given_input is not None:
        new_layers.insert(
            0,
            Input(
                batch_shape=given_input.batch_shape, dtype=given_input.dtype, name=given_input.name
            ),
        )
    clone = Sequential(new_layers, name=model.name, trainable=model.trainable)
    _compile_like(model, clone)
    return clone


def _clone_functional(model, clone_function, input_tensors, call_function):
    """The model's graph replayed on new inputs: each node's layer cloned (once), then called
    on the tensors the clone made for that node's inputs, in the forward pass's order."""
    if input_tensors is not None:
        flat = _flatten(input_tensors)
        if not all(isinstance(t, KerasTensor) for t in flat):
            raise ValueError(
                "All entries in `input_tensors` must be KerasTensors. Received invalid values: "
                f"inputs_tensors={input_tensors}"
            )
        if not _same_structure(input_tensors, model.input):
            raise ValueError(
                "`input_tensors` must have the same structure as model.input\n"
                f"Reference structure: {model.input}\nReceived structure: {input_tensors}"
            )
    else:
        input_tensors = _map(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.layer.name), model.input
        )
    # tensors given by the user may come from other layers; the model starts at Inputs of them
    new_inputs = _map(_as_input, input_tensors)
    # old tensor → new tensor; model.inputs are in sorted-key order, as _flatten gives them
    new = dict(zip(model.inputs, _flatten(new_inputs, sort=True)))
    for node in model._nodes:
        args = node.map_inputs(new.__getitem__)
        kwargs = dict(node.call_kwargs)
        kwargs.update(node.map_kwargs(new.__getitem__))
        if isinstance(node.layer, OpLayer):
            # an op holds no weights: it is run again on the new tensors (a new op node)
            outputs = node.layer.replay(node.map_inputs(new.__getitem__))
        else:
            layer = clone_function(node.layer)
            spread = list(args) if isinstance(args, CallArguments) else [args]
            if call_function is None:
                outputs = layer(*spread, **kwargs)
            else:
                outputs = call_function(layer, *spread, **kwargs)
        new.update(zip(node.outputs, _flatten(outputs)))
    new_outputs = _map(new.__getitem__, model.output)
    cls = type(model) if _default_init(model) else Functional
    clone = cls(new_inputs, new_outputs, name=model.name)
    _compile_like(model, clone)
    return clone


def _default_init(model):
    """Whether the model's class is built as Functional is, from (inputs, outputs, name): then
    the clone keeps its class (Keras's `functional_like_constructor`)."""
    return type(model).__init__ is Functional.__init__


def _as_input(tensor):
    """The tensor itself when it is an Input's, else a new Input of its shape and dtype."""
    if isinstance(tensor.layer, InputLayer):
        return tensor
    return Input(batch_shape=tensor.shape, dtype=tensor.dtype)


def _compile_like(model, clone):
    """Compile the clone as the model was (a fresh optimizer of the same config), as Keras."""
    if model.compiled:
        from minikeras.saving.serialization import compile_from_config, get_compile_config

        compile_from_config(clone, get_compile_config(model))


# ---------------------------------------------------------------------- nested structures
def _flatten(struct, sort=True):
    """The leaves of a nested list/tuple/dict, a dict's in sorted key order (as Keras)."""
    if isinstance(struct, dict):
        keys = sorted(struct) if sort else list(struct)
        return [leaf for key in keys for leaf in _flatten(struct[key], sort)]
    if isinstance(struct, (list, tuple)):
        return [leaf for item in struct for leaf in _flatten(item, sort)]
    return [struct]


def _map(fn, struct):
    """fn on every leaf, the nesting kept."""
    if isinstance(struct, dict):
        return {key: _map(fn, value) for key, value in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map(fn, item) for item in struct)
    return fn(struct)


def _same_structure(a, b):
    """Keras's `tree.assert_same_structure`: the same nesting (a list and a tuple differ) and
    the same dict keys."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and sorted(a) == sorted(b)
            and all(_same_structure(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same_structure(x, y) for x, y in zip(a, b))
        )
    return True
