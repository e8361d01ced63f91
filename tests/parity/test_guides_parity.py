"""Code written the way keras.io's guides write it (Sequential, Functional API, training,
subclassing, serialization, masking) runs the same in Keras and in minikeras: the same
weights, then the same outputs, History and trained weights.

Tolerances: float64 throughout. A few epochs of Adam or RMSprop on small data differ by
rounding only, about 1e-15 per operation, amplified by the optimizers' division by √v on
small gradients: 1e-9 relative on weights, outputs and histories (the float64 bound of the
other parity tests). Layouts, names and errors are compared exactly. Keras runs eagerly
(`run_eagerly=True`) where its results are the same as traced: tracing would cost more than
these tiny fits.
"""

from copy import deepcopy

import numpy as np
import pytest

import minikeras
from minikeras import ops

RTOL = 1e-9


@pytest.fixture
def float64(keras):
    from minikeras.parity.keras_env import floatx

    with floatx("float64"):
        yield keras


def close(ours, theirs, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=rtol, atol=1e-12)


def same_history(ours, theirs):
    assert sorted(ours.history) == sorted(theirs.history)
    for key in theirs.history:
        close(ours.history[key], theirs.history[key])


def same_weights(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        close(a, b)


# ---------------------------------------------------------------------- the Sequential guide
def conv_stack(lib, name):
    layers = lib.layers
    return lib.Sequential(
        [
            lib.Input(shape=(9, 9, 2)),
            layers.Conv2D(3, 3, strides=2, activation="relu"),
            layers.Conv2D(4, 2, activation="relu", name=name),
            layers.Conv2D(2, 2, activation="relu"),
        ]
    )


def test_features_extracted_from_a_sequential_as_in_keras(float64):
    keras = float64
    ours, theirs = conv_stack(minikeras, "middle"), conv_stack(keras, "middle")
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 9, 9, 2))
    every = [
        lib.Model(inputs=m.inputs, outputs=[layer.output for layer in m.layers])
        for lib, m in ((minikeras, ours), (keras, theirs))
    ]
    one = [
        lib.Model(inputs=m.inputs, outputs=m.get_layer(name="middle").output)
        for lib, m in ((minikeras, ours), (keras, theirs))
    ]
    for a, b in zip(every[0](x), every[1](x), strict=True):
        close(a, b)
    close(one[0](x), one[1](x))
    assert [t.shape for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]


def test_a_sequential_built_by_add_then_pop_as_in_keras(keras):
    for lib in (minikeras, keras):
        model = lib.Sequential()
        model.add(lib.layers.Dense(2, activation="relu"))
        model.add(lib.layers.Dense(3))
        model.pop()
        assert len(model.layers) == 1
        assert not model.built


# ---------------------------------------------------------------------- the Functional guide
def ticket_model(lib):
    """Three inputs, a concatenation, two outputs given as a dict (the guide's ticket model,
    with Dense layers in place of the text encoders)."""
    layers = lib.layers
    title = lib.Input(shape=(5,), name="title")
    body = lib.Input(shape=(7,), name="body")
    tags = lib.Input(shape=(3,), name="tags")
    x = layers.concatenate([layers.Dense(4, activation="tanh")(title), body, tags])
    x = layers.Dense(6, activation="relu")(x)
    return lib.Model(
        inputs=[title, body, tags],
        outputs={
            "priority": layers.Dense(1, name="priority")(x),
            "department": layers.Dense(4, name="department")(x),
        },
    )


def ticket_data(n=40):
    rng = np.random.default_rng(1)
    x = {"title": rng.normal(size=(n, 5)), "body": rng.normal(size=(n, 7))}
    x["tags"] = rng.integers(2, size=(n, 3)).astype("float64")
    y = {"priority": rng.random(size=(n, 1)), "department": np.eye(4)[rng.integers(4, size=n)]}
    return x, y


def test_a_dict_of_outputs_with_weighted_losses_trains_as_in_keras(float64):
    keras = float64
    x, y = ticket_data()
    ours, theirs = ticket_model(minikeras), ticket_model(keras)
    theirs.set_weights(ours.get_weights())
    for lib, model in ((minikeras, ours), (keras, theirs)):
        model.compile(
            optimizer=lib.optimizers.RMSprop(1e-3),
            loss={
                "priority": lib.losses.BinaryCrossentropy(from_logits=True),
                "department": lib.losses.CategoricalCrossentropy(from_logits=True),
            },
            loss_weights={"priority": 1.0, "department": 0.2},
        )  # traced, as Keras fits by default: eagerly, Keras weighs each output's loss log
        # by the batch size, traced it does not (minikeras follows the default)
    fit = dict(epochs=2, batch_size=16, shuffle=False, verbose=0)
    same_history(ours.fit(x, y, **fit), theirs.fit(x, y, **fit))
    same_weights(ours, theirs)
    predicted, expected = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert sorted(predicted) == sorted(expected)  # a dict, as the outputs were given
    for key in expected:
        close(predicted[key], expected[key])


def test_a_custom_layer_of_ops_in_a_functional_model_as_in_keras(float64):
    keras = float64

    def build(lib, ops_module):
        class Scaled(lib.layers.Layer):
            def __init__(self, units=3):
                super().__init__()
                self.units = units

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units))
                self.b = self.add_weight(shape=(self.units,), initializer="random_normal")

            def call(self, inputs):
                return ops_module.matmul(inputs, self.w) + self.b

            def get_config(self):
                return {"units": self.units}

        inputs = lib.Input((4,))
        model = lib.Model(inputs, Scaled(3)(inputs))
        config = model.get_config()
        return model, lib.Model.from_config(config, custom_objects={"Scaled": Scaled})

    (ours, our_copy), (theirs, their_copy) = build(minikeras, ops), build(keras, keras.ops)
    weights = ours.get_weights()
    for model in (our_copy, theirs, their_copy):
        model.set_weights(weights)
    x = np.random.default_rng(2).normal(size=(5, 4))
    close(ours(x), theirs(x))
    close(our_copy(x), their_copy(x))


# ---------------------------------------------------------------------- the training guide
def endpoint_model(lib, ops_module):
    """Inputs and targets in, a layer that adds its own loss (compiled without one)."""

    class LogisticEndpoint(lib.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return ops_module.softmax(logits)

    inputs = lib.Input(shape=(3,), name="inputs")
    targets = lib.Input(shape=(4,), name="targets")
    logits = lib.layers.Dense(4)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    return lib.Model(inputs=[inputs, targets], outputs=predictions)


def test_a_layer_called_on_targets_and_logits_trains_on_its_added_loss(float64):
    keras = float64
    rng = np.random.default_rng(3)
    data = {"inputs": rng.normal(size=(24, 3)), "targets": rng.random((24, 4))}
    ours, theirs = endpoint_model(minikeras, ops), endpoint_model(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="adam", run_eagerly=True)
    fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    same_history(ours.fit(data, **fit), theirs.fit(data, **fit))
    same_weights(ours, theirs)
    close(ours.predict(data, verbose=0), theirs.predict(data, verbose=0))


def test_a_functional_model_trained_on_add_loss_alone(float64):
    keras = float64

    def build(lib, ops_module):
        class ActivityRegularization(lib.layers.Layer):
            def call(self, inputs):
                self.add_loss(ops_module.sum(inputs) * 0.1)
                return inputs

        inputs = lib.Input(shape=(4,))
        x = lib.layers.Dense(3, activation="sigmoid")(inputs)
        return lib.Model(inputs, ActivityRegularization()(x))

    x = np.random.default_rng(5).normal(size=(16, 4))
    ours, theirs = build(minikeras, ops), build(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="sgd", run_eagerly=True)
    fit = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    same_history(ours.fit(x, **fit), theirs.fit(x, **fit))
    same_weights(ours, theirs)


def test_a_loss_dict_leaving_out_an_output(float64):
    keras = float64
    x, y = ticket_data(n=8)
    fit = dict(batch_size=4, shuffle=False, verbose=0)
    histories, weights = [], None
    for lib in (minikeras, keras):
        # outputs given as a list: compile accepts it, fit fails (keras.io's training guide)
        inputs = [lib.Input(shape=(n,), name=k) for k, n in (("title", 5), ("body", 7))]
        x2 = lib.layers.concatenate(inputs)
        outputs = [lib.layers.Dense(1, name="priority")(x2), lib.layers.Dense(4, name="dep")(x2)]
        listed = lib.Model(inputs, outputs)
        listed.compile(optimizer="sgd", loss={"priority": "mse"}, run_eagerly=True)
        with pytest.raises(ValueError, match="Expected keys .* in loss dict"):
            listed.fit([x["title"], x["body"]], [y["priority"], y["department"]], **fit)
        # outputs given as a dict: the output left out has no loss
        model = ticket_model(lib)
        weights = model.get_weights() if weights is None else weights
        model.set_weights(weights)
        model.compile(optimizer="sgd", loss={"priority": "mse"}, run_eagerly=True)
        histories.append(model.fit(x, y, **fit))
    same_history(*histories)


# ---------------------------------------------------------------------- the serialization guide
def test_a_registered_custom_activation_trains_and_loads_in_keras(float64, tmp_path):
    keras = float64

    def build(lib, ops_module):
        @lib.saving.register_keras_serializable(package="guides_parity", name="cube")
        def cube(x):
            return ops_module.multiply(x, ops_module.square(x)) * 0.5

        inputs = lib.Input(shape=(3,))
        outputs = lib.layers.Dense(2, activation=cube)(lib.layers.Dense(4)(inputs))
        model = lib.Model(inputs, outputs)
        model.compile(optimizer="rmsprop", loss="mean_squared_error", run_eagerly=True)
        return model

    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(12, 3)) * 0.5, rng.normal(size=(12, 2))
    ours, theirs = build(minikeras, ops), build(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    fit = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
    same_history(ours.fit(x, y, **fit), theirs.fit(x, y, **fit))
    same_weights(ours, theirs)
    path = str(tmp_path / "custom.keras")
    ours.save(path)
    close(keras.models.load_model(path).predict(x, verbose=0), ours.predict(x, verbose=0))
    close(minikeras.models.load_model(path).predict(x, verbose=0), ours.predict(x, verbose=0))


def test_layers_in_a_custom_layers_config_are_serialized_as_keras_does(keras):
    def build(lib):
        class Wrapper(lib.layers.Layer):
            def __init__(self, first_layer, **kwargs):
                super().__init__(**kwargs)
                self.first_layer = first_layer

            def get_config(self):
                return {**super().get_config(), "first_layer": self.first_layer}

            @classmethod
            def from_config(cls, config):
                config["first_layer"] = lib.layers.deserialize(config["first_layer"])
                return cls(**config)

            def call(self, inputs):
                return self.first_layer(inputs)

        inputs = lib.Input((3,))
        model = lib.Model(inputs, Wrapper(lib.layers.Dense(2, name="inner"))(inputs))
        config = model.get_config()
        # Keras's from_config empties the dict it is given: give it a copy
        copy = lib.Model.from_config(deepcopy(config), custom_objects={"Wrapper": Wrapper})
        return config, copy

    (config, copy), (keras_config, keras_copy) = build(minikeras), build(keras)
    ours = config["layers"][1]["config"]["first_layer"]
    theirs = keras_config["layers"][1]["config"]["first_layer"]
    assert (ours["class_name"], ours["config"]["name"], ours["config"]["units"]) == (
        theirs["class_name"],
        theirs["config"]["name"],
        theirs["config"]["units"],
    )
    assert [w.shape for w in copy.weights] == [tuple(w.shape) for w in keras_copy.weights]


def test_regularizers_round_trip_through_serialize_keras_object(keras):
    ours = minikeras.saving.serialize_keras_object(minikeras.regularizers.L1(0.005))
    theirs = keras.saving.serialize_keras_object(keras.regularizers.L1(0.005))
    assert (ours["module"], ours["class_name"]) == (theirs["module"], theirs["class_name"])
    back = minikeras.saving.deserialize_keras_object(theirs)
    assert isinstance(back, minikeras.regularizers.L1)
    close(back.l1, theirs["config"]["l1"], rtol=1e-7)  # Keras stores it as a float32


def test_clone_model_copies_the_architecture_with_new_weights(keras):
    for lib in (minikeras, keras):
        model = conv_stack(lib, "middle")
        clone = lib.models.clone_model(model)
        assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
        assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


# ---------------------------------------------------------------------- the masking guide
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"maxlen": 2}, {"padding": "post", "truncating": "post", "maxlen": 4, "value": -1}],
)
def test_pad_sequences_as_keras(keras, kwargs):
    raw = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927], []]
    ours = minikeras.utils.pad_sequences(raw, **kwargs)
    theirs = keras.utils.pad_sequences(raw, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_a_mask_reaches_a_custom_layer_after_dense_as_in_keras(float64):
    keras = float64

    def build(lib, ops_module):
        class TemporalSoftmax(lib.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.supports_masking = True

            def call(self, inputs, mask=None):
                assert mask is not None
                weights = ops_module.expand_dims(ops_module.cast(mask, "float64"), -1)
                exp = ops_module.exp(inputs) * weights
                return exp / ops_module.sum(exp, axis=1, keepdims=True)

        inputs = lib.Input(shape=(None,), dtype="int32")
        x = lib.layers.Embedding(input_dim=6, output_dim=3, mask_zero=True)(inputs)
        x = lib.layers.Dense(1)(x)
        assert x._keras_mask is not None
        return lib.Model(inputs, TemporalSoftmax()(x))

    ours, theirs = build(minikeras, ops), build(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    tokens = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    close(ours(tokens), theirs(tokens))


# ---------------------------------------------------------------------- the subclassing guide
def test_layer_losses_hold_added_terms_and_inner_penalties_as_in_keras(float64):
    keras = float64

    def build(lib, ops_module):
        class Outer(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(3, kernel_regularizer=lib.regularizers.l2(1e-3))

            def call(self, inputs):
                self.add_loss(ops_module.mean(inputs) * 0.01)
                return self.dense(inputs)

        return Outer()

    x = np.random.default_rng(7).normal(size=(2, 4))
    ours, theirs = build(minikeras, ops), build(keras, keras.ops)
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    ours(x), theirs(x)  # the terms of this call only, as Keras resets them per call
    assert len(ours.losses) == len(theirs.losses) == 2
    for a, b in zip(ours.losses, theirs.losses):
        close(float(np.asarray(a)), float(np.asarray(b)))


def compute_sum_layer(lib, ops_module):
    """A layer that returns its non-trainable weight (the subclassing guide's ComputeSum)."""

    class ComputeSum(lib.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(shape=(input_dim,), initializer="zeros", trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops_module.sum(inputs, axis=0))
            return self.total

    return ComputeSum(2)


def test_a_weight_returned_by_call_is_that_weight_as_in_keras(keras):
    for lib, ops_module in ((minikeras, ops), (keras, keras.ops)):
        layer = compute_sum_layer(lib, ops_module)
        layer(np.ones((2, 2)))
        y = layer(np.ones((2, 2)))
        assert y is layer.total
        np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])
