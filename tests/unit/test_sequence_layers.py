"""Embedding, Masking, RepeatVector and TimeDistributed: forward against NumPy written out or
Keras's own golden values, every backward against central differences (float64, every
element), masks by calling the layers with them, Keras's arguments, configs and errors."""

import warnings

import numpy as np
import pytest
import strategies as sts
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings

from minikeras import Model, Sequential, initializers, kernels, layers, testing
from minikeras.kernels import numba_kernels, numpy_kernels
from minikeras.layers import (
    Dense,
    Embedding,
    Flatten,
    Input,
    Masking,
    RepeatVector,
    TimeDistributed,
)
from minikeras.utils import set_random_seed

examples = settings(max_examples=15, deadline=None)


def check_backward(layer, x, dy, check_dx=True):
    """dx (when asked) and every weight gradient of `layer` against ∂/∂(·) Σ dy ⊙ layer(x);
    and backward changes no weight."""
    if not layer.built:
        layer.build((None,) + x.shape[1:])
    layer.call(x.copy(), training=True)
    dx = layer.backward(dy)
    dx = None if dx is None else dx.copy()
    grads = [g.copy() for g in layer.grads]
    weights_before = [w.copy() for w in layer.weights]
    probe = x.copy()

    def objective():
        return np.sum(dy * layer.call(probe, training=True))

    if check_dx:
        assert_gradient_close(dx, numerical_gradient(objective, probe))
    assert len(grads) == len(layer.trainable_weights)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert_gradient_close(grad, numerical_gradient(objective, weight))
    for before, after in zip(weights_before, layer.weights):
        np.testing.assert_array_equal(before, after)
    return dx, grads


# ------------------------------------------------------------------ Embedding
def test_embedding_weight_is_keras_s():
    layer = Embedding(10, 4)
    layer.build((None, 3))
    assert [w.shape for w in layer.weights] == [(10, 4)]
    assert layer.weight_names == ["embeddings"]
    assert layer.embeddings is layer.weights[0] and layer.embeddings.dtype == np.float32
    assert isinstance(layer.embeddings_initializer, initializers.RandomUniform)
    # RandomUniform(-0.05, 0.05): inside the range, and filling it
    assert np.abs(layer.embeddings).max() <= 0.05
    assert np.abs(layer.embeddings).max() > 0.04
    assert layer.count_params() == 40


def test_embedding_forward_is_keras_s_golden_lookup():
    # keras/src/layers/core/embedding_test.py `test_correctness`
    layer = Embedding(input_dim=3, output_dim=2)
    layer.build()
    layer.set_weights([np.array([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]])])
    np.testing.assert_array_equal(layer(np.array([2, 1, 0])), [[3.0, 3.0], [2.0, 2.0], [0.0, 0.0]])


def test_embedding_output_adds_an_axis_to_any_input_shape(kernel_set):
    layer = Embedding(7, 3)
    ids = np.array([[[1, 2], [3, 4]], [[5, 6], [0, 0]]])
    y = layer(ids)
    table = layer.get_weights()[0]
    assert y.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(y, table[ids])
    assert layer.compute_output_shape((None, 2, 2)) == (None, 2, 2, 3)


@pytest.mark.parametrize("kernel_name", kernels.NAMES)
@examples
@given(data=sts.ids_and_vocabulary())
def test_embedding_backward_against_central_differences(kernel_name, data):
    kernels.use(kernel_name)  # (the autouse fixture puts the default back afterwards)
    ids, input_dim = data
    layer = Embedding(input_dim, 3, dtype="float64")
    dy = np.random.default_rng(0).normal(size=ids.shape + (3,))
    dx, (dembeddings,) = check_backward(layer, ids.astype(np.float64), dy, check_dx=False)
    assert dx is None  # no gradient with respect to integer ids
    # the same, written out: each position adds its dy to the row it looked up
    expected = np.zeros((input_dim, 3))
    for position in np.ndindex(ids.shape):
        expected[ids[position]] += dy[position]
    np.testing.assert_allclose(dembeddings, expected, rtol=1e-12, atol=1e-12)


def test_embedding_repeated_ids_add_up(kernel_set):
    layer = Embedding(4, 2)
    layer.build()
    layer.call(np.array([[1.0, 1.0, 3.0], [1.0, 0.0, 3.0]]))
    layer.backward(np.ones((2, 3, 2), dtype=np.float32))
    np.testing.assert_array_equal(layer.grads[0], [[1, 1], [3, 3], [0, 0], [2, 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward_kernels_agree(dtype):
    """The Numba loop adds positions in the reference's order: the two sets agree exactly."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 20, size=300)
    dy = rng.normal(size=(300, 5)).astype(dtype)
    out_numba = np.full((20, 5), np.nan, dtype=dtype)  # the kernels must clear it first
    out_numpy = np.full((20, 5), np.nan, dtype=dtype)
    numba_kernels.embedding_backward(ids, dy, out_numba)
    numpy_kernels.embedding_backward(ids, dy, out_numpy)
    np.testing.assert_array_equal(out_numba, out_numpy)
    exact = np.zeros((20, 5))
    np.add.at(exact, ids, dy.astype(np.float64))
    # each row sums ~15 terms of |dy| ≲ 4: float32 rounding ≤ 15·6e-8·4·15
    np.testing.assert_allclose(out_numba, exact, atol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize(
    "bad, shown",
    [
        (10.0, "received 10.0 at index (1, 2)"),
        (-1.0, "received -1.0 at index (1, 2)"),
        (2.5, "integer ids; received 2.5 at index (1, 2)"),
        (np.nan, "integer ids; received nan at index (1, 2)"),
        (np.inf, "received inf at index (1, 2)"),
    ],
)
def test_embedding_refuses_bad_ids_before_changing_anything(bad, shown):
    layer = Embedding(10, 2)
    layer.build()
    good = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    layer.call(good)
    ids_before, table_before = layer.ids.copy(), layer.get_weights()[0]
    x = good.copy()
    x[1, 2] = bad
    with pytest.raises(
        ValueError, match=r"Embedding 'embedding'.*" + shown.replace("(", r"\(").replace(")", r"\)")
    ):
        layer.call(x)
    np.testing.assert_array_equal(layer.ids, ids_before)
    np.testing.assert_array_equal(layer.get_weights()[0], table_before)


def test_embedding_names_the_range_for_out_of_range_ids():
    with pytest.raises(ValueError, match=r"ids in \[0, 10\) \(input_dim=10\)"):
        Embedding(10, 2)(np.array([[12]]))


def test_embedding_takes_integer_arrays_as_they_are():
    layer = Embedding(5, 2)
    layer.build()
    y = layer.call(np.array([[4, 0]], dtype=np.int32))
    np.testing.assert_array_equal(y, layer.embeddings[[[4, 0]]])
    with pytest.raises(ValueError, match=r"received 5 at index \(0, 1\)"):
        layer.call(np.array([[4, 5]], dtype=np.int64))


def test_fit_stops_at_a_batch_with_bad_ids_before_it_changes_anything():
    """As in Keras, the steps before the bad batch stay done; the bad batch changes nothing."""
    model = Sequential([Input(shape=(3,)), Embedding(5, 2), Flatten(), Dense(1)])
    twin = Sequential([Input(shape=(3,)), Embedding(5, 2), Flatten(), Dense(1)])
    twin.set_weights(model.get_weights())
    for m in (model, twin):
        m.compile(optimizer="sgd", loss="mse")
    x, y = np.array([[1, 2, 3]] * 40), np.zeros((40, 1))
    x[35, 1] = 7  # in the second batch
    with pytest.raises(ValueError, match="received 7.0 at index"):
        model.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    twin.fit(x[:32], y[:32], batch_size=32, shuffle=False, verbose=0)  # the first batch only
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_embedding_mask_zero_makes_the_mask():
    # keras/src/layers/core/embedding_test.py `test_masking`, `test_compute_mask_no_masking`
    layer = Embedding(input_dim=3, output_dim=2, mask_zero=True)
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(np.array([2, 1, 0])), [True, True, False])
    layer.build()
    plain = Embedding(input_dim=3, output_dim=2)
    assert not plain.supports_masking
    assert plain.compute_mask(np.array([2, 1, 0])) is None
    # the mask does not change the lookup: id 0 still gives row 0
    y = layer.call(np.array([[0.0, 1.0]]), mask=np.array([[False, True]]))
    np.testing.assert_array_equal(y[0, 0], layer.embeddings[0])


@pytest.mark.parametrize("bad", [3.7, 4.0, "3", None, True, False, -1, 0])
def test_embedding_refuses_bad_sizes(bad):
    # keras/src/layers/core/embedding_test.py `test_invalid_input_dim`, `..._output_dim`
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        Embedding(input_dim=bad, output_dim=8)
    with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
        Embedding(input_dim=10, output_dim=bad)


def test_embedding_input_length_warns_as_keras_and_is_ignored():
    with pytest.warns(UserWarning, match=r"Argument `input_length` is deprecated\. Just remove"):
        layer = Embedding(10, 3, input_length=5)
    assert not layer.built
    assert "input_length" not in layer.get_config()


@pytest.mark.parametrize(
    "option",
    [
        {"lora_rank": 2},
        {"quantization_config": {"mode": "int8"}},
    ],
)
def test_embedding_options_minikeras_lacks_say_so(option):
    with pytest.raises(NotImplementedError, match=list(option)[0]):
        Embedding(10, 3, **option)


def test_embedding_has_no_sparse_argument_as_in_keras():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Embedding"):
        Embedding(10, 3, sparse=True)


def test_embedding_weights_argument_sets_the_table():
    # keras/src/layers/core/embedding_test.py `test_weights_constructor_arg`
    for value in (np.ones((3, 4)), [np.ones((3, 4))]):
        layer = Embedding(3, 4, weights=value)
        np.testing.assert_array_equal(layer.embeddings, np.ones((3, 4)))


def test_embedding_needs_building_before_its_table():
    with pytest.raises(AttributeError, match="You must build the layer before accessing"):
        _ = Embedding(3, 4).embeddings


def test_embedding_config_round_trips():
    layer = Embedding(10, 3, mask_zero=True, embeddings_initializer="glorot_uniform")
    layer.build((None, 4))
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "GlorotUniform"
    again = layers.deserialize(layers.serialize(layer))
    assert isinstance(again, Embedding) and again.get_config() == {**config, "name": again.name}
    assert again.built and again.input_shape == (None, 4)


# ------------------------------------------------------------------ Masking
KERAS_MASKING_X = np.array(
    [[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]]
)


def test_masking_mask_is_keras_s_golden_mask():
    # keras/src/layers/core/masking_test.py `test_masking_correctness`
    layer = Masking(mask_value=0.0)
    assert layer.supports_masking
    np.testing.assert_array_equal(
        layer.compute_mask(KERAS_MASKING_X), [[False, True, False], [True, False, True]]
    )


def test_masking_zeroes_masked_timesteps():
    layer = Masking(mask_value=1.5)
    x = np.array([[[1.5, 1.5], [1.5, 2.0], [0.0, 1.5]]])
    np.testing.assert_array_equal(layer(x), [[[0.0, 0.0], [1.5, 2.0], [0.0, 1.5]]])
    np.testing.assert_array_equal(layer.compute_mask(x), [[False, True, True]])
    # an incoming mask is replaced by the layer's own
    np.testing.assert_array_equal(
        layer.compute_mask(x, mask=np.array([[True, False, False]])), [[False, True, True]]
    )


def test_masking_backward(float64):
    """Unmasked timesteps: y = x, checked by central differences. Masked ones: dx = 0, as
    TensorFlow's gradient of Keras's `where` gives (there the output jumps from 0 to
    mask_value ± ε when one feature moves, so central differences do not apply)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3))
    x[0, 1] = 0.5
    x[1, 3] = 0.5
    layer = Masking(mask_value=0.5)
    dy = rng.normal(size=x.shape)
    layer.call(x)
    dx = layer.backward(dy)
    kept = layer.compute_mask(x)
    np.testing.assert_array_equal(dx[~kept], 0.0)
    probe = x.copy()

    def objective():
        return np.sum(dy * layer.call(probe))

    numeric = numerical_gradient(objective, probe)
    assert_gradient_close(dx[kept], numeric[kept])


def test_masking_config():
    layer = Masking(mask_value=-1.0)
    assert layer.get_config()["mask_value"] == -1.0
    assert layers.serialize(layer).get("build_config") is None  # as Keras (built at init)
    assert layers.deserialize(layers.serialize(layer)).mask_value == -1.0


# ------------------------------------------------------------------ RepeatVector
def test_repeat_vector_forward_as_keras_s_test():
    # keras/src/layers/reshaping/repeat_vector_test.py `test_repeat_vector`
    x = np.random.default_rng(3).random((2, 5)).astype("float32")
    y = RepeatVector(3)(x)
    np.testing.assert_array_equal(y, np.repeat(np.reshape(x, (2, 1, 5)), 3, axis=1))
    assert RepeatVector(3).compute_output_shape((None, 5)) == (None, 3, 5)


def test_repeat_vector_backward(float64):
    rng = np.random.default_rng(4)
    x, dy = rng.normal(size=(3, 4)), rng.normal(size=(3, 2, 4))
    dx, grads = check_backward(RepeatVector(2), x, dy)
    assert grads == []
    np.testing.assert_allclose(dx, dy[:, 0] + dy[:, 1], rtol=1e-15)


@pytest.mark.parametrize("bad", ["3", 3.5, [3]])
def test_repeat_vector_refuses_a_non_integer(bad):
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        RepeatVector(n=bad)


@pytest.mark.parametrize("bad", [0, -3])
def test_repeat_vector_refuses_a_non_positive_n(bad):
    with pytest.raises(ValueError, match="should be a positive integer"):
        RepeatVector(n=bad)


def test_repeat_vector_takes_2d_inputs_only():
    with pytest.raises(ValueError, match=r"expected ndim=2, found ndim=3. Full shape received"):
        RepeatVector(2)(np.zeros((2, 3, 4)))


def test_repeat_vector_config():
    layer = RepeatVector(4)
    layer(np.zeros((1, 2)))
    entry = layers.serialize(layer)
    assert entry["config"]["n"] == 4 and entry["build_config"] == {"input_shape": (None, 2)}
    assert layers.deserialize(entry).n == 4


# ------------------------------------------------------------------ TimeDistributed
def test_time_distributed_forward_is_keras_s_golden_output():
    # keras/src/layers/rnn/time_distributed_test.py `test_correctness`
    sequence = np.arange(24).reshape((3, 2, 4)).astype("float32")
    dense = Dense(1, kernel_initializer=initializers.Constant(0.01), use_bias=False)
    output = TimeDistributed(layer=dense)(sequence)
    np.testing.assert_allclose(
        output, [[[0.06], [0.22]], [[0.38], [0.53999996]], [[0.7], [0.86]]], rtol=1e-6
    )


def test_time_distributed_dense_backward(float64, kernel_set):
    rng = np.random.default_rng(5)
    layer = TimeDistributed(Dense(3, activation="tanh"))
    x, dy = rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 4, 3))
    layer.build(x.shape)
    dx, grads = check_backward(layer, x, dy)
    assert [g.shape for g in grads] == [(5, 3), (3,)]


def test_time_distributed_over_minikeras_sequence_layers(float64):
    """Own layers inside: RepeatVector per timestep, and an Embedding over (batch, time, words)."""
    rng = np.random.default_rng(6)
    repeat = TimeDistributed(RepeatVector(2))
    x = rng.normal(size=(2, 3, 4))
    assert repeat(x).shape == (2, 3, 2, 4)
    check_backward(repeat, x, rng.normal(size=(2, 3, 2, 4)))

    embed = TimeDistributed(Embedding(5, 2))
    ids = rng.integers(0, 5, size=(2, 3, 4)).astype(np.float64)
    y = embed(ids)
    np.testing.assert_array_equal(y, embed.layer.embeddings[ids.astype(int)])
    dx, _ = check_backward(embed, ids, rng.normal(size=(2, 3, 4, 2)), check_dx=False)
    assert dx is None


def test_time_distributed_weights_are_the_inner_layer_s():
    dense = Dense(3)
    layer = TimeDistributed(dense)
    layer.build((None, 5, 4))
    assert dense.input_shape == (None, 4) and layer.output_shape == (None, 5, 3)
    assert layer.weights == dense.weights and layer.weight_names == ["kernel", "bias"]
    assert all(a is b for a, b in zip(layer.trainable_weights, dense.weights))
    layer.set_weights([np.ones((4, 3)), np.zeros(3)])
    np.testing.assert_array_equal(dense.kernel, 1.0)
    assert layer.count_params() == 15
    layer.trainable = False  # as Keras: freezing the wrapper freezes the wrapped layer
    assert not dense.trainable and layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2


def test_time_distributed_keeps_a_frozen_inner_layer_frozen():
    dense = Dense(3, trainable=False)
    layer = TimeDistributed(dense)
    layer.build((None, 5, 4))
    assert layer.trainable and not dense.trainable and layer.trainable_weights == []


def test_time_distributed_passes_masks_through_and_to_a_layer_that_takes_them():
    # keras/src/layers/rnn/time_distributed_test.py `test_masking`
    class MaskedDense(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = Dense(
                units, kernel_initializer=initializers.Constant(0.01), use_bias=False
            )

        def build(self, input_shape):
            self.dense.build(input_shape)
            super().build(input_shape)

        def compute_output_shape(self, input_shape):
            return self.dense.compute_output_shape(input_shape)

        def call(self, x, training=False, mask=None):
            unmasked = self.dense.call(x)
            return unmasked if mask is None else unmasked * mask[:, None]

    sequence = np.arange(24).reshape((3, 2, 4)).astype("float32")
    mask = np.array([[False, True], [True, False], [True, True]])
    layer = TimeDistributed(MaskedDense(1))
    layer.build(sequence.shape)
    output = layer.call(sequence, mask=mask)
    np.testing.assert_allclose(
        output, [[[0], [0.22]], [[0.38], [0]], [[0.7], [0.86]]], rtol=1e-6, atol=0
    )
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(sequence, mask), mask)
    # Dense takes no mask: it computes every timestep, the mask only travels on
    dense = TimeDistributed(Dense(2))
    dense.build((None, 2, 4))
    np.testing.assert_array_equal(dense.call(sequence, mask=mask), dense.call(sequence))


@pytest.mark.parametrize("mask_shape", [(4, 6), (5, 5), (5, 6), (4, 6, 2)])
def test_time_distributed_checks_the_mask_shape(mask_shape):
    # keras/src/layers/rnn/time_distributed_test.py `test_mask_validation_*`
    layer = TimeDistributed(Dense(units=5, activation="softmax"))
    inputs = np.zeros((4, 5, 3))
    assert layer(inputs).shape == (4, 5, 5)
    for good in [(4, 5), (4, 5, 1), (4, 5, 2)]:
        assert layer.call(inputs, mask=np.ones(good, dtype=bool)).shape == (4, 5, 5)
    with pytest.raises(ValueError, match=r"The `mask` passed to the `TimeDistributed` layer has"):
        layer.call(inputs, mask=np.ones(mask_shape, dtype=bool))
    with pytest.raises(ValueError, match="must be at least 2D"):
        layer.call(inputs, mask=np.ones(4, dtype=bool))


def test_time_distributed_needs_a_layer_and_3d_inputs():
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed` layer with a"):
        TimeDistributed("dense")
    with pytest.raises(ValueError, match="should be passed an `input_shape` with at least 3"):
        TimeDistributed(Dense(2))(np.zeros((2, 3)))


def test_time_distributed_config_nests_the_layer():
    layer = TimeDistributed(Dense(3, activation="relu"))
    layer.build((None, 5, 4))
    entry = layers.serialize(layer)
    inner = entry["config"]["layer"]
    assert inner["class_name"] == "Dense" and inner["module"] == "keras.layers"
    assert inner["config"]["units"] == 3 and inner["build_config"] == {"input_shape": (None, 4)}
    assert entry["build_config"] == {"input_shape": (None, 5, 4)}
    again = layers.deserialize(entry)
    assert isinstance(again.layer, Dense) and again.layer.activation is layer.layer.activation
    assert again.built and [w.shape for w in again.weights] == [(4, 3), (3,)]


# ------------------------------------------------------------------ in models
# check_gradients measures |analytic − numeric| against max(|g|, 1e-3·max(1, |L|)); central
# differences are off by ~1e-10 in absolute terms, so a right backward scores ≲ 1e-7 and a
# wrong formula ≳ 1e-2: 1e-6 separates them with room on either side.
GRADIENT_CHECK_TOLERANCE = 1e-6


def test_embedding_model_gradients_against_central_differences():
    set_random_seed(7)
    rng = np.random.default_rng(7)
    model = Sequential([Input(shape=(4,)), Embedding(6, 3), Flatten(), Dense(2, "softmax")])
    x = rng.integers(0, 6, size=(5, 4))
    x[0, :2] = 3  # a repeated id
    y = np.eye(2)[rng.integers(0, 2, size=5)]
    worst = testing.check_gradients(model, x, y, loss="categorical_crossentropy", verbose=False)
    assert set(worst) == {"embedding/embeddings", "dense/kernel", "dense/bias"}
    assert max(worst.values()) < GRADIENT_CHECK_TOLERANCE


def test_time_distributed_model_gradients_against_central_differences():
    set_random_seed(8)
    rng = np.random.default_rng(8)
    model = Sequential(
        [Input(shape=(6,)), RepeatVector(3), TimeDistributed(Dense(4, "tanh")), Flatten(), Dense(1)]
    )
    worst = testing.check_gradients(
        model, rng.normal(size=(4, 6)), rng.normal(size=(4, 1)), loss="mse", verbose=False
    )
    assert set(worst) == {
        "time_distributed/kernel",
        "time_distributed/bias",
        "dense_1/kernel",
        "dense_1/bias",
    }
    assert max(worst.values()) < GRADIENT_CHECK_TOLERANCE


def test_a_shared_time_distributed_backs_each_call_with_its_own_arrays():
    """One TimeDistributed(Dense) applied to two inputs of a functional model: the backward of
    each call must use that call's input (the wrapped Dense's state is saved per call too)."""
    set_random_seed(9)
    rng = np.random.default_rng(9)
    a = Input(shape=(3, 4))
    shared = TimeDistributed(Dense(4, activation="tanh"))
    merged = layers.Concatenate()([shared(a), shared(Dense(4)(a))])  # two calls, two inputs
    model = Model(a, Dense(1)(Flatten()(merged)))
    x, y = rng.normal(size=(5, 3, 4)), rng.normal(size=(5, 1))
    worst = testing.check_gradients(model, x, y, loss="mse", verbose=False)
    assert len(worst) == 6 and max(worst.values()) < GRADIENT_CHECK_TOLERANCE


def test_sequence_layers_train_in_a_sequential_and_save_their_config():
    model = Sequential(
        [Input(shape=(5,)), Embedding(8, 3), TimeDistributed(Dense(2)), Flatten(), Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(9)
    x, y = rng.integers(0, 8, size=(16, 5)), rng.normal(size=(16, 1))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = Sequential.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_the_layers_are_exported_with_keras_s_names():
    for name in ("Embedding", "Masking", "RepeatVector", "TimeDistributed"):
        assert getattr(layers, name).__name__ == name
        assert name in layers.__all__
