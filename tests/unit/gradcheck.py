"""Central-difference gradient checks: the reference every hand-written backward is held to.

∂f/∂xᵢ ≈ (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, for every element i, in float64 with ε = 1e-6.
The error of the estimate is about ε²·f''' (truncation) plus 1e-16·|f|/ε (rounding): ~1e-10.
"""

import numpy as np

# one central-difference helper, minikeras.testing's (check_gradients uses it too)
from minikeras.testing import EPSILON as EPS  # noqa: F401 - the tests' ε
from minikeras.testing import numerical_gradient as numerical_gradient


def assert_gradient_close(analytic, numeric, rtol=1e-5, atol=1e-7):
    """Analytic and numerical gradients agree elementwise, with a readable failure."""
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)
