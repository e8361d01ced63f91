"""Comparing two arrays: the differences reported and the tolerances they are held to.

The relative difference of a component (one weight's gradient, one layer's output, a loss) is
normwise:

    rel = max|a − b| / max(‖a‖∞, ‖b‖∞)

that is, the largest difference measured against the largest magnitude in the component. An
entry that cancels to nearly 0 (a gradient summed over a batch, an output close to 0) then does
not turn rounding noise into a huge ratio, while any real error in the formulas, which moves the
big entries too, still shows. Components that are 0 on both sides have rel = 0.
"""

import dataclasses

import numpy as np

# Tolerances on rel (see `tolerance`). float64: both frameworks round at 2⁻⁵³ ≈ 1.1e-16; what is
# left after a forward pass, a backward pass and a few updates is < 1e-13 in practice.
FLOAT64_TOLERANCE = 1e-10
# float32 rounds at u = 2⁻²⁴ ≈ 6e-8. A single pass (forward, loss or gradients) through at most
# 4 layers whose dot products have up to 784 terms accumulates about √784·u ≈ 1.7e-6 per product
# in practice (random rounding errors add like a random walk), and the two frameworks round
# independently (×2): 1e-5 bounds one pass with room for exp/log/erf and the softmax.
FLOAT32_PASS_TOLERANCE = 1e-5
# Each training step adds at most one pass's error to the weights, scaled by the learning rate
# (which is ≤ 0.1 here), plus the rounding of the update itself (a few u ≈ 2e-7): about 1e-6
# per step, so after k steps the weights, optimizer slots and History agree within
# 1e-5 + k·1e-6.
FLOAT32_STEP_TOLERANCE = 1e-6


def tolerance(dtype: str, steps: int = 0) -> float:
    """The tolerance on the normwise relative difference for a component computed in `dtype`
    after `steps` training steps (0 for a single forward/loss/gradient pass)."""
    if np.dtype(dtype) == np.float64:
        return FLOAT64_TOLERANCE
    return FLOAT32_PASS_TOLERANCE + steps * FLOAT32_STEP_TOLERANCE


@dataclasses.dataclass
class Row:
    """One line of the parity report."""

    case: str
    component: str
    max_abs: float
    max_rel: float
    tolerance: float
    ok: bool
    note: str = ""
    seconds: float = 0.0  # time spent on this row's component, shared among its rows


def differences(ours, theirs) -> tuple:
    """(max |a − b|, normwise relative difference); NaN or inf in the same places count as equal,
    in different places as an infinite difference."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: minikeras {a.shape}, Keras {b.shape}")
    if a.size == 0:
        return 0.0, 0.0
    same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    special = ~np.isfinite(a) | ~np.isfinite(b)
    if np.any(special & ~same_special):
        return float("inf"), float("inf")
    finite = ~special
    if not np.any(finite):
        return 0.0, 0.0
    a, b = a[finite], b[finite]
    max_abs = float(np.max(np.abs(a - b)))
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return max_abs, (max_abs / scale if scale > 0 else 0.0)


def compare(case, component, ours, theirs, tol, note="") -> Row:
    """A report row for minikeras's `ours` against Keras's `theirs`."""
    try:
        max_abs, max_rel = differences(ours, theirs)
    except ValueError as error:
        return Row(case, component, float("inf"), float("inf"), tol, False, str(error))
    return Row(case, component, max_abs, max_rel, tol, bool(max_rel <= tol), note)


def compare_within(case, component, ours, theirs, tol, allowance, note="") -> Row:
    """Like `compare`, with an extra absolute allowance per entry (an array shaped like the
    values): each |a − b| must be ≤ tol·max(‖a‖∞, ‖b‖∞) + allowance. The tolerance shown is the
    loosest entry's, as a relative figure."""
    try:
        max_abs, max_rel = differences(ours, theirs)
    except ValueError as error:
        return Row(case, component, float("inf"), float("inf"), tol, False, str(error))
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    allowed = tol * scale + np.asarray(allowance, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = bool(np.all(np.abs(a - b) <= allowed) or max_rel <= tol)
    shown = float(np.max(allowed, initial=0.0)) / scale if scale > 0 else tol
    return Row(case, component, max_abs, max_rel, max(shown, tol), ok, note)


def check(case, component, ok, note="") -> Row:
    """A row for a yes/no comparison (the same History keys, the same slot order...)."""
    return Row(case, component, 0.0 if ok else 1.0, 0.0 if ok else 1.0, 0.0, bool(ok), note)
