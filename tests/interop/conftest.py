"""Shared set-up for the tests against real Keras: one import of Keras (TensorFlow backend) for
the whole session, and the float type set on both sides.

Without Keras these tests are skipped, except when MINIKERAS_REQUIRE_KERAS=1 (CI): then a
missing Keras is a failure, never a silent skip.
"""

import os

import pytest

import minikeras as mk


def require_keras():
    return os.environ.get("MINIKERAS_REQUIRE_KERAS", "") not in ("", "0")


@pytest.fixture(scope="session")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import keras
        import tensorflow as tf
    except ImportError as error:
        if require_keras():
            pytest.fail(f"MINIKERAS_REQUIRE_KERAS is set but Keras cannot be imported: {error}")
        pytest.skip(f"Keras is not installed ({error})")
    tf.get_logger().setLevel("ERROR")
    return keras


@pytest.fixture(scope="session")
def h5py():
    try:
        import h5py
    except ImportError as error:
        if require_keras():
            pytest.fail(f"MINIKERAS_REQUIRE_KERAS is set but h5py cannot be imported: {error}")
        pytest.skip("h5py is not installed: pip install 'minikeras[h5]'")
    return h5py


@pytest.fixture(params=["float32", "float64"])
def floatx(request, keras):
    """Both libraries' default float type set to the parameter for one test, then restored."""
    old_mk, old_keras = mk.config.floatx(), keras.config.floatx()
    mk.config.set_floatx(request.param)
    keras.config.set_floatx(request.param)
    # Keras keeps a global dtype policy made from floatx when first needed: reset it too
    keras.config.set_dtype_policy(request.param)
    yield request.param
    mk.config.set_floatx(old_mk)
    keras.config.set_floatx(old_keras)
    keras.config.set_dtype_policy(old_keras)
