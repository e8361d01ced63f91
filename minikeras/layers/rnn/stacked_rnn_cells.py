"""StackedRNNCells: several cells run as one, each step feeding the next cell's output upward.

    x⁽⁰⁾ = x_t;  x⁽ᵏ⁾, states⁽ᵏ⁾_t = cellₖ(x⁽ᵏ⁻¹⁾, states⁽ᵏ⁾_{t−1});  the output is the last x⁽ᵏ⁾

Its state is nested: one entry per cell (a list for a cell with several states), as Keras's.
Made of its cells' calls, so `RNN` runs it through cell_loop.py on the tape: cells of yours
(ops), and the built-in cells, whose `call` is their step written with ops.

>>> import numpy as np
>>> from minikeras import layers, ops
>>> class MinimalRNNCell(layers.Layer):
...     def __init__(self, units, **kwargs):
...         super().__init__(**kwargs)
...         self.units, self.state_size = units, units
...     def build(self, input_shape):
...         self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
...         self.recurrent_kernel = self.add_weight(shape=(self.units, self.units))
...     def call(self, inputs, states):
...         h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
...         return h, [h]
>>> cells = [MinimalRNNCell(4), MinimalRNNCell(2)]
>>> layers.RNN(cells)(np.ones((3, 5, 6))).shape
(3, 2)
"""

from minikeras.layers.layer import Layer


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    return cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) else cell.state_size


class StackedRNNCells(Layer):
    """Wrapper allowing a stack of RNN cells to behave as a single cell (Keras's)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError(f"All cells must have a `call` method. Received cell: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError(
                    f"All cells must have a `state_size` attribute. Received cell: {cell}"
                )
        self.cells = list(cells)

    def _sublayers(self):
        return list(self.cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        from minikeras.layers.rnn import cell_loop

        states = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if make is not None:
                states.append(make(batch_size=batch_size))
            else:
                states.append(cell_loop.zeros_like_sizes(cell.state_size, batch_size, self.dtype))
        return states

    def build(self, input_shape):
        for cell in self.cells:
            cell.build_once(tuple(input_shape))
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, state in zip(self.cells, states):
            nested = isinstance(state, (list, tuple))
            kwargs = {"training": training} if "training" in cell._call_takes else {}
            inputs, state = cell(inputs, list(state) if nested else [state], **kwargs)
            if isinstance(state, (list, tuple)) and len(state) == 1 and not nested:
                state = state[0]
            new_states.append(state)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def get_config(self):
        from minikeras.layers.serialization import serialize

        return {**super().get_config(), "cells": [serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.layers.serialization import deserialize

        config = dict(config)
        cells = [deserialize(cell) for cell in config.pop("cells")]
        return cls(cells, **config)
