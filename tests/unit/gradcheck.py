"""Central-difference gradient checks: the reference every hand-written backward is held to.

∂f/∂xᵢ ≈ (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, for every element i, in float64 with ε = 1e-6.
The error of the estimate is about ε²·f''' (truncation) plus 1e-16·|f|/ε (rounding): ~1e-10.
"""

import numpy as np

EPS = 1e-6


def numerical_gradient(f, x, eps=EPS):
    """∂f/∂x for a scalar function f of the float64 array x, one element at a time.

    `x` is perturbed in place and restored, so f may read it through a reference (a layer's
    weight array, say).
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        f_plus = float(f())
        x[index] = saved - eps
        f_minus = float(f())
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def assert_gradient_close(analytic, numeric, rtol=1e-5, atol=1e-7):
    """Analytic and numerical gradients agree elementwise, with a readable failure."""
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)
