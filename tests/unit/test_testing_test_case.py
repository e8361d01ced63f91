"""minikeras.testing.TestCase: Keras's test helpers pass a right layer and catch a wrong one.

Each negative control is a layer wrong in one way (its output shape, its weights, its config)
that `run_layer_test` must reject with an AssertionError naming what is wrong.
"""

import warnings

import numpy as np
import pytest

from minikeras import layers, losses, ops, testing
from minikeras.models import Sequential


class Case(testing.TestCase):
    """A TestCase to call the helpers on (its own test method is never run here)."""

    def runTest(self):
        pass


@pytest.fixture
def case():
    test = Case()
    test.setUp()
    return test


def run_dense_test(case, layer_cls, **checks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the mixed precision check not run
        case.run_layer_test(
            layer_cls,
            {"units": 3},
            input_shape=(2, 4),
            custom_objects={layer_cls.__name__: layer_cls},  # the test's own classes
            **{"expected_output_shape": (2, 3), "expected_num_trainable_weights": 2, **checks},
        )


def test_a_right_layer_passes(case):
    run_dense_test(case, layers.Dense, expected_num_non_trainable_weights=0, expected_num_losses=0)


def test_a_wrong_output_shape_fails(case):
    class WrongShapeDense(layers.Dense):
        def call(self, x):
            return super().call(x)[:, :2]

    with pytest.raises(AssertionError, match="Expected output shapes"):
        run_dense_test(case, WrongShapeDense)


def test_a_wrong_symbolic_shape_fails(case):
    class WrongSymbolicDense(layers.Dense):
        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.units + 1)

    with pytest.raises(AssertionError, match="Expected output shapes"):
        run_dense_test(case, WrongSymbolicDense)


def test_a_wrong_weight_count_fails(case):
    with pytest.raises(AssertionError, match="Unexpected number of trainable_weights"):
        run_dense_test(case, layers.Dense, expected_num_trainable_weights=3)

    class ExtraWeightDense(layers.Dense):
        def build(self, input_shape):
            super().build(input_shape)
            self.add_weight((3,), "zeros", name="extra", trainable=False)

    with pytest.raises(AssertionError, match="Unexpected number of non_trainable_weights"):
        run_dense_test(case, ExtraWeightDense, expected_num_non_trainable_weights=0)


def test_a_broken_config_fails(case):
    class DoublingDense(layers.Dense):
        def get_config(self):
            config = super().get_config()
            config["units"] = 2 * self.units  # a config that does not give the layer back
            return config

    with pytest.raises(AssertionError, match="units"):
        run_dense_test(case, DoublingDense)

    class Scaled(layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    # its config keeps `factor` (taken from the constructor's arguments, as Keras's layers do),
    # but a class defined inside a function cannot be found by name when deserialized: Keras
    # raises TypeError("Could not locate class 'Scaled'...") there too
    with pytest.raises(TypeError, match="Could not locate class 'Scaled'"):
        case.run_layer_test(Scaled, {"factor": 2.0}, input_shape=(2, 3))


def test_a_layer_that_cannot_train_fails(case):
    class NoGradient(layers.Layer):
        def call(self, x):
            return np.sign(x)  # plain NumPy: no backward, no tape can see it

        def build(self, input_shape):
            self.add_weight((1,), "ones", name="w")

    with pytest.raises(Exception):  # noqa: B017 - whatever fit raises, the check fails
        case.run_layer_test(
            NoGradient,
            {},
            input_shape=(2, 3),
            custom_objects={"NoGradient": NoGradient},
            run_mixed_precision_check=False,
        )


def test_sparse_and_ragged_fail_clearly(case):
    with pytest.raises(AssertionError, match="no sparse tensors"):
        run_dense_test(case, layers.Dense, input_sparse=True)
    with pytest.raises(AssertionError, match="no ragged tensors"):
        case.assertRagged(np.zeros(2))


def test_run_layer_test_checks_its_arguments_as_keras(case):
    with pytest.raises(ValueError, match="cannot be passed at the same time"):
        case.run_layer_test(layers.Dense, {"units": 1}, input_shape=(1, 2), input_data=[[1, 2]])
    with pytest.raises(ValueError, match="supports_masking must be True"):
        case.run_layer_test(layers.Dense, {"units": 1}, expected_mask_shape=(2,))


def test_assertions(case):
    case.assertAllClose([1.0, 2.0], np.array([1.0, 2.0 + 1e-7]))
    with pytest.raises(AssertionError):
        case.assertAllClose([1.0, 2.0], [1.0, 2.1])
    case.assertNotAllClose([1.0], [2.0])
    with pytest.raises(AssertionError, match="close at all elements"):
        case.assertNotAllClose([1.0], [1.0])
    case.assertAlmostEqual(np.array([0.1234]), [0.1231])  # 3 decimals, as Keras's default
    case.assertDType(np.zeros(2, "float16"), "float16")
    case.assertDType(1.5, "float32")  # a Python float is float32, as in Keras
    with pytest.raises(AssertionError, match="does not match the expected one"):
        case.assertDType(np.zeros(2), "float32")
    case.assertLen([1, 2], 2)


def test_class_serialization_round_trip(case):
    revived = case.run_class_serialization_test(layers.Dense(4, activation="relu"))
    assert isinstance(revived, layers.Dense) and revived.units == 4


def test_a_loss_that_writes_only_call_dunder_trains():
    """Keras's own TestCase trains with such a loss (Σ y_pred); minikeras used to raise
    NotImplementedError from Loss.call."""

    class SumLoss(losses.Loss):
        def __call__(self, y_true, y_pred, sample_weight=None):
            return ops.sum(y_pred)

    model = Sequential([layers.Input(shape=(2,)), layers.Dense(1, use_bias=False)])
    model.compile(optimizer="sgd", loss=SumLoss())
    kernel = model.get_weights()[0].copy()
    x = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    model.fit(x, np.zeros((2, 1)), batch_size=2, verbose=0)
    # d(Σ x·w)/dw = Σ_batch x = [4, 6]; SGD's learning rate 0.01
    np.testing.assert_allclose(model.get_weights()[0], kernel - 0.01 * np.array([[4.0], [6.0]]))


def test_add_variable_is_add_weight():
    """Keras's alias (its callback tests call it on a model); minikeras had none."""
    layer = layers.Dense(2)
    v = layer.add_variable((3,), "ones", trainable=False, name="counter")
    assert v.name == "counter" and not v.trainable and layer.non_trainable_weights[0] is v
    np.testing.assert_array_equal(v, np.ones(3, "float32"))


def test_lambda_from_config_takes_safe_mode():
    """Keras's signature, from_config(config, custom_objects=None, safe_mode=None), which its
    tests call (minikeras's took only the config); the scope ends with the call."""
    config = layers.Lambda(lambda x: x * 2).get_config()
    with pytest.raises(ValueError, match="arbitrary code execution"):
        layers.Lambda.from_config(config)
    revived = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_array_equal(revived(np.ones((1, 2))), [[2.0, 2.0]])
    with pytest.raises(ValueError, match="arbitrary code execution"):
        layers.Lambda.from_config(config)
