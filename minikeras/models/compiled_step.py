"""The compiled training step: forward, loss, backward and metric counts of a stack of Dense
layers in one compiled call (kernels/numba_dense_step.py), then the optimizer's update.

`Model.train_step` runs a step layer by layer: each layer's call, the loss object, each layer's
backward, the optimizer, the metrics; about half of a small model's step is the Python between
the kernels. For the models whose every piece has a compiled kernel, this module runs the same
arithmetic without that Python, with bit-identical results (a test compares both on random
models), and `fit` and `train_on_batch` use it by default. It applies (`supports`) to:

    a Sequential of Dense layers (built-in activations)
    one of these losses, with its defaults (no label smoothing, the mean over the batch):
        'categorical_crossentropy' after a softmax  (from its logits, as Keras inside fit)
        'binary_crossentropy' after a sigmoid       (from its logits, as Keras inside fit)
        'mean_squared_error' after any activation the kernels have
    metrics: any of 'accuracy' (categorical or binary), 'binary_accuracy', 'mae', 'mse'
    no sample or class weights, no regularizers, constraints or activity penalties
    the "numba" kernel set, with NumPy's OpenBLAS (the compiled code calls it directly)
    every product a matrix product: batch, inputs and units all at least 2 (NumPy's matmul
    takes other routes for a dimension of 1, which the compiled step would not round alike)

Anything else (any other layer, loss or metric, a custom train_step) runs the layer-by-layer
step, unchanged; callbacks with batch hooks are fine: they are the loop's business.

The buffers of one batch shape (activations, deltas, gradients) are planned once and reused;
the last, smaller batch of an epoch gets a plan of its own.
"""

import time

import numpy as np

from minikeras import callbacks as callbacks_module
from minikeras import kernels
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras.layers.dense import Dense
from minikeras.models import outputs as outputs_module
from minikeras.optimizers.optimizer import keras_constant

HIDDEN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
OUTPUT_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax",)  # the kernels' (FUSED_ACTIVATIONS)


_KERNELS = []  # the compiled step's module (or None where it cannot run), once looked up


def _compiled_kernels():
    """The compiled step's module, or None where it cannot run (no NumPy OpenBLAS)."""
    if not _KERNELS:
        from minikeras.kernels import numba_blas

        if numba_blas.AVAILABLE:
            from minikeras.kernels import numba_dense_step

            _KERNELS.append(numba_dense_step)
        else:
            _KERNELS.append(None)
    return _KERNELS[0]


def _setup_key(model):
    """What `supports` reads that can change between two steps: compile (optimizer, loss,
    metrics), the kernel set, the layers and whether each trains. Equal keys, same answer."""
    return (
        model.optimizer,
        model.output_specs,
        model._metric_entries,
        model._loss_tracker,  # a new one at each compile
        kernels.current(),
        tuple(
            (layer, layer.trainable, tuple(map(id, layer.weights)))  # weights swapped or added
            # (a layer mixed in with trainers.Trainer has no `layers`: its sublayers)
            for layer in model._sublayers()
        ),
    )


def supports(model):
    """Whether `model`'s training step can run compiled (see the module's docstring). Checked
    once per fit (and per train_on_batch), in a few attribute reads."""
    from minikeras.models.sequential import Sequential

    if type(model) is not Sequential or kernels.current() != "numba" or not model.compiled:
        return False
    layers = model.layers
    shape = getattr(model, "input_shape", None)  # none before a model is built
    if not layers or shape is None or len(shape) != 2 or shape[1] is None:
        return False
    if model.input_shape[1] < 2 or model.dtype not in ("float32", "float64"):
        return False
    for i, layer in enumerate(layers):
        last = i == len(layers) - 1
        if (
            type(layer) is not Dense
            or not layer.trainable
            or layer.units < 2
            or layer.dtype != model.dtype
            or layer.weight_regularizers
            or layer.weight_constraints
            or layer.activity_regularizer is not None
            or layer._fused not in (OUTPUT_ACTIVATIONS if last else HIDDEN_ACTIVATIONS)
        ):
            return False
    if _loss_code(model) is None or _metric_codes(model) is None:
        return False
    if model.optimizer is None or not _products_on_blas(model):
        return False
    if model.optimizer.current_loss_scale() is not None:  # gradients scaled for apply
        return False
    return _compiled_kernels() is not None


def _loss_code(model):
    """The name of the model's loss in the compiled step (numba_dense_step.LOSSES), or None
    when the step has no kernel for it."""
    (spec,) = model.output_specs
    loss = spec.loss
    if (
        spec.weight is not None
        or loss is None
        or loss.reduction != "sum_over_batch_size"
        or outputs_module.loss_dtype(loss) != model.dtype
    ):
        return None
    output = model.layers[-1]._fused
    if type(loss) is losses_module.MeanSquaredError:
        return "mean_squared_error"
    crossentropies = {
        losses_module.CategoricalCrossentropy: ("softmax", "softmax_crossentropy"),
        losses_module.BinaryCrossentropy: ("sigmoid", "sigmoid_crossentropy"),
    }
    activation, code = crossentropies.get(type(loss), (None, None))
    if (
        code is None
        or output != activation
        or loss.from_logits
        or loss.label_smoothing
        or loss.axis != -1
        # from the logits exactly where the layer-by-layer step takes them (Keras's rule)
        or outputs_module.logits_layer(model.logits_chain(0), loss, True) is not model.layers[-1]
    ):
        return None
    return code


def _metric_codes(model):
    """The names of the model's metrics in the compiled step (numba_dense_step.METRICS), and
    their thresholds; None when the step has no kernel for one of them. The metrics are made
    once the labels are seen (fit, train_on_batch): before that, None."""
    entries = model._metric_entries
    if entries is None or model._loss_trackers:
        return None
    codes, thresholds = [], []
    for metric, _ in entries:
        code = _METRIC_NAMES.get(type(metric))
        if code is None or metric.weighted or metric.dtype != model.dtype:
            return None
        codes.append(code)
        thresholds.append(getattr(metric, "threshold", 0.5))
    return codes, thresholds


_METRIC_NAMES = {
    metrics_module.CategoricalAccuracy: "categorical_accuracy",
    metrics_module.BinaryAccuracy: "binary_accuracy",
    metrics_module.MeanAbsoluteError: "mean_absolute_error",
    metrics_module.MeanSquaredError: "mean_squared_error",
}


def _products_on_blas(model):
    """Whether `kernels.matmul` hands this model's products to BLAS, as the compiled step
    does (else the two steps would not round alike): True unless a kernel set chooses another
    product for some shape (`kernels.matmul_uses_blas(m, k, n)`, where one exists) or the
    environment asks for numba_gemm.py's (MINIKERAS_MATMUL=numba, or "auto" where it would
    choose it for some shape)."""
    from minikeras.kernels import numba_gemm

    if numba_gemm.MATMUL == "numba" or numba_gemm.AUTO_NUMBA_BELOW > 0:
        return False
    uses_blas = getattr(kernels, "matmul_uses_blas", None)
    if uses_blas is None:
        return True
    batch = 32  # the choice may depend on the batch too: checked at fit's default
    return all(
        uses_blas(batch, layer.kernel.shape[0], layer.units)
        and uses_blas(layer.kernel.shape[0], batch, layer.units)
        and uses_blas(batch, layer.units, layer.kernel.shape[0])
        for layer in model.layers
    )


def for_model(model, sample_weight=None):
    """The model's compiled step (made once, kept on the model), or None where the
    layer-by-layer step must run. A batch of one sample always runs layer by layer."""
    if sample_weight is not None:
        return None
    step = getattr(model, "_compiled_step", None)
    key = _setup_key(model)
    if step is not None and step.key == key:  # nothing changed since the last check
        return step
    if not supports(model):
        model._compiled_step = None
        return None
    step = model._compiled_step = DenseStackStep(model)
    step.key = key
    return step


def _epoch_update(optimizer, variables):
    """(the epoch kernel of the optimizer's rule, the arguments of its update after the step's),
    or None where the update is more than its `update_all` call (clipping, weight decay, EMA,
    accumulation, a learning-rate schedule, no flat layout) or the rule has no epoch kernel.
    The arguments are those its `update_all` hands the kernel, with the learning rate and the
    hyper-parameters as the Python floats its wrapper makes of them."""
    from minikeras import optimizers

    o = optimizer
    layout = o._layout
    if (
        type(o) not in (optimizers.SGD, optimizers.RMSprop, optimizers.Adam)
        or o.clipnorm
        or o.clipvalue
        or o.global_clipnorm
        or o.weight_decay is not None
        or o.use_ema
        or o.gradient_accumulation_steps
        or callable(o._learning_rate)
        or layout is None
        or not layout.matches(variables)
    ):
        return None
    kernels_module = _compiled_kernels()
    flat = (layout.weights, layout.gradient)
    lr = float(o._current_learning_rate())
    slots = layout.slots
    if type(o) is optimizers.SGD:
        momentum = float(keras_constant(o.momentum, layout.gradient.dtype))
        m = slots["momentum"] if o.momentum != 0 else None
        return kernels_module.sgd_epoch, (*flat, m, lr, momentum, bool(o.nesterov))
    if type(o) is optimizers.RMSprop:
        v, m, a = slots["velocity"], slots.get("momentum"), slots.get("average_gradient")
        a = a if o.centered else None
        hyper = (float(o.rho), float(o.momentum), float(o.epsilon))
        return kernels_module.rmsprop_epoch, (*flat, v, m, a, lr, *hyper)
    m, v, vhat = slots["momentum"], slots["velocity"], slots.get("velocity_hat")
    hyper = (float(o.beta_1), float(o.beta_2), float(o.epsilon), float(o.iterations + 1))
    return kernels_module.adam_epoch, (*flat, m, v, vhat, lr, *hyper)


def for_batch(model, x, y, sample_weight, class_weight):
    """`train_on_batch`'s shortcut: the compiled step when x and y are already what
    `prepare_data` would make of them (C-contiguous arrays of the model's dtype and shapes,
    at least 2 samples), so that nothing needs checking or converting; else None (then
    train_on_batch checks and converts, with its messages for bad input)."""
    step = getattr(model, "_compiled_step", None)
    if step is None or sample_weight is not None or class_weight is not None:
        return None
    if not step.takes(x, y):
        return None
    return step if step.key == _setup_key(model) else None


class DenseStackStep:
    """The compiled step of one model: its weights (the layers' own arrays), and one plan of
    buffers per batch size."""

    def __init__(self, model):
        self.model = model
        layers = model.layers
        self.layers = layers
        dtype = self.dtype = np.dtype(model.dtype)
        self.key = None  # set by for_model
        self.weights = tuple(layer.kernel.value for layer in layers)
        placeholder = np.zeros(0, dtype)  # for a layer without a bias: never read
        self.biases = tuple(
            placeholder if layer.bias is None else layer.bias.value for layer in layers
        )
        self.has_bias = np.array([layer.bias is not None for layer in layers], np.bool_)
        codes = [kernels.FUSED_ACTIVATIONS.index(layer._fused) for layer in layers]
        self.codes = np.array(codes, np.int64)  # the kernels' activation codes
        # the gradients, in trainable_weights order (kernel, bias, next kernel, ...)
        self.dweights = tuple(np.empty_like(w) for w in self.weights)
        self.dbiases = tuple(np.empty_like(b) for b in self.biases)
        self.grads = []
        for layer, dw, db in zip(layers, self.dweights, self.dbiases):
            self.grads += [dw, db] if layer.bias is not None else [dw]
        self.variables = model.trainable_weights
        self.largest_product = max(w.size for w in self.weights)  # times the batch size
        self._plans = {}
        self._log_order = None  # the metrics in the logs' orders (`batch_logs`), once found
        self._gathered = {}  # x's and y's rows of a shuffled batch, by its size
        kernels_module = self._kernels = _compiled_kernels()
        self.loss_code = kernels_module.LOSSES.index(_loss_code(model))
        names, thresholds = _metric_codes(model)
        self.metric_codes = np.array([kernels_module.METRICS.index(n) for n in names], np.int64)
        self.thresholds = np.array(thresholds, np.float64)
        # the 0-d totals and counts the step adds to: the loss tracker's, then each metric's
        # (with no metric, the tracker's stand in for their type: never touched)
        self.tracker = model._loss_tracker
        metrics = [metric for metric, _ in model._metric_entries] or [self.tracker]
        self.totals = tuple(metric.total.value for metric in metrics)
        self.counts = tuple(metric.count.value for metric in metrics)
        self.metrics = [self.tracker] + [metric for metric, _ in model._metric_entries]
        self._share_gradients(model.optimizer)  # fit builds the optimizer before its first step

    def takes(self, x, y):
        """Whether (x, y) is a batch this step can run as it is: C-contiguous 2-D arrays of the
        model's dtype and shapes, at least 2 samples (nothing to check or convert)."""
        dtype = self.dtype
        return (
            type(x) is np.ndarray
            and type(y) is np.ndarray
            and x.dtype == dtype
            and y.dtype == dtype
            and x.ndim == 2
            and y.ndim == 2
            and x.flags.c_contiguous
            and y.flags.c_contiguous
            and len(x) == len(y) > 1
            and x.shape[1] == self.weights[0].shape[0]
            and y.shape[1] == self.weights[-1].shape[1]
        )

    def _plan(self, batch):
        """The buffers of a batch of `batch` samples, made on its first use."""
        plan = self._plans.get(batch)
        if plan is None:
            dtype = self.weights[0].dtype
            units = [w.shape[1] for w in self.weights]
            zs = tuple(np.empty((batch, u), dtype) for u in units)
            outs = tuple(np.empty((batch, u), dtype) for u in units)
            deltas = tuple(np.empty((batch, u), dtype) for u in units)
            probs = np.empty((batch, units[-1]), dtype)
            losses = np.empty(batch, dtype)
            # each sample's weight in the mean, 1/N, computed as the loss computes it (w / N)
            row_scale = np.ones(batch, dtype) / float(batch)
            row = np.empty(units[-1], dtype)  # one output row, for its means in NumPy's order
            values = np.empty(batch, dtype)  # one metric's per-sample values
            plan = (zs, outs, deltas, probs, losses, row_scale, row, values)
            self._plans[batch] = plan
        return plan

    def batch_logs(self, return_dict):
        """What `train_on_batch` returns after `run`: `Model._format_batch_logs` of
        `get_metrics_result()` (a dict sorted by name, or the values in Keras's order), read
        straight from the step's metrics. Measured (tutorial model, one thread, CPU): the
        generic way (walking the metrics and containers, sorting, converting) costs ~50 µs
        after a compiled step, a quarter of the step; the names and their order are found
        once, the generic way, which is kept where the two ways could differ."""
        if self._log_order is None:
            model = self.model
            logs = model.get_metrics_result()
            by_name = {metric.name: metric for metric in self.metrics}
            order = list(logs)  # sorted, as the dict
            listed = model._logs_as_list({name: name for name in logs})
            listed = [listed] if isinstance(listed, str) else listed
            self._log_order = False
            if set(by_name) == set(logs) and sorted(listed) == order:
                self._log_order = ([by_name[n] for n in order], [by_name[n] for n in listed])
                self._log_names = order
                self._as_floatx = np.dtype(model.dtype).type
                if self.batch_logs(True) != model._format_batch_logs(logs, True):
                    self._log_order = False
        if self._log_order is False:
            return self.model._format_batch_logs(self.model.get_metrics_result(), return_dict)
        as_floatx = self._as_floatx
        if return_dict:
            values = [float(as_floatx(metric.result())) for metric in self._log_order[0]]
            return dict(zip(self._log_names, values))
        values = [float(as_floatx(metric.result())) for metric in self._log_order[1]]
        return values[0] if len(values) == 1 else values

    def reset_metrics(self):
        """`model.reset_metrics()` for the metrics this step can have (their totals and counts
        to 0), without walking `model.metrics`."""
        for metric in self.metrics:
            metric.total.value[()] = 0
            metric.count.value[()] = 0

    def _step_args(self, plan):
        """dense_step's arguments after (x, y), for a batch with the buffers of `plan`."""
        zs, outs, deltas, probs, losses, row_scale, row, values = plan
        tracker = self.tracker
        return (
            self.weights, self.biases, self.has_bias, self.codes, self.loss_code, zs, outs,
            deltas, self.dweights, self.dbiases, probs, losses, row_scale, row,
            tracker.total.value, tracker.count.value, self.metric_codes, self.thresholds,
            self.totals, self.counts, values,
        )  # fmt: skip

    def run(self, x, y):
        """One training step on the batch (x, y): the compiled forward, loss, backward and
        metric counts, then the optimizer's update of every weight. Returns the batch's loss."""
        from minikeras.kernels import numba_runtime  # (Numba is loaded only where it runs)

        step_args = self._step_args(self._plan(len(x)))
        # BLAS's threads as `kernels.matmul` would pick them for the largest product
        threads_before = numba_runtime.use_blas_threads(len(x) * self.largest_product)
        try:
            loss = self._kernels.dense_step(x, y, *step_args)
        finally:
            numba_runtime.restore_blas_threads(threads_before)
        self.model.optimizer.apply(self.grads, self.variables)
        self._share_gradients(self.model.optimizer)
        return loss

    # ------------------------------------------------------------------ a whole epoch
    def epoch_batches(self, adapter):
        """How many of an epoch's batches over this ArrayAdapter `run_batches` runs: every
        one, or all but the last when that one must run alone (a single sample, which runs
        layer by layer, or so few that BLAS would take fewer threads for it). 0 where it does
        not apply: weighted arrays, arrays this step does not take, batches of one sample,
        gradients not landing where the optimizer's update reads them, or an update that is
        more than its `update_all` call (`_epoch_update`)."""
        x, y, batch = adapter.x, adapter.y, adapter.batch_size
        optimizer = self.model.optimizer
        if not (
            adapter.sample_weight is None
            and batch >= 2
            and len(x) >= 2
            and self.takes(x[:2], y[:2])
            and self.grads[0] is (optimizer.gradient_buffers(self.variables) or [None])[0]
            and _epoch_update(optimizer, self.variables) is not None
        ):
            return 0
        from minikeras.kernels import numba_runtime

        full, tail = divmod(len(x), batch)
        small = numba_runtime.SMALL_PRODUCT
        # one thread setting for the whole call: the tail's products must get the same
        tail_alike = (tail * self.largest_product < small) == (
            min(batch, len(x)) * self.largest_product < small
        )
        return full + (tail >= 2 and tail_alike)

    def run_batches(self, adapter, order, first, stop):
        """Batches first … stop − 1 of an epoch over the adapter's arrays, in one compiled call
        (numba_dense_step.py's `*_epoch`): the same steps, in the same order, as `run` on each
        batch, without the Python between them. `order`: the epoch's sample order (None: in
        order, each batch a view of the arrays). `stop` at most `epoch_batches(adapter)`."""
        x, y, batch = adapter.x, adapter.y, adapter.batch_size
        epoch, args = _epoch_update(self.model.optimizer, self.variables)
        full, tail = divmod(len(x), batch)
        plans = [self._plan(batch)] if full else []
        if stop > full:
            plans.append(self._plan(tail))
        step_args, tail_args = self._step_args(plans[0]), self._step_args(plans[-1])
        if order is None:  # nothing to gather
            xb = yb = xt = yt = np.empty((0, 0), self.dtype)
            order = np.empty(0, np.int64)
        else:
            xb, yb = self._rows(batch if full else 0)
            xt, yt = self._rows(tail if stop > full else 0)
        from minikeras.kernels import numba_runtime

        threads_before = numba_runtime.use_blas_threads(min(batch, len(x)) * self.largest_product)
        try:
            epoch(x, y, order, batch, first, stop, xb, yb, step_args, xt, yt, tail_args, *args)
        finally:
            numba_runtime.restore_blas_threads(threads_before)
        self.model.optimizer._iterations += stop - first

    def run_between_redraws(self, adapter, order, stop, callbacks, progress_bar):
        """Batches 0 … stop − 1 of an epoch when the progress bar is the only callback that
        looks at each batch. Its bar redraws at most every `interval` seconds (0.05 s, Keras's
        Progbar): the batches between two redraws run in one compiled call (`run_batches`),
        and the bar hears of the last of them, with the metrics' running values at that batch.
        The first batch runs alone, as the bar measures its ms/step from the end of step 1; at
        the epoch's end it prints the epoch's logs, so its last line and the History are
        those of a batch-by-batch epoch (which batches the bar redraws at in between depends
        on the clock, as in Keras)."""
        first, seconds_per_batch = 0, None
        while first < stop:
            batches = 1
            if seconds_per_batch is not None:  # as many as fit before the next redraw
                due = progress_bar.redraw_due_in()
                batches = max(int(min(due / seconds_per_batch, stop)), 1)
            last = min(first + batches, stop)
            start = time.perf_counter()
            self.run_batches(adapter, order, first, last)
            seconds_per_batch = max(time.perf_counter() - start, 1e-9) / (last - first)
            logs = callbacks_module.pythonify_logs(self.model.get_metrics_result())
            callbacks.on_train_batch_end(last - 1, logs)
            first = last

    def _rows(self, batch):
        """The buffers a batch of `batch` shuffled rows is gathered into (x's, y's), made on
        their first use."""
        rows = self._gathered.get(batch)
        if rows is None:
            features, units = self.weights[0].shape[0], self.weights[-1].shape[1]
            rows = np.empty((batch, features), self.dtype), np.empty((batch, units), self.dtype)
            self._gathered[batch] = rows
        return rows

    def _share_gradients(self, optimizer):
        """Write the next steps' gradients straight into the optimizer's flat gradient
        (flat_update.py), so that its one call reads them without a copy."""
        buffers = optimizer.gradient_buffers(self.variables)
        if buffers is None or buffers[0] is self.grads[0]:
            return
        self.grads = list(buffers)
        parts = iter(buffers)
        self.dweights, self.dbiases = [], []
        for layer, bias in zip(self.layers, self.biases):
            self.dweights.append(next(parts))
            self.dbiases.append(next(parts) if layer.bias is not None else bias)
        self.dweights, self.dbiases = tuple(self.dweights), tuple(self.dbiases)
