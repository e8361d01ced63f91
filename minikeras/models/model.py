"""Model: compile, then the training loop (fit), evaluate and predict.

One training step, as `train_step` does it (and `testing.check_gradients` and `trace` reuse):

    y_pred = self.forward(x, training=True)          each layer's call, first to last
    loss, d = self.compute_loss_and_gradients(...)   the loss and dL/dy_pred (or dL/dlogits)
    self.backward(d, from_logits=...)                each layer's backward, last to first
    self.optimizer.apply(grads, weights)             the only place weights change
    self.compute_metrics(x, y, y_pred, ...)          running means for the progress bar, History

When the output is made by a softmax (or sigmoid) and the loss is a crossentropy, Keras computes
the loss from the logits z instead of the probabilities: exact even when a probability rounds to
0, and the gradient is simply p − y (over N). minikeras does the same; where that path is taken
is decided in one place, `outputs.logits_layer`, for every kind of model.

`Model` holds what every kind of model shares: compile (one `outputs.OutputSpec` per output),
the step, the loops. `Sequential` (a stack) and `Functional` (a graph) say how data flows
forward and gradients flow back; a subclass of `Model` writes `call` and is differentiated by
the gradient tape.
"""

import inspect
import warnings

import numpy as np

from minikeras import activations, autodiff, config, ops, tree
from minikeras import callbacks as callbacks_module
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import optimizers as optimizers_module
from minikeras.layers import node as node_module
from minikeras.layers import recorded_call
from minikeras.layers.layer import Layer
from minikeras.layers.name_scope import layer_scope
from minikeras.models import compiled_step, inputs, keras2_names
from minikeras.models import outputs as outputs_module
from minikeras.models.arrays import Arrays, Structure, as_list
from minikeras.models.compile_metrics import CompileMetrics
from minikeras.optimizers import flat_update
from minikeras.trainers import data_adapters
from minikeras.trainers.compile_utils import CompileLoss
from minikeras.trainers.epoch_iterator import EpochIterator
from minikeras.utils import batching


class Model(Layer):
    """The base of every model. Subclasses define `call`, `backward`, `build`, `layers`."""

    def __new__(cls, *args, **kwargs):
        # Model(inputs, outputs) is a graph of layers: Keras hands it to its Functional class
        # (keras/src/models/model.py `Model.__new__`). Only Model itself: a subclass is told
        # by what its __init__ passes on to Model.__init__, not by its own arguments (a
        # VAE(encoder, decoder) is no graph).
        from minikeras.models.functional import Functional

        if cls is Model and functional_init_arguments(args, kwargs):
            return super().__new__(Functional)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        from minikeras.models.functional import Functional

        if functional_init_arguments(args, kwargs) and not isinstance(self, Functional):
            # A subclass of Model whose __init__ passes (inputs, outputs) on keeps its own
            # methods (a custom train_step) on top of Functional's, as Keras does by
            # injecting Functional into its bases (`inject_functional_model_class`)
            self.__class__ = _with_functional(type(self), Functional)
            Functional.__init__(self, *args, name=name, trainable=trainable, dtype=dtype, **kwargs)
            return
        if args:
            raise TypeError(
                f"{type(self).__name__}: Model.__init__ takes (inputs, outputs) or keyword "
                f"arguments only; received {len(args)} positional arguments."
            )
        super().__init__(trainable=trainable, dtype=dtype, name=name, **kwargs)
        init_training_state(self)

    # ------------------------------------------------------------------ subclasses provide
    @property
    def layers(self):
        """The model's layers. A subclass of Model: the layers it holds in its attributes."""
        return self._sublayers()

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Model.layers` attribute is reserved and should not be used. Please use another name."
        )

    def _sublayers(self):
        if self.has_own_backward:  # Sequential and Functional list their layers themselves
            return self.layers
        return Layer._sublayers(self)

    @property
    def output_names(self):
        """The output layers' names (a model with one output has one)."""
        return [self.name]

    @property
    def output_keys(self):
        """The names compile()'s dicts and the logs use for the outputs."""
        return self.output_names

    def logits_chain(self, index):
        """The layers that lead to output `index`, the last one first, as far as each feeds
        only the next (where the crossentropy may start from a softmax's logits)."""
        return []

    def output_logits(self, training):
        """For each output, the layer whose softmax or sigmoid makes it (its logits stand
        behind the output on a GradientTape), or None."""
        return [
            outputs_module.activation_layer(self.logits_chain(i), training)
            for i in range(len(self.output_keys))
        ]

    def build(self, input_shape):
        """`model.build(shape)` on a subclass of Model that writes no `build`: as Keras's
        default `Layer.build`, the model is only marked built; its layers create their
        weights at its first call (fit, predict or a call run it once on zeros first:
        `_build_for_data`). Keras warns when the model holds layers not built yet."""
        if type(self).build is Model.build and any(not l.built for l in self._sublayers()):
            warnings.warn(
                f"`build()` was called on layer '{self.name}', however the layer does not have "
                "a `build()` method implemented and it looks like it has unbuilt state. This "
                "will cause the layer to be marked as built, despite not being actually built, "
                "which may cause failures down the line. Make sure to implement a proper "
                "`build()` method.",
                stacklevel=2,
            )
        self.input_shape = recorded_call.as_shape(input_shape)
        self.built = True

    def build_once(self, input_shape):
        """At its first call, a subclass of Model that writes no `build` is run once on zeros,
        so that its layers make their weights, as Keras's `_maybe_build` traces its call."""
        if not self.built and type(self).build is Model.build and not self.has_own_backward:
            self._build_for_data(recorded_call.as_shape(input_shape))
        else:
            super().build_once(input_shape)

    def build_from_config(self, build_config):
        """A subclass of Model from a file: run once on zeros of the saved input shape, so
        that its weights exist to be loaded (Keras's `build_from_config` for a model without
        a `build` of its own: `_build_by_run_for_single_pos_arg`)."""
        if not self.built and build_config and build_config.get("input_shape") is not None:
            self._build_for_data(recorded_call.as_shape(build_config["input_shape"]))

    def backward(self, dy, from_logits=None):
        """A subclass of Model: the tape's replay of its recorded call (`Layer.backward`);
        where `from_logits` names an output's logits (`logits_path`), the replay starts there."""
        starts = None
        if isinstance(from_logits, list) and any(p is not None for p in from_logits):
            starts = [None if p is None else p.tensor for p in from_logits]
        return recorded_call.replay(self, dy, starts)

    backward.replays_the_tape = True

    # ------------------------------------------------------------------ weights
    @property
    def grads(self):
        """dL/dw for every trainable weight, after `backward`, in `trainable_weights` order."""
        if not self.has_own_backward:
            return self._tape_grads
        return [g for layer in self.layers if layer.trainable for g in layer.grads]

    @grads.setter
    def grads(self, value):  # the tape's replay sets a subclass's gradients here
        self._tape_grads = value

    @property
    def weight_regularizers(self):
        """(weight, regularizer) of every trainable weight that has one (Keras counts only
        trainable weights' penalties)."""
        return [p for layer in self.layers if layer.trainable for p in layer.weight_regularizers]

    @weight_regularizers.setter
    def weight_regularizers(self, value):
        pass

    @property
    def weight_constraints(self):
        return [c for layer in self.layers for c in layer.weight_constraints]

    @weight_constraints.setter
    def weight_constraints(self, value):
        pass

    def set_weights(self, weights):
        """Copy weights in, in Keras's order; checks count and shapes before changing any."""
        weights = [np.asarray(w) for w in weights]
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on model '{self.name}' with a weight list of "
                f"length {len(weights)}, but the model was expecting {len(own)} weights."
            )
        for i, (old, new) in enumerate(zip(own, weights)):
            if old.shape != new.shape:
                raise ValueError(
                    f"Weight {i} of model '{self.name}' has shape {old.shape}; the value given "
                    f"has shape {new.shape}."
                )
        for old, new in zip(own, weights):
            old[...] = new

    def count_params(self):
        if not self.built:
            raise ValueError(
                "You tried to call `count_params` on this model, but the model has not been "
                "built. Build it first, e.g. by calling it on data or giving an input shape."
            )
        return int(sum(w.size for w in self.weights))

    def get_layer(self, name=None, index=None):
        """A layer by name or by index (Keras's messages for neither, both, or one too far)."""
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Choose optimizer, loss and metrics. Unknown names fail here, listing the valid ones.

        `loss`, `loss_weights` and `metrics` may be given per output, as a list in the outputs'
        order or a dict by output name (models/outputs.py).
        """
        # every name is understood before anything changes: a failed compile keeps the old setup
        optimizer = optimizers_module.get(optimizer)
        steps_per_execution = inputs.positive_int(steps_per_execution, "steps_per_execution")
        deferred, loss_for_specs, weights_for_specs = None, loss, loss_weights
        compile_loss = None
        if outputs_module.needs_compile_loss(loss, self._outputs_struct, self.output_keys):
            names = self.output_names if self._outputs_struct is not None else None
            compile_loss = CompileLoss(loss, loss_weights, output_names=names)
            loss_for_specs, weights_for_specs = None, None
        elif isinstance(loss, dict) and "class_name" not in loss:
            keys = list(self.output_keys)
            if isinstance(self._outputs_struct, dict) and set(loss) <= set(keys):
                # outputs given as a dict: an output the loss dict leaves out has no loss
                loss_for_specs = {key: loss.get(key) for key in keys}
            elif set(loss) != set(keys):
                # Keras accepts this compile and fails when it first computes the loss (fit,
                # evaluate): so does minikeras, with Keras's message
                deferred = ValueError(
                    f"Expected keys {keys} in loss dict, but found loss.keys()={list(loss)}"
                )
                loss_for_specs = {key: loss.get(key) for key in keys}
        try:
            specs = outputs_module.resolve(
                loss_for_specs, weights_for_specs, metrics, self.output_keys, weighted_metrics
            )
        except outputs_module.InvalidMetrics as error:
            # Keras accepts this compile and fails when it builds its metrics (fit, evaluate)
            deferred = deferred or ValueError(str(error))
            specs = outputs_module.resolve(
                loss_for_specs, weights_for_specs, None, self.output_keys, None
            )
        outputs_module.check_metric_names(specs)
        self.optimizer, self.loss, self.loss_weights = optimizer, loss, loss_weights
        self.output_specs = specs
        self._deferred_compile_error = deferred
        self._compile_loss, self._structured_path = compile_loss, None
        if compile_loss is not None:
            compile_loss.track_batch_size = False  # each batch counts once (`_track_output_losses`)
        # Keras makes the container at compile when metrics are given (even empty), so that
        # `model.metrics` lists it before any data; it is built once labels are seen
        given = metrics is not None or weighted_metrics is not None
        self.compile_metrics = CompileMetrics() if given else None
        self._loss_tracker = metrics_module.Mean(name="loss")  # a fresh one each compile, as Keras
        self._metric_entries, self._loss_trackers = None, []
        # steps per call of the step function: the callbacks see one batch per execution
        # (minikeras runs every step in Python or its compiled step, whatever these say)
        self.steps_per_execution = steps_per_execution
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        # the arguments as given: a saved file's compile_config holds them, as Keras's does
        self._compile_config = dict(
            loss=loss,
            loss_weights=loss_weights,
            metrics=metrics,
            weighted_metrics=weighted_metrics,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )
        self.compiled = True

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A model from its config; `custom_objects` (name → class) finds your own layers, as
        Keras's `Model.from_config(config, custom_objects=...)`."""
        from minikeras.models.functional import Functional, functional_from_config
        from minikeras.utils import object_registration

        with object_registration.custom_object_scope(custom_objects):
            # Keras's rule (keras/src/models/model.py `from_config`): a graph's config revives
            # as a graph when the class's constructor takes what Functional's does
            is_graph = all(
                key in config for key in ("name", "layers", "input_layers", "output_layers")
            )
            if is_graph and _revivable_as_functional(cls, Functional):
                return functional_from_config(Functional if cls is Model else cls, config)
            try:
                return cls(**config)
            except TypeError as error:
                raise TypeError(
                    "Unable to revive model from config. When overriding the `get_config()` "
                    "method, make sure that the returned config contains all items used as "
                    f"arguments in the  constructor to {cls}, which is the default behavior. "
                    "You can override this default behavior by defining a `from_config(cls, "
                    f"config)` class method to specify how to create an instance of "
                    f"{cls.__name__} from its config.\n\nReceived config={config}\n\nError "
                    f"encountered during deserialization: {error}"
                ) from error

    def _assert_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if self._deferred_compile_error is not None:
            raise self._deferred_compile_error

    def has_compiled_loss(self):
        """Whether compile gave a loss for at least one output (else only add_loss terms and
        the weights' penalties are trained on, as Keras allows)."""
        if self._compile_loss is not None:
            return True
        return any(spec.loss is not None for spec in self.output_specs)

    # ------------------------------------------------------------------ data at the edge
    def _build_on_batch(self, x, batch_size=None):
        """Keras builds a model on the concrete shape of the first batch a call, predict or
        *_on_batch gives it (its summary shows that batch size); fit and evaluate build it
        with the batch axis None."""
        if not self.built:
            self._prepare_x(x, concrete_batch=True, batch_size=batch_size)

    def _takes_text(self):
        """Whether the model's input is text (a Sequential that starts with a string Input)."""
        return False

    def _prepare_x(self, x, name="x", concrete_batch=False, batch_size=None):
        if not self.has_own_backward and inputs.is_structure(x):
            return self._prepare_structure(x, name, concrete_batch, batch_size)
        if self._takes_text():  # an Input(dtype="string"): text for a lookup layer
            x = inputs.to_string_array(x, name)
        else:
            x = inputs.to_array(x, self.dtype, name)
        if not self.built or (not self.has_own_backward and self.output_shape is None):
            batch = min(len(x), batch_size or len(x)) if concrete_batch and x.ndim else None
            self._build_for_data((batch,) + x.shape[1:])
        expected = self.input_shape
        if x.ndim == len(expected) - 1 and all(
            e is None or e == s for e, s in zip(expected[1:], x.shape)
        ):
            raise ValueError(
                f"`{name}` has shape {x.shape}: one sample without a batch axis. The model expects "
                f"inputs of shape {expected} (batch first); pass `np.expand_dims({name}, 0)` or "
                f"`{name}[None]` to give it a batch of one."
            )
        self.check_input_shape(x.shape)
        return x

    def _prepare_structure(self, x, name, concrete_batch, batch_size):
        """A subclass of Model given a list, tuple or dict of arrays: each batch reaches its
        `call` in that structure, as Keras hands it (a `Structure` batches them together)."""
        structure = Structure(inputs.map_arrays(x, self.dtype, name))
        arrays = structure.arrays()
        inputs.check_same_length(**{f"{name}[{i}]": a for i, a in enumerate(arrays)})
        if not self.built or self.output_shape is None:
            batch = min(len(arrays[0]), batch_size or len(arrays[0])) if concrete_batch else None
            shapes = recorded_call.batch_shape(structure.structure)
            self._build_for_data(inputs.with_batch_size(shapes, batch))
        return structure

    def _build_for_data(self, input_shape):
        """Build before the first batch. A subclass of Model is also run once on zeros, so that
        its output shape is known (the labels are checked against it), as Keras builds it by
        a symbolic call in fit and predict (`_build_by_run_for_single_pos_arg`)."""
        if not self.built and type(self).build is not Model.build:  # a `build` of yours
            self.build(input_shape)
        if not self.has_own_backward and self.output_shape is None:
            self.input_shape = recorded_call.as_shape(input_shape)
            with layer_scope(self):  # its layers are built inside: `my_model/dense/kernel`
                self.output_shape = recorded_call.probe_output_shape(self, input_shape)
            self.built = True

    def _prepare_y(self, y, n, name="y", out_shape=None, loss=None):
        """Labels checked against the loss and the model's output shape (by default; a model
        with several outputs checks each output's labels against that output and its loss)."""
        y = inputs.to_array(y, self.dtype, name)
        out_shape = self.output_shape if out_shape is None else out_shape
        if loss is None:
            loss = self.output_specs[0].resolve_loss(np.shape(y), out_shape)
        if isinstance(loss, losses_module.CTC):
            return y  # label sequences (batch, max_length), another length than the frames
        if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
            if not (
                y.ndim == len(out_shape) - 1 or (y.ndim == len(out_shape) and y.shape[-1] == 1)
            ):
                raise ValueError(
                    f"`{name}` has shape {y.shape}; sparse_categorical_crossentropy expects one "
                    f"integer class id per sample, shape ({y.shape[0]},) or ({y.shape[0]}, 1), for "
                    f"an output of shape {out_shape}."
                )
            counted = y[y != loss.ignore_class] if loss.ignore_class is not None else y
            if counted.size and (
                np.any(counted != np.round(counted))
                or counted.min() < 0
                or counted.max() >= out_shape[-1]
            ):
                raise ValueError(
                    f"`{name}` must hold integer class ids in [0, {out_shape[-1]}) for an output "
                    f"of shape {out_shape}; received values from {counted.min()} to "
                    f"{counted.max()}."
                )
            return y
        if y.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
            y = y.reshape(y.shape + (1,))  # labels (N,) for an output (N, 1), as Keras accepts
        if y.ndim != len(out_shape) or any(
            d is not None and d != k for d, k in zip(out_shape[1:], y.shape[1:])
        ):  # an axis of size None (sequences of any length) takes any size
            hint = ""
            if isinstance(loss, losses_module.CategoricalCrossentropy) and (
                y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out_shape[-1] > 1)
            ):
                hint = (
                    " For categorical_crossentropy the labels must be one-hot rows "
                    "(minikeras.utils.to_categorical), or use sparse_categorical_crossentropy "
                    "with integer labels."
                )
            raise ValueError(
                f"Arguments `target` and `output` must have the same shape. Received: "
                f"target.shape={y.shape}, output.shape={out_shape}.{hint}"
            )
        return y

    def _sliceable(self, data, which):
        """`data` (x or y, as given to fit) as something `validation_split` can cut: an array.
        (A model with several inputs or outputs gives several arrays cut together.)"""
        if not self.has_own_backward and which == "x" and inputs.is_structure(data):
            return Structure(data)
        if which == "y" and self._compile_loss is not None and tree.is_nested(data):
            return self._structured_labels(data)
        return np.asarray(data)

    @staticmethod
    def _structured_labels(y):
        """Labels for a loss given in a structure, kept in theirs (to be cut or batched)."""
        return Structure(tree.map_structure(lambda a: None if a is None else np.asarray(a), y))

    def own_steps(self):
        """Whether this model's class writes its own train_step or test_step (then fit hands
        it the data as given, and the step decides what a loss and labels are)."""
        cls = type(self)
        return cls.train_step is not Model.train_step or cls.test_step is not Model.test_step

    def prepare_data(self, x, y, sample_weight=None, class_weight=None):
        """The checks and conversions fit, evaluate and train_on_batch make at their edge:
        contiguous arrays in the model's dtype, labels fit for the loss, one weight per sample."""
        if self.own_steps():
            return self.prepare_own_step_data(x, y, sample_weight, class_weight)
        self._assert_compiled()
        if self._compile_loss is not None:
            return self.prepare_structured_data(x, y, sample_weight, class_weight)
        x = self._prepare_x(x)
        if y is None and not self.has_compiled_loss():  # trained on add_loss terms only
            w = inputs.sample_weights(sample_weight, class_weight, None, len(x), self.dtype)
            return x, None, w
        if y is None:
            raise ValueError("`y` is None: training and evaluation need labels for every sample.")
        y_array = np.asarray(y)
        inputs.check_same_length(x=_first_array(x), y=y_array if y_array.ndim else None)
        y = self._prepare_y(y_array, len(x))
        w = inputs.sample_weights(sample_weight, class_weight, y, len(x), self.dtype)
        self._build_metrics(y)
        return x, y, w

    def prepare_own_step_data(self, x, y, sample_weight=None, class_weight=None):
        """`prepare_data` for a model whose class writes its own train_step or test_step: the
        step decides what a loss and labels are (compile may have no loss, y may be absent),
        so x and y are only made arrays, keeping the structure given (a list or dict of
        arrays reaches the step as a list or dict), as Keras hands the data to the step."""
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if type(self).call is Layer.call:  # a GAN: its step calls the models it holds
            checked = inputs.to_array(x, self.dtype, "x")
        else:
            checked = self._prepare_x(x)  # builds the model and checks the inputs' shapes
        if isinstance(x, (list, tuple, dict)):
            x = Structure(inputs.map_arrays(x, self.dtype, "x"))
        else:
            x = checked
        if isinstance(y, (list, tuple, dict)):
            y = Structure(inputs.map_arrays(y, self.dtype, "y"))
        elif y is not None:
            y = inputs.to_array(y, self.dtype, "y")
        inputs.check_same_length(x=_first_array(x), y=_first_array(y))
        labels = None if isinstance(y, Structure) else y
        w = inputs.sample_weights(sample_weight, class_weight, labels, len(x), self.dtype)
        if y is not None:
            self._build_metrics_from(y)
        return x, y, w

    def _build_metrics_from(self, y, y_pred=None):
        """`_build_metrics` from labels as a step of yours receives them (an array, a list or
        dict by output key), when they are one per output (and the predictions, when the
        model's own output shape is unknown)."""
        if self.output_specs is None:
            return
        several = len(self.output_specs) > 1
        per_output = self._per_output(y.structure if isinstance(y, Structure) else y)
        if len(per_output) == len(self.output_specs):
            self._build_metrics(Arrays(per_output) if several else per_output[0], y_pred)

    def prepare_structured_data(self, x, y, sample_weight=None, class_weight=None):
        """`prepare_data` for a loss given in a structure (`_compile_loss`): the labels keep
        the structure they are given in (each leaf an array in the model's dtype), and the
        loss matches them with the outputs' structure at its first call, as Keras's does."""
        x = self._prepare_x(x)
        if y is None:
            raise ValueError("`y` is None: training and evaluation need labels for every sample.")
        if isinstance(y, Structure):  # cut by validation_split
            y = y.structure
        y = tree.map_structure(
            lambda a: None if a is None else inputs.to_array(a, self.dtype, "y"), y
        )
        y = Structure(y) if tree.is_nested(y) else y
        inputs.check_same_length(x=_first_array(x), y=_first_array(y))
        w = inputs.sample_weights(sample_weight, class_weight, None, len(x), self.dtype)
        flat = tree.flatten(y.structure if isinstance(y, Structure) else y)
        if len(flat) == len(self.output_specs) and all(a is not None for a in flat):
            self._build_metrics(Arrays(flat) if len(flat) > 1 else flat[0])
        return x, y, w

    def _build_metrics(self, y, y_pred=None):
        """Make the metric objects once the labels' shapes are known ('accuracy' depends on
        them), named for the logs as Keras names them. A model that has no output shape (a
        subclass whose step calls other models, never its own `call`) waits for the first
        predictions its step passes to the metrics, as Keras builds its metrics then."""
        if self._metric_entries is None:
            y_shapes = [None if a is None else a.shape for a in as_list(y)]
            if self.output_shape is not None:
                several = len(self.output_specs) > 1
                output_shapes = self.output_shape if several else [self.output_shape]
            elif y_pred is not None:
                output_shapes = [np.shape(p) for p in self._per_output(y_pred)]
            else:
                return
            entries, trackers = outputs_module.build_metrics(
                self.output_specs, y_shapes, output_shapes
            )
            # a metric that cannot take these labels fails now, before any weight changes
            # (Keras fails when it traces its step, before the first update)
            CompileMetrics(entries).check_shapes(as_list(y), output_shapes, self.dtype)
            self._metric_entries, self._loss_trackers = entries, trackers
            if self.compile_metrics is not None:
                self.compile_metrics.build(entries, self.output_keys)

    # ------------------------------------------------------------------ one step, in pieces
    def logits_path(self, training):
        """For each output: the layer whose logits its loss starts from, or None (the loss
        starts from the output itself). Keras's rule, decided here and only here.

        A subclass of Model: the output of its recorded call carries its softmax's or
        sigmoid's logits (as Keras's tensor does), and a crossentropy starts from them.

        A loss given in a structure: the layers found by its last computation
        (`_structured_loss_and_gradients`)."""
        if self._compile_loss is not None:
            return self._structured_path or [None] * len(self.output_specs)
        if not self.has_own_backward:
            outputs = recorded_call.recorded_outputs(self)
            path = []
            for spec, output in zip(self.output_specs, outputs + [None] * len(self.output_specs)):
                z = None if spec.loss is None else spec.loss.logits_of(output)
                path.append(None if z is None else recorded_call.LogitsOf(z))
            return path
        return [
            outputs_module.logits_layer(self.logits_chain(i), spec.loss, training)
            for i, spec in enumerate(self.output_specs)
        ]

    def compute_loss_and_gradients(
        self, y, y_pred, sample_weight=None, training=True, path=None, output_logits=None
    ):
        """The total loss Σ weightᵢ·lossᵢ (+ the weights' penalties) and, per output, its
        gradient weightᵢ·dlossᵢ/d(outputᵢ) — at the logits where `logits_path` says so (or
        `path`, given; or `output_logits`, the logits arrays themselves, where not None)."""
        if self._compile_loss is not None:
            total, d_outputs = self._structured_loss_and_gradients(
                y, y_pred, sample_weight, training
            )
            return self._with_penalties(total), d_outputs
        ys, preds = as_list(y), as_list(y_pred)
        total, d_outputs, self._output_losses = 0.0, [], []
        path = self.logits_path(training) if path is None else path
        masks = self._masks_of(preds)
        # one weight array for every output, or (several outputs) one each
        weights = sample_weight.arrays if isinstance(sample_weight, Arrays) else None
        for i, spec in enumerate(self.output_specs):
            if weights is not None:
                sample_weight = weights[i]
            if spec.loss is None:
                d_outputs.append(None)
                continue
            if output_logits is not None and output_logits[i] is not None:  # a Tensor's
                value, d = spec.loss.value_and_grad_from_logits(
                    ys[i], output_logits[i], sample_weight, mask=masks[i]
                )
            elif path[i] is not None:  # from the logits of the softmax or sigmoid
                logits = path[i].logits
                value, d = spec.loss.value_and_grad_from_logits(
                    ys[i], logits, sample_weight, mask=masks[i]
                )
            else:  # in the loss's dtype, as Keras casts y_pred (`outputs.loss_dtype`)
                pred = np.asarray(preds[i])
                cast = pred.astype(outputs_module.loss_dtype(spec.loss), copy=False)
                value, d = spec.loss.value_and_grad(ys[i], cast, sample_weight, mask=masks[i])
                d = d.astype(pred.dtype, copy=False)
            self._output_losses.append(value)  # unweighted, for the `<output>_loss` logs
            if spec.weight is not None:
                weight = np.dtype(self.dtype).type(spec.weight)
                value, d = value * weight, d * weight
            total = total + value
            d_outputs.append(d)
        return self._with_penalties(total), d_outputs

    def _with_penalties(self, total):
        """The loss plus the weights' penalties and the `add_loss` terms of the last call."""
        regularized = self.weight_regularizers
        for weight, regularizer in regularized:
            total = total + regularizer(weight)
        added = self.added_losses()
        for term in added:  # add_loss terms of the last call (their gradients: the tape's)
            total = total + np.asarray(autodiff.unwrap(term)).sum()
        if not self.has_compiled_loss() and not added and not regularized:
            # as Keras's Trainer.compute_loss, once the forward pass has shown no added loss
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def _outputs_as_given(self, arrays):
        """The outputs (a list in `outputs` order) in the structure the model gives them."""
        return arrays[0] if len(arrays) == 1 else list(arrays)

    def _structured_loss_and_gradients(self, y, y_pred, sample_weight, training):
        """(loss, [dL/d output]) for a loss given in a structure (`CompileLoss`, recorded on a
        tape). Where a crossentropy reads an output made by a softmax or sigmoid, it starts
        from the logits, as in Keras's fit; that output's whole gradient is then handed back
        at the logits: dL/dz = (dL/dz of the crossentropy) + dL/dy·∂y/∂z."""
        if isinstance(y_pred, (list, tuple, dict)):
            # a subclassed model's call returned a structure: the loss reads it as it is (its
            # leaves in `tree.flatten`'s order, a dict's keys sorted); the gradients go back in
            # the order the call's outputs are replayed (a dict's keys as the call made them)
            total, d_flat, _ = self._compile_loss.value_and_grads(y, y_pred, sample_weight)
            by_path = dict(zip((path for path, _ in tree.flatten_with_path(y_pred)), d_flat))
            self._structured_path, self._output_losses = None, []
            return total, [by_path[path] for path in _paths_in_call_order(y_pred)]
        preds = [np.asarray(p) for p in as_list(y_pred)]
        outputs = self._outputs_as_given(preds)
        compile_loss = self._compile_loss
        from_logits = compile_loss.leaves_from_logits(y, outputs)
        path = [
            outputs_module.activation_layer(self.logits_chain(i), training, self.dtype)
            if reads
            else None
            for i, reads in enumerate(from_logits)
        ]
        logits = [None if layer is None else layer.logits for layer in path]
        total, d_outputs, d_logits = compile_loss.value_and_grads(y, outputs, sample_weight, logits)
        for i, layer in enumerate(path):
            if layer is not None:  # the output's gradient, carried back to the logits
                backward = getattr(activations, f"{layer.output_activation}_backward")
                d = backward(logits[i], preds[i], d_outputs[i])
                d_outputs[i] = d if d_logits[i] is None else d + d_logits[i]
        self._structured_path, self._output_losses = path, []
        return total, d_outputs

    def _masks_of(self, preds):
        """The last call's output masks, for these outputs: a mask is kept where it fits its
        output's leading axes (predictions from another call carry no mask, as in Keras)."""
        masks = self.output_masks or [None] * len(preds)
        return [
            m if m is not None and np.shape(p)[: np.ndim(m)] == np.shape(m) else None
            for m, p in zip(masks, preds)
        ]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras's `compute_loss`: the total loss (the weighted losses of the outputs, the
        weights' penalties and the `add_loss` terms), as a number.

        While a GradientTape records (a custom `train_step`), the loss is one entry on it: its
        gradient with respect to each output is the loss's own, and the penalties' gradients
        reach the weights. An output that carries its softmax's or sigmoid's logits (a Tensor
        the model's call made) is differentiated from them by a crossentropy, as Keras does.
        """
        if self._compile_loss is not None:
            return self._structured_compute_loss(y, y_pred, sample_weight)
        if self.compiled and all(spec.loss is None for spec in self.output_specs):
            if not self.losses and not self.weight_regularizers:
                raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        if not autodiff.is_recording():
            preds, ys = self._per_output(y_pred), self._per_output(y)
            total = self.compute_loss_and_gradients(
                Arrays(ys) if len(ys) > 1 else ys[0],
                Arrays(preds) if len(preds) > 1 else preds[0],
                sample_weight,
                training,
            )[0]
            self._track_output_losses()
            return total
        preds, ys = self._per_output(y_pred), self._per_output(y)
        starts = [
            spec.loss.logits_of(pred) if spec.loss is not None else None
            for spec, pred in zip(self.output_specs, preds)
        ]
        logits = [None if z is None else z.value for z in starts]
        starts = [pred if z is None else z for pred, z in zip(preds, starts)]
        plain = [autodiff.unwrap(p) for p in preds]
        ys = [autodiff.unwrap(one) for one in ys]
        no_path = [None] * len(self.output_specs)
        total, d_outputs = self.compute_loss_and_gradients(
            Arrays(ys) if len(ys) > 1 else ys[0],
            Arrays(plain) if len(plain) > 1 else plain[0],
            sample_weight,
            training,
            path=no_path,
            output_logits=logits,
        )
        regularized = self.weight_regularizers
        penalties = [w for w, _ in regularized]

        def vjp(output_grads):
            (g,) = output_grads
            dx = [None if d is None else d * g for d in d_outputs]
            return dx, [r.gradient(w) * g for w, r in regularized]

        self._track_output_losses()
        added = [term for term in self.added_losses() if isinstance(term, autodiff.Tensor)]
        total = total - sum(np.asarray(term.value).sum() for term in added)
        (loss,) = autodiff.record(starts, [np.asarray(total)], vjp, weights=penalties)
        for term in added:  # on the tape, so that their gradients reach the weights
            loss = loss + ops.sum(term)
        return loss

    def _structured_compute_loss(self, y, y_pred, sample_weight):
        """`compute_loss` for a loss given in a structure: the CompileLoss on the outputs as
        given (Tensors on a tape are recorded), plus the penalties and `add_loss` terms."""
        loss = self._compile_loss(y, y_pred, sample_weight)
        regularized = self.weight_regularizers
        if regularized:
            penalties = [w for w, _ in regularized]
            value = sum(np.asarray(r(w)) for w, r in regularized)

            def vjp(output_grads):
                (g,) = output_grads
                return [], [r.gradient(w) * g for w, r in regularized]

            (penalty,) = autodiff.record([], [np.asarray(value)], vjp, weights=penalties)
            loss = loss + penalty
        for term in self.added_losses():
            loss = loss + ops.sum(term)
        return loss

    def _own_compute_loss_and_gradients(self, x, y, y_pred, sample_weight, training):
        """(loss, [dL/d output]) when the model's class writes its own `compute_loss`: called
        as Keras's train_step calls it, on the outputs as given, recorded on a tape."""
        outputs = [autodiff.Tensor(np.asarray(p)) for p in as_list(y_pred)]
        with autodiff.GradientTape() as tape:
            for output in outputs:
                tape.watch(output)
            # a compute_loss written before Keras 3.3 takes no `training`: called without it,
            # as Keras's `_compute_loss` does
            takes_training = "training" in inspect.signature(self.compute_loss).parameters
            loss = self.compute_loss(
                x=x,
                y=y,
                y_pred=self._outputs_as_given(outputs),
                sample_weight=sample_weight,
                **({"training": training} if takes_training else {}),
            )
        grads = tape.gradient(loss, outputs)
        d_outputs = [np.zeros_like(o.value) if g is None else g for o, g in zip(outputs, grads)]
        self._output_losses = []
        return np.asarray(autodiff.unwrap(loss)), d_outputs

    def _writes_compute_loss(self):
        return type(self).compute_loss is not Model.compute_loss

    def _track_output_losses(self):
        """Each output's unweighted loss into its tracker (`<output>_loss`, when several
        outputs have a loss), as Keras's compiled loss records them each time it computes.
        Each batch counts once: Keras weighs it by `y_pred.shape[0]` (CompileLoss.call), the
        static batch size, which is None inside its traced steps (tf.data batches have an
        unknown size): weight 1."""
        for (tracker, _), value in zip(self._loss_trackers, self._output_losses):
            tracker.update_state(value)

    def _per_output(self, values):
        """Outputs (or labels) given as one array, a list, an Arrays or a dict by output key,
        as a list in the outputs' order."""
        if isinstance(values, dict):
            return [values.get(key) for key in self.output_keys]
        if isinstance(values, (list, tuple)) and len(self.output_specs) > 1:
            return list(values)
        return as_list(values)

    def gradients_with_penalties(self, grads):
        """The weights' gradients plus each regularizer's: dL/dw += d penalty(w)/dw."""
        regularized = self.weight_regularizers
        if not regularized:
            return grads
        grads = list(grads)
        position = {id(w): i for i, w in enumerate(self.trainable_weights)}
        for weight, regularizer in regularized:
            i = position[id(weight)]
            grads[i] = grads[i] + regularizer.gradient(weight)
        return grads

    def compute_gradients(self, x, y, sample_weight=None, training=True):
        """One training step without the update, on checked data (`prepare_data`): forward,
        loss, backward. Returns (y_pred, loss, [dL/dw for w in trainable_weights])."""
        self.clear_losses()
        with recorded_call.backward_follows():
            y_pred = self.forward(x, training=training)
        if self._writes_compute_loss():  # from the outputs themselves, by the tape
            loss, d_outputs = self._own_compute_loss_and_gradients(
                x, y, y_pred, sample_weight, training
            )
            self.backward(d_outputs, from_logits=[None] * len(d_outputs))
            return y_pred, loss, self.gradients_with_penalties(self.grads)
        loss, d_outputs = self.compute_loss_and_gradients(y, y_pred, sample_weight, training)
        if all(d is None for d in d_outputs):  # trained on `add_loss` terms only: the outputs
            d_outputs = [np.zeros_like(np.asarray(p)) for p in as_list(y_pred)]  # add nothing
        self.backward(d_outputs, from_logits=self.logits_path(training))
        return y_pred, loss, self.gradients_with_penalties(self.grads)

    def train_step(self, data):
        """Forward, loss, backward, update; returns the logs (running means) after this batch."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, loss, grads = self.compute_gradients(x, y, sample_weight)
        self._track_output_losses()
        scale = self.optimizer.current_loss_scale()
        if scale is not None:  # Keras differentiates the scaled loss; apply unscales
            grads = [None if g is None else g * np.asarray(scale, g.dtype) for g in grads]
        self.optimizer.apply(grads, self.trainable_weights)
        flat_update.share_gradient_buffers(self, self.optimizer)  # no copy from the next step on
        self._loss_tracker.update_state(batch_mean(loss), sample_weight=_num_samples(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Forward and loss only."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.clear_losses()
        if self.has_own_backward:
            y_pred = self.forward(x, training=False)
        else:  # a subclass: its call recorded, so that the loss may start from its logits
            with recorded_call.backward_follows():
                y_pred = self.forward(x, training=False)
        if self._writes_compute_loss():
            loss, _ = self._own_compute_loss_and_gradients(x, y, y_pred, sample_weight, False)
        else:
            loss, _ = self.compute_loss_and_gradients(y, y_pred, sample_weight, training=False)
        self._track_output_losses()
        self._loss_tracker.update_state(batch_mean(loss), sample_weight=_num_samples(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        self.clear_losses()  # each batch an outer call, as Keras's
        return self.forward(x, training=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with this batch; returns the logs (`get_metrics_result`).

        compile(metrics=...) are unweighted in Keras: sample weights reach only the loss and
        `weighted_metrics` (CompileMetrics.update_state, keras/src/trainers/compile_utils.py).
        Each output's own loss is tracked where the loss is computed (`compute_loss`), as
        Keras's CompileLoss does.
        """
        if self.compile_metrics is not None and self.compile_metrics.built:
            masks = self._masks_of(self._per_output(y_pred))
            self.compile_metrics.update_state(y, y_pred, sample_weight, masks=masks)
        return self.get_metrics_result()

    @property
    def metrics(self):
        """As Keras lists them: the loss tracker, the compiled metrics (one container),
        each output's loss tracker, then metrics kept in the model's attributes."""
        found = [self._loss_tracker] if self.compiled else []
        if self.compile_metrics is not None:
            found.append(self.compile_metrics)
        found += [tracker for tracker, _ in self._loss_trackers]
        if self._compile_loss is not None:  # one per term, once built
            found += self._compile_loss.metrics
        if not self._builtin:  # a model class of yours may keep metrics in its attributes
            for value in vars(self).values():
                # (a `self.loss_tracker` of yours is one of these: Keras's own is private)
                if isinstance(value, metrics_module.Metric) and all(v is not value for v in found):
                    found.append(value)
        return found

    def get_metrics_result(self):
        """The logs: every metric's result (a container's entries), sorted by name as
        Keras's logs are (`pythonify_logs` in keras/src/utils/python_utils.py)."""
        # Keras keeps metric totals in floatx variables: report the results rounded to that type
        as_floatx = np.dtype(self.dtype).type
        logs = {}
        for metric in self.metrics:
            if metric is self.compile_metrics and not metric.built:
                continue  # no labels seen yet (trained on `add_loss` terms only): no metric
            result = metric.result()
            results = result if isinstance(result, dict) else {metric.name: result}
            logs.update({name: _as_log(value, as_floatx) for name, value in results.items()})
        return dict(sorted(logs.items()))

    def _metrics_result_or(self, step_logs, logs):
        """Keras's `_get_metrics_result_or_logs`: the metrics' results when the last step
        returned exactly their names (a step of yours that returns {"loss": ...} without
        updating the loss tracker reports the tracker's value, as in Keras), else `logs`."""
        results = self.get_metrics_result()
        if isinstance(step_logs, dict) and set(step_logs) == set(results):
            return results
        return logs

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    @property
    def metrics_names(self):
        return [metric.name for metric in self.metrics]

    # Keras's private name for the metrics container compile makes (its own tests read it)
    @property
    def _compile_metrics(self):
        return self.compile_metrics

    # Keras 2's names, kept by Keras 3 for a Keras 2 train_step (models/keras2_names.py)
    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """Deprecated (warns): `compute_loss(x=None, y, y_pred, sample_weight)`."""
        return keras2_names.compiled_loss(self, y, y_pred, sample_weight, regularization_losses)

    @property
    def compiled_metrics(self):
        """Deprecated: its `update_state(y, y_pred)` updates every metric of `metrics` (a
        `Mean`, such as the loss tracker, with `y_pred` alone), as Keras 3's does."""
        return keras2_names.CompiledMetrics(self)

    # ------------------------------------------------------------------ the training loop
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train for `epochs` passes over the data; returns the `History`.

        `x` may be arrays (with `y`), or batches from a Python generator, a
        `minikeras.utils.PyDataset`, a `tf.data.Dataset` or a torch `DataLoader`;
        `steps_per_epoch` and `validation_steps` count batches as Keras does
        (`trainers/epoch_iterator.py`). Everything that can be checked is checked before the
        first weight changes; if training then raises an exception, every completed step is
        kept (as Keras).
        """
        if batch_size is not None:
            batch_size = inputs.positive_int(batch_size, "batch_size")
        if steps_per_epoch is not None:
            steps_per_epoch = inputs.positive_int(steps_per_epoch, "steps_per_epoch")
        if validation_steps is not None:
            validation_steps = inputs.positive_int(validation_steps, "validation_steps")
        epochs = inputs.positive_int(epochs, "epochs")
        if config.max_epochs() and config.max_epochs() < epochs:  # a debugging cap, as Keras's
            warnings.warn(f"Limiting epochs to {config.max_epochs()}", stacklevel=2)
            epochs = config.max_epochs()
        verbose = _check_verbose(verbose)
        if data_adapters.is_stream(x):
            if validation_split and validation_data is None:
                raise ValueError(
                    "Argument `validation_split` is only supported for tensors or NumPy arrays."
                    f"Found incompatible type in the input: {[type(x)]}"
                )
            train_data = data_adapters.stream_adapter(
                x, y, sample_weight, class_weight, shuffle, self._prepare_batch
            )
        else:
            if validation_data is None and validation_split:
                if not 0 < validation_split < 1:
                    raise ValueError(
                        f"`validation_split` must be in [0, 1) (0: no validation). Received: "
                        f"{validation_split}"
                    )
                x_arr = self._sliceable(x, "x")
                y_arr = self._sliceable(y, "y")
                sw_arr = None if sample_weight is None else np.asarray(sample_weight)
                inputs.check_same_length(x=_first_array(x_arr), y=y_arr)
                (x, y, sample_weight), (vx, vy, vsw) = batching.train_validation_split(
                    [x_arr, y_arr, sw_arr], validation_split
                )
                validation_data = (vx, vy, vsw)
            x, y, sample_weight = self.prepare_data(x, y, sample_weight, class_weight)
            size = data_adapters.array_batch_size(batch_size, steps_per_epoch, len(x))
            train_data = data_adapters.ArrayAdapter(x, y, sample_weight, size, shuffle)
        val = None
        if validation_data is not None:
            val_data = self._validation_adapter(
                validation_data, validation_batch_size or batch_size, validation_steps
            )
            val = EpochIterator(
                val_data,
                steps_per_epoch=validation_steps,
                steps_per_execution=self.steps_per_execution,
            )

        epoch_iterator = EpochIterator(
            train_data,
            steps_per_epoch=steps_per_epoch,
            steps_per_execution=self.steps_per_execution,
        )
        epoch_iterator.reset()  # as Keras: a PyDataset's on_epoch_end runs once before training
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=epoch_iterator.num_batches,
        )
        # An exception from here on keeps every completed step, as Keras does (each optimizer
        # update is whole: it runs after the step's gradients are all computed)
        try:
            self._train(epoch_iterator, val, epochs, initial_epoch, validation_freq, callback_list)
        finally:
            epoch_iterator.close()
            if val is not None:
                val.close()
        return self.history

    def _prepare_batch(self, batch):
        """One batch of a generator or PyDataset, checked and converted as fit's arrays are."""
        x, y, sample_weight = unpack_x_y_sample_weight(batch)
        return self.prepare_data(x, y, sample_weight)

    def _prepare_inputs_batch(self, batch):
        """One batch for predict: its inputs only (labels, if any, are left out)."""
        x, _, _ = unpack_x_y_sample_weight(batch)
        return (self._prepare_x(x),)

    def _validation_adapter(self, validation_data, batch_size, steps):
        """validation_data (a tuple of arrays, a generator or a PyDataset) as a data adapter."""
        if data_adapters.is_stream(validation_data):
            return data_adapters.stream_adapter(
                validation_data, None, None, None, False, self._prepare_batch
            )
        vx, vy, vsw = self._unpack_validation(validation_data)
        size = data_adapters.array_batch_size(batch_size, steps, len(vx))
        return data_adapters.ArrayAdapter(vx, vy, vsw, size, shuffle=False)

    def _unpack_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"val_sample_weight); received {type(validation_data).__name__}."
            )
        vx, vy, vsw = (*validation_data, None)[:3]
        if self._compile_loss is not None:  # the labels in their structure, as fit's
            return self.prepare_structured_data(vx, vy, vsw)
        vx = self._prepare_x(vx, "validation_data x")
        vy_arr = self._sliceable(vy, "y")
        inputs.check_same_length(x_val=_first_array(vx), y_val=vy_arr)
        vy = self._prepare_y(vy_arr, len(vx), "validation_data y")
        vsw = inputs.sample_weights(vsw, None, vy, len(vx), self.dtype)
        return vx, vy, vsw

    def _train(self, epoch_iterator, val, epochs, initial_epoch, validation_freq, callback_list):
        self.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore, in on_train_begin, sets the epoch to resume from, as in Keras
        # (`self._initial_epoch or initial_epoch`); unlike Keras, it is used once, so that a later
        # fit of the same model starts from its own initial_epoch
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        training_logs, logs = {}, {}
        # skip the per-batch calls when no callback overrides them (as Keras)
        batch_hooks = callback_list.has_batch_hooks("train")
        self._build_optimizer()
        # a Dense stack's step runs compiled, bit-identical to train_step (compiled_step.py);
        # arrays' metrics exist by now (prepare_data), a stream's once its first batch is read
        compiled = compiled_step.for_model(self)  # a batch with sample weights runs train_step
        checked = self._metric_entries is not None
        # arrays in memory and nothing that looks at each batch: an epoch's batches run in one
        # compiled call (compiled_step.py; a last batch of one sample as any other)
        adapter = epoch_iterator.adapter
        # (or only the progress bar does: the batches between its redraws run in one call)
        progress_bar = callback_list.progress_bar_only("train")
        whole_epochs = (
            (not batch_hooks or progress_bar is not None)
            and epoch_iterator.steps_per_epoch is None
            and type(adapter) is data_adapters.ArrayAdapter
        )
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            batches = None
            # (a stop asked for at on_epoch_begin still lets one batch run, as the loop below)
            done = 0
            if whole_epochs and compiled is not None and not self.stop_training:
                done = compiled.epoch_batches(adapter)
            if done:
                order = adapter.epoch_order()
                if batch_hooks:
                    compiled.run_between_redraws(adapter, order, done, callback_list, progress_bar)
                else:
                    compiled.run_batches(adapter, order, 0, done)
                batches = one_per_execution(adapter.batches(order, first=done), start=done)
                step_logs = None
            # each execution: `steps_per_execution` batches between two callback calls
            executions = epoch_iterator.enumerate_epoch() if batches is None else batches
            for begin, end, group in executions:
                if not checked and self._metric_entries is not None:  # before its first step
                    compiled, checked = compiled_step.for_model(self), True
                if batch_hooks:
                    callback_list.on_train_batch_begin(begin)
                for batch in group:
                    # arrays' batches are (x, y) when unweighted, a stream's (x, y, None)
                    if compiled is not None and _unweighted(batch) and compiled.takes(*batch[:2]):
                        compiled.run(*batch[:2])
                        step_logs = logs = None  # the metrics' results: read when asked
                    else:
                        step_logs = logs = self.train_step(batch)
                if batch_hooks:
                    logs = callbacks_module.pythonify_logs(
                        self.get_metrics_result() if logs is None else logs
                    )
                    callback_list.on_train_batch_end(end, logs)
                if self.stop_training:
                    break
            # as Keras: what the epoch's last train_step returned, or the metrics' results
            # when it returned their names (`_get_metrics_result_or_logs`); a dict it returned
            # nested stays nested until the callbacks flatten it, so its entries take its key's
            # place in the sorted logs ({"loss", "compile_metrics": {"mae"}} logs mae first)
            last = self.get_metrics_result() if step_logs is None else step_logs
            epoch_logs = dict(self._metrics_result_or(last, last))
            if val is not None and _validate_now(epoch, validation_freq):
                val.reset()  # each validation starts a new pass, as Keras's cached iterator
                val_logs = self._evaluate_batches(val, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if self.optimizer is not None and epochs > initial_epoch:
            # EMA weights replace the trained ones at the end, as Keras's fit does
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(logs=training_logs)

    def _build_optimizer(self):
        """Build the optimizer for the trainable weights before the first step, as Keras's fit
        does (`Trainer._symbolic_build`), rather than in that step's update: the same slots, and
        the compiled step writes its gradients into the optimizer's flat gradient from step 1.
        A model that writes its own train_step decides itself what its optimizer updates."""
        optimizer = self.optimizer
        if optimizer is None or optimizer.built or not self.built or self.own_steps():
            return
        if self.trainable_weights:
            optimizer.build(self.trainable_weights)

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """The loss and metrics over the data: a float, a list [loss, *metrics], or a dict.

        `x` may be arrays (with `y`), a generator or a PyDataset; `steps` limits the batches."""
        if batch_size is not None:
            batch_size = inputs.positive_int(batch_size, "batch_size")
        if steps is not None:
            steps = inputs.positive_int(steps, "steps")
        verbose = _check_verbose(verbose)
        epoch_iterator = EpochIterator(
            self._test_adapter(x, y, sample_weight, batch_size, steps),
            steps_per_epoch=steps,
            steps_per_execution=self.steps_per_execution,
        )
        epoch_iterator.reset()
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=epoch_iterator.num_batches,
        )
        try:
            logs = self._evaluate_batches(epoch_iterator, callback_list)
        finally:
            epoch_iterator.close()
        if return_dict:
            return logs
        return self._logs_as_list(logs)

    def _test_adapter(self, x, y, sample_weight, batch_size, steps):
        """The data of evaluate as a data adapter (`trainers/data_adapters/`)."""
        if data_adapters.is_stream(x):
            return data_adapters.stream_adapter(
                x, y, sample_weight, None, False, self._prepare_batch
            )
        x, y, sample_weight = self.prepare_data(x, y, sample_weight)
        size = data_adapters.array_batch_size(batch_size, steps, len(x))
        return data_adapters.ArrayAdapter(x, y, sample_weight, size, shuffle=False)

    def _logs_as_list(self, logs):
        """The logs in Keras's order (`Trainer._flatten_metrics_in_order`): the metrics' names
        (a container's by its metrics' own names) first, then the others sorted by name; a lone
        value alone."""
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names += [m.base_name for m in metric.metrics]
            else:
                names.append(metric.name)
        names = [name for name in names if name in logs]
        values = [logs[name] for name in names]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

    def _evaluate_batches(self, epoch_iterator, callback_list):
        self.reset_metrics()
        callback_list.on_test_begin()
        logs = {}
        batch_hooks = callback_list.has_batch_hooks("test")  # skipped when none overrides them
        self.stop_evaluating = False
        for begin, end, group in epoch_iterator.enumerate_epoch():
            if batch_hooks:
                callback_list.on_test_batch_begin(begin)
            for batch in group:
                step_logs = self.test_step(batch)
            logs = callbacks_module.pythonify_logs(step_logs)
            if batch_hooks:
                callback_list.on_test_batch_end(end, logs)
            if self.stop_evaluating:
                break
        if logs:
            logs = self._metrics_result_or(step_logs, logs)
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, batch by batch (32 by default); needs no `compile`.

        `x` may be an array, a generator or a PyDataset (labels in its batches are ignored);
        `steps` limits the batches."""
        if batch_size is not None:
            batch_size = inputs.positive_int(batch_size, "batch_size")
        if steps is not None:
            steps = inputs.positive_int(steps, "steps")
        verbose = _check_verbose(verbose)
        if data_adapters.is_stream(x):
            adapter = data_adapters.stream_adapter(
                x, None, None, None, False, self._prepare_inputs_batch
            )
        else:
            self._build_on_batch(x, batch_size)
            x = self._prepare_x(x)
            size = data_adapters.array_batch_size(batch_size, steps, len(x))
            adapter = data_adapters.ArrayAdapter(x, None, None, size, shuffle=False)
        epoch_iterator = EpochIterator(
            adapter, steps_per_epoch=steps, steps_per_execution=self.steps_per_execution
        )
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=epoch_iterator.num_batches,
        )
        callback_list.on_predict_begin()
        outputs = []
        self.stop_predicting = False
        try:
            for begin, end, group in epoch_iterator.enumerate_epoch():
                callback_list.on_predict_batch_begin(begin)
                # a copy: a layer may reuse its output buffer at the next batch
                group_outputs = [_copy_outputs(self.predict_step(batch)) for batch in group]
                outputs += group_outputs
                # the execution's outputs together, as Keras's predict function returns them
                callback_list.on_predict_batch_end(
                    end, {"outputs": _concatenate_outputs(group_outputs)}
                )
                if self.stop_predicting:
                    break
        finally:
            epoch_iterator.close()
        callback_list.on_predict_end()
        return _concatenate_outputs(outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; metrics restart at each call, as in Keras."""
        compiled = compiled_step.for_batch(self, x, y, sample_weight, class_weight)
        if compiled is not None:  # x and y need no checks nor conversion: the compiled step
            compiled.reset_metrics()
            compiled.run(x, y)
            return compiled.batch_logs(return_dict)
        self._build_on_batch(x)
        x, y, w = self.prepare_data(x, y, sample_weight, class_weight)
        self.reset_metrics()
        compiled = compiled_step.for_model(self, w)
        if compiled is not None and compiled.takes(x, y):
            compiled.run(x, y)
            return compiled.batch_logs(return_dict)
        # the data as fit hands a batch to a step
        logs = self.train_step(data_adapters.batch_of(x, y, w, slice(None)))
        return self._format_batch_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._build_on_batch(x)
        x, y, w = self.prepare_data(x, y, sample_weight)
        self.reset_metrics()
        logs = self.test_step(data_adapters.batch_of(x, y, w, slice(None)))
        return self._format_batch_logs(logs, return_dict)

    def predict_on_batch(self, x):
        self._build_on_batch(x)
        # a list or dict of inputs reaches `call` as given (a Structure is sliced out)
        x = self._prepare_x(x)
        return self.predict_step(data_adapters.batch_of(x, None, None, slice(None))).copy()

    def _format_batch_logs(self, logs, return_dict):
        logs = {k: float(v) for k, v in callbacks_module.pythonify_logs(logs).items()}
        if return_dict:
            return logs
        return self._logs_as_list(logs)

    def __call__(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("inputs")
        if node_module.is_symbolic(x) or recorded_call.is_traced(x) or autodiff.is_recording():
            return Layer.__call__(self, *args, **kwargs)  # a layer of a model, or on a tape
        training = kwargs.get("training")
        training = recorded_call.current_training() if training is None else bool(training)
        self._build_on_batch(x)
        if not recorded_call.in_a_call():  # an outer call: Keras's `_clear_losses`
            self.clear_losses()
        x = self._prepare_x(x)
        if isinstance(x, Structure):  # a list or dict of inputs: the call receives it as given
            x = x.structure
        return recorded_call.fresh(self.forward(x, training=training))

    # ------------------------------------------------------------------ description
    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Print Keras's table of layers, output shapes and parameter counts, as Keras lays
        it out: `line_length` and `positions` (fractions of it) set the columns,
        `expand_nested` lists a nested model's layers under it, `show_trainable` adds the
        "Trainable" column, `layer_range=("first", "last")` (regular expressions) prints a
        part; `print_fn` receives the whole text, ending in a newline."""
        from minikeras.models.summary import print_summary

        print_summary(
            self,
            print_fn=print_fn,
            line_length=line_length,
            positions=positions,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    # ------------------------------------------------------------------ state and files
    @property
    def metrics_variables(self):
        """Every metric's variables, in `metrics` order (the loss tracker's first)."""
        return [variable for metric in self.metrics for variable in metric.variables]

    def _get_variable_map(self):
        """{path: variable} for every variable of the model, its optimizer and metrics."""
        from minikeras.models.variable_mapping import map_saveable_variables

        store = {}
        map_saveable_variables(self, store=store, visited_saveables=set())
        return store

    def get_state_tree(self, value_format="backend_tensor"):
        """The model's variables (trainable, non-trainable, optimizer, metrics) as nested dicts
        by path, `{"trainable_variables": {"dense": {"kernel": ...}}, ...}`
        (models/state_tree.py)."""
        from minikeras.models import state_tree

        return state_tree.get_state_tree(self, value_format)

    def set_state_tree(self, state_tree):
        """Assign the values of a tree shaped as `get_state_tree()`'s to the variables."""
        from minikeras.models import state_tree as state_tree_module

        state_tree_module.set_state_tree(self, state_tree)

    def export(
        self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs
    ):
        """Keras's export formats are graphs of a compute backend (TensorFlow, JAX, torch):
        a model computed in NumPy has none to write, so a known format raises
        NotImplementedError (Keras's answer on such a backend) and an unknown one ValueError."""
        formats = ("tf_saved_model", "onnx", "openvino", "litert", "torch")
        if format not in formats:
            raise ValueError(
                f"Unrecognized format={format}. Supported formats are: {list(formats)}."
            )
        raise NotImplementedError(
            "`export_saved_model` only currently supports the tensorflow, jax and torch "
            f"backends; minikeras computes in NumPy and cannot export format={format!r}. "
            "Save a `.keras` file and export it from Keras."
        )

    def to_json(self, **kwargs):
        """The model's config as JSON, in Keras 3's schema (`keras.models.model_from_json` and
        `minikeras.models.model_from_json` read it). `kwargs` go to `json.dumps`."""
        from minikeras import saving

        return saving.to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, **kwargs):
        from minikeras import saving

        saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        from minikeras import saving

        saving.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, **kwargs):
        from minikeras import saving

        saving.load_weights(self, filepath, **kwargs)


def init_training_state(model):
    """What compile, fit and the metrics keep on a model (or a layer mixed in with
    `trainers.Trainer`), before compile."""
    model.optimizer = None
    model.loss = None  # compile()'s `loss` argument, as given (as Keras keeps it)
    model.loss_weights = None
    model.compiled = False
    model.compile_metrics = None  # compile()'s metrics, built once the labels' shapes are known
    # the mean of the loss over the batches seen: made by compile, private as Keras's (a model
    # of yours may keep its own `self.loss_tracker`, as keras.io's guides do)
    model._loss_tracker = None
    model.output_specs = None  # one outputs.OutputSpec per output, set by compile
    model._metric_entries, model._loss_trackers = None, []
    model.stop_training = False
    model.history = None
    model._initial_epoch = None  # set by callbacks.BackupAndRestore to resume a fit
    # the masks of the last call's outputs (Embedding(mask_zero=True) → ... → output), one
    # per output, None where there is none: the losses and metrics read them, as Keras's
    # read the `_keras_mask` its layers attach to the outputs
    model.output_masks = None
    model._deferred_compile_error = None  # a loss dict compile accepts and fit refuses
    # a loss given in a structure (several losses for one output, a loss over a branch of
    # the outputs, ...): Keras's CompileLoss computes it, the tape differentiates it
    model._compile_loss = None
    model._structured_path = None  # its outputs' logits layers (see `logits_path`)
    # a functional model's outputs as given (a list, a dict, ...) and its graph's nodes
    # (functional.py): none for a Sequential or a subclass of Model
    model._outputs_struct, model._all_nodes = None, []
    model.steps_per_execution, model.run_eagerly, model.jit_compile = 1, False, "auto"
    # a callback sets these to end evaluate or predict after the current batch, as Keras's
    model.stop_evaluating = model.stop_predicting = False


def _check_verbose(verbose):
    """0 (silent), 1 (progress bar), 2 (one line per epoch) or 'auto' (1), kept as given so that
    `History.params` shows it as Keras does."""
    if verbose != "auto" and (verbose not in (0, 1, 2) or isinstance(verbose, bool)):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return verbose


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch given as (x,), (x, y) or (x, y, sample_weight), as
    Keras's `keras.utils.unpack_x_y_sample_weight`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def _copy_outputs(out):
    """A copy of a batch's outputs: an array, an Arrays, or a dict, list or tuple of them (a
    layer of yours mixed in with the Trainer returns its own structure)."""
    if isinstance(out, Arrays):
        return Arrays([np.array(a) for a in out.arrays])
    if isinstance(out, dict):
        return {key: _copy_outputs(value) for key, value in out.items()}
    if isinstance(out, (list, tuple)):
        return type(out)(_copy_outputs(value) for value in out)
    return np.array(out)


def _concatenate_outputs(outputs):
    """The batches' outputs joined along the samples (each output apart, when several), in
    the structure each batch's outputs have, as Keras's predict joins them."""
    first = outputs[0]
    if isinstance(first, Arrays):
        return Arrays([np.concatenate(parts) for parts in zip(*(o.arrays for o in outputs))])
    if isinstance(first, dict):
        return {key: _concatenate_outputs([o[key] for o in outputs]) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate_outputs(list(parts)) for parts in zip(*outputs))
    return np.concatenate(outputs)


def one_per_execution(batches, start):
    """(step, step, [batch]) for each batch, numbered from `start`: one batch per execution."""
    for step, batch in enumerate(batches, start=start):
        yield step, step, [batch]


def _num_samples(x):
    """The samples in a batch of inputs (a list or dict of arrays: in its first array)."""
    if isinstance(x, (dict, list, tuple)):
        return len(Structure(x).arrays()[0])
    return len(x)


def _paths_in_call_order(structure, path=()):
    """The paths of a structure's leaves, in the order its lists and dicts hold them."""
    if isinstance(structure, dict):
        items = structure.items()
    elif isinstance(structure, (list, tuple)):
        items = enumerate(structure)
    else:
        return [path]
    return [leaf for key, value in items for leaf in _paths_in_call_order(value, path + (key,))]


def _first_array(data):
    """One array of `data` (a Structure's first), to count its samples."""
    return data.arrays()[0] if isinstance(data, Structure) else data


def _unweighted(batch):
    """Whether a batch is (x, y) or (x, y, None): labels and no sample weights."""
    return len(batch) == 2 or (len(batch) == 3 and batch[2] is None)


def _validate_now(epoch, validation_freq):
    """Keras's `validation_freq`: every N epochs, or at the epochs (from 1) of a list."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


_FUNCTIONAL_SUBCLASSES = {}


def functional_init_arguments(args, kwargs):
    """Whether a Model's arguments are (inputs, outputs), by position or by name."""
    return (
        len(args) == 2
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


def _with_functional(cls, functional):
    """`cls` with Functional among its bases (made once per class)."""
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, functional), {})
    return _FUNCTIONAL_SUBCLASSES[cls]


def batch_mean(loss):
    """The batch's loss as one number: an unreduced loss (reduction='none') counts as its mean,
    weighted by the batch size like any other, as Keras's tracker counts it
    (`reduce_to_samplewise_values`); its gradient is that of its sum, as Keras trains."""
    return loss if np.ndim(loss) == 0 else np.mean(loss)


def _as_log(value, as_floatx):
    """A result as the logs hold it: a float in floatx, or the array itself when it has several
    numbers (Precision(thresholds=[...]), F1Score per class), as Keras keeps it."""
    array = np.asarray(value)
    return float(as_floatx(array.reshape(()))) if array.size == 1 else array


def _revivable_as_functional(cls, functional):
    """Whether `cls(inputs=..., outputs=..., name=..., **rest)` can make the model: Model and
    Functional, a class whose constructor has Functional's arguments, or (*args, **kwargs)."""
    if cls in (functional, Model):
        return True
    spec = inspect.getfullargspec(cls.__init__)
    functional_args = inspect.getfullargspec(functional.__init__).args[1:]
    return spec.args[1:] == functional_args or (spec.varargs == "args" and spec.varkw == "kwargs")


def model_from_json(json_string, custom_objects=None):
    """A model from `model.to_json()`'s text (where Keras defines it, keras/src/models/model.py;
    also `minikeras.models.model_from_json`)."""
    from minikeras import saving

    return saving.model_from_json(json_string, custom_objects)
