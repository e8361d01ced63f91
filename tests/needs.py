"""One rule for tests that need an optional package (Keras, h5py): skipped when it is missing,
except under MINIKERAS_REQUIRE_KERAS=1 (what CI sets), where a missing package fails the test."""

import os

import pytest


def keras_required() -> bool:
    """MINIKERAS_REQUIRE_KERAS=1: tests against Keras must run, never skip."""
    return os.environ.get("MINIKERAS_REQUIRE_KERAS", "") not in ("", "0")


def missing(what: str, detail: str = "") -> None:
    """Fail (MINIKERAS_REQUIRE_KERAS set) or skip the current test because `what` is missing."""
    message = f"{what} cannot be imported{': ' + detail if detail else ''}"
    if keras_required():
        pytest.fail(f"MINIKERAS_REQUIRE_KERAS is set but {message}")
    pytest.skip(message)  # only without MINIKERAS_REQUIRE_KERAS (a developer's machine)
