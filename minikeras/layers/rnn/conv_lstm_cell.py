"""ConvLSTMCell: an LSTM step whose two products are convolutions (Shi et al., 2015).

The states h and c are images (b, *out, filters), and the input is an image too:

    z = conv(x, W) + b + conv_same(h_prev, U)       (b·P, 4F), P = output positions
    i, f, o = σ(z_i), σ(z_f), σ(z_o)    g = act(z_c)
    c = f ⊙ c_prev + i ⊙ g              h = o ⊙ act(c)          (b·P, F)

Seen one output position at a time, the gate math is exactly the LSTM's with `units` = F, so
the step runs on `kernels.lstm_step_forward` / `lstm_step_backward` over b·P rows, and each
convolution is `im2col` plus one product, as in conv.py:

    conv(a, K) = im2col(a)·K_mat      (n·P, kh·kw·in)·(kh·kw·in, 4F)
    dK_mat += colsᵀ·dz                 (kh·kw·in, n·P)·(n·P, 4F)
    da = col2im(dz·K_matᵀ)             each patch row's gradient back on the pixels it read

The recurrent convolution has stride 1, no dilation and 'same' padding whatever the layer's, so
h keeps the output's size (Keras's `recurrent_conv`).

The `RNN` layer runs the cell through the sequence contract of cell.py (begin, step,
step_backward, end_backward) on flat states (b, P·F): its loop, masks, go_backwards and
stateful carry are the LSTM's. The input convolution of all T steps is one product in `begin`.
"""

import math

import numpy as np

from minikeras import activations, constraints, initializers, kernels, ops, regularizers
from minikeras.layers import conv_utils
from minikeras.layers.layer import Layer
from minikeras.layers.rnn.dropout import draw_masks
from minikeras.utils.rng import make_generator


class ConvLSTMCell(Layer):
    """One ConvLSTM step. Weights: kernel (*kernel_size, in, 4F), recurrent_kernel
    (*kernel_size, F, 4F), bias (4F,); gates i, f, c, o along the last axis, as Keras.

    >>> from minikeras.layers.rnn.conv_lstm import ConvLSTMCell
    >>> cell = ConvLSTMCell(rank=2, filters=3, kernel_size=2)
    >>> cell.build((None, 5, 5, 2))
    >>> [w.shape for w in cell.weights]
    [(2, 2, 2, 12), (2, 2, 3, 12), (12,)]
    """

    GATES = 4
    has_sequence_contract = True  # RNN runs begin/step/step_backward/end_backward

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
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
        # Keras's checks, in its order (keras/src/layers/rnn/conv_lstm.py), before the layer
        # takes a name
        if rank > 3:
            raise ValueError(
                f"Rank {rank} convolutions are not currently implemented. Received: rank={rank}"
            )
        kernel_size = conv_utils.standardize_tuple(kernel_size, rank, "kernel_size")
        strides = conv_utils.standardize_tuple(strides, rank, "strides", allow_zero=True)
        padding = conv_utils.standardize_padding(padding)
        data_format = conv_utils.standardize_data_format(data_format)
        dilation_rate = conv_utils.standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please "
                "provide `strides=1` or `dilation_rate=1`. "
                f"Received: strides={strides} and dilation_rate={dilation_rate}"
            )
        activation = activations.get(activation)
        recurrent_activation = activations.get(recurrent_activation)
        for function in (activation, recurrent_activation):
            name = activations.serialize(function)
            if name not in kernels.RNN_ACTIVATIONS:
                raise NotImplementedError(
                    f"ConvLSTMCell: activation {name!r} is not supported in a recurrent cell by "
                    f"minikeras (it has {', '.join(kernels.RNN_ACTIVATIONS)})"
                )
        super().__init__(**kwargs)
        self.rank, self.filters, self.kernel_size = rank, filters, kernel_size
        self.strides, self.padding, self.data_format = strides, padding, data_format
        self.dilation_rate = dilation_rate
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = make_generator(seed)  # new dropout masks for each sequence
        self.state_size = -1  # Keras's placeholder; `units` below once built

    # ------------------------------------------------------------------ shapes and weights
    def _channels_last_shape(self, shape):
        shape = tuple(shape)
        if self.data_format == "channels_first":
            return (shape[0], *shape[2:], shape[1])
        return shape

    def build(self, inputs_shape, states_shape=None):
        shape = self._channels_last_shape(inputs_shape)
        self.spatial_dims, channels = shape[1:-1], shape[-1]
        if None in self.spatial_dims:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={tuple(inputs_shape)}"
            )
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found None. "
                f"Full input shape received: input_shape={tuple(inputs_shape)}"
            )
        self.input_dim = channels
        self.out_spatial = tuple(
            conv_utils.output_size(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate
            )
        )
        if min(self.out_spatial) <= 0:
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(inputs_shape)}`, `kernel shape={self.kernel_size}`, "
                f"`dilation_rate={self.dilation_rate}`, `strides={self.strides}`, "
                f"`padding={self.padding}`."
            )
        f4 = 4 * self.filters
        self.kernel = self.add_weight(
            self.kernel_size + (channels, f4),
            self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            self.kernel_size + (self.filters, f4),
            self.recurrent_initializer,
            name="recurrent_kernel",
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (f4,),
                self._bias_initializer(),
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        super().build(inputs_shape)

    def _bias_initializer(self):
        """Keras: with unit_forget_bias the forget gate's bias starts at 1 (the cell state is
        carried at first), the three others from bias_initializer."""
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, f = self.bias_initializer, self.filters

        def initializer(shape, dtype=None):
            ones = initializers.Ones()((f,), dtype=dtype)
            return np.concatenate([base((f,), dtype=dtype), ones, base((2 * f,), dtype=dtype)])

        return initializer

    @property
    def units(self):
        """The size of one flat state, P·F: what the RNN loop carries per sample."""
        return math.prod(self.out_spatial) * self.filters

    def compute_output_shape(self, inputs_shape, states_shape=None):
        shape = self._channels_last_shape(inputs_shape)
        out = tuple(
            conv_utils.output_size(n, k, s, d, self.padding)
            for n, k, s, d in zip(shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)
        )
        if self.data_format == "channels_first":
            output = (shape[0], self.filters, *out)
        else:
            output = (shape[0], *out, self.filters)
        return output, [output, output]

    def get_initial_state(self, batch_size=None):
        shape = self.compute_output_shape((batch_size, *self._channels_first_or_last()))[0]
        return [np.zeros(shape, self.dtype), np.zeros(shape, self.dtype)]

    def _channels_first_or_last(self):
        if self.data_format == "channels_first":
            return (self.input_dim, *self.spatial_dims)
        return (*self.spatial_dims, self.input_dim)

    # ------------------------------------------------------------------ one step as ops
    def call(self, inputs, states, training=False):
        """One step with minikeras.ops (the tape differentiates it), Keras's form."""
        if training and (0 < self.dropout < 1 or 0 < self.recurrent_dropout < 1):
            raise NotImplementedError(
                f"ConvLSTMCell '{self.name}': dropout in a training call of the cell alone; "
                "minikeras draws its dropout masks only in the ConvLSTM layer"
            )
        h_prev, c_prev = states
        conv = dict(data_format=self.data_format)
        z = ops.conv(
            inputs,
            self.kernel,
            self.strides,
            self.padding,
            dilation_rate=self.dilation_rate,
            **conv,
        )
        if self.use_bias:
            shape = (1,) * (self.rank + 1) + (-1,)
            if self.data_format == "channels_first":
                shape = (1, -1) + (1,) * self.rank
            z = z + ops.reshape(self.bias, shape)
        z = z + ops.conv(h_prev, self.recurrent_kernel, 1, "same", **conv)
        axis = 1 if self.data_format == "channels_first" else -1
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=axis)
        act, rec = self.activation, self.recurrent_activation
        c = rec(z_f) * c_prev + rec(z_i) * act(z_c)
        h = rec(z_o) * act(c)
        return h, [h, c]

    # ------------------------------------------------------------------ the sequence contract
    # channels-last images throughout; a 1-D cell runs as a 2-D one of height 1 (as conv.py)
    def _image(self, a, spatial, channels):
        """A flat batch (n, ...) as (n, *spatial, channels), 1-D with a height of 1."""
        shape = spatial if self.rank > 1 else (1, spatial[0])
        return a.reshape(len(a), *shape, channels)

    def _pair(self, values, one=1):
        return tuple(values) if self.rank > 1 else (one, values[0])

    def _geometries(self):
        """(out, window, strides, dilation, pad) of the input and of the recurrent convolution
        (the recurrent one: stride 1, 'same', so its output is h's own size)."""
        pad = tuple(
            conv_utils.pad_before(n, m, k, s, d, self.padding)
            for n, m, k, s, d in zip(
                self.spatial_dims,
                self.out_spatial,
                self.kernel_size,
                self.strides,
                self.dilation_rate,
            )
        )
        window = self._pair(self.kernel_size)
        ones = self._pair((1,) * self.rank)
        same = self._pair(tuple((k - 1) // 2 for k in self.kernel_size), one=0)
        out = self._pair(self.out_spatial)
        strides, dilation = self._pair(self.strides), self._pair(self.dilation_rate)
        return (out, window, strides, dilation, self._pair(pad, 0)), (out, window, ones, ones, same)

    def begin(self, xs, training=False):
        """xw = conv(x, W) + b for all T steps at once (T·b images); dropout masks drawn."""
        steps, batch, _ = xs.shape
        f = self.filters
        self.input_masks = self.recurrent_masks = None
        if training:  # Keras: four masks each (one per gate), the same at every step
            in_shape = (batch, *self.spatial_dims, self.input_dim)
            self.input_masks = draw_masks(self._rng, self.dropout, 4, in_shape, xs.dtype)
            h_shape = (batch, *self.out_spatial, f)
            self.recurrent_masks = draw_masks(
                self._rng, self.recurrent_dropout, 4, h_shape, xs.dtype
            )
        self.input_geometry, self.recurrent_geometry = self._geometries()
        self.kernel_matrix = self.kernel.value.reshape(-1, 4 * f)
        self.recurrent_matrix = self.recurrent_kernel.value.reshape(-1, 4 * f)
        self.x_images = self._image(
            xs.reshape(steps * batch, -1), self.spatial_dims, self.input_dim
        )
        xw, self.x_cols = gate_conv(
            self.x_images, self.kernel_matrix, _tiled(self.input_masks, steps), self.input_geometry
        )
        if self.use_bias:
            xw += self.bias.value
        positions = math.prod(self.out_spatial)
        self.xw = xw.reshape(steps, batch * positions, 4 * f)
        self.dxw = np.zeros_like(self.xw)
        self.drecurrent = np.zeros_like(self.recurrent_matrix)
        dtype = xw.dtype
        self.gates = np.empty_like(self.xw)
        self.c = np.empty((steps, batch * positions, f), dtype=dtype)
        self.act_c = np.empty_like(self.c)
        self.h_cols, self.c_prev = [None] * steps, [None] * steps

    def run(self, states):
        return None  # the RNN layer steps it (`step`), one recurrent convolution a step

    def step(self, t, states):
        """z = xw_t + conv_same(h_prev, U); then the LSTM gates over b·P rows in one kernel."""
        h_prev, c_prev = states  # (b, P·F) each
        batch, f = len(h_prev), self.filters
        h_image = self._image(h_prev, self.out_spatial, f)
        hu, self.h_cols[t] = gate_conv(
            h_image, self.recurrent_matrix, self.recurrent_masks, self.recurrent_geometry
        )  # (b·P, 4F)
        z = hu + self.xw[t]
        c_prev = np.ascontiguousarray(c_prev).reshape(-1, f)  # (b·P, F)
        h = np.empty_like(c_prev)
        kernels.lstm_step_forward(
            z,
            c_prev,
            activations.serialize(self.activation),
            activations.serialize(self.recurrent_activation),
            self.gates[t],
            self.c[t],
            self.act_c[t],
            h,
        )
        self.c_prev[t] = c_prev
        return [h.reshape(batch, -1), self.c[t].reshape(batch, -1)]

    def step_backward(self, t, d_states):
        """dz_t (b·P, 4F) from the LSTM kernel; dU += colsᵀ·dz; dh_prev = col2im(dz·Uᵀ)."""
        batch, f = len(d_states[0]), self.filters
        dh, dc = (np.ascontiguousarray(d, dtype=self.xw.dtype).reshape(-1, f) for d in d_states)
        dz = self.dxw[t]
        dc_prev = np.empty_like(dc)
        kernels.lstm_step_backward(
            self.gates[t],
            self.c_prev[t],
            self.act_c[t],
            dh,
            dc,
            activations.serialize(self.activation),
            activations.serialize(self.recurrent_activation),
            dz,
            dc_prev,
        )
        h_shape = (batch, *self._pair(self.out_spatial), f)
        dh_prev = gate_conv_backward(
            self.h_cols[t],
            self.recurrent_matrix,
            self.recurrent_masks,
            dz,
            self.drecurrent,
            self.recurrent_geometry,
            h_shape,
        )
        return [dh_prev.reshape(batch, -1), dc_prev.reshape(batch, -1)]

    def end_backward(self, need_dx=True):
        """dW = Σ_t colsᵀ·dxw_t (one product over T·b images), db = Σ dxw; dx (T, b, in)."""
        steps = len(self.xw)
        flat_dxw = self.dxw.reshape(-1, 4 * self.filters)
        dkernel = np.zeros_like(self.kernel_matrix)
        dx = gate_conv_backward(
            self.x_cols,
            self.kernel_matrix,
            _tiled(self.input_masks, steps),
            flat_dxw,
            dkernel,
            self.input_geometry,
            self.x_images.shape,
            need_da=need_dx,
        )
        self.grads = [
            dkernel.reshape(self.kernel.shape),
            self.drecurrent.reshape(self.recurrent_kernel.shape),
        ]
        if self.use_bias:
            self.grads.append(flat_dxw.sum(axis=0))  # db = Σ over steps, batch and positions
        return None if dx is None else dx.reshape(steps, len(dx) // steps, -1)

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.config_value(self.activation),
            "recurrent_activation": activations.config_value(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
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


def _tiled(masks, steps):
    """(4, b, ...) masks repeated for each of T steps: (4, T·b, ...); None stays None."""
    if masks is None:
        return None
    tiled = np.broadcast_to(masks[:, None], (len(masks), steps, *masks.shape[1:]))
    return tiled.reshape(len(masks), -1, *masks.shape[2:])


def _conv(images, matrix, geometry):
    """(cols, z): the patch matrix and z = cols·K_mat     (n·P, kh·kw·in)·(kh·kw·in, cols)"""
    out, window, strides, dilation, pad = geometry
    cols = np.empty((len(images), *out, *window, images.shape[-1]), dtype=images.dtype)
    kernels.im2col(images, window, strides, dilation, pad, cols)
    flat = cols.reshape(-1, matrix.shape[0])
    z = np.empty((len(flat), matrix.shape[1]), dtype=images.dtype)
    kernels.matmul(flat, np.ascontiguousarray(matrix), z)
    return cols, z


def gate_conv(images, matrix, masks, geometry):
    """conv(a, K) for the four gates' column blocks of K, with dropout masks on a:

    masks None:          im2col(a)·K                 one product for the four gates
    masks (4, n, ...):   [im2col(a ⊙ m_g)·K_g], side by side
    Returns z (n·P, 4F) and the patch matrices (one, or one per gate) for the backward.
    """
    if masks is None:
        cols, z = _conv(images, matrix, geometry)
        return z, cols
    f = matrix.shape[1] // 4
    z, all_cols = None, []
    for g in range(4):
        masked = images * masks[g].reshape(images.shape)
        cols, z_g = _conv(masked, matrix[:, g * f : (g + 1) * f], geometry)
        if z is None:
            z = np.empty((len(z_g), 4 * f), dtype=z_g.dtype)
        z[:, g * f : (g + 1) * f] = z_g
        all_cols.append(cols)
    return z, all_cols


def gate_conv_backward(cols, matrix, masks, dz, dmatrix, geometry, image_shape, need_da=True):
    """Backward of `gate_conv`: adds the kernel's gradient into dmatrix, returns da or None.

    dK_g += cols_gᵀ·dz_g                 (kh·kw·in, n·P)·(n·P, F)
    da = Σ_g col2im(dz_g·K_gᵀ) ⊙ m_g     (n·P, F)·(F, kh·kw·in), back onto the image
    """
    _, window, strides, dilation, pad = geometry
    if masks is None:
        blocks = [(cols, dz, matrix, dmatrix, None)]
    else:
        f = matrix.shape[1] // 4
        blocks = [
            (cols[g], dz[:, g * f : (g + 1) * f], matrix[:, g * f : (g + 1) * f],
             dmatrix[:, g * f : (g + 1) * f], masks[g])
            for g in range(4)
        ]  # fmt: skip
    da = np.zeros(image_shape, dtype=dz.dtype) if need_da else None
    for cols_g, dz_g, k_g, dk_g, m_g in blocks:
        flat = cols_g.reshape(len(dz_g), -1)
        dz_g = np.ascontiguousarray(dz_g)
        dk = np.empty(dk_g.shape, dtype=dz.dtype)
        kernels.matmul_tn(flat, dz_g, dk)
        dk_g += dk
        if need_da:
            dcols = np.empty(flat.shape, dtype=dz.dtype)
            kernels.matmul_nt(dz_g, np.ascontiguousarray(k_g), dcols)
            d_image = np.empty(image_shape, dtype=dz.dtype)
            kernels.col2im(dcols.reshape(cols_g.shape), window, strides, dilation, pad, d_image)
            da += d_image if m_g is None else d_image * m_g.reshape(image_shape)
    return da
