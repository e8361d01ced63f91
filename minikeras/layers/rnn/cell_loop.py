"""The time loop of `RNN(cell)` for a cell you write: a Layer with `state_size` and
`call(inputs, states)` made of `minikeras.ops`, as keras.io's "Working with RNNs" writes
`MinimalRNNCell`. It has no backward: in a training call the loop runs on the tape's Tensors,
so each step's ops record themselves, and backpropagation through time is the tape walked back
(layers/recorded_call.py). The built-in cells take the compiled path of rnn.py instead.

For t in processing order (reversed with go_backwards), as Keras's `backend.rnn`:
    output_t, new_t = cell(x_t, states_{t−1})
    with a mask m_t (b, 1): states_t = m_t·new_t + (1 − m_t)·states_{t−1}
                            y_t = m_t·output_t + (1 − m_t)·y_{t−1}   (0·… with zero_output_for_mask)
"""

import numpy as np

from minikeras import autodiff, ops


def flat_sizes(state_size):
    """Every state's size in order (a cell's state_size may nest lists: StackedRNNCells)."""
    if isinstance(state_size, (list, tuple)):
        return [size for item in state_size for size in flat_sizes(item)]
    return [state_size]


def zeros_like_sizes(state_size, batch, dtype):
    """Zero states shaped as `state_size`: one (batch, size) array per size, nested alike."""
    if isinstance(state_size, (list, tuple)):
        return [zeros_like_sizes(item, batch, dtype) for item in state_size]
    return np.zeros((batch, state_size), dtype=dtype)


def _map(function, *trees):
    """`function` on the leaves of equally nested lists."""
    if isinstance(trees[0], (list, tuple)):
        return [_map(function, *items) for items in zip(*trees)]
    return function(*trees)


def _pack_like(tree, leaves):
    """`leaves` (a flat list) nested as `tree` is."""
    if not isinstance(tree, (list, tuple)):
        return leaves.pop(0)
    return [_pack_like(item, leaves) for item in tree]


def flatten(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in flatten(item)]
    return [tree]


def initial_states(rnn, batch, dtype):
    """The cell's `get_initial_state(batch_size)` if it has one, else zeros; always a list."""
    make = getattr(rnn.cell, "get_initial_state", None)
    if make is not None:
        states = make(batch_size=batch)
        return list(states) if isinstance(states, (list, tuple)) else [states]
    return [zeros_like_sizes(size, batch, dtype) for size in rnn.state_size]


def run(rnn, sequences, states, mask, training):
    """(output, states) of the loop over `sequences` (b, T, features), from `states` (a list)."""
    steps = sequences.shape[1]
    order = range(steps - 1, -1, -1) if rnn.go_backwards else range(steps)
    kwargs = {"training": training} if "training" in rnn.cell._call_takes else {}
    outputs, previous = [], None
    for t in order:
        output, new = rnn.cell(sequences[:, t], states, **kwargs)
        # in the nesting of the states given, as Keras's backend.rnn packs them: a stack of
        # one cell with two states returns [h, c] where it was given [[h, c]]
        new = _pack_like(states, flatten(new))
        if mask is not None:
            m = np.asarray(mask[:, t], dtype=autodiff.unwrap(output).dtype)[:, None]  # (b, 1)
            new = _map(lambda n, s, m=m: n * m + s * (1 - m), new, states)
            if previous is None or rnn.zero_output_for_mask:
                output = output * m
            else:
                output = output * m + previous * (1 - m)
        states, previous = new, output
        outputs.append(output)
    if rnn.return_sequences:
        return ops.stack(outputs, axis=1), states
    return outputs[-1], states
