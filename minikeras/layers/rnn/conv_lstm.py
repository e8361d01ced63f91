"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D: an RNN around a ConvLSTMCell (conv_lstm_cell.py).

The layer hands the RNN loop of rnn.py flat arrays: the input (b, T, *spatial, C) as
(b, T, Π spatial·C), the states (b, *out, F) as (b, P·F), and reshapes the results back. So
masks, go_backwards, return_sequences, return_state, stateful and backpropagation through
time are exactly the LSTM's. channels_first arrays are moved to channels-last on the way in and
back on the way out.
"""

import numpy as np

from minikeras import activations, constraints, initializers, regularizers
from minikeras.layers.layer import Layer
from minikeras.layers.rnn.conv_lstm_cell import ConvLSTMCell
from minikeras.layers.rnn.rnn import RNN

_CELL_ARGUMENTS = (
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "unit_forget_bias",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


class ConvLSTM(RNN):
    """N-D convolutional LSTM (the base of ConvLSTM1D/2D/3D), Keras's arguments."""

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        cell_kwargs = {k: kwargs.pop(k) for k in _CELL_ARGUMENTS if k in kwargs}
        cell = ConvLSTMCell(
            rank=rank,
            filters=filters,
            kernel_size=kernel_size,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            **kwargs,
        )

    @property
    def input_ndim(self):
        return self.cell.rank + 3

    def __getattr__(self, name):
        # filters, kernel_size, padding, ... read through to the cell, as Keras's properties
        if name != "cell" and "cell" in self.__dict__ and hasattr(self.cell, name):
            return getattr(self.cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ shapes
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        if not self.cell.built:
            self.cell.build((input_shape[0], *input_shape[2:]))
        super().build(input_shape)

    def _check_rank(self, shape):
        if len(shape) != self.input_ndim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.input_ndim}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}"
            )

    def check_input_shape(self, shape):
        """Every axis but the batch and time must be the built ones (Keras's cell InputSpec)."""
        expected = self.input_shape[2:]
        if tuple(shape[2:]) != tuple(expected):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"shape=(None, None, {', '.join(map(str, expected))}), found shape="
                f"{tuple(shape)}"
            )

    def compute_output_shape(self, input_shape, initial_state_shape=None):
        batch, steps = input_shape[0], input_shape[1]
        state = self.cell.compute_output_shape((batch, *input_shape[2:]))[0]
        output = (batch, steps, *state[1:]) if self.return_sequences else state
        if self.return_state:
            return [output, state, state]
        return output

    # ------------------------------------------------------------------ flat ↔ images
    def _last(self, a, with_time):
        """An array in channels-last order (channels_first: the channel axis moved last)."""
        if self.cell.data_format != "channels_first":
            return a
        return np.moveaxis(a, 2 if with_time else 1, -1)

    def _back(self, a, with_time):
        if self.cell.data_format != "channels_first":
            return np.ascontiguousarray(a)
        return np.ascontiguousarray(np.moveaxis(a, -1, 2 if with_time else 1))

    def _state_image(self, flat):
        """A flat state (b, P·F) as the image (b, *out, F) in the layer's data format."""
        return self._back(flat.reshape(len(flat), *self.cell.out_spatial, -1), False)

    def _flat_state(self, image):
        image = np.asarray(image, dtype=self.dtype)
        return np.ascontiguousarray(self._last(image, False)).reshape(len(image), -1)

    # ------------------------------------------------------------------ forward and backward
    def call(self, x, training=False, mask=None, initial_state=None):
        """The RNN loop on flat arrays; outputs and states back as images."""
        self.x_shape = x.shape
        flat = np.ascontiguousarray(self._last(x, True)).reshape(x.shape[0], x.shape[1], -1)
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            initial_state = [self._flat_state(s) for s in initial_state]
        out = super().call(flat, training=training, mask=mask, initial_state=initial_state)
        outputs = out if self.return_state else [out]
        first = outputs[0]
        if self.return_sequences:
            steps = first.shape[1]
            images = first.reshape(len(first) * steps, -1)
            first = self._state_image(images)
            first = first.reshape(len(outputs[0]), steps, *first.shape[1:])
        else:
            first = self._state_image(first)
        images = [first] + [self._state_image(s) for s in outputs[1:]]
        return images if self.return_state else images[0]

    def backward(self, dy, mask=None):
        """Backpropagation through time on flat arrays (rnn.py); dx back as images.

        dy: dL/d(output), or [d_output, d_h, d_c] with return_state (None = zeros)."""
        dys = list(getattr(dy, "arrays", dy)) if self.return_state else [dy]
        flat = [
            None if d is None else self._flat_output(np.asarray(d), i == 0)
            for i, d in enumerate(dys)
        ]
        grads = super().backward(flat if self.return_state else flat[0], mask=mask)
        d_states = []
        if self.had_initial_state:
            grads, *d_states = grads
        dx = None
        if grads is not None:
            b, steps, *image = self.x_shape
            if self.cell.data_format == "channels_first":
                image = image[1:] + image[:1]
            dx = self._back(grads.reshape(b, steps, *image), True)
        if self.had_initial_state:
            return [dx] + [self._state_image(d) for d in d_states]
        return dx

    def _flat_output(self, d, is_output):
        """A gradient shaped as an output (or a state) as the loop's flat array."""
        if is_output and self.return_sequences:
            d = self._last(d, True)
            return np.ascontiguousarray(d).reshape(d.shape[0], d.shape[1], -1)
        return self._flat_state(d)

    # ------------------------------------------------------------------ config
    def get_config(self):
        cell = self.cell
        config = {**Layer.get_config(self), **self._rnn_config()}
        config.update(
            {
                "filters": cell.filters,
                "kernel_size": cell.kernel_size,
                "strides": cell.strides,
                "padding": cell.padding,
                "data_format": cell.data_format,
                "dilation_rate": cell.dilation_rate,
                "activation": activations.config_value(cell.activation),
                "recurrent_activation": activations.config_value(cell.recurrent_activation),
                "use_bias": cell.use_bias,
                "kernel_initializer": initializers.serialize(cell.kernel_initializer),
                "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
                "bias_initializer": initializers.serialize(cell.bias_initializer),
                "unit_forget_bias": cell.unit_forget_bias,
                "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(cell.kernel_constraint),
                "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
                "bias_constraint": constraints.serialize(cell.bias_constraint),
                "dropout": cell.dropout,
                "recurrent_dropout": cell.recurrent_dropout,
                "seed": cell.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config_):
        return cls._from_config(config_)


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over (batch, time, steps, channels).

    >>> import numpy as np
    >>> from minikeras.layers import ConvLSTM1D
    >>> ConvLSTM1D(4, 3, padding="same")(np.ones((2, 5, 7, 3))).shape
    (2, 7, 4)
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(rank=1, filters=filters, kernel_size=kernel_size, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM over (batch, time, rows, columns, channels).

    >>> import numpy as np
    >>> from minikeras.layers import ConvLSTM2D
    >>> ConvLSTM2D(4, 3, return_sequences=True)(np.ones((2, 5, 6, 6, 1))).shape
    (2, 5, 4, 4, 4)
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(rank=2, filters=filters, kernel_size=kernel_size, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over (batch, time, depth, rows, columns, channels).

    >>> import numpy as np
    >>> from minikeras.layers import ConvLSTM3D
    >>> ConvLSTM3D(2, 3)(np.ones((1, 2, 4, 4, 4, 1))).shape
    (1, 2, 2, 2, 2)
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(rank=3, filters=filters, kernel_size=kernel_size, **kwargs)
