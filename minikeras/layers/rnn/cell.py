"""What SimpleRNNCell, LSTMCell and GRUCell share: Keras's arguments, weights, config, dropout.

A cell computes one time step. The `RNN` layer runs it along a sequence through four methods
(minikeras's own contract; Keras's cells have only `call`):

    begin(xs, training)            xs (T, b, in) in processing order: x·W + b for every step at
                                   once (one product), dropout masks drawn for the sequence
    step(t, states) -> states      one step; the output is the new states[0]
    step_backward(t, d_states)     d_states = dL/d(this step's new states) → dL/d(previous states)
    end_backward(need_dx) -> dx    dW = xᵀ·dz over all steps (one product), dx (T, b, in)
"""

import numpy as np

from minikeras import activations, constraints, initializers, kernels, ops, regularizers
from minikeras.layers.layer import Layer
from minikeras.layers.rnn.dropout import draw_masks, gate_matmul, gate_matmul_backward
from minikeras.utils.rng import make_generator


class RecurrentCell(Layer):
    """Base of the three cells. Subclasses set GATES and write `step` and `step_backward`."""

    GATES = 1
    has_recurrent_activation = True
    has_sequence_contract = True  # RNN runs begin/step/...; a cell of yours runs on the tape

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        kwargs.pop("implementation", None)  # Keras picks it from recurrent_dropout; so do we
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a positive integer, "
                f"got {units}."
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        for name in self._activation_names():
            if name not in kernels.RNN_ACTIVATIONS:
                raise NotImplementedError(
                    f"{type(self).__name__}: activation {name!r} is not supported in a "
                    f"recurrent cell by minikeras (it has {', '.join(kernels.RNN_ACTIVATIONS)})"
                )
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        # penalties and projections of the three weights: `add_weight` hands them to the model
        # (the penalty joins the loss, the projection follows each update), as for Dense
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # Keras clips the rates into [0, 1]
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = make_generator(seed)  # one generator per cell: new masks for each sequence
        self.state_size = self.units
        self.output_size = self.units

    def _activation_names(self):
        names = [activations.serialize(self.activation)]
        if self.has_recurrent_activation:
            names.append(activations.serialize(self.recurrent_activation))
        return names

    @property
    def act_name(self):
        return activations.serialize(self.activation)

    @property
    def rec_act_name(self):
        return activations.serialize(self.recurrent_activation)

    # the weights' plain arrays (views of the Variables): the step loop hands them to compiled
    # kernels, which take an ndarray ten times faster than a Variable
    @property
    def kernel(self):
        return self._kernel.value

    @property
    def recurrent_kernel(self):
        return self._recurrent_kernel.value

    @property
    def bias(self):
        return self._bias.value if self.use_bias else None

    def build(self, input_shape):
        gates_units = self.GATES * self.units
        self._kernel = self.add_weight(
            (input_shape[-1], gates_units),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self._recurrent_kernel = self.add_weight(
            (self.units, gates_units),
            self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self._bias = self.add_weight(
                self.bias_shape(),
                self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        super().build(input_shape)

    def bias_shape(self):
        return (self.GATES * self.units,)

    def input_bias(self):
        return self.bias if self.use_bias else None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    # ------------------------------------------------------------------ the sequence contract
    def begin(self, xs, training=False):
        """xw = x·W + b for all T steps at once     (T·b, in)·(in, G·u) → (T, b, G·u)"""
        steps, batch, features = xs.shape
        # Keras 3: one input mask without recurrent dropout, one per gate with it
        per_gate = self.recurrent_dropout > 0
        count = self.GATES if per_gate else 1
        self.input_masks = (
            draw_masks(self._rng, self.dropout, count, (batch, features), xs.dtype)
            if training
            else None
        )
        self.recurrent_masks = (
            draw_masks(self._rng, self.recurrent_dropout, count, (batch, self.units), xs.dtype)
            if training
            else None
        )
        self.xs = xs
        flat = xs.reshape(steps * batch, features)
        xw = gate_matmul(flat, self.kernel, self._tiled_input_masks(steps), self.GATES)
        if self.use_bias:
            xw += self.input_bias()
        self.xw = xw.reshape(steps, batch, -1)
        self.dxw = np.zeros_like(self.xw)
        self.dkernel = np.zeros_like(self.kernel)
        self.drecurrent = np.zeros_like(self.recurrent_kernel)
        self._allocate(steps, batch)

    def _tiled_input_masks(self, steps):
        """The (n, b, in) input masks repeated for every step: (n, T·b, in)."""
        if self.input_masks is None:
            return None
        n, batch, features = self.input_masks.shape
        tiled = np.broadcast_to(self.input_masks[:, None], (n, steps, batch, features))
        return tiled.reshape(n, steps * batch, features)

    def _allocate(self, steps, batch):
        raise NotImplementedError

    def run(self, states):
        """Every step in one kernel call, where the cell has such a kernel: returns the outputs
        (T, b, u) and the last states, or None, and the layer then calls `step` step by step."""
        return None

    def run_backward(self, dh_seq, d_states):
        """Backward through every step of `run`: dh_seq (T, b, u) = dL/d(each output), or None
        when only the last is used; d_states = dL/d(last states). Returns dL/d(initial states)."""
        raise NotImplementedError

    def recurrent_product(self, h, first=0, count=None):
        """h·U for the gate blocks first .. first+count of U (all by default), each block with
        its own recurrent dropout mask in training        (b, u)·(u, count·u)"""
        count = self.GATES if count is None else count
        w = self.recurrent_kernel[:, first * self.units : (first + count) * self.units]
        masks = self.recurrent_masks
        if masks is not None and len(masks) > 1:
            masks = masks[first : first + count]
        return gate_matmul(h, w, masks, count), masks

    def recurrent_backward(self, h, dhu, masks, first=0, count=None):
        """dU[:, blocks] += (h ⊙ m)ᵀ·dhu; returns dL/dh through this product."""
        count = self.GATES if count is None else count
        columns = slice(first * self.units, (first + count) * self.units)
        return gate_matmul_backward(
            h, self.recurrent_kernel[:, columns], masks, dhu, self.drecurrent[:, columns], count
        )

    def end_backward(self, need_dx=True):
        """dW = Σ_t x_tᵀ·dxw_t (one product over T·b rows), db = Σ dxw; returns dx (T, b, in)."""
        steps, batch, features = self.xs.shape
        flat_dxw = self.dxw.reshape(steps * batch, -1)
        dx = gate_matmul_backward(
            self.xs.reshape(steps * batch, features),
            self.kernel,
            self._tiled_input_masks(steps),
            flat_dxw,
            self.dkernel,
            self.GATES,
            need_da=need_dx,
        )
        self.grads = [self.dkernel, self.drecurrent]
        if self.use_bias:
            self.grads.append(self.bias_gradient(flat_dxw))
        return None if dx is None else dx.reshape(steps, batch, features)

    def bias_gradient(self, flat_dxw):
        """db = Σ over steps and batch of dxw     (G·u,)"""
        return flat_dxw.sum(axis=0)

    # ------------------------------------------------------------------ one step as ops
    # `call(inputs, states)` is Keras's cell API: one step written with minikeras.ops, on the
    # weights' Variables, so that the tape differentiates it. RNN's compiled loop above never
    # uses it; a stack of cells (StackedRNNCells, `RNN([cells])`) and a cell called alone do.
    def _check_step_dropout(self, training):
        if training and (0 < self.dropout < 1 or 0 < self.recurrent_dropout < 1):
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}': dropout in a training call of the cell "
                f"alone or in a stack of cells (dropout={self.dropout}, recurrent_dropout="
                f"{self.recurrent_dropout}); minikeras draws a cell's dropout masks only in the "
                "RNN layer of that one cell"
            )

    def _input_product(self, inputs):
        """x·W + b     (b, in)·(in, G·u)"""
        z = ops.matmul(inputs, self._kernel)
        return z + self._bias if self.use_bias else z

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": activations.config_value(self.activation),
        }
        if self.has_recurrent_activation:
            config["recurrent_activation"] = activations.config_value(self.recurrent_activation)
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config
