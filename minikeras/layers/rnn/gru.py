"""GRUCell and GRU: gates z, r, h stacked along the kernels' last axis, as Keras.

    z = σ(x·W_z + b_z + h_prev·U_z (+ b'_z))        r = σ(x·W_r + b_r + h_prev·U_r (+ b'_r))
    reset_after=True (Keras 3's default, cuDNN's):  hh = act(x·W_h + b_h + r ⊙ (h_prev·U_h + b'_h))
    reset_after=False (the original paper's):       hh = act(x·W_h + b_h + (r ⊙ h_prev)·U_h)
    h = z ⊙ h_prev + (1 − z) ⊙ hh                      (b, u); one state h, output h

With reset_after the bias is (2, 3u): row 0 for the inputs, row 1 (b') for the recurrent product.
The step's backward is `kernels.gru_step_backward` (+ `gru_reset_backward` when not reset_after).
"""

import numpy as np

from minikeras import kernels, ops
from minikeras.layers.rnn.cell import RecurrentCell
from minikeras.layers.rnn.recurrent_layer import GatedRecurrentLayer, RecurrentLayer


class GRUCell(RecurrentCell):
    """One GRU step. Weights: kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) with
    reset_after, else (3u,)."""

    GATES = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def _allocate(self, steps, batch):
        u = self.units
        self.gates = np.empty((steps, batch, 3 * u), dtype=self.xw.dtype)
        self.dhu = np.zeros((steps, batch, 3 * u), dtype=self.xw.dtype)
        self.h_prev, self.rec, self.h_in = [None] * steps, [None] * steps, [None] * steps
        self.rmasks = None

    def step(self, t, states):
        (h_prev,) = states
        u, xw, gates = self.units, self.xw[t], self.gates[t]
        h = np.empty_like(h_prev)
        if self.reset_after:
            hu, self.rmasks = self.recurrent_product(h_prev)  # (b, u)·(u, 3u)
            if self.use_bias:
                hu += self.bias[1]
            kernels.gru_gates_forward(xw, hu, self.rec_act_name, gates)
            rec = np.ascontiguousarray(hu[:, 2 * u :])  # h_prev·U_h + b'_h, r applied after
        else:
            hu, self.rmasks = self.recurrent_product(h_prev, 0, 2)  # (b, u)·(u, 2u)
            kernels.gru_gates_forward(xw, hu, self.rec_act_name, gates)
            masks = self.recurrent_masks
            h_in = h_prev if masks is None else h_prev * masks[2]
            rh = gates[:, u : 2 * u] * h_in  # r ⊙ h_prev   (b, u)
            rec = rh @ self.recurrent_kernel[:, 2 * u :]  # (b, u)·(u, u)
            self.h_in[t] = (h_in, rh)
        kernels.gru_candidate_forward(xw, rec, h_prev, self.reset_after, self.act_name, gates, h)
        self.h_prev[t], self.rec[t] = h_prev, rec
        return [h]

    def step_backward(self, t, d_states):
        dh = np.ascontiguousarray(d_states[0])
        u, gates, dxw, dhu = self.units, self.gates[t], self.dxw[t], self.dhu[t]
        dh_prev = np.empty_like(dh)
        kernels.gru_step_backward(
            gates,
            self.h_prev[t],
            self.rec[t],
            dh,
            self.reset_after,
            self.act_name,
            self.rec_act_name,
            dxw,
            dhu,
            dh_prev,
        )
        if self.reset_after:
            return [dh_prev + self.recurrent_backward(self.h_prev[t], dhu, self.rmasks)]
        # the candidate's product (r ⊙ h_in)·U_h:  dU_h += (r ⊙ h_in)ᵀ·dhh_pre, d(r ⊙ h_in)
        h_in, rh = self.h_in[t]
        dh_pre = dhu[:, 2 * u :]
        self.drecurrent[:, 2 * u :] += rh.T @ dh_pre  # (u, b)·(b, u)
        d_rh = np.ascontiguousarray(dh_pre @ self.recurrent_kernel[:, 2 * u :].T)  # (b, u)
        dh_in = np.empty_like(dh)
        kernels.gru_reset_backward(d_rh, gates, h_in, self.rec_act_name, dxw, dhu, dh_in)
        masks = self.recurrent_masks
        dh_prev += dh_in if masks is None else dh_in * masks[2]
        zr = np.ascontiguousarray(dhu[:, : 2 * u])
        return [dh_prev + self.recurrent_backward(self.h_prev[t], zr, self.rmasks, 0, 2)]

    def bias_gradient(self, flat_dxw):
        """db = Σ dxw (inputs' row); with reset_after also db' = Σ dhu (recurrent row)."""
        if not self.reset_after:
            return flat_dxw.sum(axis=0)
        return np.stack([flat_dxw.sum(axis=0), self.dhu.reshape(flat_dxw.shape).sum(axis=0)])

    def call(self, inputs, states, training=False):
        """One step as ops (see RecurrentCell), both variants of the module docstring;
        returns h and its state, as a list when `states` is one, as Keras."""
        self._check_step_dropout(training)
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        u, rec_kernel = self.units, self._recurrent_kernel
        x = ops.matmul(inputs, self._kernel)  # (b, in)·(in, 3u)
        if self.use_bias:
            x = x + (self._bias[0] if self.reset_after else self._bias)
        x_z, x_r, x_h = ops.split(x, 3, axis=1)
        if self.reset_after:
            inner = ops.matmul(h_prev, rec_kernel)  # (b, u)·(u, 3u)
            if self.use_bias:
                inner = inner + self._bias[1]
            in_z, in_r, in_h = ops.split(inner, 3, axis=1)
            z = self.recurrent_activation(x_z + in_z)
            r = self.recurrent_activation(x_r + in_r)
            hh = self.activation(x_h + r * in_h)
        else:
            in_zr = ops.matmul(h_prev, rec_kernel[:, : 2 * u])  # (b, u)·(u, 2u)
            in_z, in_r = ops.split(in_zr, 2, axis=1)
            z = self.recurrent_activation(x_z + in_z)
            r = self.recurrent_activation(x_r + in_r)
            hh = self.activation(x_h + ops.matmul(r * h_prev, rec_kernel[:, 2 * u :]))
        h = z * h_prev + (1 - z) * hh
        return h, [h] if nested else h

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        config["seed"] = config.pop("seed")  # Keras's key order: reset_after, then seed
        return config


class GRU(GatedRecurrentLayer):
    """Gated Recurrent Unit (Cho et al., 2014), Keras's arguments and `reset_after` variants.

    >>> import numpy as np
    >>> from minikeras.layers import GRU
    >>> GRU(4, return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    cell_class = GRUCell
    cell_arguments = RecurrentLayer.cell_arguments + ("recurrent_activation", "reset_after")
