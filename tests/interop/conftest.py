"""Shared set-up for the tests against real Keras (the `keras` fixture is tests/conftest.py's):
h5py, and the float type set on both sides.

Without Keras these tests are skipped, except when MINIKERAS_REQUIRE_KERAS=1 (CI): then a
missing Keras is a failure, never a silent skip.
"""

import pytest
from needs import missing

import minikeras as mk


@pytest.fixture(scope="session")
def h5py():
    try:
        import h5py
    except ImportError as error:
        missing("h5py (pip install 'minikeras[h5]')", str(error))
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
