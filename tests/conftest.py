"""Shared pytest set-up. Being here puts `tests/` on the import path, so every test file can
`import strategies` (the hypothesis strategies, kept in one file)."""

import os

import pytest
from hypothesis import HealthCheck, settings
from needs import missing

# ---------------------------------------------------------------- hypothesis profiles
# HYPOTHESIS_PROFILE=ci (the default, what `make test` runs): the examples are derived from the
# test itself (derandomize), so a run is repeatable and CI never flakes on a new draw; tests that
# set their own max_examples may scale it up under the thorough profile (tests/parity does).
# HYPOTHESIS_PROFILE=thorough: fresh random draws and many more examples, for a long run by hand.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---------------------------------------------------------------- real Keras, when required
@pytest.fixture(scope="session")
def keras():
    """Real Keras on the TensorFlow backend (imported through minikeras.parity, quietly).
    Missing Keras skips the test, or fails it when MINIKERAS_REQUIRE_KERAS is set."""
    from minikeras.parity.keras_env import KerasUnavailable, import_keras

    try:
        return import_keras()
    except KerasUnavailable as error:
        missing("Keras", str(error))


# ---------------------------------------------------------------- one test's settings stay its own
@pytest.fixture(autouse=True)
def default_float_types():
    """Every test starts with float32 in minikeras and, when imported, in Keras (its floatx and
    its global dtype policy): a test that changes them cannot change the next one's, whatever
    order the test files run in."""
    import sys

    from minikeras import config

    def reset():
        config.set_floatx("float32")
        keras = sys.modules.get("keras")
        if keras is not None and hasattr(keras, "config"):
            keras.config.set_floatx("float32")
            keras.config.set_dtype_policy("float32")

    reset()
    yield
    reset()
