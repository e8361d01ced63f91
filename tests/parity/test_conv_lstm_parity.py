"""ConvLSTM1D, ConvLSTM2D and ConvLSTM3D against real Keras on TensorFlow, with the same
weights: the output (and states), dL/dx, dL/dw for every weight and dL/d(initial states) from
tf.GradientTape on L = Σ r ⊙ outputs; masks, go_backwards, return_state, strides, dilation,
channels_first, a stateful pair of calls; configs equal to Keras's; a short `fit`.

Differences are normwise (max|a − b| / max(‖a‖∞, ‖b‖∞)), held to the parity suite's tolerances
(minikeras/parity/compare.py):
- float64: 1e-10. Each gate entry is a sum of kh·kw·(in + F) ≤ 36 products; T = 3 steps chain
  three of them through σ and tanh (derivatives ≤ 1), and dW sums ≤ T·b·P = 150 terms: a few
  hundred roundings at 2⁻⁵³ on each side in different orders, < 1e-13.
- float32: 1e-5 for one pass: the same sums rounded at 2⁻²⁴ ≈ 6e-8 independently on each side
  (TensorFlow's convolution and minikeras's im2col product add in different orders); 150-term
  sums for dW stay below 150·6e-8 ≈ 1e-5 in the worst case, ~1e-7 in practice.
"""

import json

import numpy as np
import pytest
from layer_twins import floatx, rel

import minikeras
from minikeras import layers
from minikeras.parity.compare import tolerance

BATCH, STEPS = 2, 3
SPATIAL = {1: (6,), 2: (5, 4), 3: (4, 3, 4)}
CHANNELS, FILTERS = 2, 2
CLASSES = {1: "ConvLSTM1D", 2: "ConvLSTM2D", 3: "ConvLSTM3D"}


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def input_shape(rank, channels_first=False):
    spatial = SPATIAL[rank]
    return (STEPS, CHANNELS, *spatial) if channels_first else (STEPS, *spatial, CHANNELS)


def twin(keras, ours, x, **call_kwargs):
    """Keras's layer from minikeras's config (JSON and back), with minikeras's weights. On the
    CPU TensorFlow's convolutions refuse channels_first, so that twin is channels_last (and is
    given transposed arrays: `last`)."""
    entry = json.loads(json.dumps(layers.serialize(ours)))
    entry.pop("build_config", None)
    entry["config"]["data_format"] = "channels_last"
    theirs = keras.layers.deserialize(entry)
    theirs(x, **call_kwargs)
    theirs.set_weights(ours.get_weights())
    return theirs


def last(a, channel_axis):
    """`a` with its channel axis moved last (channel_axis None: unchanged)."""
    return a if channel_axis is None else np.ascontiguousarray(np.moveaxis(a, channel_axis, -1))


def back(a, channel_axis):
    return a if channel_axis is None else np.ascontiguousarray(np.moveaxis(a, -1, channel_axis))


def compare(keras, rank, dtype="float64", mask=None, with_states=False, seed=0, **kwargs):
    """The worst normwise difference, every output and gradient held to the tolerance."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    channels_first = kwargs.get("data_format") == "channels_first"
    ours = getattr(layers, CLASSES[rank])(FILTERS, 3, dtype=dtype, **kwargs)
    x = rng.normal(size=(BATCH, *input_shape(rank, channels_first))).astype(dtype)
    ours.build(x.shape)
    state_shape = ours.compute_output_shape(x.shape)
    state_shape = state_shape[1] if ours.return_state else state_shape
    if ours.return_sequences and not ours.return_state:
        state_shape = (state_shape[0],) + tuple(state_shape[2:])
    states = []
    if with_states:
        states = [rng.normal(size=(BATCH, *state_shape[1:])).astype(dtype) for _ in range(2)]
    call_kwargs = {"mask": mask} if mask is not None else {}
    if states:
        call_kwargs["initial_state"] = states
    ours.set_weights([rng.normal(0, 0.3, w.shape) for w in ours.get_weights()])
    outputs = as_list(ours(x, **call_kwargs))
    r = [rng.normal(size=o.shape).astype(dtype) for o in outputs]
    d_in = as_list(ours.backward(r if len(r) > 1 else r[0]))

    # channels_first: Keras's channels_last twin on transposed arrays, its results moved back
    x_axis = state_axis = output_axis = None
    if channels_first:
        x_axis, state_axis = 2, 1
        output_axis = 2 if ours.return_sequences else 1
    axes = [output_axis] + [state_axis] * (len(outputs) - 1)
    states = [last(s, state_axis) for s in states]
    if states:
        call_kwargs["initial_state"] = states
    theirs = twin(keras, ours, last(x, x_axis), **call_kwargs)
    r = [last(ri, axis) for ri, axis in zip(r, axes)]
    x_t = tf.Variable(last(x, x_axis))
    states_t = [tf.Variable(s) for s in states]
    with tf.GradientTape() as tape:
        their_kwargs = dict(call_kwargs)
        if states:
            their_kwargs["initial_state"] = states_t
        their_outputs = as_list(theirs(x_t, **their_kwargs))
        loss = sum(tf.reduce_sum(ri * oi) for ri, oi in zip(r, their_outputs))
    their_grads = tape.gradient(loss, [x_t] + states_t + list(theirs.trainable_weights))
    their_outputs = [back(np.asarray(o), axis) for o, axis in zip(their_outputs, axes)]
    their_grads = [np.asarray(g) for g in their_grads]
    their_grads[0] = back(their_grads[0], x_axis)
    for i in range(1, 1 + len(states)):
        their_grads[i] = back(their_grads[i], state_axis)
    pairs = list(zip(outputs, their_outputs)) + list(zip(d_in + ours.grads, their_grads))
    assert len(pairs) == len(outputs) + 1 + len(states) + len(ours.weights)
    tol, worst = tolerance(dtype), 0.0
    for mine, keras_value in pairs:
        keras_value = np.asarray(keras_value)
        assert mine.shape == keras_value.shape and mine.dtype == keras_value.dtype
        diff = rel(mine, keras_value)
        worst = max(worst, diff)
        assert diff < tol, (diff, tol)
    return worst


CASES = [
    (1, {"padding": "same"}),
    (1, {"strides": 2, "return_sequences": True}),
    (2, {"padding": "same", "return_sequences": True}),
    (2, {"return_state": True, "go_backwards": True}),
    (2, {"dilation_rate": 2, "padding": "same", "return_sequences": True, "return_state": True}),
    (2, {"use_bias": False, "unit_forget_bias": False, "activation": "relu"}),
    (2, {"data_format": "channels_first", "return_sequences": True}),
    (3, {"padding": "same"}),
]


@pytest.mark.parametrize("rank, kwargs", CASES)
def test_outputs_and_gradients_float64(keras, rank, kwargs):
    with floatx(keras, "float64"):
        compare(keras, rank, **kwargs)


def test_mask_and_initial_states_float64(keras):
    """A right-padded and a left-padded sample: masked steps keep the states and repeat the
    output, as Keras's backend.rnn; the initial states' gradients too."""
    mask = np.ones((BATCH, STEPS), dtype=bool)
    mask[0, 2:] = False
    mask[1, :1] = False
    with floatx(keras, "float64"):
        compare(keras, 2, mask=mask, with_states=True, return_sequences=True, padding="same")
        compare(keras, 1, mask=mask, with_states=True, return_state=True)


@pytest.mark.parametrize("rank", [1, 2])
def test_float32(keras, rank):
    with floatx(keras, "float32"):
        compare(keras, rank, dtype="float32", padding="same", return_sequences=True)


def test_stateful_carries_states_like_keras(keras):
    """Two calls in a row: the second starts from the first's last states; reset_state zeros."""
    rng = np.random.default_rng(3)
    with floatx(keras, "float64"):
        ours = layers.ConvLSTM1D(FILTERS, 3, stateful=True, padding="same")
        x = rng.normal(size=(BATCH, *input_shape(1)))
        ours(x)
        theirs = twin(keras, ours, x)
        theirs.reset_state()
        ours.reset_state()
        for _ in range(2):
            assert rel(ours(x), np.asarray(theirs(x))) < tolerance("float64")
        ours.reset_state()
        theirs.reset_state()
        assert rel(ours(x), np.asarray(theirs(x))) < tolerance("float64")


@pytest.mark.parametrize(
    "rank, kwargs",
    [
        (1, {}),
        (2, {"strides": (2, 1), "return_sequences": True, "recurrent_dropout": 0.2}),
        (3, {}),
    ],
)
def test_config_equals_keras(keras, rank, kwargs):
    ours = getattr(layers, CLASSES[rank])(FILTERS, 3, **kwargs)
    theirs = getattr(keras.layers, CLASSES[rank])(FILTERS, 3, **kwargs)
    mine, keras_config = ours.get_config(), theirs.get_config()
    mine.pop("name"), keras_config.pop("name")
    assert json.loads(json.dumps(mine)) == json.loads(json.dumps(keras_config))
    shape = (None, *input_shape(rank))
    ours.build(shape)
    theirs.build(shape)
    assert [w.path.split("/")[-1] for w in theirs.weights] == ours.weight_names
    assert [tuple(w.shape) for w in theirs.weights] == [w.shape for w in ours.get_weights()]


def next_frame_model(K):
    """keras.io's next-frame prediction, in miniature: ConvLSTM2D + BatchNormalization, then a
    Conv3D to one channel of frames."""
    return K.Sequential(
        [
            K.Input(shape=(STEPS, 5, 5, 1)),
            K.layers.ConvLSTM2D(3, (3, 3), padding="same", return_sequences=True),
            K.layers.BatchNormalization(),
            K.layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same"),
        ]
    )


def test_next_frame_fit_history_and_weights(keras):
    """Keras runs eagerly here (run_eagerly=True: the same arithmetic, no graph to trace)."""
    dtype = "float64"
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(8, STEPS, 5, 5, 1))
    y = (rng.uniform(size=(8, STEPS, 5, 5, 1)) > 0.5).astype(dtype)
    with floatx(keras, dtype):
        ours = next_frame_model(minikeras)
        theirs = keras.Sequential.from_config(json.loads(json.dumps(ours.get_config())))
        theirs.set_weights(ours.get_weights())
        for model, K, eager in ((ours, minikeras, {}), (theirs, keras, {"run_eagerly": True})):
            model.compile(optimizer=K.optimizers.Adam(0.01), loss="binary_crossentropy", **eager)
        h_ours = ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        h_theirs = theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        steps = 4
        assert rel(h_ours.history["loss"], h_theirs.history["loss"]) < tolerance(dtype, steps)
        for mine, keras_value in zip(ours.get_weights(), theirs.get_weights()):
            assert rel(mine, keras_value) < tolerance(dtype, steps)
