"""Sequential: a plain stack of layers, data down through it and gradients back up."""

import inspect

from minikeras.layers import node as node_module
from minikeras.layers import serialization as layer_serialization
from minikeras.layers.input_layer import InputLayer, KerasTensor
from minikeras.layers.layer import Layer, dtype_from_config, dtype_policy
from minikeras.layers.name_scope import layer_scope
from minikeras.models import inputs as input_checks
from minikeras.models.model import Model


class Sequential(Model):
    """A linear stack of layers: one input, one output.

    >>> import numpy as np
    >>> from minikeras import Sequential
    >>> from minikeras.layers import Dense, Input
    >>> model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
    >>> model.predict(np.ones((5, 4)), verbose=0).shape
    (5, 2)
    """

    def __init__(self, layers=None, trainable=True, name=None):
        self._built_input_shape = self._built_output_shape = None
        super().__init__(name=name, trainable=trainable)
        self._layers = []  # with the InputLayer first, when there is one
        self._stack = []  # the same without the InputLayer, kept by add/pop: read every step
        self._input_gradient_needed = False
        self._symbolic = []  # (layer, its output KerasTensor) once built: see `_trace_symbolic`
        self._config_input_layer = None  # the InputLayer the first build makes, without Input
        self._functional = None  # Keras's functional model of the stack, once built
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        """The layers, without the InputLayer (as Keras lists them)."""
        return list(self._stack)

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Sequential.layers` attribute is reserved and should not be used. "
            "Use `add()` and `pop()` to change the layers in this model."
        )

    # Keras's Sequential has no input or output shape before it is built: `hasattr` says so
    @property
    def input_shape(self):
        if self._built_input_shape is None:
            raise AttributeError(f"Sequential model '{self.name}' has no input shape yet.")
        return self._built_input_shape

    @input_shape.setter
    def input_shape(self, shape):
        self._built_input_shape = shape

    @property
    def output_shape(self):
        if self._built_output_shape is None:
            raise AttributeError(f"Sequential model '{self.name}' has no output shape yet.")
        return self._built_output_shape

    @output_shape.setter
    def output_shape(self, shape):
        self._built_output_shape = shape

    def __call__(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("inputs")
        if isinstance(x, dict) or (input_checks.is_structure(x) and not node_module.is_symbolic(x)):
            # a dict or list for a first layer that takes one: a stack cannot be built on it,
            # so each layer is called in turn, as Keras's Sequential calls them
            if not self._stack:
                raise ValueError(f"Sequential model '{self.name}' has no layers to call.")
            training = kwargs.get("training")
            for layer in self._stack:
                x = layer(x, training=training)
            return x
        return super().__call__(*args, **kwargs)

    def add(self, layer, rebuild=True):
        """Append a layer (or an `Input(...)`) on top of the stack."""
        if isinstance(layer, KerasTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer
        if not isinstance(layer, Layer):
            raise ValueError(  # Keras 3's type (Keras 2 raised TypeError)
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input shape "
                f"{self._input_layer().batch_shape}. You cannot add a different Input layer "
                "to it."
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                "argument to pass a unique name."
            )
        if not self._layers and layer._input_shape_arg is not None:
            self._layers.append(InputLayer(shape=layer._input_shape_arg))
        elif layer._input_shape_arg is not None and not layer._inbound_nodes:
            _forget_input_shape(layer)  # past the first layer, Keras ignores `input_shape`
        self._layers.append(layer)
        if not isinstance(layer, InputLayer):
            self._stack.append(layer)
        self.built = False
        input_layer = self._input_layer()
        if rebuild and input_layer is not None and self._stack:
            self.build(input_layer.batch_shape)
        elif rebuild and self._stack and _built_model_shape(self._stack[0]) is not None:
            # a model as first layer brings its input shape, as Keras builds on it
            self.build(_built_model_shape(self._stack[0]))

    def pop(self, rebuild=True):
        """Remove the last layer and return it. A built model is built again on its input
        shape; an unbuilt one stays unbuilt until its first data, as in Keras."""
        if not self.layers:
            # Keras 3 raises IndexError here (popping its empty list); Keras 2 a TypeError
            raise IndexError(f"pop from Sequential model '{self.name}', which has no layers.")
        layer = self._layers.pop()
        self._stack.pop()  # the same layer: an InputLayer is never last when a layer is left
        self.built = False
        if rebuild and self.layers and self._built_input_shape is not None:
            self.build(self._built_input_shape)
        return layer

    def build(self, input_shape=None):
        """Build every layer in turn, each from the previous one's output shape.

        The model's InputLayer (given, or made by its first build) fixes the input shape: a
        build with another raises, as in Keras, and `add`/`pop` build again on it."""
        input_layer = self._input_layer()
        if not self._stack:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. "
                "Call `model.add(layer)`."
            )
        if input_shape is None:
            if input_layer is None:
                raise ValueError("You must provide an `input_shape` argument.")
            input_shape = input_layer.batch_shape
        shape = tuple(input_shape)
        if input_layer is not None and tuple(input_layer.batch_shape) != shape:
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input shape "
                f"{tuple(input_layer.batch_shape)}. You cannot build it with input_shape {shape}"
            )
        self.input_shape = shape
        for layer in self.layers:
            _check_single_input(layer)
            if not layer._built:  # a layer built at init still records its shapes
                with layer_scope(self), layer_scope(layer):  # `sequential/dense/kernel`
                    layer.build(shape)
                # built now, also when a `build` of yours does not call super().build (as
                # Keras's `_maybe_build`): the symbolic call below must not build it again
                layer.built = True
            else:
                layer.check_input_shape((1,) + tuple(d or 1 for d in shape[1:]))
            shape = layer.compute_output_shape(shape)
        self.output_shape = shape
        if self.layers:  # nothing below the first layer needs dL/dx: skip that product
            self.layers[0].input_gradient_needed = self._input_gradient_needed
        self.built = True
        self._trace_symbolic()

    # ------------------------------------------------------------------ as a graph
    def _trace_symbolic(self):
        """Call the layers on the model's Input once, symbolically, as Keras's Sequential does
        when it builds: every layer then has an `output` tensor and the model its `inputs` and
        `outputs`, so `Model(model.inputs, model.layers[1].output)` extracts features.

        A layer keeps the node of an earlier build while the stack below it is unchanged (each
        `add` rebuilds), so a layer of this model has one node per position it held.
        """
        first = self._layers[0] if self._layers else None
        input_layer = first if isinstance(first, InputLayer) else self._input_layer_for_config()
        x = input_layer.output
        traced = []
        for i, layer in enumerate(self._stack):
            if (
                i < len(self._symbolic)
                and self._symbolic[i][0] is layer
                and ((traced[-1][1] if traced else x) is self._symbolic[i][2])
            ):
                traced.append(self._symbolic[i])
            else:
                try:
                    y = node_module.call_symbolic(layer, x)
                except (ValueError, TypeError, NotImplementedError):
                    break  # a layer that cannot take a symbolic call: no graph past it
                traced.append((layer, y, x))
            x = traced[-1][1]
        self._symbolic = traced
        # the functional model of the stack, made at each build as Keras makes it
        self._functional = None
        if traced and len(traced) == len(self._stack):
            from minikeras.models.functional import Functional

            self._functional = Functional(self.inputs, self.outputs)

    @property
    def inputs(self):
        """[the Input tensor] once built (Keras's `model.inputs`)."""
        self._assert_traced("inputs")
        first = self._layers[0]
        input_layer = first if isinstance(first, InputLayer) else self._input_layer_for_config()
        return [input_layer.output]

    @property
    def outputs(self):
        """[the last layer's output tensor] once built (Keras's `model.outputs`)."""
        self._assert_traced("outputs")
        return [self._symbolic[-1][1]]

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    def _assert_traced(self, what):
        if not self.built or len(self._symbolic) != len(self._stack) or not self._stack:
            raise AttributeError(
                f"Sequential model '{self.name}' has no defined {what} yet: it is not built. "
                "Start it with `Input(shape)` or call it on data first."
            )

    @property
    def input_gradient_needed(self):
        """Whether `backward` must return dL/dx (True when this model is a layer inside another)."""
        return self._input_gradient_needed

    @input_gradient_needed.setter
    def input_gradient_needed(self, value):
        self._input_gradient_needed = value
        if self.layers:
            self.layers[0].input_gradient_needed = value

    def check_input_shape(self, shape):
        if self.layers:
            self.layers[0].check_input_shape(shape)

    @property
    def output_names(self):
        return [self.layers[-1].name] if self.layers else [self.name]

    def logits_chain(self, index):
        return reversed(self._stack)

    def call(self, x, training=False, mask=None):
        """Forward: x → layer 1 → layer 2 → ... → y_pred. A mask (Embedding(mask_zero=True))
        flows from each layer to the next, as each layer's `compute_mask` says."""
        self._masks = masks = []  # the mask each layer received, for its backward
        for layer in self._stack:
            masks.append(mask)
            y = layer.forward(x, training=training, mask=mask)
            mask = layer.compute_mask(x, mask)
            x = y
        self.output_masks = [mask]
        return x

    def backward(self, d_output, from_logits=None):
        """Backward: dL/dy_pred → last layer → ... → first layer; each sets its `grads`.

        from_logits: the layer at whose logits d_output arrives (`Model.logits_path`): the loss
        and that layer's softmax or sigmoid were differentiated together, so it skips its
        activation, and the layers above it (which passed its output on unchanged) are skipped.
        """
        if isinstance(d_output, list):  # one per output: this model has one
            (d_output,) = d_output
        if isinstance(from_logits, list):
            (from_logits,) = from_logits
        layers, masks = self._stack, self._masks
        top = len(layers)
        d = d_output
        if from_logits is not None:
            top = layers.index(from_logits)
            d = from_logits.backward_logits(d)
        else:
            top -= 1
            d = layers[top].backward_pass(d, masks[top])
        for i in range(top - 1, -1, -1):
            d = layers[i].backward_pass(d, masks[i])
        return d

    def compute_output_shape(self, input_shape):
        """The shape each layer makes of the one before's, in turn."""
        for layer in self.layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        """Keras 3's schema (keras/src/models/sequential.py): every layer serialized, the
        InputLayer first once the model is built (Keras makes one when it builds; so does this,
        for a model built from data), and `build_input_shape`, its batch shape."""
        entries = [layer_serialization.serialize(layer) for layer in self._layers]
        if self.built and not (self._layers and isinstance(self._layers[0], InputLayer)):
            entries.insert(0, layer_serialization.serialize(self._input_layer_for_config()))
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policy(self.dtype),
            "layers": entries,
        }
        if self.built:
            config["build_input_shape"] = tuple(self._built_input_shape)
        return config

    def _takes_text(self):
        first = self._layers[0] if self._layers else None
        return isinstance(first, InputLayer) and first.dtype == "string"

    def _input_layer(self):
        """The InputLayer given first, or the one the first build made; None before either."""
        if self._layers and isinstance(self._layers[0], InputLayer):
            return self._layers[0]
        return self._config_input_layer

    def _input_layer_for_config(self):
        # named once, so that every config of this model shows the same 'input_layer_N'
        if self._config_input_layer is None:
            self._config_input_layer = InputLayer(
                batch_shape=self._built_input_shape, dtype=self.dtype
            )
        return self._config_input_layer

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new Sequential from `get_config()`'s dict (Keras's or minikeras's)."""
        if custom_objects:
            from minikeras.utils import object_registration

            with object_registration.custom_object_scope(custom_objects):
                return cls.from_config(config)
        if "name" not in config:  # Keras 3 writes both; without them it is not its config
            raise ValueError(
                "A Sequential model configuration must be a dictionary containing the 'name' "
                f"and 'layers' keys. Received: config={config}"
            )
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        if config.get("dtype") is not None:
            model._dtype = dtype_from_config(config["dtype"])
        for entry in config["layers"]:
            model.add(layer_serialization.deserialize(entry))
        # A Keras layer casts its inputs to its own dtype; minikeras casts once, at the model's
        # edge, so the model computes in its layers' dtype. (Keras writes the model's own policy
        # from its global default, which can differ from the layers' after set_floatx.)
        layer_dtypes = {layer._dtype for layer in model.layers if layer._dtype is not None}
        if len(layer_dtypes) > 1:
            raise NotImplementedError(
                f"layers of different dtypes {sorted(layer_dtypes)}: a minikeras model computes "
                "in one dtype"
            )
        if layer_dtypes:
            model._dtype = layer_dtypes.pop()
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model


def _built_model_shape(layer):
    """The input shape of a built model (a Sequential or Functional as first layer), else
    None."""
    if not isinstance(layer, Model) or not layer.built:
        return None
    return layer.input_shape


def _check_single_input(layer):
    """Keras's ValueError for a layer whose `call` needs more than the input tensor: a stack
    hands each layer one tensor."""
    if not isinstance(layer, Layer) or isinstance(layer, Model):
        return
    parameters = inspect.signature(layer.call).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return  # `call(self, *args)`: any number will do
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if not positional:
        raise ValueError(
            "Layers added to a Sequential model should have a single positional argument, the "
            f"input tensor. Layer {type(layer).__name__} has no positional arguments."
        )
    if len(required) > 1:
        raise ValueError(
            "Layers added to a Sequential model can only have a single required positional "
            f"argument, the input tensor. Layer {type(layer).__name__} has multiple required "
            f"positional arguments: {required}"
        )


def _forget_input_shape(layer):
    """Unbuild a layer that built itself at init from its `input_shape` argument (its weights
    not yet used): the stack builds it on the shape the layer below gives."""
    if isinstance(layer, Model) or not layer._built:
        return
    layer._trainable_variables, layer._non_trainable_variables = [], []
    layer.weight_regularizers, layer.weight_constraints = [], []
    layer._input_shape_arg = None
    layer.built = False
