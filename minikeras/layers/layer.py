"""The base class of every layer: the one contract every model relies on.

A layer is written by hand, forward and backward (no autograd for built-in layers):

    build(input_shape)          create the weights with add_weight(...) (kernel, then bias)
    call(x, training=False)     the forward pass; keeps on `self` what backward needs
    backward(dy)                given dy = dL/d(output): sets self.grads (one per trainable
                                weight, same order) and returns dx = dL/d(input) — or None when
                                `input_gradient_needed` is False (a model's first layer)

Everything else a model may ask is declared here, with a default; a layer overrides only what
applies to it, and models never probe a layer for an attribute:

    output_activation           "softmax"/"sigmoid"/... when the output is made by that
                                activation (Dense(activation="softmax")); None otherwise
    logits, backward_logits(dz) that activation's input z, and the backward from dL/dz: the
                                crossentropy-from-logits path Keras takes inside fit
    is_identity(training)       True when call returns its input unchanged (Dropout at inference):
                                the logits of the layer before stay reachable, as in Keras
    input_gradient_needed       False when nothing below needs dL/dx (skips that product)
    non-trainable weights       add_weight(..., trainable=False): saved and loaded like any
                                weight, never touched by the optimizer; a layer may update them
                                itself in call(training=True) (BatchNormalization's statistics)
    regularizers, constraints   add_weight(regularizer=..., constraint=...): the model adds each
                                penalty to the loss and its gradient to the weight's, and
                                projects the weight after each update
    masks                       supports_masking, compute_mask(x, mask); `call` and `backward`
                                receive `mask=` when they declare that parameter
    per-call state              get_call_state()/set_call_state(state): what one call left for
                                its backward, so a layer called several times in one forward pass
                                (a shared layer) runs each call's backward on that call's state
    reset_state()               forget what a stateful layer carries between batches
    buffer(key, shape)          reusable scratch arrays: a steady step allocates nothing

`call` receives `training` only if it declares that parameter, as in Keras. A layer that does
not write `backward` (a layer made of `minikeras.ops`) is differentiated by the gradient tape:
its call is recorded and `backward` replays it (minikeras/autodiff/).

Weights change only in the optimizer, never inside `backward`. docs/adding-a-layer.md walks
through writing a new layer.
"""

import collections
import functools
import inspect
import warnings

import numpy as np

from minikeras import autodiff, config, initializers
from minikeras.autodiff import Variable
from minikeras.autodiff.foreign import is_foreign
from minikeras.autodiff.recording import RECORDING
from minikeras.layers import keras_mask, recorded_call
from minikeras.layers import node as node_module
from minikeras.layers.input_spec import assert_input_compatibility
from minikeras.layers.name_scope import layer_scope, weight_path
from minikeras.ops.core import convert_to_tensor
from minikeras.ops.dtypes import dtype_name
from minikeras.utils.naming import auto_name, to_snake_case

_LAYER_KWARGS = ("input_shape", "input_dim", "batch_size", "batch_input_shape", "input_length")


def _calls_past_its_backward(cls):
    """True when `cls.call` comes from a class below the built-in layer that wrote
    `cls.backward` (in its method resolution order): that backward was written for another
    call. (Layer's backward is the tape's replay already; models differentiate their graph.)"""
    owner = {}
    for klass in cls.__mro__:
        for name in ("call", "backward"):
            if name in vars(klass) and name not in owner:
                owner[name] = klass
    call_owner, backward_owner = owner.get("call"), owner.get("backward")
    if call_owner is None or backward_owner is None or call_owner is backward_owner:
        return False
    if backward_owner.__name__ == "Layer" or not backward_owner.__module__.startswith(
        "minikeras.layers."
    ):
        return False
    return issubclass(call_owner, backward_owner)


class Layer:
    """Base class for layers. Subclasses write `build`, `call`, `backward`, `get_config`."""

    # ------------------------------------------------- the contract's defaults (see above)
    output_activation = None  # the name of the activation that makes the output, if any
    logits = None  # that activation's input z from the last call (a property where it exists)
    supports_masking = False
    input_spec = None  # an InputSpec (layers/input_spec.py) checks each call's first input
    input_gradient_needed = True
    stateful = False
    optional = False  # an InputLayer made with `optional=True` may be given None
    # Keras casts only floating inputs to a layer's dtype (its autocast, DTypePolicy.convert_input):
    # a layer that only moves values about (Flatten, Reshape, padding, cropping) keeps integer
    # and boolean inputs as they are, uint8 images stay uint8; minikeras's computing layers
    # take them as floats at once (Keras's Dense, Rescaling, ... cast them inside `call`)
    keeps_integer_inputs = False
    _last_input_shape = None  # (a layer of yours with a backward: what its dL/dx must match)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Which optional arguments `call` and `backward` declare, read once per class: Keras
        # passes `training` and `mask` only to a call that names them (a user's call(x) is fine)
        cls._call_takes = _parameters(cls.call)
        cls._call_positional = _positional(cls.call)
        cls._backward_takes = _parameters(cls.backward)
        if "compute_mask" in vars(cls) and "supports_masking" not in vars(cls):
            # a class that writes compute_mask supports masking, unless it says otherwise
            # (Keras: `not utils.is_default(self.compute_mask)` in Layer.__init__)
            cls.supports_masking = True
        # minikeras's own layers keep no sublayers in attributes (models list theirs)
        cls._builtin = cls.__module__.startswith("minikeras.")
        if not cls._builtin and _calls_past_its_backward(cls):
            # your subclass of a built-in layer with a `call` of its own (keras.io's
            # StandardizedConv2D): the built-in backward differentiates the built-in call, not
            # this one, so the tape records this call and replays it, as for any layer of yours
            cls.backward = Layer.backward
            cls.output_logits = Layer._no_output_logits
            # nor is its output the built-in activation's (a softmax scaled afterwards is no
            # probability): a crossentropy must not start from that activation's logits
            cls.output_activation = None
        # a layer whose backward is the tape's replay (see `backward`) is differentiated by it
        cls.has_own_backward = not getattr(cls.backward, "replays_the_tape", False)
        if cls._builtin and cls.has_own_backward and "call" in vars(cls):
            # so that your subclass's `super().call(x)` on a tape is one entry of it
            cls.call = _on_a_tape_one_entry(cls, vars(cls)["call"])
        cls._built_at_init = _builds_at_init(cls)

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        # a layer of yours with no get_config of its own is configured by the arguments it
        # was made with (Keras's `Operation.__new__` auto-config); minikeras's layers write theirs
        instance._auto_config = None if cls._builtin else _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, trainable=True, dtype=None, name=None, activity_regularizer=None, **kwargs):
        unknown = set(kwargs) - set(_LAYER_KWARGS)
        if unknown:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {k: kwargs[k] for k in sorted(unknown)} }"
            )
        input_shape = kwargs.get("input_shape")
        if kwargs.get("input_dim") is not None:
            input_shape = (kwargs["input_dim"],)
        if input_shape is not None:
            # Keras 3 warns here too; the layer still works as the first layer of a Sequential
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
                "Sequential models, prefer using an `Input(shape)` object as the first layer in "
                "the model instead.",
                UserWarning,
                stacklevel=3,
            )
            # None for an axis of any size: keras.io's `LSTM(units, input_shape=(None, dim))`
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self._input_shape_arg = input_shape  # (features, ...) without the batch axis
        self.name = name or auto_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        if isinstance(dtype, dict):  # a config's serialized DTypePolicy, as Keras accepts
            dtype = dtype_from_config(dtype)
        self._dtype = dtype_name(dtype) if dtype is not None else None
        self.built = False
        # the Variables add_weight made, as Keras keeps them: trainable ones, then the others
        self._trainable_variables, self._non_trainable_variables = [], []
        self.grads = []  # dL/dw for each trainable weight, set by backward
        self.weight_regularizers = []  # (weight, regularizer): penalties the model adds
        self.weight_constraints = []  # (weight, constraint): projections after each update
        self._call_tape = None  # what the tape recorded of the last training call (no backward)
        self._losses = []  # what add_loss was given during the last call
        # a penalty on the output, Σ over the batch / batch size, as Keras's
        self.activity_regularizer = (
            None if activity_regularizer is None else _regularizer(activity_regularizer)
        )
        self._buffers = {}
        self.input_shape = None  # (None, features, ...) once built
        self.output_shape = None
        self._inbound_nodes = []  # one Node per call on symbolic tensors (Functional API)
        self._parent_path = None  # where the layer lives, fixed by its first build or call

    # A layer without weights (Dropout, pooling) counts as built as soon as it is made, as
    # Keras's `_build_at_init` marks it; the shapes of its first call are still recorded then
    # (`_built` says whether that happened). A subclass that writes its own `build` is not.
    builds_at_init = False

    @property
    def built(self):
        return self._built or self._built_at_init

    @built.setter
    def built(self, value):
        self._built = bool(value)

    # ------------------------------------------------------------------ weights
    @property
    def dtype(self):
        """The float type of this layer's weights and computations."""
        return self._dtype or config.dtype_policy().name

    @property
    def dtype_policy(self):
        """The layer's DTypePolicy (its one dtype: minikeras has no mixed precision)."""
        return config.DTypePolicy(self.dtype)

    # Keras's two dtypes of a layer; one and the same here
    compute_dtype = variable_dtype = dtype

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze (False) or unfreeze the layer: its weights and its sublayers', as Keras."""
        self._trainable = bool(value)
        for w in self._trainable_variables:
            w.trainable = self._trainable
        for layer in self._sublayers():
            layer.trainable = value

    def _sublayers(self):
        """The layers this one holds in its attributes (a layer of yours made of layers), in
        the order they were assigned; lists and dicts of layers count too."""
        if self._builtin:
            return []
        found = []
        for value in list(vars(self).values()):
            for item in _layers_in(value):
                if item is not self and all(item is not f for f in found):
                    found.append(item)
        return found

    @property
    def weights(self):
        """Every weight, in Keras's order: this layer's trainable ones, its non-trainable ones,
        then its sublayers' (what get_weights returns)."""
        own = self._trainable_variables + self._non_trainable_variables
        sublayers = self._sublayers()
        if not sublayers:
            return own
        seen = {id(w) for w in own}
        for layer in sublayers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    own.append(w)
        return own

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    @property
    def variables(self):
        """Every variable, as Keras lists them: the weights, and after this layer's own, the
        state of each `random.SeedGenerator` it keeps in an attribute (not a weight: not
        saved, not in `get_weights`)."""
        if not self._holds_seed_generators():
            return self.weights
        states = [v.state for v in vars(self).values() if _is_seed_generator(v)]
        found = self._trainable_variables + self._non_trainable_variables + states
        seen = {id(v) for v in found}
        for layer in self._sublayers():
            for v in layer.variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    found.append(v)
        return found

    def _holds_seed_generators(self):
        return any(_is_seed_generator(v) for v in vars(self).values()) or any(
            layer._holds_seed_generators() for layer in self._sublayers()
        )

    # Keras 3 names the same lists "variables" too
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weight_names(self):
        return [w.name for w in self.weights]

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ):
        """Create a weight (a `Variable`) of `shape`, filled by `initializer`, and register it.

        As Keras: the initializer defaults to glorot_uniform (zeros for integer dtypes). A
        `regularizer` adds its penalty to the loss a model reports and trains on (its gradient
        joins the weight's); a `constraint` projects the weight after every update.
        """
        dtype = dtype_name(dtype or self.dtype)
        shape = () if shape is None else tuple(shape)
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        # np.array, not ascontiguousarray: that one makes a scalar weight (shape ()) 1-D
        value = np.array(initializers.get(initializer)(shape, dtype=dtype), dtype, order="C")
        if name is None:  # Keras's names: variable, variable_1, ...
            count = len(self._trainable_variables + self._non_trainable_variables)
            name = f"variable_{count}" if count else "variable"
        path = weight_path(self, name)  # `parent/child/kernel`, as Keras's `variable.path`
        variable = Variable.wrap(value, trainable=trainable, name=name, path=path)
        if trainable:
            variable.trainable = self._trainable
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        # as Keras's variables, each knows its regularizer and constraint (None if none)
        variable.regularizer = None if regularizer is None else _regularizer(regularizer)
        variable.constraint = None if constraint is None else _constraint(constraint)
        if regularizer is not None:
            self.weight_regularizers.append((variable, variable.regularizer))
        if constraint is not None:
            self.weight_constraints.append((variable, variable.constraint))
        return variable

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """`add_weight` under Keras's other name (shape and initializer first, both required)."""
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            trainable=trainable,
            autocast=autocast,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
        )

    def get_weights(self):
        """Copies of the weights (plain arrays), in Keras's order."""
        return [np.array(w) for w in self.weights]

    def set_weights(self, weights):
        """Copy new values into the weights (same count and shapes, else ValueError)."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(self.weights)} weights."
            )
        arrays = [np.asarray(w) for w in weights]
        for old, new in zip(self.weights, arrays):
            if old.shape != new.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {old.shape} is not compatible with provided "
                    f"weight shape {new.shape} (weight '{old.name}')."
                )
        for old, new in zip(self.weights, arrays):
            old[...] = new  # in place: the optimizer's slots stay attached to the same arrays

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    # -------------------------------------------------------- the forward/backward contract
    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch axis first, may be None)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(input_shape)
        self.built = True

    def build_once(self, input_shape):
        """`build` on the first call, as Keras's `_maybe_build`: a `build` of yours need not
        call super().build; the layer counts as built after it."""
        if not self._built:
            with layer_scope(self):
                self.build(input_shape)
            self.built = True

    def build_for_arguments(self, shapes):
        """`build` for a call on several tensors: a `build` of yours receives the first one's
        shape, as in Keras; without one, the layer is simply marked built."""
        if type(self).build is Layer.build:
            self.input_shape, self.built = tuple(shapes[0]), True
        else:
            self.build_once(shapes[0])

    def compute_output_shape(self, input_shape):
        """The output's shape for an input of `input_shape` (batch axis first, may be None).
        A built-in layer that keeps the shape needs nothing more; for a layer of yours, the
        shape is found by running `call` on zeros, as Keras finds it by a symbolic call."""
        if self._builtin:
            return tuple(input_shape)
        if hasattr(self, "compute_output_spec"):  # a layer of yours that says: Keras asks it
            try:
                spec = self.compute_output_spec(node_module.KerasTensor(input_shape, self.dtype))
            except NotImplementedError:  # it cannot say: its call on zeros tells
                return recorded_call.probe_output_shape(self, input_shape)
            return [t.shape for t in spec] if isinstance(spec, (list, tuple)) else spec.shape
        return recorded_call.probe_output_shape(self, input_shape)

    def call(self, x, training=False):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method")

    def backward(self, dy):
        """dL/dx from dL/dy for a layer that writes no backward of its own: the tape recorded
        its last training call (`forward`) and replays it here; sets `grads` for every
        trainable weight, its sublayers' included (layers/recorded_call.py)."""
        return recorded_call.replay(self, dy)

    backward.replays_the_tape = True

    def backward_logits(self, dz):
        """The backward pass from dz = dL/d(logits), skipping the output activation."""
        raise NotImplementedError(f"Layer '{self.name}' has no output activation with logits")

    def output_logits(self, training):
        """For each output, the layer whose `logits` stand behind it (this one, when a softmax
        or sigmoid makes its output), or None. On a GradientTape the output then carries its
        logits, as Keras's does, and a crossentropy starts from them."""
        has_logits = self.output_activation in ("softmax", "sigmoid")
        return [self if has_logits and self.activity_regularizer is None else None]

    def _no_output_logits(self, training):
        """No logits stand behind the output of a `call` of yours (see `__init_subclass__`)."""
        return [None]

    def is_identity(self, training):
        """True when `call` returns its input unchanged in this mode (Dropout at inference)."""
        return False

    def compute_mask(self, inputs, mask=None):
        """The mask of the output: the input's mask passes through a layer that supports
        masking (Keras's default); other layers drop it."""
        return mask if self.supports_masking else None

    def get_call_state(self):
        """What the last call left for its backward pass (a shallow copy of the attributes)."""
        return dict(vars(self))

    def set_call_state(self, state):
        """Put back what `get_call_state` saved: the layer is as right after that call."""
        vars(self).update(state)

    def reset_state(self):
        """Forget the state a stateful layer carries between batches (nothing by default)."""

    def reset_states(self):  # Keras 2's spelling, still in Keras 3
        self.reset_state()

    # ------------------------------------------------------------------ added losses
    def add_loss(self, loss):
        """Add a term to the loss the model trains on (Keras's `add_loss`), from inside `call`:
        an activity penalty, say. It counts for the call that added it."""
        self._losses.append(loss)

    def added_losses(self):
        """The terms added by add_loss in the last call, this layer's and its sublayers' (what
        a model adds to its loss; the weights' penalties it adds itself, with their gradients)."""
        found = list(self._losses)
        for layer in self._sublayers():
            found += layer.added_losses()
        return found

    @property
    def losses(self):
        """As Keras's `layer.losses`: the add_loss terms since the last outer call, then the
        penalty of each trainable weight's regularizer, in `trainable_weights` order (Keras's
        `_get_regularization_losses`). Under a GradientTape both are values on the tape: the
        gradient counts them only where the target sums them in (`loss + sum(model.losses)`)."""
        from minikeras.regularizers import penalty  # (regularizers import the layers' tools)

        penalties = [
            penalty(w.regularizer, w)
            for w in self.trainable_weights
            if getattr(w, "regularizer", None) is not None  # a Variable made outside add_weight
        ]
        return self.added_losses() + penalties

    def _nested_layers(self):
        """Every layer inside this one, at any depth."""
        found = []
        for layer in self._sublayers():
            found += [layer, *layer._nested_layers()]
        return found

    def _flatten_layers(self, include_self=True, recursive=True):
        """This layer (with `include_self`) and the layers inside it, each once, in Keras's
        order: a layer's own list in order, the layers inside a nested one taken next, last
        first (Keras's `deque.extendleft`)."""
        found = [self] if include_self else []
        seen = set()
        queue = collections.deque(self._sublayers())
        while queue:
            layer = queue.popleft()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            found.append(layer)
            if recursive:
                queue.extendleft(layer._sublayers())
        return found

    def clear_losses(self):
        """Forget the added terms, this layer's and its sublayers' (Keras's `_clear_losses`:
        at each outer call, and before each step of a model)."""
        self._losses = []
        for layer in self._sublayers():
            layer.clear_losses()

    # ------------------------------------------------------------------ what models call
    def forward(self, x, training=False, mask=None, **kwargs):
        """`call` with the arguments it declares: what a model runs for each layer.

        While a GradientTape records (a custom train_step), the call goes on the tape; a layer
        without a backward of its own is recorded by a tape of its own in a training call, so
        that its `backward` can replay it (layers/recorded_call.py).
        """
        if "training" in self._call_takes:
            kwargs["training"] = training
        if mask is not None and "mask" in self._call_takes:
            kwargs["mask"] = mask
        if autodiff.is_recording():
            return recorded_call.on_the_tape(self, x, kwargs, mask)
        if self._builtin and self.has_own_backward:  # the fast path of built-in layers
            y = self.call(x, **kwargs)
            if self.activity_regularizer is not None:
                self._penalize_activity(y)
            return y
        with recorded_call.training_context(training), layer_scope(self):
            # sublayers called without `training` take this call's; sublayers built here are
            # this layer's (their weights' paths)
            if not self.has_own_backward and recorded_call.must_record(training):
                return recorded_call.record_call(self, x, kwargs)
            self._call_tape = None  # no earlier call's record outlives this call
            # the shape the backward's dL/dx must have (checked in backward_pass)
            self._last_input_shape = None if isinstance(x, (list, tuple, dict)) else np.shape(x)
            y = recorded_call.run_call(self, x, kwargs)
            recorded_call.penalize_activity(self, y)
            return y

    def _penalize_activity(self, y):
        """add_loss(penalty(y) / batch size), as Keras; its gradient joins dL/dy in backward."""
        self._activity_output = y
        self._activity_loss = self.activity_regularizer(y) / len(y)
        self._losses.append(self._activity_loss)

    def _activity_gradient(self, dy):
        """dy + d(penalty(y)/N)/dy, for the output y that `_penalize_activity` kept."""
        y = self._activity_output
        seed = recorded_call.loss_seed(self._activity_loss)  # 1 in fit's own step
        return dy + seed * self.activity_regularizer.gradient(y) / len(y)

    def backward_pass(self, dy, mask=None):
        """`backward` with the mask when it declares one: what a model runs for each layer."""
        if self.activity_regularizer is not None and self.has_own_backward:
            # d(penalty(y)/N)/dy joins the loss's (without a backward of its own, the penalty
            # is on the call's tape, which `replay` walks)
            dy = self._activity_gradient(dy)
        if mask is not None and "mask" in self._backward_takes:
            dx = self.backward(dy, mask=mask)
        else:
            dx = self.backward(dy)
        if not self._builtin and self.has_own_backward:
            self._check_backward_result(dx)
        return dx

    def _check_backward_result(self, dx):
        """A `backward` of yours must give one gradient per trainable weight, each of its
        weight's shape, and dL/dx of the input's shape: said here, naming the layer, rather
        than as a broadcasting error in the optimizer or the layer below."""
        where = f"Layer '{self.name}' ({type(self).__name__}): `backward`"
        # only a trainable layer's gradients are checked: a frozen layer's reach no optimizer
        # (a model and the Trainer leave them out), and a built-in backward such as Dense's
        # sets them whether or not the layer is frozen
        weights = self.trainable_weights if self.trainable else []
        grads = self.grads if self.trainable else []
        if len(grads) != len(weights):
            raise ValueError(
                f"{where} set {len(grads)} gradients in `self.grads`; expected one per "
                f"trainable weight, {len(weights)}: {[w.name for w in weights]}"
            )
        for weight, grad in zip(weights, grads):
            if np.shape(grad) != tuple(weight.shape):
                raise ValueError(
                    f"{where} gave the gradient of weight '{weight.name}' the shape "
                    f"{np.shape(grad)}; expected the weight's shape {tuple(weight.shape)}"
                )
        expected = self._last_input_shape
        if expected is not None and dx is not None and np.shape(dx) != expected:
            raise ValueError(
                f"{where} returned dL/dx of shape {np.shape(dx)}; expected the shape of the "
                f"call's input, {expected}"
            )

    def check_input_shape(self, shape):
        """Raise Keras's ValueError when an input's rank, or one of its `fixed_axes`, differs
        from the built ones. The other axes may change from call to call (a sequence's
        length, an image's size): Keras's input specs fix no more."""
        if self.input_shape is None:
            return
        built = self.input_shape
        if len(shape) != len(built):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                f"expected ndim={len(built)}, found ndim={len(shape)}. "
                f"Full shape received: {tuple(shape)}"
            )
        for axis in self.fixed_axes():  # named as the layer gives it (1, or -1), as Keras
            if built[axis] is not None and built[axis] != shape[axis]:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                    f"expected axis {axis} of input shape to have value {built[axis]}, "
                    f"but received input with shape {tuple(shape)}"
                )

    def fixed_axes(self):
        """The input axes that `check_input_shape` holds to their built sizes: those the
        weights depend on, the features (the last axis) by default, as Keras's Dense fixes
        `axes={-1: ...}` in its InputSpec; none for a layer without weights (a Dropout runs
        on any sequence length, as Keras's)."""
        return (-1,) if self.weights else ()

    def __call__(self, *args, **kwargs):
        """Build on first use, check the input, run `call`; returns fresh arrays.

        On a KerasTensor (`Dense(3)(Input(shape=(4,)))`) nothing is computed: the call is
        recorded as a node of a graph and a new KerasTensor is returned (see layers/node.py).
        Inside another layer's call, `training` defaults to that call's, as in Keras.
        """
        x, rest = (args[0], args[1:]) if args else (kwargs.pop(self._first_argument(kwargs)), ())
        if self.input_spec is not None:  # before build and call, as Keras checks it
            assert_input_compatibility(self.input_spec, x, self.name)
        if rest and all(isinstance(a, node_module.KerasTensor) for a in args):
            # a call on several tensors (`LogisticEndpoint()(targets, logits)`): one node
            return node_module.call_symbolic(self, node_module.CallArguments(args))
        if node_module.is_symbolic(x):  # its keywords (`training=False`) kept on the node
            return node_module.call_symbolic(self, x, **kwargs)
        x = _converted(x)  # a tf.Tensor, as Keras on TensorFlow takes one: the array it holds
        if rest:
            # positional arguments after the input go to `call`'s parameters in order, as
            # Keras binds them: `layer(x, mask)` passes a mask to call(inputs, mask=None)
            names = self._call_positional[1:]
            if len(rest) > len(names):
                raise TypeError(
                    f"{type(self).__name__}.call() takes {len(names) + 1} positional arguments "
                    f"but {len(rest) + 1} were given"
                )
            bound = dict(zip(names, rest))
            kwargs.update({k: bound.pop(k) for k in ("training", "mask") if k in bound})
            rest = tuple(bound.values())
        if not recorded_call.in_a_call():  # an outer call: Keras's `_clear_losses`
            self.clear_losses()
        training = kwargs.pop("training", None)
        training = recorded_call.current_training() if training is None else bool(training)
        mask = kwargs.pop("mask", None)
        if rest:  # a call with more positional arguments than the input (`call(x, y)`)
            names = [n for n in self._call_positional if n not in ("training", "mask")][1:]
            kwargs.update(zip(names, rest))
            self.build_for_arguments([recorded_call.batch_shape(a) for a in (x, *rest)])
        if recorded_call.is_traced(x) or autodiff.is_recording():
            self.build_once(recorded_call.batch_shape(x))
            if mask is None:  # the mask a traced input carries feeds `mask`, as in Keras
                mask = keras_mask.get_mask(x)
            y = self.forward(x, training=training, mask=mask, **kwargs)
            if self.supports_masking:
                plain = recorded_call.unwrap_all(x)
                y = keras_mask.attach(y, self.compute_mask(plain, mask))
            return y
        if mask is None:  # the mask the input carries, read before NumPy drops it (as Keras)
            mask = keras_mask.get_mask(x)
        if not isinstance(x, (list, tuple, dict)):
            x = np.asarray(x)
            cast = "f" if self.keeps_integer_inputs else "fiub"
            x = np.ascontiguousarray(x, dtype=self.dtype if x.dtype.kind in cast else None)
        spec_before_build = self.input_spec
        self.build_once(recorded_call.batch_shape(x))
        if self.input_spec is not spec_before_build:  # a `build` that sets one: checked again
            assert_input_compatibility(self.input_spec, x, self.name)
        if not isinstance(x, (list, tuple, dict)):
            self.check_input_shape(x.shape)
        y = recorded_call.fresh(self.forward(x, training=training, mask=mask, **kwargs))
        if self.supports_masking:  # the output carries its mask, as Keras's `_keras_mask`
            y = keras_mask.attach(y, self.compute_mask(x, mask))
        return y

    def _first_argument(self, kwargs):
        """The keyword that names the input of a call given keywords only: `call`'s first
        parameter (`endpoint(logits=..., targets=...)`), as Python binds it for Keras."""
        first = self._call_positional[0] if self._call_positional else "inputs"
        if "inputs" in kwargs:
            return "inputs"
        if first not in kwargs:
            raise TypeError(f"{type(self).__name__}.call() missing its first argument '{first}'")
        return first

    @property
    def output(self):
        """The output tensor of the layer's first call on symbolic tensors (Keras's
        `layer.output`): `Model(model.input, model.get_layer("dense").output)` is a sub-model."""
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined output."
            )
        outputs = self._inbound_nodes[0].outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def input(self):
        """The input tensor(s) of the layer's first call on symbolic tensors (Keras's
        `layer.input`): `Model(model.get_layer("dense").input, ...)` starts a sub-model there."""
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined input."
            )
        inputs = self._inbound_nodes[0].input_tensors
        return inputs[0] if len(inputs) == 1 else inputs

    def buffer(self, key, shape, dtype=None):
        """A reusable scratch array, so that a steady training step allocates nothing new.

        Callers must not keep the result across steps: the next call with the same key and shape
        overwrites it.
        """
        dtype = dtype or self.dtype  # a name compares with array.dtype without building np.dtype
        array = self._buffers.get(key)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = np.empty(shape, dtype=dtype)
            self._buffers[key] = array
        return array

    # ------------------------------------------------------------------ config
    # Keras 3's schema (keras/src/layers/layer.py `get_config`): name, trainable and the dtype as
    # a serialized DTypePolicy. No input shape: a Sequential keeps it in its InputLayer entry.
    def get_config(self):
        config = {"name": self.name}
        auto = getattr(self, "_auto_config", None)
        if auto is not None and type(self).get_config is Layer.get_config:
            config.update(auto)  # the constructor's arguments, as Keras's default get_config
            parameters = inspect.signature(type(self).__init__).parameters
            takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
            if "name" not in parameters and not takes_kwargs:
                config.pop("name")  # it could not be passed back
        config.update(trainable=self.trainable, dtype=dtype_policy(self.dtype))
        if self.activity_regularizer is not None:
            from minikeras import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    # where a file says Keras keeps the class, and the name it is registered under there (a few
    # classes live outside keras.layers: FeatureSpace in keras.utils)
    keras_module = "keras.layers"
    keras_registered_name = None

    # Keras builds a layer that has no `build` of its own (Dropout, Activation) in its __init__,
    # so its files carry no build_config for such a layer; those subclasses set this to False.
    has_build_config = True

    def get_build_config(self):
        """{"input_shape": ...} once built, as Keras records it (None before)."""
        if not (self.has_build_config and self.built and self.input_shape is not None):
            return None
        return {"input_shape": tuple(self.input_shape)}

    def build_from_config(self, build_config):
        if not self.built and build_config and build_config.get("input_shape") is not None:
            self.build(tuple(build_config["input_shape"]))

    # ------------------------------------------------------------------ state in files
    # A layer of yours may override these two to save more than its weights (or differently);
    # the files then call them with the dict of its `vars` group, as Keras's do.
    def save_own_variables(self, store):
        """Put the layer's own variables into `store` as "0", "1", ... (Keras's order)."""
        for i, variable in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[str(i)] = np.asarray(variable)

    def load_own_variables(self, store):
        """Set the layer's own variables from `store` ("0", "1", ...), after checking the count."""
        variables = self._trainable_variables + self._non_trainable_variables
        if len(store.keys()) != len(variables):
            if not variables and not self.built:
                raise ValueError(
                    f"Layer '{self.name}' was never built and thus it doesn't have any "
                    f"variables. However the weights file lists {len(store.keys())} variables "
                    "for this layer: its `build()` (or `build_from_config()`) must create them."
                )
            raise ValueError(
                f"Layer '{self.name}' expected {len(variables)} variables, but received "
                f"{len(store.keys())} variables during loading. Expected: "
                f"{[v.name for v in variables]}"
            )
        for i, variable in enumerate(variables):
            variable[...] = store[str(i)]

    @classmethod
    def from_config(cls, config_):
        # Keras (Operation.from_config) reports any error of the constructor as a TypeError
        # that names the class and the config; its recurrent layers and wrappers build
        # directly, with the constructor's own error (they call `_from_config`)
        try:
            return cls._from_config(config_)
        except Exception as error:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config_}.\n\n"
                f"Exception encountered: {error}"
            ) from error

    @classmethod
    def _from_config(cls, config_):
        config_ = accept_keras_options(cls, config_)
        batch_input_shape = config_.pop("batch_input_shape", None) or config_.pop(
            "batch_shape", None
        )
        if "dtype" in config_:
            config_["dtype"] = dtype_from_config(config_["dtype"])
        if batch_input_shape is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return cls(input_shape=tuple(batch_input_shape[1:]), **config_)
        return cls(**config_)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# Options Keras 3 writes into layer configs that minikeras does not implement: a file may carry
# them only with these values (Dense's `quantization_config` and LoRA, InputLayer's flags).
KERAS_ONLY_OPTIONS = {
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "ragged": False,
    "optional": False,
}
FLOAT_DTYPES = ("float16", "float32", "float64")


def accept_keras_options(cls, config_):
    """A copy of `config_` without KERAS_ONLY_OPTIONS; NotImplementedError if one is switched on."""
    config_ = dict(config_)
    for key, off in KERAS_ONLY_OPTIONS.items():
        if key in config_ and config_.pop(key) != off:
            raise NotImplementedError(f"{cls.__name__}({key}=...) is not supported by minikeras")
    return config_


def dtype_policy(dtype):
    """Keras 3's serialized DTypePolicy for a float dtype name."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype},
        "registered_name": None,
    }


def dtype_from_config(value):
    """The dtype name in a config entry: a plain name or a serialized DTypePolicy (None stays)."""
    if isinstance(value, dict):
        if value.get("class_name") != "DTypePolicy":
            raise NotImplementedError(
                f"dtype policy {value.get('class_name')!r} is not supported by minikeras "
                f"(only plain {', '.join(FLOAT_DTYPES)})"
            )
        value = value.get("config", {}).get("name")
    if value is not None and value not in FLOAT_DTYPES:
        raise NotImplementedError(
            f"dtype {value!r} is not supported by minikeras (only {', '.join(FLOAT_DTYPES)})"
        )
    return value


def _on_a_tape_one_entry(owner, call):
    """`owner.call`, which a tape records as one entry when it is reached directly while the tape
    records (recorded_call.builtin_call_on_the_tape). Elsewhere it is the call itself: models and
    a layer's `__call__` reach built-in calls with no tape recording (they put whole layers on
    the tape themselves), so the check costs one list lookup."""

    @functools.wraps(call)
    def call_or_entry(self, *args, **kwargs):
        # one entry for a layer whose class keeps this backward, or a subclass whose own call
        # reached this one (`super().call`); not for a subclass that inherits this call and is
        # differentiated op by op, nor an instance that says so (an RNN of a cell of yours)
        cls = type(self)
        if (
            RECORDING
            and (cls.has_own_backward or cls.call is not call_or_entry)
            and vars(self).get("has_own_backward", True)
        ):
            return recorded_call.builtin_call_on_the_tape(self, owner, call, args, kwargs)
        return call(self, *args, **kwargs)

    return call_or_entry


def _builds_at_init(cls):
    """Whether `cls` is built once made: the nearest class (up its MRO) that says
    `builds_at_init` or writes a `build` decides; a `build` of a subclass of yours says no,
    as Keras's test (`ModifiedBuildLayer`) expects."""
    for klass in cls.__mro__:
        if "builds_at_init" in vars(klass):
            return vars(klass)["builds_at_init"]
        if "build" in vars(klass):
            return False
    return False


def _parameters(function):
    """The names of a function's parameters; "training" and "mask" also when it takes **kwargs."""
    parameters = inspect.signature(function).parameters
    names = set(parameters)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        names |= {"training", "mask"}
    return names


def _positional(function):
    """The names of a function's parameters in order, `self` left out."""
    return [name for name in inspect.signature(function).parameters if name != "self"]


def _regularizer(identifier):
    from minikeras import regularizers

    return regularizers.get(identifier)


def _constraint(identifier):
    from minikeras import constraints

    return constraints.get(identifier)


def _is_seed_generator(value):
    from minikeras.random import SeedGenerator  # (minikeras.random imports the layers' tools)

    return isinstance(value, SeedGenerator)


def _auto_config(cls, args, kwargs):
    """The constructor's arguments by name, defaults included, when all are plain values
    (str, int, float, bool, None, or lists and dicts of them) that `cls(**config)` can take
    back; else None. Keras's rule (`Operation.__new__`)."""
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    config = {}
    for name, parameter in list(signature.parameters.items())[1:]:
        value = bound.arguments.get(name)
        if parameter.kind is parameter.POSITIONAL_ONLY:
            return None
        if parameter.kind is parameter.VAR_POSITIONAL:
            if value:
                return None
        elif parameter.kind is parameter.VAR_KEYWORD:
            config.update(value or {})
        else:
            config[name] = value
    config.pop("name", None)  # get_config gives the layer's name itself
    return config if all(map(_plain_value, config.values())) else None


def _plain_value(value):
    if isinstance(value, (list, tuple)):
        return all(map(_plain_value, value))
    if isinstance(value, dict):
        return all(map(_plain_value, value.values()))
    return isinstance(value, (str, int, float, bool, type(None)))


def _layers_in(value, seen=None):
    """The layers in an attribute's value: a layer, or the layers in a list, tuple or dict,
    nested ones too (`self.blocks = [[Dense(4), Dense(4)], [Dense(4)]]`), as Keras tracks them.
    A container that holds itself is walked once."""
    if isinstance(value, Layer):
        return [value]
    if not isinstance(value, (list, tuple, dict)):
        return []
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    items = value.values() if isinstance(value, dict) else value
    return [layer for item in items for layer in _layers_in(item, seen)]


Layer._call_takes = _parameters(Layer.call)
Layer._call_positional = _positional(Layer.call)
Layer._backward_takes = _parameters(Layer.backward)
Layer.has_own_backward = False
Layer._builtin = False
Layer._built_at_init = False


def _converted(x):
    """`x` with each tensor of another library converted as `ops.convert_to_tensor` does (on
    a tape that watches it, so that its gradient reaches it); lists, tuples, dicts kept."""
    if isinstance(x, (list, tuple)):
        return type(x)(_converted(item) for item in x)
    if isinstance(x, dict):
        return {key: _converted(item) for key, item in x.items()}
    return convert_to_tensor(x) if is_foreign(x) else x
