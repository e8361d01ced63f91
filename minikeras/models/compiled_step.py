"""The compiled training step: forward, loss, backward and metric counts of a stack of Dense
layers in one compiled call (kernels/numba_dense_step.py), then the optimizer's update.

`Model.train_step` runs a step layer by layer: each layer's call, the loss object, each layer's
backward, the optimizer, the metrics; about half of a small model's step is the Python between
the kernels. For the models whose every piece has a compiled kernel, this module runs the same
arithmetic without that Python, with bit-identical results (a test compares both on random
models), and `fit` and `train_on_batch` use it by default. It applies (`supports`) to:

    a Sequential of Dense layers (built-in activations; softmax on the last one)
    loss 'categorical_crossentropy' (Keras takes it from the softmax's logits inside fit)
    metrics: none, or 'accuracy' (categorical)
    no sample or class weights, no regularizers, constraints or activity penalties
    the "numba" kernel set, with NumPy's OpenBLAS (the compiled code calls it directly)
    every product a matrix product: batch, inputs and units all at least 2 (NumPy's matmul
    takes other routes for a dimension of 1, which the compiled step would not round alike)

Anything else (any other layer, loss or metric, a custom train_step, callbacks with batch
hooks are fine: they are the loop's business) runs the layer-by-layer step, unchanged.

The buffers of one batch shape (activations, deltas, gradients) are planned once and reused;
the last, smaller batch of an epoch gets a plan of its own.
"""

import numpy as np

from minikeras import kernels
from minikeras import losses as losses_module
from minikeras import metrics as metrics_module
from minikeras.layers.dense import Dense

HIDDEN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")


def _compiled_kernels():
    """The compiled step's module, or None where it cannot run (no NumPy OpenBLAS)."""
    from minikeras.kernels import numba_blas

    if not numba_blas.AVAILABLE:
        return None
    from minikeras.kernels import numba_dense_step

    return numba_dense_step


from minikeras.kernels import numba_runtime  # noqa: E402  (numba is loaded with the kernels)


def supports(model):
    """Whether `model`'s training step can run compiled (see the module's docstring). Checked
    once per fit (and per train_on_batch), in a few attribute reads."""
    from minikeras.models.sequential import Sequential

    if type(model) is not Sequential or kernels.current() != "numba" or not model.compiled:
        return False
    layers = model.layers
    if not layers or len(model.input_shape) != 2 or model.input_shape[1] is None:
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
            or layer._fused != ("softmax" if last else layer._fused)
            or (not last and layer._fused not in HIDDEN_ACTIVATIONS)
        ):
            return False
    (spec,) = model.output_specs
    loss = spec.loss
    if (
        type(loss) is not losses_module.CategoricalCrossentropy
        or loss.from_logits
        or loss.label_smoothing
        or loss.axis != -1
        or loss.reduction != "sum_over_batch_size"
        or spec.weight is not None
    ):
        return False
    entries = model._metric_entries  # made once the labels are seen (fit, train_on_batch)
    if entries is None or model._loss_trackers or len(entries) > 1:
        return False
    if entries:
        metric, _ = entries[0]
        if type(metric) is not metrics_module.CategoricalAccuracy or metric.weighted:
            return False
    if model.optimizer is None:
        return False
    return _compiled_kernels() is not None


def for_model(model, sample_weight=None):
    """The model's compiled step (made once, kept on the model), or None where the
    layer-by-layer step must run. A batch of one sample always runs layer by layer."""
    if sample_weight is not None or not supports(model):
        return None
    step = getattr(model, "_compiled_step", None)
    if step is None or not step.matches(model):
        step = model._compiled_step = DenseStackStep(model)
    return step


class DenseStackStep:
    """The compiled step of one model: its weights (the layers' own arrays), and one plan of
    buffers per batch size."""

    def __init__(self, model):
        self.model = model
        layers = model.layers
        self.layers = layers
        dtype = np.dtype(model.dtype)
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
        self._kernels = _compiled_kernels()

    def matches(self, model):
        """Still the same layers and weights (not after a layer was added or popped)."""
        variables = model.trainable_weights
        return len(variables) == len(self.variables) and all(
            a is b for a, b in zip(variables, self.variables)
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
            plan = self._plans[batch] = (zs, outs, deltas, probs, losses, row_scale)
        return plan

    def run(self, x, y):
        """One training step on the batch (x, y): the compiled forward, loss, backward and
        metric counts, then the optimizer's update of every weight. Returns the batch's loss."""
        model = self.model
        zs, outs, deltas, probs, losses, row_scale = self._plan(len(x))
        tracker = model.loss_tracker
        accuracy = model.compile_metrics.metrics[0] if model.compile_metrics else tracker
        # BLAS's threads as `kernels.matmul` would pick them for the largest product
        threads_before = numba_runtime.use_blas_threads(len(x) * self.largest_product)
        try:
            loss = self._kernels.dense_softmax_step(
                x, y, self.weights, self.biases, self.has_bias, self.codes, zs, outs, deltas,
                self.dweights, self.dbiases, probs, losses, row_scale,
                tracker.total.value, tracker.count.value, accuracy is not tracker,
                accuracy.total.value, accuracy.count.value,
            )  # fmt: skip
        finally:
            numba_runtime.restore_blas_threads(threads_before)
        model.optimizer.apply(self.grads, self.variables)
        return loss
