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

import numpy as np

from minikeras import autodiff, ops
from minikeras import callbacks as callbacks_module
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import optimizers as optimizers_module
from minikeras.layers import node as node_module
from minikeras.layers import recorded_call
from minikeras.layers.layer import Layer
from minikeras.models import compiled_step, inputs
from minikeras.models import outputs as outputs_module
from minikeras.models.arrays import Arrays, as_list
from minikeras.models.compile_metrics import CompileMetrics
from minikeras.optimizers import flat_update
from minikeras.utils import batching, rng


class Model(Layer):
    """The base of every model. Subclasses define `call`, `backward`, `build`, `layers`."""

    def __new__(cls, *args, **kwargs):
        # Model(inputs, outputs) is a graph of layers: Keras hands it to its Functional class
        # (keras/src/models/model.py `Model.__new__`). A subclass of Model given (inputs,
        # outputs) keeps its own methods (a custom train_step) on top of Functional's, as Keras
        # does by injecting Functional into its bases.
        from minikeras.models.functional import Functional

        functional = (
            len(args) == 2
            or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs)
        )
        if functional and cls is Model:
            return super().__new__(Functional)
        if functional and not issubclass(cls, Functional) and cls.__name__ != "Sequential":
            return super().__new__(_with_functional(cls, Functional))
        return super().__new__(cls)

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        super().__init__(trainable=trainable, dtype=dtype, name=name, **kwargs)
        self.optimizer = None
        self.loss = None  # compile()'s `loss` argument, as given (as Keras keeps it)
        self.loss_weights = None
        self.compiled = False
        self.compiled_metrics = []  # compile()'s `metrics` argument
        self.compile_metrics = None  # compiled metrics, made once the labels' shapes are known
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.output_specs = None  # one outputs.OutputSpec per output, set by compile
        self._metric_entries, self._loss_trackers = None, []
        self.stop_training = False
        self.history = None
        self._initial_epoch = None  # set by callbacks.BackupAndRestore to resume a fit

    # ------------------------------------------------------------------ subclasses provide
    @property
    def layers(self):
        """The model's layers. A subclass of Model: the layers it holds in its attributes."""
        return self._sublayers()

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

    def build(self, input_shape):
        """A subclass of Model builds by running its call once on zeros of `input_shape`
        (its layers create their weights on their first call), as Keras builds it by a
        symbolic call; that also gives the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = recorded_call.probe_output_shape(self, input_shape)
        self.built = True

    def backward(self, dy, from_logits=None):
        """A subclass of Model: the tape's replay of its recorded call (`Layer.backward`)."""
        return Layer.backward(self, dy)

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
        specs = outputs_module.resolve(
            loss, loss_weights, metrics, self.output_keys, weighted_metrics
        )
        outputs_module.check_metric_names(specs)
        self.optimizer, self.loss, self.loss_weights = optimizer, loss, loss_weights
        self.compiled_metrics = metrics
        self.output_specs = specs
        self.compile_metrics, self._metric_entries, self._loss_trackers = None, None, []
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
    def from_config(cls, config):
        if cls is Model and "input_layers" in config:  # a functional model's config
            from minikeras.models.functional import Functional

            return Functional.from_config(config)
        return super().from_config(config)

    def _assert_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        if all(spec.loss is None for spec in self.output_specs):
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")

    # ------------------------------------------------------------------ data at the edge
    def _prepare_x(self, x, name="x"):
        x = inputs.to_array(x, self.dtype, name)
        if not self.built:
            self.build((None,) + x.shape[1:])
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

    def _prepare_y(self, y, n, name="y", out_shape=None, loss=None):
        """Labels checked against the loss and the model's output shape (by default; a model
        with several outputs checks each output's labels against that output and its loss)."""
        y = inputs.to_array(y, self.dtype, name)
        out_shape = self.output_shape if out_shape is None else out_shape
        if loss is None:
            loss = self.output_specs[0].resolve_loss(np.shape(y), out_shape)
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
        if y.shape[1:] != tuple(out_shape[1:]):
            hint = ""
            if (
                isinstance(loss, losses_module.CategoricalCrossentropy)
                and y.ndim == 1
                or (y.ndim == 2 and y.shape[1] == 1 and out_shape[-1] > 1)
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
        return np.asarray(data)

    def own_steps(self):
        """Whether this model's class writes its own train_step or test_step (then fit hands
        it the data as given, and the step decides what a loss and labels are)."""
        cls = type(self)
        return cls.train_step is not Model.train_step or cls.test_step is not Model.test_step

    def prepare_data(self, x, y, sample_weight=None, class_weight=None):
        """The checks and conversions fit, evaluate and train_on_batch make at their edge:
        contiguous arrays in the model's dtype, labels fit for the loss, one weight per sample."""
        if self.own_steps():
            if not self.compiled:
                raise ValueError("You must call `compile()` before using the model.")
            x = self._prepare_x(x)
            y = None if y is None else inputs.to_array(y, self.dtype, "y")
            w = inputs.sample_weights(sample_weight, class_weight, y, len(x), self.dtype)
            if y is not None and self.output_specs is not None:
                self._build_metrics(y)
            return x, y, w
        self._assert_compiled()
        x = self._prepare_x(x)
        if y is None:
            raise ValueError("`y` is None: training and evaluation need labels for every sample.")
        y_array = np.asarray(y)
        inputs.check_same_length(x=x, y=y_array if y_array.ndim else None)
        y = self._prepare_y(y_array, len(x))
        w = inputs.sample_weights(sample_weight, class_weight, y, len(x), self.dtype)
        self._build_metrics(y)
        return x, y, w

    def _build_metrics(self, y):
        """Make the metric objects once the labels' shapes are known ('accuracy' depends on
        them), named for the logs as Keras names them."""
        if self._metric_entries is None:
            y_shapes = [None if a is None else a.shape for a in as_list(y)]
            output_shapes = self.output_shape if len(self.output_specs) > 1 else [self.output_shape]
            self._metric_entries, self._loss_trackers = outputs_module.build_metrics(
                self.output_specs, y_shapes, output_shapes
            )
            if self._metric_entries:
                self.compile_metrics = CompileMetrics(self._metric_entries)

    # ------------------------------------------------------------------ one step, in pieces
    def logits_path(self, training):
        """For each output: the layer whose logits its loss starts from, or None (the loss
        starts from the output itself). Keras's rule, decided here and only here."""
        return [
            outputs_module.logits_layer(self.logits_chain(i), spec.loss, training)
            for i, spec in enumerate(self.output_specs)
        ]

    def compute_loss_and_gradients(self, y, y_pred, sample_weight=None, training=True, path=None):
        """The total loss Σ weightᵢ·lossᵢ (+ the weights' penalties) and, per output, its
        gradient weightᵢ·dlossᵢ/d(outputᵢ) — at the logits where `logits_path` says so (or
        `path`, given)."""
        ys, preds = as_list(y), as_list(y_pred)
        total, d_outputs, self._output_losses = 0.0, [], []
        path = self.logits_path(training) if path is None else path
        # one weight array for every output, or (several outputs) one each
        weights = sample_weight.arrays if isinstance(sample_weight, Arrays) else None
        for i, spec in enumerate(self.output_specs):
            if weights is not None:
                sample_weight = weights[i]
            if spec.loss is None:
                d_outputs.append(None)
                continue
            if path[i] is not None:  # from the logits of the softmax or sigmoid
                logits = path[i].logits
                value, d = spec.loss.value_and_grad_from_logits(ys[i], logits, sample_weight)
            else:
                value, d = spec.loss.value_and_grad(ys[i], preds[i], sample_weight)
            self._output_losses.append(value)  # unweighted, for the `<output>_loss` logs
            if spec.weight is not None:
                weight = np.dtype(self.dtype).type(spec.weight)
                value, d = value * weight, d * weight
            total = total + value
            d_outputs.append(d)
        for weight, regularizer in self.weight_regularizers:
            total = total + regularizer(weight)
        for term in self.losses:  # add_loss terms of the last call (their gradients: the tape's)
            total = total + np.asarray(autodiff.unwrap(term)).sum()
        return total, d_outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras's `compute_loss`: the total loss (the weighted losses of the outputs plus the
        weights' penalties), as a number.

        While a GradientTape records (a custom `train_step`), the loss is one entry on it: its
        gradient with respect to each output is the loss's own, from the probabilities (the
        outputs the tape holds), and the penalties' gradients reach the weights.
        """
        if not autodiff.is_recording():
            return self.compute_loss_and_gradients(y, y_pred, sample_weight, training)[0]
        preds = as_list(y_pred)
        plain = [autodiff.unwrap(p) for p in preds]
        y = autodiff.unwrap(y)
        no_logits = [None] * len(self.output_specs)
        total, d_outputs = self.compute_loss_and_gradients(
            y, plain if len(plain) > 1 else plain[0], sample_weight, training, path=no_logits
        )
        regularized = self.weight_regularizers
        penalties = [w for w, _ in regularized]

        def vjp(output_grads):
            (g,) = output_grads
            dx = [None if d is None else d * g for d in d_outputs]
            return dx, [r.gradient(w) * g for w, r in regularized]

        added = [term for term in self.losses if isinstance(term, autodiff.Tensor)]
        total = total - sum(np.asarray(term.value).sum() for term in added)
        (loss,) = autodiff.record(preds, [np.asarray(total)], vjp, weights=penalties)
        for term in added:  # on the tape, so that their gradients reach the weights
            loss = loss + ops.sum(term)
        return loss

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

    def apply_constraints(self):
        """Project every constrained weight after the update, as Keras's optimizer does."""
        for weight, constraint in self.weight_constraints:
            weight[...] = constraint(weight)

    def compute_gradients(self, x, y, sample_weight=None, training=True):
        """One training step without the update, on checked data (`prepare_data`): forward,
        loss, backward. Returns (y_pred, loss, [dL/dw for w in trainable_weights])."""
        self.clear_losses()
        with recorded_call.backward_follows():
            y_pred = self.forward(x, training=training)
        loss, d_outputs = self.compute_loss_and_gradients(y, y_pred, sample_weight, training)
        self.backward(d_outputs, from_logits=self.logits_path(training))
        return y_pred, loss, self.gradients_with_penalties(self.grads)

    def train_step(self, data):
        """Forward, loss, backward, update; returns the logs (running means) after this batch."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, loss, grads = self.compute_gradients(x, y, sample_weight)
        self.optimizer.apply(grads, self.trainable_weights)
        flat_update.share_gradient_buffers(self, self.optimizer)  # no copy from the next step on
        self.apply_constraints()
        self.loss_tracker.update_state(batch_mean(loss), sample_weight=len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Forward and loss only."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.clear_losses()
        y_pred = self.forward(x, training=False)
        loss, _ = self.compute_loss_and_gradients(y, y_pred, sample_weight, training=False)
        self.loss_tracker.update_state(batch_mean(loss), sample_weight=len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self.forward(x, training=False)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with this batch; returns the logs (`get_metrics_result`).

        compile(metrics=...) are unweighted in Keras: sample weights reach only the loss and
        `weighted_metrics` (CompileMetrics.update_state, keras/src/trainers/compile_utils.py).
        Each output's own loss is a plain mean over batches, every batch counting once: Keras
        weighs it by `y_pred.shape[0]` (CompileLoss.call), the static batch size, which is None
        inside its traced steps (tf.data batches have an unknown size): weight 1.
        """
        for (tracker, _), value in zip(self._loss_trackers, self._output_losses):
            tracker.update_state(value)
        if self.compile_metrics is not None:
            self.compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    @property
    def metrics(self):
        """As Keras lists them: the loss tracker, the compiled metrics (one container),
        each output's loss tracker, then metrics kept in the model's attributes."""
        found = [self.loss_tracker] if self.compiled else []
        if self.compile_metrics is not None:
            found.append(self.compile_metrics)
        found += [tracker for tracker, _ in self._loss_trackers]
        if not self._builtin:  # a model class of yours may keep metrics in its attributes
            for value in vars(self).values():
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
            result = metric.result()
            results = result if isinstance(result, dict) else {metric.name: result}
            logs.update({name: _as_log(value, as_floatx) for name, value in results.items()})
        return dict(sorted(logs.items()))

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    @property
    def metrics_names(self):
        return [metric.name for metric in self.metrics]

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

        Everything is checked before the first weight changes; if training then raises an
        exception, every completed step is kept (as Keras).
        """
        if steps_per_epoch is not None or validation_steps is not None:
            raise NotImplementedError(
                "steps_per_epoch/validation_steps need a data generator, "
                "which minikeras does not support yet"
            )
        batch_size = inputs.positive_int(32 if batch_size is None else batch_size, "batch_size")
        epochs = inputs.positive_int(epochs, "epochs")
        verbose = _check_verbose(verbose)
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(
                    f"`validation_split` must be in (0, 1). Received: {validation_split}"
                )
            x_arr = self._sliceable(x, "x")
            y_arr = self._sliceable(y, "y")
            sw_arr = None if sample_weight is None else np.asarray(sample_weight)
            inputs.check_same_length(x=x_arr, y=y_arr)
            (x, y, sample_weight), (vx, vy, vsw) = batching.train_validation_split(
                [x_arr, y_arr, sw_arr], validation_split
            )
            validation_data = (vx, vy, vsw)
        x, y, sample_weight = self.prepare_data(x, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            val = self._unpack_validation(validation_data)

        n = len(x)
        steps = batching.num_batches(n, batch_size)
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        # An exception from here on keeps every completed step, as Keras does (each optimizer
        # update is whole: it runs after the step's gradients are all computed)
        self._train(
            x,
            y,
            sample_weight,
            val,
            batch_size,
            epochs,
            initial_epoch,
            shuffle,
            validation_batch_size or batch_size,
            validation_freq,
            callback_list,
        )
        return self.history

    def _unpack_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"val_sample_weight); received {type(validation_data).__name__}."
            )
        vx, vy, vsw = (*validation_data, None)[:3]
        vx = self._prepare_x(vx, "validation_data x")
        vy_arr = self._sliceable(vy, "y")
        inputs.check_same_length(x_val=vx, y_val=vy_arr)
        vy = self._prepare_y(vy_arr, len(vx), "validation_data y")
        vsw = inputs.sample_weights(vsw, None, vy, len(vx), self.dtype)
        return vx, vy, vsw

    def _train(
        self,
        x,
        y,
        sample_weight,
        val,
        batch_size,
        epochs,
        initial_epoch,
        shuffle,
        val_batch_size,
        validation_freq,
        callback_list,
    ):
        self.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore, in on_train_begin, sets the epoch to resume from, as in Keras
        # (`self._initial_epoch or initial_epoch`); unlike Keras, it is used once, so that a later
        # fit of the same model starts from its own initial_epoch
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        n = len(x)
        training_logs = {}
        # skip the per-batch calls when no callback overrides them (as Keras)
        batch_hooks = callback_list.has_batch_hooks("train")
        # a Dense stack's step runs compiled, bit-identical to train_step (compiled_step.py)
        compiled = compiled_step.for_model(self, sample_weight)
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            order = batching.epoch_order(n, shuffle, rng.generator())
            for step, (start, stop) in enumerate(batching.batch_slices(n, batch_size)):
                if batch_hooks:
                    callback_list.on_train_batch_begin(step)
                rows = order[start:stop] if shuffle else slice(start, stop)
                if compiled is not None and stop - start > 1:
                    compiled.run(x[rows], y[rows])
                    logs = None  # the metrics' results: read only when a callback asks
                else:
                    logs = self.train_step(_batch(x, y, sample_weight, rows))
                if batch_hooks:
                    logs = callbacks_module.pythonify_logs(
                        self.get_metrics_result() if logs is None else logs
                    )
                    callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            # as Keras: what the epoch's last train_step returned
            epoch_logs = callbacks_module.pythonify_logs(
                self.get_metrics_result() if logs is None else logs
            )
            if val is not None and _validate_now(epoch, validation_freq):
                val_logs = self._evaluate_arrays(*val, val_batch_size, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if self.optimizer is not None and epochs > initial_epoch:
            # EMA weights replace the trained ones at the end, as Keras's fit does
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(logs=training_logs)

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
        """The loss and metrics over the data: a float, a list [loss, *metrics], or a dict."""
        batch_size = inputs.positive_int(32 if batch_size is None else batch_size, "batch_size")
        verbose = _check_verbose(verbose)
        x, y, sample_weight = self.prepare_data(x, y, sample_weight)
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=batching.num_batches(len(x), batch_size),
        )
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, callback_list)
        if return_dict:
            return logs
        return self._logs_as_list(logs)

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

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, callback_list):
        self.reset_metrics()
        callback_list.on_test_begin()
        logs = {}
        batch_hooks = callback_list.has_batch_hooks("test")  # skipped when none overrides them
        for step, (start, stop) in enumerate(batching.batch_slices(len(x), batch_size)):
            if batch_hooks:
                callback_list.on_test_batch_begin(step)
            logs = self.test_step(_batch(x, y, sample_weight, slice(start, stop)))
            logs = callbacks_module.pythonify_logs(logs)
            if batch_hooks:
                callback_list.on_test_batch_end(step, logs)
        callback_list.on_test_end(logs)
        return logs

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, batch by batch (32 by default); needs no `compile`."""
        batch_size = inputs.positive_int(32 if batch_size is None else batch_size, "batch_size")
        verbose = _check_verbose(verbose)
        x = self._prepare_x(x)
        callback_list = callbacks_module.CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=batching.num_batches(len(x), batch_size),
        )
        callback_list.on_predict_begin()
        out = self._empty_outputs(len(x))
        for step, (start, stop) in enumerate(batching.batch_slices(len(x), batch_size)):
            callback_list.on_predict_batch_begin(step)
            out[start:stop] = self.predict_step((x[start:stop],))
            callback_list.on_predict_batch_end(step, {"outputs": out[start:stop]})
        callback_list.on_predict_end()
        return out

    def _empty_outputs(self, n):
        """Where predict writes the outputs for n samples."""
        return np.empty((n,) + tuple(self.output_shape[1:]), dtype=self.dtype)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; metrics restart at each call, as in Keras."""
        compiled = compiled_step.for_batch(self, x, y, sample_weight, class_weight)
        if compiled is not None:  # x and y need no checks nor conversion: the compiled step
            compiled.reset_metrics()
            compiled.run(x, y)
            return self._format_batch_logs(self.get_metrics_result(), return_dict)
        x, y, w = self.prepare_data(x, y, sample_weight, class_weight)
        self.reset_metrics()
        compiled = compiled_step.for_model(self, w)
        if compiled is not None and len(x) > 1:
            compiled.run(x, y)
            return self._format_batch_logs(self.get_metrics_result(), return_dict)
        return self._format_batch_logs(self.train_step((x, y, w)), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        x, y, w = self.prepare_data(x, y, sample_weight)
        self.reset_metrics()
        return self._format_batch_logs(self.test_step((x, y, w)), return_dict)

    def predict_on_batch(self, x):
        return self.predict_step((self._prepare_x(x),)).copy()

    def _format_batch_logs(self, logs, return_dict):
        logs = {k: float(v) for k, v in logs.items()}
        if return_dict:
            return logs
        return self._logs_as_list(logs)

    def __call__(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("inputs")
        if node_module.is_symbolic(x) or recorded_call.is_traced(x) or autodiff.is_recording():
            return Layer.__call__(self, *args, **kwargs)  # a layer of a model, or on a tape
        training = kwargs.get("training")
        training = recorded_call.current_training() if training is None else bool(training)
        y = self.forward(self._prepare_x(x), training=training)
        return recorded_call.fresh(y)

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
        """Print Keras's table of layers, output shapes and parameter counts.

        `layer_range=("first", "last")` prints the layers from the one named first to the one
        named last; `show_trainable` adds Keras's "Trainable" column. `line_length`,
        `positions` and `expand_nested` are accepted and do not change the table."""
        from minikeras.models.summary import print_summary

        print_summary(
            self, print_fn=print_fn, show_trainable=show_trainable, layer_range=layer_range
        )

    def to_json(self, **kwargs):
        """The model's config as JSON, in Keras 3's schema (`keras.models.model_from_json` and
        `minikeras.models.model_from_json` read it). `kwargs` go to `json.dumps`."""
        from minikeras import saving

        return saving.to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, **kwargs):
        from minikeras import saving

        saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from minikeras import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, **kwargs):
        from minikeras import saving

        saving.load_weights(self, filepath, **kwargs)


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


def _batch(x, y, sample_weight, rows):
    """The batch a step receives, as Keras hands it: (x, y), or (x, y, sample_weight)."""
    xb = x[rows]
    yb = None if y is None else y[rows]
    if sample_weight is None:
        return (xb, yb) if yb is not None else (xb,)
    return xb, yb, sample_weight[rows]


def _validate_now(epoch, validation_freq):
    """Keras's `validation_freq`: every N epochs, or at the epochs (from 1) of a list."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


_FUNCTIONAL_SUBCLASSES = {}


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
    return float(as_floatx(array)) if array.size == 1 else array
