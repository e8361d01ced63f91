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
