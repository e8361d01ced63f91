"""SimpleRNNCell and SimpleRNN: h = act(x·W + b + h_prev·U), the plainest recurrence.

Backward of one step, with dh = dL/dh:
    dz = dh ⊙ act'(z)            (b, u)
    dU += h_prevᵀ·dz             (u, b)·(b, u)
    dh_prev = dz·Uᵀ              (b, u)·(u, u)
and dW = Σ_t x_tᵀ·dz_t, db = Σ dz, dx_t = dz_t·Wᵀ once for the whole sequence (cell.py).
"""

import numpy as np

from minikeras import kernels, ops
from minikeras.layers.rnn.cell import RecurrentCell
from minikeras.layers.rnn.recurrent_layer import RecurrentLayer


class SimpleRNNCell(RecurrentCell):
    """One step of a fully connected recurrence. Weights: kernel (in, u), recurrent_kernel
    (u, u), bias (u,)."""

    GATES = 1
    has_recurrent_activation = False

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def _allocate(self, steps, batch):
        self.z = np.empty((steps, batch, self.units), dtype=self.xw.dtype)
        self.h = np.empty((steps, batch, self.units), dtype=self.xw.dtype)
        self.h_prev, self.rmasks = [None] * steps, None

    def step(self, t, states):
        """z = xw_t + h_prev·U     (b, u)·(u, u);  h = act(z)"""
        (h_prev,) = states
        hu, self.rmasks = self.recurrent_product(h_prev)
        np.add(self.xw[t], hu, out=self.z[t])
        kernels.activation_forward(self.act_name, self.z[t], self.h[t])
        self.h_prev[t] = h_prev
        return [self.h[t]]

    def step_backward(self, t, d_states):
        (dh,) = d_states
        dz = self.dxw[t]
        kernels.activation_backward(
            self.act_name, self.z[t], self.h[t], np.ascontiguousarray(dh), dz
        )
        return [self.recurrent_backward(self.h_prev[t], dz, self.rmasks)]

    def call(self, inputs, states, training=False):
        """h = act(x·W + b + h_prev·U) as ops (see RecurrentCell); returns h and its state,
        as a list when `states` is one, as Keras."""
        self._check_step_dropout(training)
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        h = self.activation(
            self._input_product(inputs) + ops.matmul(h_prev, self._recurrent_kernel)
        )
        return h, [h] if nested else h


class SimpleRNN(RecurrentLayer):
    """Fully connected RNN, output fed back as the next step's state.

    >>> import numpy as np
    >>> from minikeras.layers import SimpleRNN
    >>> SimpleRNN(4)(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    cell_class = SimpleRNNCell

    def get_config(self):
        config = super().get_config()
        del config["seed"]  # Keras 3.15's SimpleRNN writes its cell's seed nowhere
        return config
