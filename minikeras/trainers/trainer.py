"""Trainer: compile, fit, evaluate and predict for any layer, as Keras's `Trainer` mixin.

Keras builds a model from two parts, a `Layer` and a `Trainer` (keras/src/trainers/trainer.py),
and a layer of yours mixed in with the Trainer trains like a model:

    class LinearModel(Trainer, layers.Dense):
        def __init__(self, units):
            layers.Dense.__init__(self, units=units)
            Trainer.__init__(self)

minikeras keeps its training loop in one place, `models/model.py`: this Trainer lends a layer
those methods of `Model` (the loop, the step, the metrics), and leaves the layer its own
forward, backward, weights and gradients.
"""

from minikeras.layers import recorded_call
from minikeras.models.model import Model, init_training_state

# Model's methods that belong to training: everything else on Model (build, backward, grads,
# weights, __call__, summary, saving) describes a model as a layer, which the layer keeps
TRAINING_METHODS = (
    "output_names",
    "output_keys",
    "logits_chain",
    "output_logits",
    "compile",
    "_assert_compiled",
    "has_compiled_loss",
    "_build_on_batch",
    "_takes_text",
    "_prepare_x",
    "_prepare_structure",
    "_build_for_data",
    "_prepare_y",
    "_sliceable",
    "own_steps",
    "prepare_data",
    "prepare_own_step_data",
    "_build_metrics",
    "logits_path",
    "compute_loss_and_gradients",
    "_masks_of",
    "compute_loss",
    "_track_output_losses",
    "_per_output",
    "gradients_with_penalties",
    "train_step",
    "test_step",
    "predict_step",
    "compute_metrics",
    "metrics",
    "get_metrics_result",
    "_metrics_result_or",
    "reset_metrics",
    "metrics_names",
    "_compile_metrics",
    "compiled_loss",
    "compiled_metrics",
    "_build_metrics_from",
    "fit",
    "_prepare_batch",
    "_prepare_inputs_batch",
    "_validation_adapter",
    "_unpack_validation",
    "_train",
    "_build_optimizer",
    "evaluate",
    "_test_adapter",
    "_logs_as_list",
    "_evaluate_batches",
    "predict",
    "train_on_batch",
    "test_on_batch",
    "predict_on_batch",
    "_format_batch_logs",
    "metrics_variables",
    "_structured_labels",
    "prepare_structured_data",
    "_with_penalties",
    "_outputs_as_given",
    "_structured_loss_and_gradients",
    "_structured_compute_loss",
    "_own_compute_loss_and_gradients",
    "_writes_compute_loss",
)


class Trainer:
    """Mix in before a layer class, and call `Trainer.__init__(self)` after the layer's."""

    def __init__(self):
        init_training_state(self)

    def compute_gradients(self, x, y, sample_weight=None, training=True):
        """`Model.compute_gradients` for a layer: its own backward from dL/d(output) when it
        writes one (Dense), else the tape's replay of its recorded call (as a subclass of
        Model is differentiated). Returns (y_pred, loss, [dL/dw for w in trainable_weights])."""
        self.clear_losses()
        with recorded_call.backward_follows():
            y_pred = self.forward(x, training=training)
        loss, d_outputs = self.compute_loss_and_gradients(y, y_pred, sample_weight, training)
        if self.has_own_backward:
            self.backward_pass(d_outputs[0])  # dL/dw into self.grads, as in any model
        else:
            Model.backward(self, d_outputs, from_logits=self.logits_path(training))
        # a frozen layer has no trainable weight, so no gradient goes to the optimizer
        grads = self.grads if self.trainable_weights else []
        return y_pred, loss, self.gradients_with_penalties(grads)


for _name in TRAINING_METHODS:
    setattr(Trainer, _name, Model.__dict__[_name])
