"""Bad input gets a clear error naming what was expected and what was given, and nothing changes:
not a weight, not the optimizer's state. Unusual but valid input trains exactly like a contiguous
float32 array. NaN data gives a NaN loss that TerminateOnNaN catches."""

import warnings

import numpy as np
import pytest

from minikeras import Sequential, callbacks, optimizers
from minikeras.layers import Dense, Input
from minikeras.utils import set_random_seed, to_categorical

N, FEATURES, CLASSES = 40, 6, 4


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((N, FEATURES)).astype("float32")
    return x, to_categorical(rng.integers(CLASSES, size=(N, 1)), CLASSES)


def make_model(compiled=True):
    set_random_seed(1)
    model = Sequential([Input(shape=(FEATURES,)), Dense(8, "relu"), Dense(CLASSES, "softmax")])
    if compiled:
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def trained():
    """A compiled model one step into training (so the optimizer has state to protect)."""
    x, y = make_data()
    model = make_model()
    model.train_on_batch(x, y)
    return model


def snapshot(model):
    optimizer = model.optimizer
    state = None
    if optimizer is not None:
        slots = [a.copy() for arrays in optimizer.slots.values() for a in arrays]
        state = (optimizer, optimizer.iterations, slots, optimizer.learning_rate)
    return model.get_weights(), state, model.loss


def assert_unchanged(model, before):
    weights, state, loss = before
    for old, new in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert model.loss is loss
    if state is not None:
        optimizer, iterations, slots, learning_rate = state
        assert model.optimizer is optimizer
        assert optimizer.iterations == iterations
        assert optimizer.learning_rate == learning_rate
        now = [a for arrays in optimizer.slots.values() for a in arrays]
        assert len(now) == len(slots)
        for old, new in zip(slots, now):
            np.testing.assert_array_equal(old, new)


def check_rejected(model, call, error, *fragments):
    """`call()` raises `error` whose message holds every fragment; the model is unchanged."""
    before = snapshot(model)
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert_unchanged(model, before)
    return message


# ------------------------------------------------------------------ before compile
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_before_compile(method):
    model = make_model(compiled=False)
    x, y = make_data()
    call = getattr(model, method)
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    check_rejected(
        model,
        lambda: call(x, y, **kwargs),
        ValueError,
        "You must call `compile()` before using the model.",
    )


# ------------------------------------------------------------------ shapes of x and y
X, Y = make_data()
BAD_SHAPES = {
    "wrong feature count": (
        lambda m: m.fit(X[:, :-1], Y, verbose=0),
        ValueError,
        ["expected axis -1 of input shape to have value 6", "(40, 5)"],
    ),
    "labels too narrow": (
        lambda m: m.fit(X, Y[:, :-1], verbose=0),
        ValueError,
        ["target.shape=(40, 3)", "output.shape=(None, 4)"],
    ),
    "labels of rank 1 for categorical": (
        lambda m: m.fit(X, np.argmax(Y, axis=1), verbose=0),
        ValueError,
        ["(40,)", "(None, 4)", "to_categorical"],
    ),
    "labels of rank 3": (
        lambda m: m.fit(X, Y[:, :, None], verbose=0),
        ValueError,
        ["(40, 4, 1)", "(None, 4)"],
    ),
    "x and y of different lengths": (
        lambda m: m.fit(X, Y[:30], verbose=0),
        ValueError,
        ["Data cardinality is ambiguous", "'x' sizes: 40", "'y' sizes: 30"],
    ),
    "evaluate with different lengths": (
        lambda m: m.evaluate(X[:10], Y, verbose=0),
        ValueError,
        ["Data cardinality is ambiguous", "10", "40"],
    ),
    "empty x and y": (
        lambda m: m.fit(X[:0], Y[:0], verbose=0),
        ValueError,
        ["empty", "(0, 6)"],
    ),
    "strings as x": (
        lambda m: m.fit(np.full((N, FEATURES), "a"), Y, verbose=0),
        TypeError,
        ["numbers", "<U1"],
    ),
    "strings as y": (
        lambda m: m.fit(X, np.full((N, CLASSES), "b"), verbose=0),
        TypeError,
        ["numbers", "<U1"],
    ),
    "ragged nested lists": (
        lambda m: m.fit([[1.0, 2.0], [3.0]], Y[:2], verbose=0),
        (TypeError, ValueError),
        ["x"],
    ),
    "x is None": (lambda m: m.fit(None, Y, verbose=0), ValueError, ["`x`", "None"]),
    "y is None": (lambda m: m.fit(X, None, verbose=0), ValueError, ["`y`", "None"]),
    "y is None with validation_split": (
        lambda m: m.fit(X, None, validation_split=0.2, verbose=0),
        ValueError,
        ["`y`", "None"],
    ),
    "validation labels are None": (
        lambda m: m.fit(X, Y, validation_data=(X, None), verbose=0),
        ValueError,
        ["y_val", "None"],
    ),
    "predict on one unbatched sample": (
        lambda m: m.predict(X[0], verbose=0),
        ValueError,
        ["(6,)", "(None, 6)", "batch"],
    ),
    "train_on_batch with wrong features": (
        lambda m: m.train_on_batch(X[:, :3], Y),
        ValueError,
        ["expected axis -1 of input shape to have value 6", "(40, 3)"],
    ),
    "validation data with wrong features": (
        lambda m: m.fit(X, Y, validation_data=(X[:, :2], Y), verbose=0),
        ValueError,
        ["value 6", "(40, 2)"],
    ),
    "validation data not a pair": (
        lambda m: m.fit(X, Y, validation_data=X, verbose=0),
        ValueError,
        ["validation_data", "tuple"],
    ),
    "sample weights of the wrong length": (
        lambda m: m.fit(X, Y, sample_weight=np.ones(7), verbose=0),
        ValueError,
        ["sample_weight", "(40,)", "(7,)"],
    ),
    "class weight missing a class": (
        lambda m: m.fit(X, Y, class_weight={0: 1.0, 1: 1.0}, verbose=0),
        ValueError,
        ["class_weight", "[2, 3]"],
    ),
    "validation_split out of range": (
        lambda m: m.fit(X, Y, validation_split=1.5, verbose=0),
        ValueError,
        ["validation_split", "1.5"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SHAPES))
def test_bad_data_is_rejected_before_any_change(trained, case):
    call, error, fragments = BAD_SHAPES[case]
    check_rejected(trained, lambda: call(trained), error, *fragments)


def test_sparse_labels_out_of_range(trained):
    trained.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    trained.train_on_batch(X, np.arange(N) % CLASSES)
    labels = np.arange(N) % CLASSES
    labels[3] = CLASSES
    check_rejected(trained, lambda: trained.fit(X, labels, verbose=0), ValueError, "[0, 4)", "4")
    check_rejected(trained, lambda: trained.fit(X, labels - 0.5, verbose=0), ValueError, "integer")
    # one-hot rows given to the sparse loss: the shapes it wants, and the one it got
    check_rejected(
        trained, lambda: trained.fit(X, Y, verbose=0), ValueError, "(40, 4)", "(40,)", "(40, 1)"
    )


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize("value", [0, -1, 1.5, "32", True, None])
def test_batch_size_must_be_a_positive_int(trained, value):
    if value is None:  # None means the default, 32
        trained.fit(X, Y, batch_size=value, verbose=0)
        return
    message = check_rejected(
        trained, lambda: trained.fit(X, Y, batch_size=value, verbose=0), ValueError, "batch_size"
    )
    assert repr(value) in message
    check_rejected(trained, lambda: trained.evaluate(X, Y, batch_size=value, verbose=0), ValueError)
    check_rejected(trained, lambda: trained.predict(X, batch_size=value, verbose=0), ValueError)


@pytest.mark.parametrize("value", [0, -2, 1.5, "3", False])
def test_epochs_must_be_a_positive_int(trained, value):
    message = check_rejected(
        trained, lambda: trained.fit(X, Y, epochs=value, verbose=0), ValueError, "epochs"
    )
    assert repr(value) in message


def test_verbose_must_be_known(trained):
    check_rejected(trained, lambda: trained.fit(X, Y, verbose=3), ValueError, "verbose", "3")


def test_set_weights_with_wrong_count_or_shapes(trained):
    weights = trained.get_weights()
    check_rejected(trained, lambda: trained.set_weights(weights[:3]), ValueError, "3", "4")
    swapped = [weights[0].T, *weights[1:]]
    check_rejected(trained, lambda: trained.set_weights(swapped), ValueError, "(6, 8)", "(8, 6)")
    # a bad shape late in the list must not leave the earlier weights changed
    late = [w + 1 for w in weights[:3]] + [np.zeros(7)]
    check_rejected(trained, lambda: trained.set_weights(late), ValueError, "(4,)", "(7,)")


# ------------------------------------------------------------------ unknown names, at compile
@pytest.mark.parametrize(
    "kwargs, fragments",
    [
        (
            {"optimizer": "rmsprob"},
            ["Could not interpret optimizer identifier: rmsprob", "rmsprop"],
        ),
        ({"loss": "categorical_crossentropi"}, ["categorical_crossentropi", "'mse'"]),
        ({"metrics": ["acuracy"]}, ["acuracy", "'accuracy'"]),
    ],
)
def test_unknown_names_fail_at_compile_and_keep_the_old_setup(trained, kwargs, fragments):
    arguments = {"optimizer": "sgd", "loss": "mse", "metrics": ["mae"], **kwargs}
    before = snapshot(trained)
    with pytest.raises(ValueError) as info:
        trained.compile(**arguments)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert_unchanged(trained, before)
    trained.fit(X, Y, verbose=0)  # still compiled as before: adam, crossentropy, accuracy
    assert isinstance(trained.optimizer, optimizers.Adam)
    assert trained.loss == "categorical_crossentropy"  # the argument, as Keras keeps it


def test_unknown_activation_names_the_valid_ones():
    with pytest.raises(ValueError) as info:
        Dense(3, activation="relux")
    assert "relux" in str(info.value) and "'relu'" in str(info.value)


# ------------------------------------------------------------------ NaN
def test_nan_in_the_data_gives_a_nan_loss_that_terminate_on_nan_catches(capsys):
    x, y = make_data()
    x[5, 2] = np.nan
    model = make_model()
    seen = []
    counter = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        callbacks=[callbacks.TerminateOnNaN(), counter],
        verbose=0,
    )
    assert seen == [0]  # stopped after the first batch, the one holding the NaN
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_nan_loss_from_evaluate():
    x, y = make_data()
    model = make_model()
    assert np.isnan(model.evaluate(np.full_like(x, np.nan), y, verbose=0)[0])


# ------------------------------------------------------------------ unusual but valid input
def train_on(x, y):
    model = make_model()
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return history.history, model.get_weights(), model.predict(x, verbose=0)


def strided(a):
    big = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    big[:, ::2] = a
    return big[:, ::2]


INT_X = np.random.default_rng(3).integers(0, 5, size=(N, FEATURES))
VARIANTS = {
    "float64": lambda x, y: (x.astype(np.float64), y.astype(np.float64)),
    "fortran order": lambda x, y: (np.asfortranarray(x), np.asfortranarray(y)),
    "strided views": lambda x, y: (strided(x), strided(y)),
    "nested lists": lambda x, y: (x.tolist(), y.tolist()),
    "integer labels as ints": lambda x, y: (x, y.astype(np.int64)),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_unusual_layouts_train_exactly_like_contiguous_float32(name):
    x, y = make_data()
    reference = train_on(np.ascontiguousarray(x, np.float32), y.astype(np.float32))
    got = train_on(*VARIANTS[name](x, y))
    assert got[0] == reference[0]
    for a, b in zip(got[1] + [got[2]], reference[1] + [reference[2]]):
        np.testing.assert_array_equal(a, b)


def test_integer_inputs_train_like_their_float32_values():
    _, y = make_data()
    reference = train_on(INT_X.astype(np.float32), y)
    got = train_on(INT_X, y)
    assert got[0] == reference[0]
    for a, b in zip(got[1], reference[1]):
        np.testing.assert_array_equal(a, b)


def test_the_callers_arrays_are_not_changed():
    x, y = make_data()
    x64 = x.astype(np.float64)
    copies = x64.copy(), y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_on(x64, y)
    np.testing.assert_array_equal(x64, copies[0])
    np.testing.assert_array_equal(y, copies[1])


def test_complex_data_is_rejected(trained):
    check_rejected(
        trained, lambda: trained.fit(X.astype(complex), Y, verbose=0), TypeError, "complex128"
    )


def test_an_error_during_fit_keeps_every_completed_step():
    """As Keras: a callback that raises at the end of epoch 3 leaves the three epochs trained
    (the same weights and optimizer state as a fit of three epochs)."""

    class Fail(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("stop here")

    x, y = make_data()
    failed, reference = make_model(), make_model()
    with pytest.raises(RuntimeError, match="stop here"):
        failed.fit(x, y, epochs=10, batch_size=8, shuffle=False, callbacks=[Fail()], verbose=0)
    reference.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    for ours, expected in zip(failed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, expected)
    assert failed.optimizer.iterations == reference.optimizer.iterations == 15
