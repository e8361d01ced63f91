"""Optimizers: Keras's golden values, and each update rule against its formula written out by hand.

The golden values are data from Keras 3's own tests (keras/src/optimizers/sgd_test.py,
rmsprop_test.py, adam_test.py): one step with lr = 0.5 from w = [1, 2, 3, 4] with g = [1, 6, 7, 2],
and the trajectories of `test_correctness_with_golden`. Both kernel sets are checked.
"""

import numpy as np
import pytest

from minikeras import optimizers
from minikeras.optimizers import SGD, Adam, RMSprop

W0 = [1.0, 2.0, 3.0, 4.0]
G0 = [1.0, 6.0, 7.0, 2.0]


def one_step(optimizer, w=W0, g=G0, dtype="float32"):
    w = np.array(w, dtype=dtype)
    optimizer.apply([np.array(g, dtype=dtype)], [w])
    return w


# ------------------------------------------------------------------ golden values
@pytest.mark.parametrize(
    "cls, expected",
    [
        (SGD, [0.5, -1.0, -0.5, 3.0]),
        (RMSprop, [-0.5811, 0.4189, 1.4189, 2.4189]),
        (Adam, [0.5, 1.5, 2.5, 3.5]),
    ],
    ids=["sgd", "rmsprop", "adam"],
)
def test_single_step_golden_values(kernel_set, cls, expected):
    optimizer = cls(learning_rate=0.5)
    w = one_step(optimizer)
    np.testing.assert_allclose(w, expected, rtol=1e-4, atol=1e-4)  # Keras's tolerance
    assert w.dtype == np.float32
    assert optimizer.iterations == 1


# test_correctness_with_golden: one step with g = 0.01 everywhere, then g = 0.1, 0.2, ..., 1.0;
# the weights (all ten equal for RMSprop and Adam) after each step.
GOLDEN_TRAJECTORIES = {
    "rmsprop_centered": (
        lambda: RMSprop(centered=True),
        np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10)),
    ),
    "adam_amsgrad": (
        lambda: Adam(amsgrad=True),
        np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10)),
    ),
    "sgd_nesterov": (
        lambda: SGD(nesterov=True),
        np.array(
            [
                [0.9999] * 10,
                [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
                [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
                [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
                [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
            ]
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_TRAJECTORIES))
def test_golden_trajectories(kernel_set, name):
    make, golden = GOLDEN_TRAJECTORIES[name]
    optimizer = make()
    x = np.ones(10, dtype="float32")
    grads = np.arange(0.1, 1.1, 0.1).astype("float32")
    optimizer.apply([np.full(10, 0.01, dtype="float32")], [x])
    for expected in golden:
        np.testing.assert_allclose(x, expected, rtol=5e-4, atol=5e-4)  # Keras's tolerance
        optimizer.apply([grads], [x])


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
def test_weight_decay_golden_value(kernel_set, cls):
    # test_weight_decay: w ← w − w·wd·lr with a zero gradient, applied by three optimizers
    w = np.array(2.0, dtype="float32")
    for _ in range(3):
        cls(learning_rate=1.0, weight_decay=0.004).apply([np.zeros((), "float32")], [w])
    assert float(w) == pytest.approx(1.9760959, abs=1e-6)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam])
def test_clipping_golden_values(cls):
    # test_clip_norm / test_clip_value
    clipped = cls(clipnorm=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2**0.5 / 2, 2**0.5 / 2])
    clipped = cls(clipvalue=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [1.0, 1.0])


def test_global_clipnorm_scales_all_gradients_together():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]  # global norm 5
    clipped = SGD(global_clipnorm=1.0)._clip_gradients(grads)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0])
    np.testing.assert_allclose(clipped[1], [[0.8]])
    unchanged = SGD(global_clipnorm=10.0)._clip_gradients(grads)
    np.testing.assert_allclose(unchanged[0], grads[0])


# ------------------------------------------------------------------ the rules, written out
RNG = np.random.default_rng(7)
W_START = RNG.normal(size=(3, 4))
GRADS = [RNG.normal(size=(3, 4)) for _ in range(4)]


RULE_RTOL, RULE_ATOL = 1e-9, 1e-12


def f32(value):
    """A Python float as Keras uses it after `ops.cast(value, dtype)`: rounded to float32 first,
    even for float64 weights (SGD casts μ, Adam casts β₁, β₂ for βᵗ: `update_step` in
    keras/src/optimizers/sgd.py, adam.py). The learning rate is a floatx variable: exact here."""
    return float(np.float32(value))


def run(optimizer, dtype="float64"):
    w = W_START.astype(dtype)
    for g in GRADS:
        optimizer.apply([g.astype(dtype)], [w])
    return w


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_rule(kernel_set, momentum, nesterov, float64):
    lr, mu = 0.1, f32(momentum)
    w, m = W_START.copy(), np.zeros_like(W_START)
    for g in GRADS:
        if momentum == 0:
            w = w - lr * g
            continue
        m = mu * m - lr * g
        w = w + (mu * m - lr * g if nesterov else m)
    got = run(SGD(learning_rate=0.1, momentum=momentum, nesterov=nesterov))
    np.testing.assert_allclose(got, w, rtol=RULE_RTOL, atol=RULE_ATOL)


@pytest.mark.parametrize(
    "momentum, centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)]
)
def test_rmsprop_rule(kernel_set, momentum, centered, float64):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, v, m, a = W_START.copy(), *(np.zeros_like(W_START) for _ in range(3))
    for g in GRADS:
        v = rho * v + (1 - rho) * g**2
        denominator = v
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a**2
        increment = lr * g / np.sqrt(denominator + eps)  # ε inside the square root, as Keras
        if momentum:
            m = momentum * m + increment
            w = w - m
        else:
            w = w - increment
    got = run(RMSprop(learning_rate=0.01, momentum=momentum, centered=centered))
    np.testing.assert_allclose(got, w, rtol=RULE_RTOL, atol=RULE_ATOL)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_rule(kernel_set, amsgrad, float64):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, vhat = W_START.copy(), *(np.zeros_like(W_START) for _ in range(3))
    for t, g in enumerate(GRADS, start=1):
        alpha = lr * np.sqrt(1 - f32(b2) ** t) / (1 - f32(b1) ** t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vhat = np.maximum(vhat, v)
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + eps)  # ε outside the root
    got = run(Adam(learning_rate=0.01, amsgrad=amsgrad))
    np.testing.assert_allclose(got, w, rtol=RULE_RTOL, atol=RULE_ATOL)


@pytest.mark.parametrize("make", [lambda: SGD(momentum=0.9), RMSprop, Adam])
def test_float32_update_stays_float32_and_close_to_float64(kernel_set, make):
    w32 = run(make(), dtype="float32")
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, run(make()), rtol=1e-5, atol=1e-6)


def test_several_weights_are_updated_independently():
    w1, w2 = np.ones(3, "float32"), np.ones((2, 2), "float32")
    optimizer = Adam(learning_rate=0.1)
    optimizer.apply([np.ones(3, "float32"), np.zeros((2, 2), "float32")], [w1, w2])
    np.testing.assert_allclose(w1, 0.9, rtol=1e-5)  # Adam's first step moves by lr·sign(g)
    np.testing.assert_array_equal(w2, 1.0)


# ------------------------------------------------------------------ state, names and config
def test_defaults_match_keras():
    assert SGD().get_config()["learning_rate"] == pytest.approx(0.01)
    rms = RMSprop().get_config()
    assert (rms["learning_rate"], rms["rho"], rms["momentum"], rms["epsilon"]) == pytest.approx(
        (0.001, 0.9, 0.0, 1e-7)
    )
    assert rms["centered"] is False
    adam = Adam().get_config()
    assert (adam["beta_1"], adam["beta_2"], adam["epsilon"]) == pytest.approx((0.9, 0.999, 1e-7))
    assert adam["amsgrad"] is False


def test_learning_rate_is_stored_as_float32():
    # Keras keeps the learning rate in a float32 variable: 0.01 reads back as 0.009999999776...
    assert SGD(learning_rate=0.01).learning_rate == float(np.float32(0.01))


def test_variables_in_keras_order():
    # sgd_test.test_single_step: a plain SGD has 2 variables (iterations, learning rate)
    sgd = SGD(learning_rate=0.5)
    w = np.array(W0, "float32")
    sgd.apply([np.array(G0, "float32")], [w])
    assert len(sgd.variables) == 2
    assert sgd.variables[0] == 1 and sgd.variables[1] == 0.5
    rms = RMSprop()
    rms.apply([np.ones(2, "float32"), np.ones(3, "float32")], [np.ones(2, "float32"), np.ones(3)])
    assert [v.shape for v in rms.variables[2:]] == [(2,), (3,)]  # one velocity per weight


def test_iterations_count_updates():
    optimizer = RMSprop()
    w = np.ones(2, "float32")
    for _ in range(3):
        optimizer.apply([np.ones(2, "float32")], [w])
    assert optimizer.iterations == 3


@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("rmsprop", RMSprop), ("adam", Adam)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls
    assert type(optimizers.get(cls.__name__)) is cls
    instance = cls()
    assert optimizers.get(instance) is instance


def test_unknown_optimizer_names_the_valid_ones():
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: rmsprob") as e:
        optimizers.get("rmsprob")
    assert "rmsprop" in str(e.value).replace("rmsprob", "")


def test_invalid_momentum_message():
    # sgd_test.test_invalid_momentum
    for momentum in (-1.0, 2.0):
        with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]."):
            SGD(momentum=momentum)


def test_negative_learning_rate_is_rejected():
    with pytest.raises(ValueError, match="learning_rate"):
        Adam(learning_rate=-0.1)


def test_config_round_trip():
    # rmsprop_test.test_config / adam_test.test_config arguments
    for optimizer in (
        RMSprop(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
        Adam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
        SGD(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
    ):
        again = optimizers.get(optimizers.serialize(optimizer))
        assert type(again) is type(optimizer)
        assert again.get_config() == optimizer.get_config()


def test_mismatched_gradient_count_is_rejected_before_any_change():
    w = np.ones(2, "float32")
    optimizer = SGD()
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        optimizer.apply([np.ones(2, "float32"), np.ones(2, "float32")], [w])
    np.testing.assert_array_equal(w, 1.0)
    assert optimizer.iterations == 0
