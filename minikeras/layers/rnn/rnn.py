"""RNN: run a cell along the time axis, and backpropagation through time back along it.

Forward, for t = 0 .. T−1 (reversed inputs when go_backwards):
    states_t = cell(x_t, states_{t−1})          output_t = states_t[0]
with a mask m_t (b,): a masked sample keeps its previous states and repeats its previous output
(zeros before any, or zeros always with zero_output_for_mask), as Keras's `backend.rnn`:
    states_t = m_t ⊙ new_t + (1 − m_t) ⊙ states_{t−1}
    y_t = m_t ⊙ new_output_t + (1 − m_t) ⊙ y_{t−1}

Backward, for t = T−1 .. 0, with ds = dL/d(states_t) and gy = dL/dy_t (own + carried):
    d(new_t) = m_t ⊙ ds, plus m_t ⊙ gy on the output
    ds_{t−1} = cell.step_backward(d(new_t)) + (1 − m_t) ⊙ ds
    gy carried to y_{t−1}: (1 − m_t) ⊙ gy
"""

import numpy as np

from minikeras import autodiff
from minikeras.layers import keras_mask, recorded_call
from minikeras.layers import node as node_module
from minikeras.layers.layer import Layer
from minikeras.layers.rnn import cell_loop
from minikeras.layers.rnn.stacked_rnn_cells import StackedRNNCells


class RNN(Layer):
    """A recurrent layer around a cell (SimpleRNNCell, LSTMCell, GRUCell).

    >>> import numpy as np
    >>> from minikeras.layers import RNN, LSTMCell
    >>> RNN(LSTMCell(4), return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    supports_masking = True
    input_ndim = 3  # (batch, time, features); ConvLSTM's inputs have spatial axes too

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        # a cell of yours (ops, no backward) runs the loop of cell_loop.py on the tape; the
        # built-in cells run their compiled steps and the backward below
        self._user_cell = not getattr(cell, "has_sequence_contract", False)
        if self._user_cell:
            size = cell.state_size
            if not isinstance(size, (list, tuple, int, np.integer)) or isinstance(size, bool):
                raise ValueError(
                    "state_size must be an integer, or a list/tuple of integers (one for each "
                    f"state tensor). Received: state_size={size}"
                )
            self.has_own_backward = False
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll  # accepted; the loop is the same either way
        self.zero_output_for_mask = zero_output_for_mask
        self.states = None  # the carried states of a stateful layer
        self.input_gradient_needed = True
        batch_size = kwargs.get("batch_size")
        self._fixed_batch = batch_size
        if self._input_shape_arg is not None:
            self.build((batch_size,) + self._input_shape_arg)

    @property
    def state_size(self):
        """One entry per state, as Keras's RNN keeps it (an entry may be a list: nested)."""
        if self._user_cell:
            size = self.cell.state_size
            return list(size) if isinstance(size, (list, tuple)) else [size]
        return [self.cell.units] * (2 if self.cell.GATES == 4 else 1)

    @property
    def output_size(self):
        if not self._user_cell:
            return self.cell.units
        size = getattr(self.cell, "output_size", None)
        return cell_loop.flat_sizes(self.state_size)[0] if size is None else size

    # ------------------------------------------------------------------ shapes and weights
    # the cell's weights carry the penalties and projections: the model reads them here
    @property
    def weight_regularizers(self):
        return self.cell.weight_regularizers if "cell" in self.__dict__ else []

    @weight_regularizers.setter
    def weight_regularizers(self, value):
        pass  # Layer.__init__'s empty list: the cell keeps its own

    @property
    def weight_constraints(self):
        return self.cell.weight_constraints if "cell" in self.__dict__ else []

    @weight_constraints.setter
    def weight_constraints(self, value):
        pass

    def _sublayers(self):
        """The cell: the layer's weights are its cell's (the same Variables, Keras's order)."""
        return [self.cell]

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.input_ndim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.input_ndim}, found ndim={len(input_shape)}. Full shape received: "
                f"{input_shape}"
            )
        if self._user_cell:
            self.cell.build_once((input_shape[0],) + input_shape[2:])
        elif not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={input_shape}"
                )
            self.states = [
                cell_loop.zeros_like_sizes(size, input_shape[0], self.dtype)
                for size in self.state_size
            ]
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        units = self.output_size
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output] + [_state_shapes(batch, size) for size in self.state_size]
        return output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    def get_call_state(self):
        """What the last call left for backward: this layer's attributes and its cell's (the
        cell keeps every step's gates), so a shared RNN runs each call's backward on its own."""
        return {"layer": dict(vars(self)), "cell": dict(vars(self.cell))}

    def set_call_state(self, state):
        vars(self).update(state["layer"])
        vars(self.cell).update(state["cell"])

    def check_input_shape(self, shape):
        """Only the features must match the built layer: any sequence length runs (Keras)."""
        features = self.input_shape[-1]
        if features is not None and shape[-1] != features:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected axis '
                f"-1 of input shape to have value {features}, but received input with shape "
                f"{tuple(shape)}"
            )

    # with return_state, Keras penalises every output of the call (its `tree.flatten(outputs)`
    # in Layer.__call__): the output and each state, each penalty divided by its own batch size
    def _penalize_activity(self, y):
        outputs = y if isinstance(y, list) else [y]
        self._activity_output = outputs
        self._losses = [self.activity_regularizer(o) / len(o) for o in outputs]

    def _activity_gradient(self, dy):
        """dL/d(each output) + d(penalty(output)/N)/d(output); a missing gradient is zeros."""
        outputs = self._activity_output
        dys = getattr(dy, "arrays", dy) if len(outputs) > 1 else [dy]
        penalized = [
            self.activity_regularizer.gradient(o) / len(o) + (0 if d is None else d)
            for d, o in zip(dys, outputs)
        ]
        return penalized if len(outputs) > 1 else penalized[0]

    def reset_state(self):
        """Zero the carried states of a stateful layer."""
        if self.states is not None:
            for state in cell_loop.flatten(self.states):
                state[...] = 0

    def reset_states(self):
        """Keras's older name of `reset_state`."""
        self.reset_state()

    def __call__(self, x, training=False, mask=None, initial_state=None):
        if node_module.is_symbolic(x):  # Functional API: record the call (layers/node.py)
            return node_module.call_symbolic(self, x, **_node_keywords(initial_state))
        # the mask an eager output carries (Embedding(mask_zero=True)); as Keras, the call reads
        # it only when x is its one tensor argument (not with initial_state tensors), and the
        # output carries it either way
        input_mask = keras_mask.get_mask(x) if mask is None else mask
        if mask is None and initial_state is None:
            mask = input_mask
        # a cell of yours: Layer's call, on the tape when training (cell_loop.py); any cell
        # inside a call a tape records (a subclassed model's `call` in fit): Layer's call too,
        # which puts the layer on that tape as one step with its own backward
        if self._user_cell or recorded_call.is_traced(x) or autodiff.is_recording():
            if not self.built:  # a stateful layer's batch size is the first call's, as Keras
                shape = np.shape(x)
                self.build(((shape[0] if self.stateful else None),) + tuple(shape[1:]))
            if mask is None and isinstance(x, np.ndarray):
                x = x.view(np.ndarray)  # no mask for Layer.__call__ to read off x
            y = super().__call__(x, training=training, mask=mask, initial_state=initial_state)
            return keras_mask.attach(y, self.compute_mask(x, input_mask))
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != self.input_ndim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.input_ndim}, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        if not self.built:
            self.build(((x.shape[0] if self.stateful else None),) + x.shape[1:])
        self.check_input_shape(x.shape)
        out = self.call(x, training=training, mask=mask, initial_state=initial_state)
        out = [o.copy() for o in out] if isinstance(out, list) else out.copy()
        return keras_mask.attach(out, self.compute_mask(x, input_mask))

    # ------------------------------------------------------------------ forward
    def call(self, x, training=False, mask=None, initial_state=None):
        """Forward along time; returns the output, or [output, *states] with return_state."""
        if self._user_cell:
            return self._call_user_cell(x, training, mask, initial_state)
        batch, steps, _ = x.shape
        self._check_stateful_batch(batch)
        self.had_initial_state = initial_state is not None
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            states = [np.ascontiguousarray(s, dtype=self.dtype) for s in initial_state]
        elif self.stateful:
            states = [s.copy() for s in self.states]
        else:
            states = [np.zeros((batch, n), dtype=self.dtype) for n in self.state_size]
        if len(states) != len(self.state_size):
            raise ValueError(
                f"Layer {self.name} expects {len(self.state_size)} initial state(s), "
                f"received {len(states)}."
            )
        order = slice(None, None, -1) if self.go_backwards else slice(None)
        xs = np.ascontiguousarray(x[:, order].transpose(1, 0, 2))  # (T, b, in), time first
        self.time_mask = None
        if mask is not None:  # (b, T) → (T, b, 1) in processing order, as 0/1 floats
            mask = np.asarray(mask, dtype=bool)[:, order]
            self.time_mask = np.ascontiguousarray(mask.T[:, :, None], dtype=self.dtype)
        self.cell.begin(xs, training=training)
        # without a mask, a cell with a whole-sequence kernel runs every step in one call
        ran = None if self.time_mask is not None else self.cell.run(states)
        self.ran_whole_sequence = ran is not None
        if ran is not None:
            outputs, states = ran
        else:
            outputs, states = self._step_by_step(states, steps, batch)
        self.steps, self.batch = steps, batch
        if self.stateful:
            for carried, state in zip(self.states, states):
                carried[...] = state
        if self.return_sequences:
            output = outputs.transpose(1, 0, 2)  # (b, T, u), in processing order as Keras
        else:
            output = outputs[-1]
        output = np.ascontiguousarray(output)
        if self.return_state:
            return [output] + [np.array(s) for s in states]
        return output

    def _check_stateful_batch(self, batch):
        if not self.stateful:
            return
        expected = cell_loop.flatten(self.states)[0].shape[0]
        if batch != expected:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same "
                "as the batch size of the initial state. \n"
                f"- Expected batch size: {expected}\n"
                f"- Received batch size: {batch}"
            )

    def _call_user_cell(self, x, training, mask, initial_state):
        batch = x.shape[0]
        if x.ndim < 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim>=3, found ndim={x.ndim}. Full shape received: {tuple(x.shape)}"
            )
        self._check_stateful_batch(batch)
        if initial_state is not None:
            states = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
        elif self.stateful:
            states = [_map_copy(s) for s in self.states]
        else:
            states = cell_loop.initial_states(self, batch, self.dtype)
        output, states = cell_loop.run(self, x, states, mask, training)
        if self.stateful:
            for carried, state in zip(cell_loop.flatten(self.states), cell_loop.flatten(states)):
                carried[...] = autodiff.unwrap(state)
        return [output, *states] if self.return_state else output

    def _step_by_step(self, states, steps, batch):
        """The loop along time, one `cell.step` per step; returns outputs (T, b, u), states."""
        units = self.cell.units
        outputs = np.empty((steps, batch, units), dtype=self.dtype)
        previous = np.zeros((batch, units), dtype=self.dtype)
        for t in range(steps):
            new = self.cell.step(t, states)
            if self.time_mask is None:
                states = new
                previous = new[0]
            else:
                m = self.time_mask[t]  # (b, 1)
                states = [m * n + (1 - m) * s for n, s in zip(new, states)]
                kept = 0 if self.zero_output_for_mask else (1 - m) * previous
                previous = m * new[0] + kept
            outputs[t] = previous
        return outputs, states

    # ------------------------------------------------------------------ backward
    def backward(self, dy, mask=None):
        """Backpropagation through time (see the module docstring); sets self.grads.

        dy is dL/d(output), or with return_state a list [d_output, d_h, (d_c)] (None = zeros).
        Returns dx (b, T, in); when the call was given an initial_state, [dx, d_h0, (d_c0)].
        """
        if self._user_cell:  # the tape recorded the loop (cell_loop.py): walk it back
            return recorded_call.replay(self, getattr(dy, "arrays", dy))
        steps, batch, units = self.steps, self.batch, self.cell.units
        d_states_out = [None] * len(self.state_size)
        if self.return_state:  # a list, or a functional model's Arrays of them
            dy, *d_states_out = getattr(dy, "arrays", dy)
        zeros = np.zeros((batch, units), dtype=self.dtype)
        if dy is None:
            dy = np.zeros((batch, steps, units) if self.return_sequences else (batch, units))
        dy = np.asarray(dy, dtype=self.dtype)
        ds = [zeros if d is None else np.asarray(d, dtype=self.dtype) for d in d_states_out]
        if self.ran_whole_sequence:
            dh_seq = None
            if self.return_sequences:
                dh_seq = np.ascontiguousarray(dy.transpose(1, 0, 2))  # (T, b, u)
            d_last = ds[0] if self.return_sequences else ds[0] + dy
            ds = self.cell.run_backward(dh_seq, [d_last] + ds[1:])
        else:
            ds = self._step_by_step_backward(dy, ds, steps, batch, units)
        dxs = self.cell.end_backward(need_dx=self.input_gradient_needed or self.had_initial_state)
        self.grads = self.cell.grads
        dx = None
        if dxs is not None:
            order = slice(None, None, -1) if self.go_backwards else slice(None)
            dx = np.ascontiguousarray(dxs.transpose(1, 0, 2)[:, order])
        if self.had_initial_state:
            return [dx] + [np.ascontiguousarray(d) for d in ds]
        return dx

    def _step_by_step_backward(self, dy, ds, steps, batch, units):
        """The loop back along time, one `cell.step_backward` per step; returns dL/d(states_0)."""
        if self.return_sequences:
            d_outputs = dy.transpose(1, 0, 2)  # (T, b, u)
        zeros = np.zeros((batch, units), dtype=self.dtype)
        carried = zeros  # dL/dy_t reaching a step through later masked steps' repeated output
        for t in reversed(range(steps)):
            if self.return_sequences:
                gy = d_outputs[t] + carried
            else:
                gy = dy + carried if t == steps - 1 else carried
            if self.time_mask is None:
                d_new = [ds[0] + gy] + ds[1:]
                ds = self.cell.step_backward(t, d_new)
            else:
                m = self.time_mask[t]
                d_new = [m * d for d in ds]
                d_new[0] = d_new[0] + m * gy
                through_cell = self.cell.step_backward(t, d_new)
                ds = [c + (1 - m) * d for c, d in zip(through_cell, ds)]
                carried = zeros if self.zero_output_for_mask else (1 - m) * gy
        return ds

    # ------------------------------------------------------------------ config
    def get_config(self):
        from minikeras.layers.serialization import serialize

        config = {**super().get_config(), **self._rnn_config()}
        config["cell"] = serialize(self.cell)
        config["cell"].pop("build_config", None)
        return config

    def _rnn_config(self):
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config_):
        from minikeras.layers.serialization import deserialize

        config_ = dict(config_)
        cell = deserialize(config_.pop("cell"))
        return cls._from_config({**config_, "cell": cell})


def _state_shapes(batch, size):
    """The shape of a state of `size`, or a list of them for a nested size."""
    if isinstance(size, (list, tuple)):
        return [_state_shapes(batch, item) for item in size]
    return (batch, size)


def _map_copy(state):
    return [_map_copy(s) for s in state] if isinstance(state, list) else state.copy()


def _node_keywords(initial_state):
    """The keywords of a call on symbolic tensors as Keras records them on the node (and writes
    them in configs): `training` and `mask` (False, None) for a call on the sequence alone;
    with initial_state tensors only those, as given (one tensor or a list), for Keras's
    Layer.__call__ then sees several tensor arguments and fills in neither."""
    if initial_state is None:
        return {"training": False, "mask": None}
    if isinstance(initial_state, tuple):
        initial_state = list(initial_state)
    return {"initial_state": initial_state}
