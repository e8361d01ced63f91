"""Bidirectional: one recurrent layer reads the sequence forwards, a copy reads it backwards,
and their outputs are merged (concat, sum, mul, ave, or None for both).

    y_fw = forward(x)          y_bw = backward(x) read from the end; its sequence flipped back
    concat: [y_fw, y_bw]   sum: y_fw + y_bw   ave: (y_fw + y_bw)/2   mul: y_fw ⊙ y_bw

Backward: the merge's gradient to each side (concat: the two halves; sum: dy to both; ave: dy/2;
mul: dy ⊙ y_bw and dy ⊙ y_fw), each layer's own backward, and dx = dx_fw + dx_bw.
"""

import numpy as np

from minikeras import autodiff
from minikeras.layers import keras_mask, recorded_call
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer
from minikeras.layers.rnn.recurrent_layer import GatedRecurrentLayer
from minikeras.layers.rnn.rnn import RNN

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_layer(layer, name, go_backwards):
    from minikeras.layers.serialization import deserialize, serialize

    entry = serialize(layer)
    entry.pop("build_config", None)
    entry["config"] = {**entry["config"], "name": name, "go_backwards": go_backwards}
    return deserialize(entry)


def _strip(name, prefix):
    return name[len(prefix) :] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """A recurrent layer run both ways along time.

    >>> import numpy as np
    >>> from minikeras.layers import LSTM, Bidirectional
    >>> Bidirectional(LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
    (2, 5, 8)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, RNN):
            raise ValueError(
                "`backward_layer` need to be a `keras.layers.Layer` instance. "
                f"Received: {backward_layer}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        if weights is not None:
            raise NotImplementedError(
                "Bidirectional(weights=...) is not supported; use set_weights"
            )
        super().__init__(**kwargs)
        self.forward_layer = _copy_layer(
            layer, f"forward_{_strip(layer.name, 'forward_')}", layer.go_backwards
        )
        if backward_layer is None:
            backward_layer = _copy_layer(
                layer, f"backward_{_strip(layer.name, 'backward_')}", not layer.go_backwards
            )
        self.backward_layer = backward_layer
        if isinstance(layer, GatedRecurrentLayer):  # Keras: kept, though not in the config
            self.forward_layer.use_cudnn = self.backward_layer.use_cudnn = layer.use_cudnn
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"Received: forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                f"backward_layer.go_backwards={self.backward_layer.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            fw, bw = getattr(self.forward_layer, attr), getattr(self.backward_layer, attr)
            if fw != bw:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{attr}", got "{fw}" for forward layer and "{bw}" for backward '
                    "layer"
                )
        # Keras: a masked step outputs zeros on both sides when the sequences are returned
        for side in (self.forward_layer, self.backward_layer):
            side.zero_output_for_mask = side.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.input_gradient_needed = True
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def build(self, input_shape):
        for side in (self.forward_layer, self.backward_layer):
            if not side.built:
                side.build(input_shape)
        super().build(input_shape)

    # each side's penalties and projections (its cell's), for the model
    @property
    def weight_regularizers(self):
        sides = [self.__dict__.get("forward_layer"), self.__dict__.get("backward_layer")]
        return [p for side in sides if side is not None for p in side.weight_regularizers]

    @weight_regularizers.setter
    def weight_regularizers(self, value):
        pass

    @property
    def weight_constraints(self):
        sides = [self.__dict__.get("forward_layer"), self.__dict__.get("backward_layer")]
        return [c for side in sides if side is not None for c in side.weight_constraints]

    @weight_constraints.setter
    def weight_constraints(self, value):
        pass

    def _sublayers(self):
        """The forward layer's weights, then the backward layer's: Keras's order."""
        return [self.forward_layer, self.backward_layer]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], shape[1:]
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        elif self.merge_mode is None:
            shape = [shape, shape]
        if self.return_state:
            outputs = shape if self.merge_mode is None else [shape]
            return list(outputs) + list(states) + list(states)
        return shape

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        else:
            output_mask = [output_mask]
        if self.return_state:
            return output_mask + [None] * (2 * len(self.forward_layer.state_size))
        return output_mask if self.merge_mode is None else output_mask[0]

    def get_call_state(self):
        return {
            "layer": dict(vars(self)),
            "forward": self.forward_layer.get_call_state(),
            "backward": self.backward_layer.get_call_state(),
        }

    def set_call_state(self, state):
        vars(self).update(state["layer"])
        self.forward_layer.set_call_state(state["forward"])
        self.backward_layer.set_call_state(state["backward"])

    def reset_state(self):
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        self.reset_state()

    def __call__(self, x, training=False, mask=None, initial_state=None):
        if node_module.is_symbolic(x):  # Functional API: record the call (layers/node.py)
            # as Keras records the call: its `training` defaults to None, so only the mask
            given = {"mask": None} if initial_state is None else {"initial_state": initial_state}
            return node_module.call_symbolic(self, x, **given)  # as Keras records the call
        # the mask an eager output carries, read by the call only without initial_state
        # tensors, and carried by the output either way (as RNN.__call__, after Keras)
        input_mask = keras_mask.get_mask(x) if mask is None else mask
        if mask is None and initial_state is None:
            mask = input_mask
        if recorded_call.is_traced(x) or autodiff.is_recording():
            # inside a call a tape records (a subclassed model's `call` in fit): Layer's
            # call puts this layer on that tape, as one step with its own backward
            if mask is None and isinstance(x, np.ndarray):
                x = x.view(np.ndarray)  # no mask for Layer.__call__ to read off x
            y = super().__call__(x, training=training, mask=mask, initial_state=initial_state)
            return keras_mask.attach(y, self.compute_mask(x, input_mask))
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=3, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        if not self.built:
            self.build(((x.shape[0] if self.stateful else None),) + x.shape[1:])
        out = self.call(x, training=training, mask=mask, initial_state=initial_state)
        out = [o.copy() for o in out] if isinstance(out, list) else out.copy()
        return keras_mask.attach(out, self.compute_mask(x, input_mask))

    def call(self, x, training=False, mask=None, initial_state=None):
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = list(initial_state[:half]), list(initial_state[half:])
        self.had_initial_state = initial_state is not None
        y = self.forward_layer.call(x, training=training, mask=mask, initial_state=fw_state)
        y_rev = self.backward_layer.call(x, training=training, mask=mask, initial_state=bw_state)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = np.ascontiguousarray(y_rev[:, ::-1])
        self.y, self.y_rev = y, y_rev
        if self.merge_mode == "concat":
            output = [np.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return output + states
        return output[0]

    def backward(self, dy, mask=None):
        """Each side's gradient from the merge, each side's backward, dx = dx_fw + dx_bw."""
        n_states = len(self.forward_layer.state_size)
        if self.merge_mode is None or self.return_state:
            dy = list(getattr(dy, "arrays", dy))  # a list, or a functional model's Arrays
            n_out = 2 if self.merge_mode is None else 1
            d_outputs, d_states = dy[:n_out], dy[n_out:]
        else:
            d_outputs, d_states = [dy], []
        d_states = d_states + [None] * (2 * n_states - len(d_states))
        zeros = None
        if self.merge_mode is None:
            d_fw, d_bw = d_outputs
            zeros = np.zeros_like(self.y)
            d_fw = zeros if d_fw is None else d_fw
            d_bw = zeros if d_bw is None else d_bw
        else:
            g = d_outputs[0]
            if g is None:
                width = self.y.shape[-1] * (2 if self.merge_mode == "concat" else 1)
                g = np.zeros(self.y.shape[:-1] + (width,), dtype=self.y.dtype)
            g = np.asarray(g, dtype=self.y.dtype)
            if self.merge_mode == "concat":
                u = self.y.shape[-1]
                d_fw, d_bw = g[..., :u], g[..., u:]
            elif self.merge_mode == "sum":
                d_fw, d_bw = g, g
            elif self.merge_mode == "ave":
                d_fw = d_bw = g / 2
            else:  # mul
                d_fw, d_bw = g * self.y_rev, g * self.y
        if self.return_sequences:
            d_bw = d_bw[:, ::-1]  # back to the backward layer's own (processing) order
        d_fw, d_bw = np.ascontiguousarray(d_fw), np.ascontiguousarray(d_bw)
        if self.return_state:
            d_fw = [d_fw] + d_states[:n_states]
            d_bw = [d_bw] + d_states[n_states:]
        for side in (self.forward_layer, self.backward_layer):
            side.input_gradient_needed = self.input_gradient_needed
        dx_fw = self.forward_layer.backward(d_fw)
        dx_bw = self.backward_layer.backward(d_bw)
        self.grads = self.forward_layer.grads + self.backward_layer.grads
        if self.had_initial_state:
            (dx_fw, *d_init_fw), (dx_bw, *d_init_bw) = dx_fw, dx_bw
        dx = None if dx_fw is None else dx_fw + dx_bw
        if self.had_initial_state:
            return [dx] + d_init_fw + d_init_bw
        return dx

    def get_config(self):
        from minikeras.layers.serialization import serialize

        entries = []
        for side in (self.forward_layer, self.backward_layer):
            entry = serialize(side)
            entry.pop("build_config", None)
            entries.append(entry)
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": entries[0],
            "backward_layer": entries[1],
        }

    @classmethod
    def from_config(cls, config_):
        from minikeras.layers.serialization import deserialize

        config_ = dict(config_)
        config_["layer"] = deserialize(config_["layer"])
        if config_.get("backward_layer") is not None:
            config_["backward_layer"] = deserialize(config_["backward_layer"])
        return cls._from_config(config_)
