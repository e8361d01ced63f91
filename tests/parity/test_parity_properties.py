"""minikeras against real Keras on random models, losses, optimizers and data (hypothesis).

Each example is a `minikeras.parity.Case` drawn by `strategies.parity_cases`: depth 1–4, 1–64 units,
every activation, each loss with an output activation it accepts (and from_logits, label
smoothing), each optimizer with random hyper-parameters (momentum, Nesterov, centered, amsgrad,
ε, clipping, weight decay, learning rates from 1e-4 to 0.1), 1–200 samples in batches that
usually leave a ragged last one, 1–3 epochs, validation split or data, sample weights, |x| ≤ 1 or
≤ 10. Both frameworks get the same weights; the comparisons are those of `python -m minikeras
parity` (minikeras/parity/checks.py). A failure prints the case as a reproducer.

How close is "equal"? A component (one layer's output, one weight's gradient, a loss, a weight
after training) is compared normwise, rel = max|a − b| / max(‖a‖∞, ‖b‖∞), so entries that cancel
to ~0 do not turn rounding noise into large ratios while a wrong formula, which moves the large
entries too, still shows.

float64, rel ≤ 1e-10. Both sides round at 2⁻⁵³ ≈ 1.1e-16; a forward and backward pass through
≤ 4 layers of ≤ 64-term sums loses at most a few hundred ulps in the worst case (measured: 1e-14).
1e-10 leaves four orders of magnitude and still catches any formula difference (a slope rounded
to float32 differs by 1.5e-8, a different β by far more).

float32, derivation. u = 2⁻²⁴ ≈ 6e-8 is one rounding. A dot product of n terms computed in two
different orders differs by about √n·u·Σ|terms| (independent roundings add like a random walk;
n·u is the never-reached worst case): n ≤ 64 here (784 in the tutorial case) gives ≤ 5e-7 (1.7e-6)
per layer relative to the terms, the activations and the loss (exp, log, erf, tanh) add a few u
each, and the two frameworks err independently (×2). Four layers forward and back: ≲ 5e-6, so
1e-5 bounds one pass (forward, loss, gradients). One training step moves a weight by lr·g
(lr ≤ 0.1 here) computed from gradients that agree within 1e-5 normwise, plus one rounding of the
update: the weights gain ≤ 1e-6 of difference per step, hence 1e-5 + k·1e-6 after k steps — as
long as the optimizer's step depends smoothly on the gradient. Two exceptions follow from the same
reasoning, entry by entry, and are bounded rather than ignored (minikeras/parity/conditioning.py):
- RMSprop and Adam divide each entry's step by the root mean square of its own gradients; where a
  gradient entry cancels to ~ε, its float32 noise (up to 1e-5·‖g‖∞) becomes a step of up to lr.
  Each weight entry may differ by Σₜ sₜ·1e-5·‖gₜ‖∞, sₜ = |∂step/∂g| at that step (for SGD that
  is lr·1e-5·‖g‖∞: the 1e-6 per step above). Such entries barely move the loss (their gradient is
  ~0), so History losses keep the plain bound; evaluate/predict after fit run on Keras's weights.
- accuracy is a count: a sample whose outputs are within rounding of the decision boundary
  (saturated sigmoid/tanh outputs tie exactly at 1.0 in one framework, not in the other) may be
  counted differently; only such samples are excused, never ties both frameworks see.
Keras against itself in float32 (TF_ENABLE_ONEDNN_OPTS=1 vs 0, the tutorial model) differs by
1e-7 to 4e-7 (predictions 3.8e-7, gradients 3.6e-7, weights after two epochs 3.2e-7): minikeras
against Keras stays at that level (worst 1.2e-6 over the named cases), the bounds above it.
"""

import os

import hypothesis.strategies as st
import numpy as np
import pytest
import strategies
from hypothesis import given, note, settings

DTYPES = ["float64", "float32"]
KERNEL_SETS = ["numba", "numpy"]


def examples(ci):
    """`ci` examples under the default profile, ten times as many under HYPOTHESIS_PROFILE=thorough
    (profiles: tests/conftest.py)."""
    thorough = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "thorough"
    return settings(max_examples=ci * 10 if thorough else ci)


@pytest.mark.parametrize("kernels_name", KERNEL_SETS)
@pytest.mark.parametrize("dtype", DTYPES)
@examples(6)
@given(data=st.data())
def test_forward_loss_and_gradients(assert_parity, dtype, kernels_name, data):
    """Each layer's output, predict, the losses on arrays (clipped, from logits, smoothed) and
    their gradients, the loss as fit computes it and dL/dw for every weight."""
    case = data.draw(strategies.parity_cases(dtype, ("forward", "loss", "gradients")))
    note(case.to_json())
    rows = assert_parity(case, kernels_name)
    n_weights = sum(1 + layer.get("use_bias", True) for layer in case.layers)
    assert sum(row.component.startswith("gradient ") for row in rows) == n_weights


@pytest.mark.parametrize("kernels_name", KERNEL_SETS)
@pytest.mark.parametrize("dtype", DTYPES)
@examples(6)
@given(data=st.data())
def test_optimizer_steps(assert_parity, dtype, kernels_name, data):
    """One step and k steps on the same gradients: weights, every slot in Keras's order, the
    iteration counter and the learning-rate variable."""
    case = data.draw(strategies.parity_cases(dtype, ("optimizer",), max_samples=8))
    note(case.to_json())
    rows = assert_parity(case, kernels_name)
    assert any(row.component == "iterations" for row in rows)


@pytest.mark.parametrize("dtype", DTYPES)
@examples(10)
@given(data=st.data())
def test_whole_fit(assert_parity, dtype, data):
    """fit(shuffle=False) from the same weights: History (val_* too), weights, iterations, then
    evaluate and predict. The kernel set is drawn too."""
    case = data.draw(strategies.parity_cases(dtype, ("fit",), max_samples=120))
    kernels_name = data.draw(st.sampled_from(KERNEL_SETS))
    note(f"kernels={kernels_name} {case.to_json()}")
    rows = assert_parity(case, kernels_name)
    history = [row.component for row in rows if row.component.startswith("History ")]
    history.remove("History keys")  # the row saying both have the same keys
    expected = {"History loss", f"History {case.metrics[0]}"}
    if case.validation_split or case.validation_n:
        expected |= {"History val_loss", f"History val_{case.metrics[0]}"}
    assert set(history) == expected, history


def test_the_checks_can_fail(keras, monkeypatch):
    """A negative control: a backward wrong by one part in a million is caught in float64, in
    the rows of the weights it reaches and only there."""
    from minikeras import activations, kernels
    from minikeras.parity import Case, run_case

    case = Case(
        name="control",
        input_dim=3,
        layers=[{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "softmax"}],
        loss="categorical_crossentropy",
        optimizer="sgd",
        n=8,
        batch_size=8,
        dtype="float64",
        components=("gradients",),
    )
    assert all(row.ok for row in run_case(case))
    with monkeypatch.context() as patch:
        # tanh's derivative 1 − y², off by 1e-6; not fused, so the layer takes it from the table
        patch.setattr(kernels, "FUSED_ACTIVATIONS", ("linear", "relu", "sigmoid", "softmax"))
        wrong = lambda x, y, dy: dy * (1 - y * y) * (1 + 1e-6)  # noqa: E731
        patch.setitem(activations._BACKWARD, activations.tanh, wrong)
        failed = [row for row in run_case(case) if not row.ok]
    assert [row.component for row in failed] == ["gradient dense/kernel", "gradient dense/bias"]
    assert all(1e-8 < row.max_rel < 1e-5 for row in failed)


def _exact_crossentropy(loss, z, y):
    """Per-sample crossentropy from the logits z, in float64, written independently of
    minikeras: logsumexp(z) − z_y (softmax), or meanⱼ max(z, 0) − z·y + log(1 + e^−|z|)."""
    z = z.astype(np.float64)
    if loss == "binary_crossentropy":
        return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)
    m = z.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))[:, 0]
    labels = y.astype(np.int64) if loss.startswith("sparse") else np.argmax(y, axis=-1)
    return lse - z[np.arange(len(z)), labels]


@pytest.mark.parametrize(
    "loss, output, units",
    [
        ("categorical_crossentropy", "softmax", 3),
        ("sparse_categorical_crossentropy", "softmax", 4),
        ("binary_crossentropy", "sigmoid", 2),
    ],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_outputs(assert_parity, dtype, loss, output, units):
    """Saturated outputs (|x| ≤ 50): probabilities round to 0 and 1, yet Keras's fit computes
    the crossentropy from the logits, exactly (KERAS-FACTS: 100.0 where the clipped probabilities
    give 16.118). minikeras agrees with Keras, and with the exact value from the logits."""
    from minikeras.parity import Case, keras_env
    from minikeras.parity.cases import build

    case = Case(
        name=f"saturated {output}",
        input_dim=4,
        layers=[{"units": units, "activation": output}],
        loss=loss,
        optimizer="sgd",
        n=16,
        batch_size=16,
        x_scale=50.0,
        dtype=dtype,
    )
    rows = assert_parity(case)
    assert all(np.isfinite(row.max_abs) for row in rows)
    with keras_env.floatx(dtype):
        model, data = build(case)
        x, y = data["x"], data["y"]
        fit_loss = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)["loss"]
        model.predict(x, verbose=0)
        exact = _exact_crossentropy(loss, model.layers[-1].logits, y)
    assert exact.max() > 17.0  # beyond what clipped probabilities can give: truly saturated
    tol = 1e-10 if dtype == "float64" else 1e-5
    assert abs(fit_loss - exact.mean()) <= tol * exact.mean()
