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

from minikeras import callbacks as callbacks_module
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras import optimizers as optimizers_module
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer
from minikeras.models import inputs
from minikeras.models import outputs as outputs_module
from minikeras.models.arrays import as_list
from minikeras.utils import batching, rng


class Model(Layer):
    """The base of every model. Subclasses define `call`, `backward`, `build`, `layers`."""

    def __new__(cls, *args, **kwargs):
        # Model(inputs, outputs) is a graph of layers: Keras hands it to its Functional class
        # (keras/src/models/model.py `Model.__new__`); Sequential and subclasses are untouched
        if cls is Model and (
            len(args) == 2
            or (len(args) == 1 and "outputs" in kwargs)
            or ("inputs" in kwargs and "outputs" in kwargs)
        ):
            from minikeras.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        super().__init__(trainable=trainable, dtype=dtype, name=name, **kwargs)
        self.optimizer = None
        self.loss = None  # compile()'s `loss` argument, as given (as Keras keeps it)
        self.loss_weights = None
        self.compiled = False
        self.compiled_metrics = []  # compile()'s `metrics` argument
        self.metrics = []  # Metric objects, made once the labels' shapes are known
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.output_specs = None  # one outputs.OutputSpec per output, set by compile
        self._metric_entries, self._loss_trackers = None, []
        self.stop_training = False
        self.history = None
        self._initial_epoch = None  # set by callbacks.BackupAndRestore to resume a fit

    # ------------------------------------------------------------------ subclasses provide
    @property
    def layers(self):
        raise NotImplementedError

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

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @weights.setter
    def weights(self, value):  # Layer.__init__ assigns []; a model's weights are its layers'
        pass

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    @property
    def grads(self):
        """dL/dw for every trainable weight, after `backward`, in `trainable_weights` order."""
        return [g for layer in self.layers if layer.trainable for g in layer.grads]

    @grads.setter
    def grads(self, value):
        pass

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

    def get_weights(self):
        """Copies of every weight, layer by layer (kernel, then bias): Keras's order."""
        return [np.array(w) for w in self.weights]

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
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
        )

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
        if weighted_metrics:
            raise NotImplementedError("weighted_metrics are not supported by minikeras yet")
        # every name is understood before anything changes: a failed compile keeps the old setup
        optimizer = optimizers_module.get(optimizer)
        specs = outputs_module.resolve(loss, loss_weights, metrics, self.output_keys)
        outputs_module.check_metric_names(specs)
        self.optimizer, self.loss, self.loss_weights = optimizer, loss, loss_weights
        self.compiled_metrics = metrics
        self.output_specs = specs
        self.metrics, self._metric_entries, self._loss_trackers = [], None, []
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

    def check_input_shape(self, shape):
        if self.layers:
            self.layers[0].check_input_shape(shape)

    def _prepare_y(self, y, n, name="y", out_shape=None, loss=None):
        """Labels checked against the loss and the model's output shape (by default; a model
        with several outputs checks each output's labels against that output and its loss)."""
        y = inputs.to_array(y, self.dtype, name)
        out_shape = self.output_shape if out_shape is None else out_shape
        loss = self.output_specs[0].loss if loss is None else loss
        if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
            if not (
                y.ndim == len(out_shape) - 1 or (y.ndim == len(out_shape) and y.shape[-1] == 1)
            ):
                raise ValueError(
                    f"`{name}` has shape {y.shape}; sparse_categorical_crossentropy expects one "
                    f"integer class id per sample, shape ({y.shape[0]},) or ({y.shape[0]}, 1), for "
                    f"an output of shape {out_shape}."
                )
            if np.any(y != np.round(y)) or y.min() < 0 or y.max() >= out_shape[-1]:
                raise ValueError(
                    f"`{name}` must hold integer class ids in [0, {out_shape[-1]}) for an output "
                    f"of shape {out_shape}; received values from {y.min()} to {y.max()}."
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

    def prepare_data(self, x, y, sample_weight=None, class_weight=None):
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
            self.metrics = [m for m, _ in self._metric_entries]
            self.metrics += [t for t, _ in self._loss_trackers]

    # ------------------------------------------------------------------ one step, in pieces
    def logits_path(self, training):
        """For each output: the layer whose logits its loss starts from, or None (the loss
        starts from the output itself). Keras's rule, decided here and only here."""
        return [
            outputs_module.logits_layer(self.logits_chain(i), spec.loss, training)
            for i, spec in enumerate(self.output_specs)
        ]

    def compute_loss_and_gradients(self, y, y_pred, sample_weight=None, training=True):
        """The total loss Σ weightᵢ·lossᵢ (+ the weights' penalties) and, per output, its
        gradient weightᵢ·dlossᵢ/d(outputᵢ) — at the logits where `logits_path` says so."""
        ys, preds = as_list(y), as_list(y_pred)
        total, d_outputs, self._output_losses = 0.0, [], []
        path = self.logits_path(training)
        for i, spec in enumerate(self.output_specs):
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
        return total, d_outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras's `compute_loss`: the total loss (the weighted losses of the outputs plus the
        weights' penalties), as a number."""
        return self.compute_loss_and_gradients(y, y_pred, sample_weight, training)[0]

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
        y_pred = self.forward(x, training=training)
        loss, d_outputs = self.compute_loss_and_gradients(y, y_pred, sample_weight, training)
        self.backward(d_outputs, from_logits=self.logits_path(training))
        return y_pred, loss, self.gradients_with_penalties(self.grads)

    def train_step(self, data):
        """Forward, loss, backward, update; returns the logs (running means) after this batch."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, loss, grads = self.compute_gradients(x, y, sample_weight)
        self.optimizer.apply(grads, self.trainable_weights)
        self.apply_constraints()
        self.loss_tracker.update_state(loss, sample_weight=len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """Forward and loss only."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self.forward(x, training=False)
        loss, _ = self.compute_loss_and_gradients(y, y_pred, sample_weight, training=False)
        self.loss_tracker.update_state(loss, sample_weight=len(x))
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
        ys, preds = as_list(y), as_list(y_pred)
        for metric, i in self._metric_entries:
            metric.update_state(ys[i], preds[i])
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The logs: every metric's result, sorted by name as Keras's logs are."""
        # Keras keeps metric totals in floatx variables: report the results rounded to that type
        as_floatx = np.dtype(self.dtype).type
        logs = {"loss": float(as_floatx(self.loss_tracker.result()))}
        for metric in self.metrics:
            logs[metric.name] = float(as_floatx(metric.result()))
        return dict(sorted(logs.items()))  # (`pythonify_logs` in keras/src/utils/python_utils.py)

    def reset_metrics(self):
        self.loss_tracker.reset_state()
        for metric in self.metrics:
            metric.reset_state()

    @property
    def metrics_names(self):
        """Keras's order for evaluate()'s list: the loss, the metrics by their own names, each
        output's loss (then the rest of the logs, sorted: `Trainer._flatten_metrics_in_order`)."""
        entries, trackers = self._metric_entries or [], self._loss_trackers
        return ["loss"] + [m.base_name for m, _ in entries] + [t.name for t, _ in trackers]

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
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            order = batching.epoch_order(n, shuffle, rng.generator())
            for step, (start, stop) in enumerate(batching.batch_slices(n, batch_size)):
                if batch_hooks:
                    callback_list.on_train_batch_begin(step)
                if shuffle:
                    idx = order[start:stop]
                    xb, yb = x[idx], y[idx]
                    wb = None if sample_weight is None else sample_weight[idx]
                else:
                    xb, yb = x[start:stop], y[start:stop]
                    wb = None if sample_weight is None else sample_weight[start:stop]
                logs = self.train_step((xb, yb, wb))
                if batch_hooks:
                    callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = self.get_metrics_result()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, val_batch_size, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
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
        """The logs in Keras's order (`Trainer._flatten_metrics_in_order`): those named in
        `metrics_names` first, then the others sorted by name; a lone value alone."""
        names = [name for name in self.metrics_names if name in logs]
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
            wb = None if sample_weight is None else sample_weight[start:stop]
            logs = self.test_step((x[start:stop], y[start:stop], wb))
            if batch_hooks:
                callback_list.on_test_batch_end(step, logs)
        logs = {k: float(v) for k, v in self.get_metrics_result().items()}
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
        x, y, w = self.prepare_data(x, y, sample_weight, class_weight)
        self.reset_metrics()
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

    def __call__(self, x, training=False):
        if node_module.is_symbolic(x):  # a model used as a layer of a functional model
            return Layer.__call__(self, x)
        return self.forward(self._prepare_x(x), training=training).copy()

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
        """Print Keras's table of layers, output shapes and parameter counts."""
        from minikeras.models.summary import print_summary

        print_summary(self, print_fn=print_fn)

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
