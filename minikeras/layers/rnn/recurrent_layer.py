"""The shape of SimpleRNN, LSTM and GRU: an RNN that builds its own cell from Keras's arguments
and writes them flat in its config (no "cell" entry), as Keras does."""

from minikeras import regularizers
from minikeras.layers.rnn.rnn import RNN

_RNN_ARGUMENTS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
)


class RecurrentLayer(RNN):
    """Base of SimpleRNN, LSTM and GRU: `cell_class` and the arguments that go to it."""

    cell_class = None
    cell_arguments = (
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
        "implementation",
    )

    def __init__(self, units, **kwargs):
        cell_kwargs = {k: kwargs.pop(k) for k in self.cell_arguments if k in kwargs}
        rnn_kwargs = {k: kwargs.pop(k) for k in _RNN_ARGUMENTS if k in kwargs}
        cell = self.cell_class(
            units,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            **cell_kwargs,
        )
        super().__init__(cell, **rnn_kwargs, **kwargs)

    def __getattr__(self, name):
        # units, activation, dropout, ... read through to the cell, as Keras's properties do
        if name != "cell" and "cell" in self.__dict__ and hasattr(self.cell, name):
            return getattr(self.cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key)
        return {
            **RNN.__bases__[0].get_config(self),  # Layer's: name, trainable, dtype
            **self._rnn_config(),
            **cell_config,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        }

    @classmethod
    def from_config(cls, config_):
        return cls._from_config(config_)


class GatedRecurrentLayer(RecurrentLayer):
    """Base of LSTM and GRU: Keras's `use_cudnn` argument besides the others. It is kept as an
    attribute and left out of the config, as Keras does; with no cuDNN here, True raises at the
    call, as Keras's CPU backend does, and "auto" or False run the usual loop."""

    def __init__(self, units, use_cudnn="auto", **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. "
                "Expected one of {'auto', True, False}. "
                f"Received: use_cudnn={use_cudnn}"
            )
        super().__init__(units, **kwargs)
        self.use_cudnn = use_cudnn

    def call(self, x, training=False, mask=None, initial_state=None):
        if self.use_cudnn is True:
            raise ValueError(
                "use_cudnn=True was specified, but cuDNN is not supported for this layer "
                "configuration with this backend. Pass use_cudnn='auto' to fallback to a "
                "non-cuDNN implementation."
            )
        return super().call(x, training=training, mask=mask, initial_state=initial_state)
