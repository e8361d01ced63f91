"""Keras's public names that keras.io's guides and examples reach for, beyond the layers and
the training loop: `keras.backend`, the base classes at the top level, `keras.version()`,
`keras.preprocessing.sequence`, `keras.models.save_model`, the short names of layers and
initializers, and `keras.utils`'s helpers. Each is compared with what Keras does with the
same call; arrays exactly (they are the same few float64 operations, or none)."""

import numpy as np
import pytest

import minikeras


def test_backend_settings_as_in_keras(keras):
    for lib in (minikeras, keras):
        b = lib.backend
        assert (b.floatx(), b.epsilon(), b.image_data_format()) == (
            "float32",
            1e-07,
            "channels_last",
        )
        b.set_epsilon(1e-5)
        b.set_floatx("float64")
        assert (b.epsilon(), b.floatx(), lib.config.floatx()) == (1e-5, "float64", "float64")
        b.set_epsilon(1e-7)
        b.set_floatx("float32")
        with pytest.raises(ValueError):
            b.set_floatx("float31")
    # the only answer that differs: the array library underneath
    assert minikeras.backend.backend() == "numpy" and keras.backend.backend() == "tensorflow"


# Python's int (and "int") is left out: Keras maps it by its backend, int64 on TensorFlow and
# int32 on NumPy; minikeras follows its own arrays, as test_keras_spec_parity.py checks
@pytest.mark.parametrize(
    "dtype", [None, float, bool, np.float64, np.dtype("int32"), "uint8", "bfloat16"]
)
def test_standardize_dtype_as_in_keras(keras, dtype):
    b, k = minikeras.backend, keras.backend
    assert b.standardize_dtype(dtype) == k.standardize_dtype(dtype)
    assert b.is_float_dtype(dtype) == k.is_float_dtype(dtype)
    assert b.is_int_dtype(dtype) == k.is_int_dtype(dtype)
    assert minikeras.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def test_standardize_dtype_refuses_what_keras_refuses(keras):
    for lib in (minikeras, keras):
        with pytest.raises(ValueError, match="Invalid dtype: float31"):
            lib.backend.standardize_dtype("float31")


def test_is_keras_tensor_and_get_uid_as_in_keras(keras):
    names = []
    for lib in (minikeras, keras):
        b = lib.backend
        assert b.is_keras_tensor(lib.Input((3,)))
        assert not b.is_keras_tensor(np.ones((2, 3)))
        assert lib.utils.is_keras_tensor(lib.Input((3,)))
        b.clear_session()
        uids = [b.get_uid("dense"), b.get_uid("dense"), b.get_uid("other")]
        names.append((uids, lib.layers.Dense(1).name))
        b.clear_session()
        names.append(lib.layers.Dense(1).name)
    assert names[0] == names[2] == ([1, 2, 1], "dense_2")
    assert names[1] == names[3] == "dense"


def test_base_classes_and_version_at_the_top_level(keras):
    for lib in (minikeras, keras):
        assert issubclass(lib.losses.MeanSquaredError, lib.Loss)
        assert issubclass(lib.metrics.Mean, lib.Metric)
        assert issubclass(lib.optimizers.Adam, lib.Optimizer)
        assert issubclass(lib.initializers.GlorotUniform, lib.Initializer)
        assert issubclass(lib.regularizers.L2, lib.Regularizer)
        assert isinstance(lib.Input((2,)), lib.KerasTensor)
        assert isinstance(lib.version(), str)


def test_preprocessing_sequence_pad_sequences_as_in_keras(keras):
    rows = [[1, 2, 3, 4], [5], [6, 7]]
    for kwargs in ({}, {"maxlen": 3}, {"maxlen": 3, "padding": "post", "truncating": "post"}):
        np.testing.assert_array_equal(
            minikeras.preprocessing.sequence.pad_sequences(rows, **kwargs),
            keras.preprocessing.sequence.pad_sequences(rows, **kwargs),
        )


def test_models_save_model_writes_a_file_keras_opens(keras, tmp_path):
    model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    minikeras.models.save_model(model, path)
    theirs = keras.models.load_model(path)
    for a, b in zip(model.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_short_names_of_layers_and_initializers_as_in_keras(keras):
    short = {
        "AvgPool1D": "AveragePooling1D",
        "AvgPool2D": "AveragePooling2D",
        "MaxPool1D": "MaxPooling1D",
        "MaxPool2D": "MaxPooling2D",
        "GlobalAvgPool1D": "GlobalAveragePooling1D",
        "GlobalAvgPool2D": "GlobalAveragePooling2D",
        "GlobalMaxPool1D": "GlobalMaxPooling1D",
        "GlobalMaxPool2D": "GlobalMaxPooling2D",
        "Convolution1D": "Conv1D",
        "Convolution2D": "Conv2D",
        "Convolution1DTranspose": "Conv1DTranspose",
        "Convolution2DTranspose": "Conv2DTranspose",
    }
    for alias, name in short.items():
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)
        assert getattr(minikeras.layers, alias) is getattr(minikeras.layers, name)
    # a layer made by its short name is saved under its class's name, in both
    assert minikeras.layers.MaxPool2D(2).get_config() == keras.layers.MaxPool2D(2).get_config()
    for alias in ("glorot_uniform", "he_normal", "lecun_uniform", "orthogonal", "zeros", "ones"):
        theirs = getattr(keras.initializers, alias)
        ours = getattr(minikeras.initializers, alias)
        assert ours.__name__ == theirs.__name__
    init = minikeras.initializers.random_normal(stddev=0.5, seed=3)
    assert init.get_config() == keras.initializers.random_normal(stddev=0.5, seed=3).get_config()
    config = minikeras.initializers.serialize(minikeras.initializers.he_uniform(seed=2))
    keras_config = keras.initializers.serialize(keras.initializers.he_uniform(seed=2))
    theirs = keras.initializers.deserialize(keras_config).get_config()
    assert minikeras.initializers.deserialize(config).get_config() == theirs


def test_utils_helpers_as_in_keras(keras):
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    by_column = minikeras.utils.normalize(x, axis=0)  # column 0's norm is √10
    np.testing.assert_allclose(by_column[:, 0], np.array([3.0, 0.0, 1.0]) / 10**0.5)
    for kwargs in ({}, {"axis": 1}, {"order": 1}):  # (not axis=0: Keras's is wrong there)
        np.testing.assert_array_equal(
            minikeras.utils.normalize(x, **kwargs), keras.utils.normalize(x, **kwargs)
        )
    a, b, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    for args in ((a,), ((a, b),), (a, b), (a, b, w)):
        ours, theirs = (lib.utils.pack_x_y_sample_weight(*args) for lib in (minikeras, keras))
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        unpacked = [lib.utils.unpack_x_y_sample_weight(theirs) for lib in (minikeras, keras)]
        assert [v is None for v in unpacked[0]] == [v is None for v in unpacked[1]]
    init = minikeras.initializers.GlorotUniform(seed=4)
    ours = minikeras.utils.serialize_keras_object(init)
    theirs = keras.utils.serialize_keras_object(keras.initializers.GlorotUniform(seed=4))
    assert (ours["class_name"], ours["config"]) == (theirs["class_name"], theirs["config"])
    back = minikeras.utils.deserialize_keras_object(theirs)
    assert isinstance(back, minikeras.initializers.GlorotUniform) and back.seed == 4
    for lib in (minikeras, keras):
        lib.utils.disable_interactive_logging()
        assert not lib.utils.is_interactive_logging_enabled()
        lib.utils.enable_interactive_logging()
        assert lib.utils.is_interactive_logging_enabled()


def test_plot_model_without_pydot_answers_as_keras(keras, monkeypatch):
    """Without pydot Keras raises its ImportError (in a notebook it prints the message
    instead), and so does minikeras. pydot is made unimportable for both."""
    import sys

    from keras.src.utils import model_visualization

    monkeypatch.setitem(sys.modules, "pydot", None)
    monkeypatch.setattr(model_visualization, "pydot", None)
    messages = []
    for lib in (minikeras, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        with pytest.raises(ImportError) as error:
            lib.utils.plot_model(model, show_shapes=True)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    monkeypatch.setitem(sys.modules, "IPython.core.magics.namespace", object())
    for lib in (minikeras, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        assert lib.utils.plot_model(model) is None
