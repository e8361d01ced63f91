"""`TestCase`: Keras's test helpers (`keras.src.testing.TestCase`), for tests of minikeras layers.

The same methods with the same arguments and checks as Keras's, so a test written against
Keras's TestCase runs on minikeras: the assertions on arrays (`assertAllClose`, `assertDType`,
...), `run_class_serialization_test` (a config's round trip) and `run_layer_test`, which makes
a layer from its arguments and checks, in turn, its config round trip, its weights once built,
a call on symbolic inputs (output shape and dtype), a call on data (output values, losses) and a
training step in a model. What minikeras cannot do (sparse or ragged tensors, mixed precision)
fails with a message that says so, unless Keras itself skips it for a backend without it.

>>> from minikeras import layers, testing
>>> class DenseTest(testing.TestCase):
...     def test_dense(self):
...         self.run_layer_test(
...             layers.Dense, {"units": 3}, input_shape=(2, 4),
...             expected_output_shape=(2, 3), expected_num_trainable_weights=2,
...         )
>>> import unittest
>>> unittest.TextTestRunner(verbosity=0).run(DenseTest("test_dense")).wasSuccessful()
True
"""

import json
import shutil
import tempfile
import unittest
import warnings
from pathlib import Path

import numpy as np

from minikeras import backend, config

# Keras's backends import ml_dtypes, after which NumPy knows "bfloat16" and the float8 names:
# Keras's tests build `np.array(0, dtype="bfloat16")` in their class bodies, before any op
# runs (minikeras itself imports it on first use of such a type: config.learn_ml_dtypes)
config.learn_ml_dtypes("bfloat16")

try:  # Keras's tests decorate methods with absl's `parameterized`, which needs its base class
    from absl.testing import parameterized

    _Base = parameterized.TestCase
except ImportError:  # absl comes with TensorFlow; without it, plain unittest
    _Base = unittest.TestCase

_STANDARD_DTYPES = (
    "float16",
    "float32",
    "float64",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
)


class TestCase(_Base):
    """Keras's TestCase: assertions on arrays, and the standard checks of a layer."""

    maxDiff = None

    def setUp(self):
        # each test starts from fresh layer names ('dense', not 'dense_7'), as in Keras
        backend.clear_session(free_memory=False)

    def get_temp_dir(self):
        """A new directory, removed when the test ends."""
        temp_dir = tempfile.mkdtemp()
        self.addCleanup(lambda: shutil.rmtree(temp_dir, ignore_errors=True))
        return temp_dir

    def convert_to_numpy(self, x):
        return backend.convert_to_numpy(x) if backend.is_tensor(x) else np.array(x)

    # ------------------------------------------------------------------ assertions
    def assertAllClose(
        self, actual, desired, atol=1e-6, rtol=1e-6, tpu_atol=None, tpu_rtol=None, msg=None
    ):
        """Same shapes, and |actual − desired| ≤ atol + rtol·|desired| everywhere.
        (tpu_atol and tpu_rtol are Keras's tolerances on a TPU: never used here.)"""
        np.testing.assert_allclose(
            self.convert_to_numpy(actual),
            self.convert_to_numpy(desired),
            atol=atol,
            rtol=rtol,
            err_msg=msg or "",
        )

    def assertNotAllClose(self, x1, x2, atol=1e-6, rtol=1e-6, msg=None):
        try:
            self.assertAllClose(x1, x2, atol=atol, rtol=rtol)
        except AssertionError:
            return
        raise AssertionError(
            f"The two values are close at all elements. \n{msg or ''}.\nValues: {x1}"
        )

    def assertAlmostEqual(self, actual, desired, decimal=3, tpu_decimal=None, msg=None):
        """Equal to `decimal` places, element by element (Keras's, not unittest's: arrays too,
        and 3 places by default)."""
        np.testing.assert_almost_equal(
            self.convert_to_numpy(actual),
            self.convert_to_numpy(desired),
            decimal=decimal,
            err_msg=msg or "",
        )

    def assertAllEqual(self, actual, desired, msg=None):
        np.testing.assert_array_equal(
            self.convert_to_numpy(actual), self.convert_to_numpy(desired), err_msg=msg or ""
        )

    def assertLen(self, iterable, expected_len, msg=None):
        self.assertEqual(len(iterable), expected_len, msg=msg)

    def assertSparse(self, x, sparse=True):
        self.assertFalse(sparse, "minikeras has no sparse tensors (its arrays are dense NumPy)")

    def assertRagged(self, x, ragged=True):
        self.assertFalse(ragged, "minikeras has no ragged tensors (its arrays are dense NumPy)")

    def assertDType(self, x, dtype, msg=None):
        """x's dtype (a Python number's type for a number) is `dtype`, both standardized."""
        x_dtype = backend.standardize_dtype(x.dtype if hasattr(x, "dtype") else type(x))
        expected = backend.standardize_dtype(dtype)
        default = (
            "The dtype of x does not match the expected one. "
            f"Received: x.dtype={x_dtype} and dtype={dtype}"
        )
        self.assertEqual(x_dtype, expected, msg=msg or default)

    def assertFileExists(self, path):
        if not Path(path).is_file():
            raise AssertionError(f"File {path} does not exist")

    # ------------------------------------------------------------------ configs
    def run_class_serialization_test(self, instance, custom_objects=None):
        """`from_config(get_config())` and `deserialize(serialize())` give back an object with
        the same config (compared as JSON, tuples kept apart from lists) and the same
        attributes. Returns the object rebuilt by deserialization."""
        from minikeras.saving import (
            custom_object_scope,
            deserialize_keras_object,
            serialize_keras_object,
        )

        config = instance.get_config()
        config_json = to_json_with_tuples(config)
        ref_dir = set(dir(instance)) - {"__annotations__"}
        with custom_object_scope(custom_objects or {}):
            revived = type(instance).from_config(config)
        self.assertEqual(config_json, to_json_with_tuples(revived.get_config()))
        self.assertEqual(ref_dir, set(dir(revived)) - {"__annotations__"})

        serialized_json = to_json_with_tuples(serialize_keras_object(instance))
        with custom_object_scope(custom_objects or {}):
            revived = deserialize_keras_object(from_json_with_tuples(serialized_json))
        self.assertEqual(config_json, to_json_with_tuples(revived.get_config()))
        self.assertEqual(ref_dir, set(dir(revived)) - {"__annotations__"})
        return revived

    # ------------------------------------------------------------------ layers
    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        input_shape=None,
        input_dtype=None,
        input_sparse=False,
        input_ragged=False,
        input_data=None,
        call_kwargs=None,
        expected_output_shape=None,
        expected_output_dtype=None,
        expected_output_sparse=False,
        expected_output_ragged=False,
        expected_output=None,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=None,
        expected_num_non_trainable_variables=None,
        expected_num_seed_generators=None,
        expected_num_losses=None,
        supports_masking=None,
        expected_mask_shape=None,
        custom_objects=None,
        run_training_check=True,
        run_mixed_precision_check=True,
        assert_built_after_instantiation=False,
        tpu_atol=None,
        tpu_rtol=None,
    ):
        """The standard checks of a layer, as Keras's `run_layer_test` makes them.

        `layer_cls(**init_kwargs)` is made afresh for each stage:
        1. its config survives `from_config` and `deserialize(serialize(...))`; its
           `supports_masking` is as expected;
        2. `build(input_shape)`, then a call on KerasTensors: the weight counts
           (`expected_num_*`), the output's shape and dtype, the mask's shape;
           with `assert_built_after_instantiation`, a layer without weights is built at once;
        3. a call on data (`input_data`, or uniform [0, 3) values of `input_shape`): the output's
           shape, dtype and values (`expected_output`), and the number of `layer.losses`;
        4. with `run_training_check`, one step of `fit` of a model made of the layer, with the
           loss Σ y_pred (Keras skips it on its NumPy backend, which cannot train; minikeras
           can, so it runs).
        A count not given is taken from a first call, so the stages must agree with each other.
        Mixed precision is not checked: minikeras computes in one precision (Keras skips it on
        backends without it too, torch on CPU); asking for sparse or ragged inputs or outputs
        fails, since minikeras has neither.
        """
        if input_shape is not None and input_data is not None:
            raise ValueError("input_shape and input_data cannot be passed at the same time.")
        if expected_output_shape is not None and expected_output is not None:
            raise ValueError(
                "expected_output_shape and expected_output cannot be passed at the same time."
            )
        if expected_output is not None and input_data is None:
            raise ValueError("In order to use expected_output, input_data must be provided.")
        if expected_mask_shape is not None and supports_masking is not True:
            raise ValueError("In order to use expected_mask_shape, supports_masking must be True.")
        for asked, what in (
            (input_sparse or expected_output_sparse, "sparse"),
            (input_ragged or expected_output_ragged, "ragged"),
        ):
            if asked:
                self.fail(f"minikeras has no {what} tensors: this check cannot run on it")
        init_kwargs = init_kwargs or {}
        call_kwargs = call_kwargs or {}
        if input_shape is not None:
            input_dtype = _check_input_dtypes(self, input_shape, input_dtype)

        def make_layer():
            return layer_cls(**init_kwargs)

        def call(layer, inputs):
            if isinstance(inputs, dict):
                return layer(**inputs, **call_kwargs)
            return layer(inputs, **call_kwargs)

        has_inputs = input_data is not None or input_shape is not None
        if has_inputs:
            if input_data is None:
                input_data = create_eager_tensors(input_shape, input_dtype)
            # counts not given are those of a first call: later stages must agree with it
            layer = make_layer()
            call(layer, input_data)
            if expected_num_trainable_weights is None:
                expected_num_trainable_weights = len(layer.trainable_weights)
            if expected_num_non_trainable_weights is None:
                expected_num_non_trainable_weights = len(layer.non_trainable_weights)
            if expected_num_non_trainable_variables is None:
                expected_num_non_trainable_variables = len(layer.non_trainable_variables)
            if expected_num_seed_generators is None:
                expected_num_seed_generators = len(get_seed_generators(layer))

        # 1. the config's round trip, and masking
        layer = make_layer()
        self.run_class_serialization_test(layer, custom_objects)
        if supports_masking is not None:
            self.assertEqual(
                layer.supports_masking, supports_masking, msg="Unexpected supports_masking value"
            )

        def run_build_asserts(layer):
            self.assertTrue(layer.built)
            for expected, found, what in (
                (expected_num_trainable_weights, layer.trainable_weights, "trainable_weights"),
                (
                    expected_num_non_trainable_weights,
                    layer.non_trainable_weights,
                    "non_trainable_weights",
                ),
                (
                    expected_num_non_trainable_variables,
                    layer.non_trainable_variables,
                    "non_trainable_variables",
                ),
                (expected_num_seed_generators, get_seed_generators(layer), "seed_generators"),
            ):
                if expected is not None:
                    self.assertLen(found, expected, msg=f"Unexpected number of {what}")

        def run_output_asserts(layer, output, eager):
            if expected_output_shape is not None:
                shapes_match = _map_up_to(_shape_matches, expected_output_shape, output)
                self.assertTrue(
                    all(_flatten(shapes_match)),
                    msg=f"Expected output shapes {expected_output_shape} but received "
                    f"{_map(lambda x: x.shape, output)}",
                )
            if expected_output_dtype is not None:
                dtypes_match = _map_up_to(
                    lambda e, x: e == backend.standardize_dtype(x.dtype),
                    expected_output_dtype,
                    output,
                )
                self.assertTrue(
                    all(_flatten(dtypes_match)),
                    msg=f"Expected output dtypes {expected_output_dtype} but received "
                    f"{_map(lambda x: x.dtype, output)}",
                )
            if eager:
                if expected_output is not None:
                    self.assertEqual(type(expected_output), type(output))
                    for ref, value in zip(_flatten(expected_output), _flatten(output)):
                        self.assertAllClose(ref, value, msg="Unexpected output value")
                if expected_num_losses is not None:
                    self.assertLen(layer.losses, expected_num_losses)

        # 2. build, then a call on symbolic inputs
        if has_inputs:
            if input_shape is None:
                build_shape = _map(lambda x: tuple(np.shape(x)), input_data)
            else:
                build_shape = input_shape
            layer = make_layer()
            if isinstance(build_shape, dict):
                layer.build(**build_shape)
            else:
                layer.build(build_shape)
            run_build_asserts(layer)

            if input_shape is None:
                symbolic_inputs = _map(
                    lambda x: backend.KerasTensor(
                        np.shape(x), dtype=backend.standardize_dtype(x.dtype)
                    ),
                    input_data,
                )
            else:
                symbolic_inputs = create_keras_tensors(input_shape, input_dtype)
            layer = make_layer()
            symbolic_outputs = call(layer, symbolic_inputs)
            run_build_asserts(layer)
            run_output_asserts(layer, symbolic_outputs, eager=False)

            if expected_mask_shape is not None:
                output_mask = layer.compute_mask(symbolic_inputs)
                self.assertEqual(expected_mask_shape, output_mask.shape)

            if assert_built_after_instantiation:
                layer = make_layer()
                self.assertTrue(
                    layer.built,
                    msg=f"{type(layer)} is stateless, so it should be built after instantiation.",
                )

                class ModifiedBuildLayer(layer_cls):
                    def build(self, *args, **kwargs):
                        pass

                layer = ModifiedBuildLayer(**init_kwargs)
                self.assertFalse(
                    layer.built,
                    msg=f"The `build` of {type(layer)} is overriden, so it should not be built "
                    "after instantiation.",
                )

        # 3. a call on data, and 4. a training step
        if has_inputs:
            layer = make_layer()
            output_data = call(layer, input_data)
            run_output_asserts(layer, output_data, eager=True)
            if run_training_check:
                run_training_step(layer, input_data, output_data)
            if run_mixed_precision_check:
                warnings.warn(
                    f"{layer_cls.__name__}: the mixed precision check of run_layer_test is not "
                    "run: minikeras computes in one precision",
                    UserWarning,
                    stacklevel=2,
                )


def run_training_step(layer, input_data, output_data):
    """One step of `fit` of a model made of `layer`, with the loss Σ y_pred, on batches of
    (input_data, output_data) from a generator, as Keras's check: the layer must train."""
    from minikeras import ops
    from minikeras.losses import Loss
    from minikeras.models import Model

    class TestModel(Model):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def call(self, x, training=False):
            return self.layer(x, training=training)

    class TestLoss(Loss):
        def __call__(self, y_true, y_pred, sample_weight=None):
            return ops.sum(y_pred)

    def data_generator():
        while True:
            yield input_data, output_data

    model = TestModel(layer)
    model.compile(optimizer="sgd", loss=TestLoss())
    model.fit(data_generator(), steps_per_epoch=1, verbose=0)


def _check_input_dtypes(test, input_shape, input_dtype):
    """input_dtype shaped as input_shape (float32 everywhere when not given), as Keras checks."""
    if input_dtype is None:
        return _map_shapes(lambda _: "float32", input_shape)
    several = isinstance(input_shape, list) or (
        isinstance(input_shape, tuple) and is_shape_tuple(input_shape[0])
    )
    if several:  # a tuple or list of shapes: as many dtypes, in the same kind of sequence
        test.assertIsInstance(input_dtype, type(input_shape))
        test.assertEqual(
            len(input_shape),
            len(input_dtype),
            msg="The number of input shapes and dtypes does not match",
        )
    elif isinstance(input_shape, dict):
        test.assertIsInstance(input_dtype, dict)
        test.assertEqual(
            set(input_shape),
            set(input_dtype),
            msg="The number of input shapes and dtypes does not match",
        )
    elif not isinstance(input_shape, tuple):
        raise ValueError("The type of input_shape is not supported")
    return input_dtype


def create_keras_tensors(input_shape, dtype):
    """KerasTensors of these shapes and dtypes (a dict's keys lose their "_shape" suffix)."""
    if isinstance(input_shape, dict):
        return {
            k.removesuffix("_shape"): backend.KerasTensor(v, dtype=dtype[k])
            for k, v in input_shape.items()
        }
    return map_shape_dtype_structure(
        lambda shape, dt: backend.KerasTensor(shape, dtype=dt), input_shape, dtype
    )


def create_eager_tensors(input_shape, dtype):
    """Arrays of these shapes and dtypes, uniform in [0, 3) before the cast (Keras's data)."""
    from minikeras import random

    unknown = set(_flatten(dtype)) - set(_STANDARD_DTYPES)
    if unknown:
        raise ValueError(f"dtype must be a standard float or int dtype. Received: dtype={dtype}")

    def create(shape, dt):
        return np.asarray(random.uniform(shape, dtype="float32") * 3).astype(dt)

    if isinstance(input_shape, dict):
        return {k.removesuffix("_shape"): create(v, dtype[k]) for k, v in input_shape.items()}
    return map_shape_dtype_structure(create, input_shape, dtype)


def is_shape_tuple(x):
    return isinstance(x, (list, tuple)) and all(isinstance(e, (int, type(None))) for e in x)


def map_shape_dtype_structure(fn, shape, dtype):
    """fn(shape, dtype) on each shape tuple of a nest of shapes and the matching dtypes."""
    if is_shape_tuple(shape):
        return fn(tuple(shape), dtype)
    if isinstance(shape, (list, tuple)):
        return type(shape)(map_shape_dtype_structure(fn, s, d) for s, d in zip(shape, dtype))
    if isinstance(shape, dict):
        return {k: map_shape_dtype_structure(fn, v, dtype[k]) for k, v in shape.items()}
    raise ValueError(f"Cannot map function to unknown objects {shape} and {dtype}")


def get_seed_generators(layer):
    """Every `SeedGenerator` the layer and its sublayers keep in attributes, each once."""
    from minikeras.random import SeedGenerator

    found, seen = [], set()
    for owner in [layer, *layer._nested_layers()]:
        for value in vars(owner).values():
            if isinstance(value, SeedGenerator) and id(value) not in seen:
                seen.add(id(value))
                found.append(value)
    return found


def to_json_with_tuples(value):
    """JSON of a config, with tuples written apart from lists (so that they compare unequal)."""

    def encode(obj):
        if isinstance(obj, tuple):
            return {"__class__": "tuple", "__value__": [encode(e) for e in obj]}
        if isinstance(obj, list):
            return [encode(e) for e in obj]
        if isinstance(obj, dict):
            return {key: encode(v) for key, v in obj.items()}
        return obj

    return json.dumps(encode(value), sort_keys=True, indent=4)


def from_json_with_tuples(value):
    def decode(obj):
        if "__class__" in obj and "__value__" in obj:
            return tuple(obj["__value__"])
        return obj

    return json.loads(value, object_hook=decode)


# ------------------------------------------------------------ nests of outputs (tree's job)
def _flatten(nest):
    if isinstance(nest, (list, tuple)):
        return [leaf for item in nest for leaf in _flatten(item)]
    if isinstance(nest, dict):
        return [leaf for key in sorted(nest) for leaf in _flatten(nest[key])]
    return [nest]


def _map(fn, nest):
    if isinstance(nest, (list, tuple)):
        return type(nest)(_map(fn, item) for item in nest)
    if isinstance(nest, dict):
        return {key: _map(fn, item) for key, item in nest.items()}
    return fn(nest)


def _map_shapes(fn, shapes):
    """fn on each shape tuple of a nest of shapes."""
    if is_shape_tuple(shapes):
        return fn(shapes)
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(_map_shapes(fn, s) for s in shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    raise ValueError(f"Cannot map function to unknown objects {shapes}")


def _map_up_to(fn, expected, output):
    """fn(expected, x) for each output x, `expected` nested as far as the output is (a shape
    tuple stands for one output, a list of them for a list of outputs)."""
    if isinstance(output, (list, tuple)):
        if len(expected) != len(output):
            return [False]
        return [_map_up_to(fn, e, x) for e, x in zip(expected, output)]
    if isinstance(output, dict):
        if set(expected) != set(output):
            return [False]
        return [_map_up_to(fn, expected[k], output[k]) for k in output]
    return fn(expected, output)


def _shape_matches(expected, x):
    shape = tuple(x.shape)
    return len(shape) == len(expected) and all(e is None or e == d for e, d in zip(expected, shape))


# ------------------------------------------------------------ devices (Keras's tests ask)
# minikeras runs on the CPU only: Keras's tests that branch on an accelerator take the CPU path.
def uses_gpu():
    return False


def uses_tpu():
    return False


jax_uses_gpu = jax_uses_tpu = tensorflow_uses_gpu = tensorflow_uses_tpu = torch_uses_gpu = uses_gpu
