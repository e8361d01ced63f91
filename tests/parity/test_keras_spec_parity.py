"""What Keras's own unit tests ask of the API around layers, compared with Keras itself:
which layers are built once made, `minikeras.backend`'s dtype helpers, dtype policies.

These compare names, flags and dtypes (no arithmetic): equality, no tolerance.
"""

import numpy as np
import pytest

import minikeras
from minikeras import backend, dtype_policies
from minikeras import layers as mk_layers

# (class name, constructor arguments): layers without weights are built once made in Keras
# (its `_build_at_init`); the others are built by their first call
LAYERS = [
    ("Dropout", {"rate": 0.5}),
    ("SpatialDropout1D", {"rate": 0.5}),
    ("Activation", {"activation": "relu"}),
    ("ReLU", {}),
    ("Softmax", {}),
    ("LeakyReLU", {}),
    ("ELU", {}),
    ("Masking", {}),
    ("MaxPooling2D", {}),
    ("AveragePooling1D", {"pool_size": 2}),
    ("GlobalMaxPooling2D", {}),
    ("GlobalAveragePooling1D", {}),
    ("Reshape", {"target_shape": (2,)}),
    ("Flatten", {}),
    ("Permute", {"dims": (1,)}),
    ("RepeatVector", {"n": 2}),
    ("PReLU", {}),
    ("Dense", {"units": 2}),
    ("Embedding", {"input_dim": 3, "output_dim": 2}),
    ("Add", {}),
]


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=[name for name, _ in LAYERS])
def test_built_once_made_as_keras(keras, name, kwargs):
    ours = getattr(mk_layers, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    assert ours.built == theirs.built


def test_a_layer_of_yours_with_a_build_is_not_built_once_made(keras):
    """Keras's rule (and its test): a subclass that writes `build` waits for its first call."""

    def subclass(base):
        class WithBuild(base):
            def build(self, input_shape):
                super().build(input_shape)

        return WithBuild(0.5)

    assert subclass(mk_layers.Dropout).built == subclass(keras.layers.Dropout).built == False  # noqa: E712


def test_a_layer_built_once_made_still_records_its_shapes():
    """Its first call (or a model's build) gives it input and output shapes, as before."""
    model = minikeras.Sequential(
        [mk_layers.Input(shape=(4, 3)), mk_layers.MaxPooling1D(2), mk_layers.Dropout(0.5)]
    )
    assert [layer.output_shape for layer in model.layers] == [(None, 2, 3), (None, 2, 3)]


DTYPES = [None, float, bool, "float16", "float64", np.float32, np.dtype("int8"), "uint16",
          "bfloat16", "bool", "int64"]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_standardize_dtype_as_keras(keras, dtype):
    theirs = keras.backend.standardize_dtype(dtype)
    assert backend.standardize_dtype(dtype) == theirs
    assert backend.is_float_dtype(dtype) == keras.backend.is_float_dtype(dtype)
    assert backend.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)


def test_python_int_is_int32_as_on_keras_numpy_backend():
    """Keras maps `int` by its backend: int64 on TensorFlow, int32 on NumPy, JAX and torch.
    minikeras's arrays are NumPy's and its ops give int32 (as Keras's ops do), so int32."""
    assert backend.backend() == "numpy"
    assert backend.standardize_dtype(int) == "int32"


def test_invalid_dtypes_and_shapes_raise_as_keras(keras):
    for bad in ("foo", "float"):
        with pytest.raises(ValueError) as ours:
            backend.standardize_dtype(bad)
        with pytest.raises(ValueError) as theirs:
            keras.backend.standardize_dtype(bad)
        assert str(ours.value) == str(theirs.value)
    from keras.src.backend import standardize_shape

    for bad in ([-1, 3], [1.5, 3], 3, None):
        with pytest.raises(ValueError) as ours:
            backend.standardize_shape(bad)
        with pytest.raises(ValueError) as theirs:
            standardize_shape(bad)
        assert str(ours.value) == str(theirs.value)
    assert backend.standardize_shape([None, np.int64(3)]) == standardize_shape([None, 3])


@pytest.mark.parametrize(
    "dtypes",
    [
        ("int32", "float32"),
        ("int8", "uint8"),
        ("float16", "bfloat16"),
        ("int32", float),
        (float,),
        ("bool", "int16"),
        ("uint32", "int32"),
    ],  # fmt: skip
    ids=str,
)
def test_result_type_as_keras(keras, dtypes):
    assert backend.result_type(*dtypes) == keras.backend.result_type(*dtypes)


def test_dtype_policies_as_keras(keras):
    import keras.src.dtype_policies as keras_policies

    for name in ("float32", "float64"):
        ours, theirs = dtype_policies.get(name), keras_policies.get(name)
        assert repr(ours) == repr(theirs)
        assert dtype_policies.serialize(ours) == keras_policies.serialize(theirs)
        assert dtype_policies.deserialize(keras_policies.serialize(theirs)) == ours
    dense = mk_layers.Dense(2, dtype="float64")
    assert repr(dense.dtype_policy) == repr(keras.layers.Dense(2, dtype="float64").dtype_policy)
    assert dense.compute_dtype == dense.variable_dtype == "float64"
    assert dtype_policies.dtype_policy.dtype_policy() == dtype_policies.get(None)


@pytest.mark.parametrize("name", ["GlobalAveragePooling1D", "Softmax"])
def test_a_mask_given_by_position_as_keras(keras, name):
    """`layer(x, mask)`: Keras binds the second argument to call(inputs, mask=None); minikeras
    used to drop it. Same float32 arithmetic on both sides: 1e-6."""
    x = np.arange(24, dtype="float32").reshape((2, 3, 4)) / 10
    mask = np.array([[1, 1, 0], [0, 1, 0]], dtype="int32")
    if name == "Softmax":
        mask = np.ones((2, 3, 4), "int32") * mask[:, :, None]
        mask[:, :, 0] = 1  # no row fully masked
    ours = getattr(mk_layers, name)()(x, mask)
    theirs = keras.ops.convert_to_numpy(getattr(keras.layers, name)()(x, mask))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_too_many_positional_arguments_raise():
    with pytest.raises(TypeError, match="positional arguments"):
        mk_layers.GlobalAveragePooling1D()(np.zeros((1, 2, 3)), None, True, "one too many")


@pytest.mark.parametrize(
    "name, kwargs", [("Add", {}), ("Maximum", {}), ("Concatenate", {"axis": 1})]
)
def test_merge_masks_as_keras(keras, name, kwargs):
    """Merge layers support masking: the OR of the masks (Concatenate: side by side)."""
    ours, theirs = getattr(mk_layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    x = [np.ones((2, 3, 2), "float32"), np.ones((2, 3, 2), "float32")]
    assert ours.supports_masking == theirs.supports_masking
    m1 = np.array([[1, 0, 0], [0, 1, 1]], bool)
    m2 = np.array([[0, 0, 1], [0, 1, 0]], bool)
    for mask in ([None, None], [m1, None], [m1, m2]):
        expected = theirs.compute_mask(x, mask)
        found = ours.compute_mask(x, mask)
        if expected is None:
            assert found is None
        else:
            np.testing.assert_array_equal(found, keras.ops.convert_to_numpy(expected))
    for bad_inputs, bad_mask in ((x, x[0]), (x[0], [None, None]), (x, [None])):
        with pytest.raises(ValueError) as error:
            ours.compute_mask(bad_inputs, bad_mask)
        with pytest.raises(ValueError) as keras_error:
            theirs.compute_mask(bad_inputs, bad_mask)
        assert str(error.value).split(".")[0] == str(keras_error.value).split(".")[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 5.0},
        {"threshold": 5.0, "max_value": 5.0},
        {"negative_slope": 0.5, "max_value": 5.0, "threshold": 5.0},
        {"negative_slope": 0.5, "threshold": -1.0},
        {"max_value": 6.0},
    ],
    ids=str,
)
def test_relu_options_as_keras(keras, kwargs):
    """activations.relu keeps x only strictly above the threshold (x = threshold gives 0), as
    Keras; it kept x there. Exact: the same few float64 operations on both sides."""
    x = np.array([-10.0, -5.0, -0.5, 0.0, 2.5, 5.0, 10.0])
    expected = keras.ops.convert_to_numpy(keras.activations.relu(x, **kwargs))
    np.testing.assert_allclose(minikeras.activations.relu(x, **kwargs), expected, rtol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "SGD", "AdamW"])
def test_exclude_from_weight_decay_by_name_as_keras(keras, name):
    """var_names: a weight whose name matches is left out of the weight decay (minikeras
    raised NotImplementedError). Same float32 steps on both sides: 1e-6."""

    def run(module, variable):
        values = []
        for names in (None, ["exclude"], ["xclu", "nothing"]):
            optimizer = getattr(module.optimizers, name)(learning_rate=0.5, weight_decay=0.1)
            if names:
                optimizer.exclude_from_weight_decay(var_names=names)
            kept = variable(np.array([2.0, -1.0], "float32"), name="kept")
            excluded = variable(np.array([2.0, -1.0], "float32"), name="exclude")
            grads = [np.array([0.5, 0.25], "float32")] * 2
            optimizer.apply_gradients(zip(grads, [kept, excluded]))
            values.append([module.ops.convert_to_numpy(v) for v in (kept, excluded)])
        return values

    ours = run(minikeras, minikeras.Variable)
    theirs = run(keras, keras.Variable)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-6, atol=1e-6)
    assert not np.allclose(ours[0][1], ours[1][1])  # the exclusion changed something


def test_test_utils_as_keras(keras):
    """named_product names and orders cases as Keras's; get_test_data splits as Keras's does
    (per class: train_samples // num_classes in training, the rest in test)."""
    from keras.src.testing import test_utils as keras_utils

    from minikeras.testing import test_utils

    cases = [{"testcase_name": "neg", "x": -1}, {"testcase_name": "pos", "x": 1}]
    kwargs = {"numeral_type": [float, int], "units": [1, 2]}
    ours = test_utils.named_product(cases, **kwargs)
    assert ours == keras_utils.named_product(cases, **kwargs)
    assert test_utils.named_product(**kwargs) == keras_utils.named_product(**kwargs)

    (x, y), (x_test, y_test) = test_utils.get_test_data(100, 50, (4, 2), 3, random_seed=1)
    (kx, ky), (kx_test, ky_test) = keras_utils.get_test_data(100, 50, (4, 2), 3, random_seed=1)
    assert (x.shape, x_test.shape, x.dtype) == (kx.shape, kx_test.shape, kx.dtype)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(ky))
    np.testing.assert_array_equal(np.bincount(y_test), np.bincount(ky_test))


def test_schedules_through_serialize_keras_object_as_keras(keras):
    """A learning-rate schedule serialized with the generic functions reads back (it raised
    "Could not locate class"), and its dict is Keras's."""
    from minikeras.optimizers import schedules
    from minikeras.saving import deserialize_keras_object, serialize_keras_object

    ours = schedules.CosineDecay(0.1, 100, alpha=0.1)
    theirs = keras.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.1)
    assert serialize_keras_object(ours) == keras.saving.serialize_keras_object(theirs)
    revived = deserialize_keras_object(keras.saving.serialize_keras_object(theirs))
    assert type(revived) is schedules.CosineDecay and revived.get_config() == ours.get_config()


def test_initializers_get_as_keras(keras):
    """initializers.get takes Keras's older class name, an array (its values, for that shape
    only) and a class, as Keras's does; minikeras raised on all three."""
    from minikeras import initializers

    assert type(initializers.get("OrthogonalInitializer")) is initializers.Orthogonal
    assert type(initializers.get(initializers.Ones)) is initializers.Ones
    values = np.arange(6, dtype="float32").reshape(2, 3)
    ours, theirs = initializers.get(values), keras.initializers.get(values)
    np.testing.assert_array_equal(ours((2, 3)), keras.ops.convert_to_numpy(theirs((2, 3))))
    assert ours((2, 3), dtype="float64").dtype == np.float64
    with pytest.raises(ValueError) as error:
        ours((3, 2))
    with pytest.raises(ValueError) as keras_error:
        theirs((3, 2))
    assert str(error.value) == str(keras_error.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (2, 3), "batch_shape": (2, 3)},
        {"batch_size": 4, "batch_shape": (2, 3)},
        {"shape": None, "batch_shape": None},
        {"shape": (2, 3), "input_tensor": np.zeros((2, 3))},
    ],
    ids=["shape-and-batch_shape", "batch_size-and-batch_shape", "no-shape", "array-tensor"],
)
def test_input_layer_arguments_checked_as_keras(keras, kwargs):
    """InputLayer's argument checks, with Keras's messages (minikeras took the first two
    silently). Compared up to "Received", where the reprs of the arguments differ."""
    with pytest.raises(ValueError) as error:
        mk_layers.InputLayer(**kwargs)
    with pytest.raises(ValueError) as keras_error:
        keras.layers.InputLayer(**kwargs)
    ours, theirs = str(error.value), str(keras_error.value)
    assert ours.split(" Received")[0] == theirs.split(" Received")[0]


def test_input_layer_refuses_sparse_and_ragged():
    """As Keras's NumPy backend does (keras/src/layers/core/input_layer.py): minikeras's
    arrays are dense. `ragged` was an unknown keyword before."""
    for flag in ("sparse", "ragged"):
        with pytest.raises(ValueError, match=f"`{flag}=True` is not supported with the numpy"):
            mk_layers.InputLayer(shape=(3,), **{flag: True})
    assert (
        mk_layers.InputLayer(shape=(3,), ragged=False, sparse=False).get_config()["ragged"] is False
    )


def test_input_layer_takes_a_keras_tensor():
    tensor = backend.KerasTensor((None, 3), dtype="float32")
    layer = mk_layers.InputLayer(input_tensor=tensor)
    assert layer.batch_shape == (None, 3) and layer.output is tensor
    with pytest.raises(ValueError, match="incompatible `shape`"):
        mk_layers.InputLayer(shape=(4,), input_tensor=tensor)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_use_cudnn_as_keras(keras, name):
    """LSTM and GRU take Keras's `use_cudnn` (it was an unknown keyword): "auto" and False run,
    True fails at the first call as Keras's does without cuDNN, anything else at once."""
    x = np.ones((1, 3, 2), "float32")
    for value in ("auto", False):
        layer = getattr(mk_layers, name)(2, use_cudnn=value)
        assert layer.use_cudnn == value and layer(x).shape == (1, 2)
        assert "use_cudnn" not in layer.get_config()
        assert "use_cudnn" not in getattr(keras.layers, name)(2).get_config()
    with pytest.raises(ValueError, match="use_cudnn=True was specified"):
        getattr(mk_layers, name)(2, use_cudnn=True)(x)
    with pytest.raises(ValueError) as error:
        getattr(mk_layers, name)(2, use_cudnn="yes")
    with pytest.raises(ValueError) as keras_error:
        getattr(keras.layers, name)(2, use_cudnn="yes")
    assert str(error.value) == str(keras_error.value)
