"""LSTMCell and LSTM: gates i, f, c, o stacked along the kernels' last axis, as Keras.

    z = x·W + b + h_prev·U          (b, 4u)
    i, f, o = σ(z_i), σ(z_f), σ(z_o)    g = act(z_c)
    c = f ⊙ c_prev + i ⊙ g          h = o ⊙ act(c)        (b, u); states [h, c], output h

The backward pass of one step is `kernels.lstm_step_backward` (derived in its docstring and in
docs/recurrence.md); the products around it are here.
"""

import numpy as np

from minikeras import initializers, kernels, ops
from minikeras.layers.rnn.cell import RecurrentCell
from minikeras.layers.rnn.recurrent_layer import GatedRecurrentLayer, RecurrentLayer


class LSTMCell(RecurrentCell):
    """One LSTM step. Weights: kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,).

    >>> from minikeras.layers import LSTMCell
    >>> cell = LSTMCell(3)
    >>> cell.build((None, 2))
    >>> [w.shape for w in cell.weights]
    [(2, 12), (3, 12), (12,)]
    """

    GATES = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]

    def build(self, input_shape):
        if self.use_bias and self.unit_forget_bias:
            # Keras: the forget gate's bias starts at 1 (Jozefowicz et al., 2015), so that at
            # the start the cell state is carried, not forgotten
            base = self.bias_initializer
            units = self.units

            def bias_initializer(shape, dtype=None):
                return np.concatenate(
                    [
                        base((units,), dtype=dtype),
                        initializers.Ones()((units,), dtype=dtype),
                        base((2 * units,), dtype=dtype),
                    ]
                )

            saved, self.bias_initializer = self.bias_initializer, bias_initializer
            try:
                super().build(input_shape)
            finally:
                self.bias_initializer = saved
        else:
            super().build(input_shape)

    def _allocate(self, steps, batch):
        u = self.units
        self.gates = np.empty((steps, batch, 4 * u), dtype=self.xw.dtype)
        self.c = np.empty((steps, batch, u), dtype=self.xw.dtype)
        self.act_c = np.empty((steps, batch, u), dtype=self.xw.dtype)
        self.h_prev, self.c_prev, self.rmasks = [None] * steps, [None] * steps, None

    def step(self, t, states):
        """z = xw_t + h_prev·U (b, 4u); then the gates and c, h in one kernel."""
        h_prev, c_prev = states
        hu, self.rmasks = self.recurrent_product(h_prev)  # (b, u)·(u, 4u)
        z = hu + self.xw[t]  # (b, 4u)
        h = np.empty_like(c_prev)
        kernels.lstm_step_forward(
            z, c_prev, self.act_name, self.rec_act_name, self.gates[t], self.c[t], self.act_c[t], h
        )
        self.h_prev[t], self.c_prev[t] = h_prev, c_prev
        return [h, self.c[t]]

    def step_backward(self, t, d_states):
        """dz (b, 4u) from the kernel; dU += h_prevᵀ·dz; dh_prev = dz·Uᵀ (b, u)."""
        dh, dc = (np.ascontiguousarray(d) for d in d_states)
        dz = self.dxw[t]
        dc_prev = np.empty_like(dc)
        kernels.lstm_step_backward(
            self.gates[t],
            self.c_prev[t],
            self.act_c[t],
            dh,
            dc,
            self.act_name,
            self.rec_act_name,
            dz,
            dc_prev,
        )
        dh_prev = self.recurrent_backward(self.h_prev[t], dz, self.rmasks)
        return [dh_prev, dc_prev]

    def run(self, states):
        """All T steps in one kernel (kernels.lstm_sequence_forward), without recurrent dropout
        (its masks sit inside the product h·U, which `step` makes)."""
        if self.recurrent_masks is not None:
            return None
        steps, batch, _ = self.xw.shape
        # h_{t−1} of every step in one array, [h0, h_0, .., h_{T−1}]: dU is then one product
        self.hs = np.empty((steps + 1, batch, self.units), dtype=self.xw.dtype)
        self.hs[0] = states[0]
        self.c0 = np.ascontiguousarray(states[1], dtype=self.xw.dtype)
        kernels.lstm_sequence_forward(
            self.xw,
            self.recurrent_kernel,
            self.hs[0],
            self.c0,
            self.act_name,
            self.rec_act_name,
            self.gates,
            self.c,
            self.act_c,
            self.hs[1:],
        )
        return self.hs[1:], [self.hs[-1], self.c[-1]]

    def run_backward(self, dh_seq, d_states):
        """dz of every step (into dxw) in one kernel; dU = Σ_t h_{t−1}ᵀ·dz_t in one product
        (u, T·b)·(T·b, 4u). Returns [dh0, dc0]."""
        dh, dc = (np.array(d, dtype=self.xw.dtype) for d in d_states)  # updated in place
        kernels.lstm_sequence_backward(
            self.gates,
            self.c,
            self.act_c,
            self.c0,
            self.recurrent_kernel,
            dh_seq,
            dh,
            dc,
            self.act_name,
            self.rec_act_name,
            self.dxw,
        )
        steps, batch, units = self.c.shape
        h_prev = self.hs[:-1].reshape(steps * batch, units)
        kernels.sequence_matmul_tn(h_prev, self.dxw.reshape(steps * batch, -1), self.drecurrent)
        return [dh, dc]

    def call(self, inputs, states, training=False):
        """One step as ops (see RecurrentCell), Keras's fused form:
        z = x·W + b + h_prev·U; i, f, g, o its four blocks; returns h, [h, c]."""
        self._check_step_dropout(training)
        h_prev, c_prev = states
        z = self._input_product(inputs) + ops.matmul(h_prev, self._recurrent_kernel)
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=1)
        act, rec = self.activation, self.recurrent_activation
        c = rec(z_f) * c_prev + rec(z_i) * act(z_c)
        h = rec(z_o) * act(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class LSTM(GatedRecurrentLayer):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), Keras's arguments.

    >>> import numpy as np
    >>> from minikeras.layers import LSTM
    >>> output, h, c = LSTM(4, return_state=True)(np.ones((2, 5, 3)))
    >>> output.shape, h.shape, c.shape
    ((2, 4), (2, 4), (2, 4))
    """

    cell_class = LSTMCell
    cell_arguments = RecurrentLayer.cell_arguments + ("recurrent_activation", "unit_forget_bias")
