"""The hand-written VJPs of the nn ops (convolution, pooling, attention, CTC, unfold/fold)
against central differences, in float64, on every input entry of small shapes.

Tolerance 1e-7, normwise: with ε = 1e-6 the central difference's truncation error is
O(ε²·f''') ≈ 1e-12 and its rounding error ≈ 1.1e-16·|f| / ε ≈ 1e-10 relative; 1e-7 leaves room
for sums of a few dozen terms and still catches any wrong term (an error of one entry's
contribution is ≥ 1e-2 here). Max pooling is differentiable away from ties, which random
normal inputs do not produce.
"""

import numpy as np
import pytest

from minikeras import ops
from minikeras.autodiff import GradientTape, Tensor

EPSILON = 1e-6
MASK = np.array([[True, False, True, True], [True, True, False, True], [False, True, True, True]])

# name, fn(*xs), shapes of xs
CASES = [
    ("conv1d same strided", lambda x, k: ops.conv(x, k, 2, "same"), [(2, 5, 2), (3, 2, 3)]),
    ("conv2d dilated", lambda x, k: ops.conv(x, k, dilation_rate=2), [(1, 5, 5, 2), (2, 2, 2, 2)]),
    ("conv2d groups", lambda x, k: ops.conv(x, k), [(1, 3, 3, 4), (2, 2, 2, 4)]),
    (
        "conv3d channels_first",
        lambda x, k: ops.conv(x, k, data_format="channels_first"),
        [(1, 2, 3, 3, 2), (2, 2, 1, 2, 2)],
    ),
    (
        "conv_transpose2d same",
        lambda x, k: ops.conv_transpose(x, k, 2, "same"),
        [(1, 2, 3, 2), (3, 3, 2, 2)],
    ),
    (
        "depthwise_conv2d",
        lambda x, k: ops.depthwise_conv(x, k, 1, "same"),
        [(1, 4, 3, 2), (2, 2, 2, 2)],
    ),
    (
        "separable_conv1d",
        lambda x, d, p: ops.separable_conv(x, d, p),
        [(2, 5, 2), (3, 2, 2), (1, 4, 3)],
    ),
    ("max_pool2d same", lambda x: ops.max_pool(x, 2, 1, "same"), [(2, 3, 4, 2)]),
    ("max_pool3d", lambda x: ops.max_pool(x, 2), [(1, 2, 4, 4, 1)]),
    ("average_pool1d same", lambda x: ops.average_pool(x, 3, 2, "same"), [(2, 6, 2)]),
    ("adaptive_average_pool2d", lambda x: ops.adaptive_average_pool(x, (2, 3)), [(1, 5, 4, 2)]),
    ("adaptive_max_pool1d", lambda x: ops.adaptive_max_pool(x, 2), [(2, 5, 2)]),
    (
        "dot_product_attention",
        lambda q, k, v, b: ops.dot_product_attention(q, k, v, bias=b, mask=MASK),
        [(2, 3, 2, 3), (2, 4, 1, 3), (2, 4, 1, 3), (3, 4)],
    ),
    (
        "dot_product_attention causal",
        lambda q, k, v: ops.dot_product_attention(q, k, v, is_causal=True, scale=0.7),
        [(1, 3, 2, 2), (1, 3, 2, 2), (1, 3, 2, 2)],
    ),
    (
        "ctc_loss",  # the second label holds the blank class: one more symbol to emit
        lambda z: ops.ctc_loss(
            np.array([[1, 1, 2], [2, 0, 3]]), z, np.array([3, 3]), np.array([6, 4])
        ),
        [(2, 6, 4)],
    ),
    ("unfold", lambda x: ops.unfold(x, 2, padding=1, stride=2), [(1, 2, 3, 4)]),
    ("fold", lambda x: ops.fold(x, (3, 3), 2, stride=1), [(1, 8, 4)]),
    ("depth_to_space", lambda x: ops.depth_to_space(x, 2), [(1, 2, 2, 8)]),
]


def _numeric_gradient(f, xs, i):
    """d f(xs) / d xs[i] by central differences, entry by entry."""
    grad = np.zeros_like(xs[i])
    for index in np.ndindex(xs[i].shape):
        plus, minus = [x.copy() for x in xs], [x.copy() for x in xs]
        plus[i][index] += EPSILON
        minus[i][index] -= EPSILON
        grad[index] = (f(plus) - f(minus)) / (2 * EPSILON)
    return grad


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_vjp_matches_central_differences(name, fn, shapes):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=shape) for shape in shapes]
    cotangent = rng.normal(size=np.shape(fn(*xs)))

    def f(arrays):
        return float(np.sum(fn(*arrays) * cotangent))

    traced = [Tensor(x) for x in xs]
    with GradientTape() as tape:
        for t in traced:
            tape.watch(t)
        loss = ops.sum(ops.multiply(fn(*traced), cotangent))
    grads = tape.gradient(loss, traced)
    for i, grad in enumerate(grads):
        expected = _numeric_gradient(f, xs, i)
        error = np.max(np.abs(grad - expected)) / np.max(np.abs(expected))
        assert error < 1e-7, f"argument {i}: {error:.2e}"


def test_a_wrong_vjp_is_caught():
    """Negative control: the check fails for a gradient off by one entry's contribution."""
    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(1, 4, 2)), rng.normal(size=(2, 2, 2))
    expected = _numeric_gradient(lambda a: float(np.sum(ops.conv(*a))), [x, k], 1)
    wrong = expected.copy()
    wrong[0, 0, 0] += x[0, 0, 0]  # as if one patch entry were counted twice
    assert np.max(np.abs(wrong - expected)) / np.max(np.abs(expected)) > 1e-7
