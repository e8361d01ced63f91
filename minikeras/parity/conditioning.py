"""How far two correct float32 trainings may drift apart, weight entry by weight entry.

Two correct implementations compute each gradient with different rounding. The gradients
component bounds that difference normwise: |δgᵢ| ≤ τ·‖g‖∞ with τ = FLOAT32_PASS_TOLERANCE. An
optimizer step turns δg into a difference of the update, entry by entry, by its sensitivity
sᵢ = |∂ updateᵢ / ∂gᵢ| (taken over the step and the later steps the slots carry it into):

    SGD        s = lr                momentum μ: lr/(1 − μ) (Nesterov: lr·(1 + μ)/(1 − μ))
    RMSprop    s = lr/√(d + ε)       d = v (centered: v − a²); momentum μ: ×1/(1 − μ)
    Adam       s = α_t/(√v̂ + ε)      α_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); m spreads the noise over
                                     later steps with weights summing to 1

For SGD s·τ·‖g‖∞ is the "1e-6 per step" of `compare.FLOAT32_STEP_TOLERANCE`. RMSprop and Adam
divide by the root mean square of each entry's own gradients: where an entry's gradient cancels
to about ε, that division turns its rounding noise into a step of up to lr. Two correct float32
runs then legitimately differ there by Σₜ sₜ·τ·‖gₜ‖∞, however exact both are. In float64 the
same holds with τ ≈ 1e-13 (float64 gradients agree to ~2e-15 in every case measured): it only
shows after hundreds of steps with a tiny ε. `DriftBound`, a callback given to minikeras's fit,
adds those terms up for every weight entry.
"""

import numpy as np

from minikeras.callbacks import Callback
from minikeras.parity.compare import FLOAT32_PASS_TOLERANCE

# τ, the relative rounding noise of a gradient, per dtype
GRADIENT_NOISE = {"float32": FLOAT32_PASS_TOLERANCE, "float64": 1e-13}


def sensitivity(optimizer, index, weight):
    """s per entry of trainable weight number `index`, at the optimizer's state after a step."""
    name = type(optimizer).__name__
    lr = optimizer.learning_rate
    momentum = float(getattr(optimizer, "momentum", 0.0) or 0.0)
    carry = 1.0 / (1.0 - momentum) if momentum < 1 else float("inf")
    if name == "SGD":
        factor = (1.0 + momentum) if getattr(optimizer, "nesterov", False) else 1.0
        return np.full(weight.shape, lr * factor * carry)
    if name == "RMSprop":
        d = optimizer.slots["velocity"][index].astype(np.float64)
        if optimizer.centered:
            d = d - optimizer.slots["average_gradient"][index].astype(np.float64) ** 2
        return lr * carry / np.sqrt(np.maximum(d, 0.0) + optimizer.epsilon)
    if name == "Adam":
        t = optimizer.iterations
        alpha = lr * np.sqrt(1 - optimizer.beta_2**t) / (1 - optimizer.beta_1**t)
        slot = "velocity_hat" if optimizer.amsgrad else "velocity"
        v = optimizer.slots[slot][index].astype(np.float64)
        return alpha / (np.sqrt(v) + optimizer.epsilon)
    raise ValueError(f"no sensitivity known for the optimizer {name}")


class DriftBound(Callback):
    """During minikeras's fit, accumulate Σₜ sₜ·τ·‖gₜ‖∞ for every trainable weight entry."""

    def __init__(self, dtype):
        super().__init__()
        self.tau = GRADIENT_NOISE[np.dtype(dtype).name]
        self.bounds = None

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        weights = model.trainable_weights
        if self.bounds is None:
            self.bounds = [np.zeros(w.shape) for w in weights]
        for i, (w, g) in enumerate(zip(weights, model.grads)):
            noise = self.tau * float(np.max(np.abs(g))) if g.size else 0.0
            self.bounds[i] += sensitivity(model.optimizer, i, w) * noise


# ----------------------------------------------------------------------------- chaotic training
# Training is an iterated map. When it expands (a high learning rate on a deep linear network,
# say), a difference of one rounding grows by a constant factor per step: two correct runs that
# round differently drift apart exponentially, in float64 too (seen: 1e-16 → 3e-10 over 108
# steps, ×60 per epoch). How fast is a property of the case, and it can be measured: a *shadow*
# minikeras run, started from weights one rounding away (w·(1 ± ε_machine)), drifts away from
# minikeras's own run at that rate. A fit component's tolerance is therefore the larger of its
# fixed tolerance and SHADOW_FACTOR × the shadow's normwise divergence. The factor covers rounding
# entering at every step (and from two implementations) where the shadow is perturbed once; a
# formula difference larger than rounding still shows, amplified by the same map.
SHADOW_FACTOR = 10.0


def shadow_model(case):
    """The case's minikeras model, compiled, with every weight moved by one rounding (±ε·|w|)."""
    from minikeras.parity.cases import build

    model, _ = build(case)
    rng = np.random.default_rng(case.seed + 2)
    eps = np.finfo(np.dtype(case.dtype)).eps
    model.set_weights(
        [w * (1 + eps * rng.choice([-1.0, 1.0], size=w.shape)) for w in model.get_weights()]
    )
    return model


def shadow_tolerance(tol, ours, shadow):
    """(tolerance, note): `tol`, or SHADOW_FACTOR × the shadow run's relative divergence from
    ours when that is larger (with a note saying so)."""
    from minikeras.parity.compare import differences

    if shadow is None:
        return tol, ""
    _, divergence = differences(ours, shadow)
    if SHADOW_FACTOR * divergence > tol:
        return SHADOW_FACTOR * divergence, (
            f"chaotic training: a run started one rounding away diverges by {divergence:.1e}"
        )
    return tol, ""


# ----------------------------------------------------------------------------- accuracy flips
# Accuracy is a count: a sample whose two best classes (or whose probability and 0.5) are closer
# than the two frameworks' outputs differ can be counted right by one and wrong by the other.
# Saturated outputs make exact ties in one framework (tanh, sigmoid rounding to 1.0 in float32)
# that the other may not have. Such flips are excused, and only they: a sample counts when its
# decisions differ and both margins are within max(δ, 2·|ŷ_minikeras − ŷ_Keras|) of the boundary,
# δ = tol·max|ŷ| being what the outputs' tolerance allows.
# Equal outputs tied in both frameworks must still be broken the same way (the first class wins).


def accuracy_kind(model):
    """'binary', 'categorical' (sparse too) or None: how the model's accuracy metric decides."""
    for metric in model.metrics:
        kind = type(metric).__name__
        if kind == "BinaryAccuracy":
            return "binary"
        if kind in ("CategoricalAccuracy", "SparseCategoricalAccuracy"):
            return "categorical"
    return None


def _decisions(kind, y_pred):
    """(decision, margin) per decision: per unit for binary accuracy, per sample otherwise."""
    if kind == "binary":
        return y_pred > 0.5, np.abs(y_pred - 0.5)
    if y_pred.shape[-1] == 1:
        return np.zeros(y_pred.shape[:-1], dtype=np.int64), np.full(y_pred.shape[:-1], np.inf)
    top_two = np.sort(y_pred, axis=-1)[..., -2:]
    return np.argmax(y_pred, axis=-1), top_two[..., 1] - top_two[..., 0]


def excused_flips(kind, ours, theirs, tol):
    """How many samples' accuracy may differ (fractions for binary accuracy over several
    units) because their outputs sit within rounding of a decision boundary."""
    ours = np.asarray(ours, np.float64)
    theirs = np.asarray(theirs, np.float64)
    if ours.size == 0:
        return 0.0
    delta = tol * max(float(np.max(np.abs(ours))), float(np.max(np.abs(theirs))))
    d_ours, m_ours = _decisions(kind, ours)
    d_theirs, m_theirs = _decisions(kind, theirs)
    radius = np.max(np.abs(ours - theirs), axis=-1)
    if kind == "binary":
        radius = radius[..., None]
    radius = np.maximum(delta, 2 * radius)
    excused = (d_ours != d_theirs) & (m_ours <= radius) & (m_theirs <= radius)
    if kind == "binary":
        return float(np.sum(np.mean(excused, axis=-1)))
    return float(np.sum(excused))


class FitObserver(DriftBound):
    """DriftBound, plus the model's outputs on every training batch (before its update, as the
    metrics see them) and on the validation data at each epoch's end, for `excused_flips`."""

    def __init__(self, dtype, x, batch_size, val_x=None):
        super().__init__(dtype)
        self.x, self.batch_size, self.val_x = x, batch_size, val_x
        self.train_outputs, self.val_outputs = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.train_outputs.append([])

    def on_train_batch_begin(self, batch, logs=None):
        start = batch * self.batch_size
        xb = self.x[start : start + self.batch_size]
        self.train_outputs[-1].append(np.array(self.model.predict_on_batch(xb)))

    def on_epoch_end(self, epoch, logs=None):
        if self.val_x is not None:
            self.val_outputs.append(np.array(self.model.predict_on_batch(self.val_x)))


def keras_fit_observer(keras, x, batch_size, val_x=None):
    """The same recording of outputs, as a Keras callback for the twin's fit."""

    class KerasFitObserver(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train_outputs, self.val_outputs = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.train_outputs.append([])

        def on_train_batch_begin(self, batch, logs=None):
            start = batch * batch_size
            xb = x[start : start + batch_size]
            self.train_outputs[-1].append(np.array(self.model.predict_on_batch(xb)))

        def on_epoch_end(self, epoch, logs=None):
            if val_x is not None:
                self.val_outputs.append(np.array(self.model.predict_on_batch(val_x)))

    return KerasFitObserver()


def history_allowances(kind, ours, theirs, tol):
    """{'accuracy': per-epoch allowance, 'val_accuracy': ...}: excused flips over samples seen."""
    out = {}
    epochs = len(ours.train_outputs)
    out["accuracy"] = np.array(
        [
            sum(excused_flips(kind, a, b, tol) for a, b in zip(oe, te))
            / max(sum(len(a) for a in oe), 1)
            for oe, te in zip(ours.train_outputs, theirs.train_outputs)
        ]
    )[:epochs]
    if ours.val_outputs:
        out["val_accuracy"] = np.array(
            [
                excused_flips(kind, a, b, tol) / max(len(a), 1)
                for a, b in zip(ours.val_outputs, theirs.val_outputs)
            ]
        )
    return out
