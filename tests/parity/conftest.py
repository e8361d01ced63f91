"""Helpers of the parity tests: run a parity case against Keras and fail with a reproducer.

(The `keras` fixture, which fails instead of skipping under MINIKERAS_REQUIRE_KERAS=1, and the
hypothesis profiles live in tests/conftest.py.)
"""

import contextlib

import pytest

from minikeras import kernels


@contextlib.contextmanager
def kernel_set(name):
    """Run with the "numba" or "numpy" kernels, then put the previous set back."""
    before = kernels.current()
    kernels.use(name)
    try:
        yield
    finally:
        kernels.use(before)


def failure_report(rows, case):
    lines = [f"{len(rows)} comparison(s) out of tolerance:"]
    for row in rows:
        lines.append(
            f"  {row.component}: max abs {row.max_abs:.3e}, max rel {row.max_rel:.3e}, "
            f"tolerance {row.tolerance:.1e} {row.note}"
        )
    lines.append("Reproduce with:")
    lines.append("  from minikeras.parity import Case, run_case")
    lines.append(f"  run_case(Case.from_json({case.to_json()!r}))")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def assert_parity(keras):
    """assert_parity(case, kernels="numba") runs the case's components against Keras and fails
    with the failing rows and the case as a reproducer; returns the rows."""
    from minikeras.parity import run_case

    def run(case, kernels_name=None):
        with kernel_set(kernels_name or kernels.current()):
            rows = run_case(case)
        failed = [row for row in rows if not row.ok]
        assert rows, "no comparison was made"
        assert not failed, failure_report(failed, case)
        return rows

    return run
