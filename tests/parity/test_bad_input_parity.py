"""Bad input to everyday training, in both libraries: the same exception type, the same message
where Keras's is stable text (prefixes where minikeras adds the valid choices or Keras adds
TensorFlow's details), and in minikeras nothing changed: an error at `fit` leaves the weights
and the optimizer's step counter as they were."""

import warnings

import numpy as np
import pytest

import minikeras

X = np.linspace(-1, 1, 18).reshape(6, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def raised(make, lib):
    """The exception `make(lib)` raises, its warnings silenced."""
    with pytest.raises(Exception) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(lib)
    return caught.value


def schedules(lib):
    return lib.optimizers.schedules


# name → (what to run, how much of Keras's message must match: "all" or a prefix)
CONSTRUCTION = {
    "Keras 2's lr=": (lambda lib: lib.optimizers.SGD(lr=0.1), "all"),
    "an unknown optimizer argument": (lambda lib: lib.optimizers.Adam(jit_compile=True), "all"),
    "clipnorm with global_clipnorm": (
        lambda lib: lib.optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0),
        "all",
    ),
    "clipnorm with clipvalue": (
        lambda lib: lib.optimizers.Adam(clipnorm=1.0, clipvalue=1.0),
        "all",
    ),
    "an int learning rate": (lambda lib: lib.optimizers.Adam(learning_rate=1), "all"),
    "a string learning rate": (lambda lib: lib.optimizers.Adam(learning_rate="0.1"), "all"),
    "ema_momentum out of range": (
        lambda lib: lib.optimizers.SGD(use_ema=True, ema_momentum=2.0),
        "all",
    ),
    "gradient_accumulation_steps=1": (
        lambda lib: lib.optimizers.SGD(gradient_accumulation_steps=1),
        "all",
    ),
    "ExponentialDecay decay_steps=0": (
        lambda lib: schedules(lib).ExponentialDecay(0.1, 0, 0.9),
        "all",
    ),
    "InverseTimeDecay decay_steps=-1": (
        lambda lib: schedules(lib).InverseTimeDecay(0.1, -1, 0.5),
        "all",
    ),
    "PolynomialDecay decay_steps=0": (lambda lib: schedules(lib).PolynomialDecay(0.1, 0), "all"),
    "CosineDecay decay_steps=0": (lambda lib: schedules(lib).CosineDecay(0.1, 0), "all"),
    "CosineDecayRestarts first_decay_steps=0": (
        lambda lib: schedules(lib).CosineDecayRestarts(0.1, 0),
        "all",
    ),
    "PiecewiseConstantDecay values of the wrong count": (
        lambda lib: schedules(lib).PiecewiseConstantDecay([1, 2], [1.0, 0.5]),
        "all",
    ),
    "a float rate set on a scheduled optimizer": (
        lambda lib: setattr(
            lib.optimizers.SGD(schedules(lib).ExponentialDecay(0.1, 10, 0.9)),
            "learning_rate",
            0.1,
        ),
        "all",
    ),
    "ReduceLROnPlateau factor 1": (lambda lib: lib.callbacks.ReduceLROnPlateau(factor=1.0), "all"),
    "an unknown optimizer": (
        lambda lib: lib.optimizers.get("adamm"),
        "Could not interpret optimizer identifier: adamm",
    ),
    "an unknown loss": (
        lambda lib: lib.losses.get("msee"),
        "Could not interpret loss identifier:",
    ),
    "an unknown metric": (
        lambda lib: lib.metrics.get("accuracyy"),
        "Could not interpret metric identifier: accuracyy",
    ),
    "an unknown activation": (
        lambda lib: lib.activations.get("relux"),
        "Could not interpret activation function identifier:",
    ),
    "an unknown initializer": (
        lambda lib: lib.initializers.get("glorot"),
        "Could not interpret initializer identifier:",
    ),
    "an unknown regularizer": (lambda lib: lib.regularizers.get("l3"), "all"),
    "an unknown constraint": (lambda lib: lib.constraints.get("nonnegg"), "all"),
    "an unknown image data format": (
        lambda lib: lib.config.set_image_data_format("channels_middle"),
        "all",
    ),
    "an unknown dtype policy": (lambda lib: lib.config.set_dtype_policy("foo"), "all"),
    "a dtype policy that is no name": (lambda lib: lib.config.set_dtype_policy(3), "all"),
}


@pytest.mark.parametrize("case", list(CONSTRUCTION))
def test_construction_errors(keras, case):
    make, match = CONSTRUCTION[case]
    ours, theirs = raised(make, minikeras), raised(make, keras)
    assert type(ours) is type(theirs)
    if match == "all":
        assert str(ours) == str(theirs)
    else:
        assert str(theirs).startswith(match) and str(ours).startswith(match)


def test_decay_is_ignored_with_keras_warning(keras):
    messages = []
    for lib in (minikeras, keras):
        with pytest.warns(UserWarning) as caught:
            lib.optimizers.SGD(learning_rate=0.1, decay=1e-6)
        messages.append([str(w.message) for w in caught])
    assert (
        messages[0]
        == messages[1]
        == ["Argument `decay` is no longer supported and will be ignored."]
    )


def model(lib, metrics=None, optimizer="sgd", inputs=(3,), units=1):
    m = lib.Sequential([lib.layers.Input(inputs), lib.layers.Dense(units)])
    m.compile(optimizer=optimizer, loss="mse", metrics=metrics)
    return m


def generator(batches):
    yield from batches


def pairs(lib, count=2):
    class Pairs(lib.utils.PyDataset):
        def __len__(self):
            return count

        def __getitem__(self, i):
            return X, Y, np.ones(6), np.ones(6)  # one part too many

    return Pairs()


# name → (make the model, the fit's arguments, how much of the message must match)
AT_FIT = {
    "a generator that yields an array": (
        lambda lib: model(lib),
        lambda lib: dict(x=generator([X])),
        "all",
    ),
    "a generator that yields a list": (
        lambda lib: model(lib),
        lambda lib: dict(x=generator([[X, Y]])),
        "all",
    ),
    "an empty generator": (lambda lib: model(lib), lambda lib: dict(x=generator([])), "all"),
    "a generator and y": (
        lambda lib: model(lib),
        lambda lib: dict(x=generator([(X, Y)]), y=Y),
        "all",
    ),
    "a generator and sample_weight": (
        lambda lib: model(lib),
        lambda lib: dict(x=generator([(X, Y)]), sample_weight=np.ones(6)),
        "all",
    ),
    "a generator and class_weight": (
        lambda lib: model(lib),
        lambda lib: dict(x=generator([(X, Y)]), class_weight={0: 1.0}),
        "all",
    ),
    "a PyDataset and y": (lambda lib: model(lib), lambda lib: dict(x=pairs(lib), y=Y), "all"),
    "a PyDataset whose batches have four parts": (
        lambda lib: model(lib),
        lambda lib: dict(x=pairs(lib)),
        "PyDataset.__getitem__() must return a tuple or a dict.",
    ),
    # Keras names the batch size None (its traced shapes), minikeras the probe's 1
    "F1Score on outputs of rank 3": (
        lambda lib: model(lib, [lib.metrics.F1Score()], inputs=(2, 3), units=3),
        lambda lib: dict(x=np.ones((6, 2, 3)), y=np.ones((6, 2, 3))),
        "FBetaScore expects 2D inputs",
    ),
}


@pytest.mark.parametrize("case", list(AT_FIT))
def test_fit_errors_before_any_change(keras, case):
    build, arguments, match = AT_FIT[case]
    errors = []
    for lib in (minikeras, keras):
        m = build(lib)
        before = m.get_weights()
        errors.append(
            raised(lambda lib, m=m: m.fit(**arguments(lib), verbose=0, shuffle=False), lib)
        )
        if lib is minikeras:
            for a, b in zip(before, m.get_weights()):
                np.testing.assert_array_equal(a, b)
            assert m.optimizer.iterations == 0
    ours, theirs = errors
    assert type(ours) is type(theirs)
    if match == "all":
        assert str(ours) == str(theirs)
    else:
        assert str(theirs).startswith(match) and str(ours).startswith(match)


@pytest.mark.parametrize(
    "metric",
    [
        lambda lib: lib.metrics.SparseTopKCategoricalAccuracy(k=2),
        lambda lib: lib.metrics.AUC(multi_label=True, num_labels=2),
    ],
)
def test_a_metric_for_the_wrong_labels_fails_before_the_first_update(keras, metric):
    """Keras fails inside TensorFlow here (InvalidArgumentError from in_top_k, a shape
    error from AUC's sums); minikeras raises a ValueError that names the shapes."""
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    theirs = model(keras, [metric(keras)], units=3)
    assert raised(lambda lib: theirs.fit(X, y, verbose=0), keras) is not None
    ours = model(minikeras, [metric(minikeras)], units=3)
    before = ours.get_weights()
    with pytest.raises(ValueError, match="shape"):
        ours.fit(X, y, verbose=0)
    for a, b in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_with_a_schedule(keras):
    """ReduceLROnPlateau cannot set a scheduled rate: the optimizer's TypeError, in both, at
    the first reduction (after the epochs already trained)."""
    errors = []
    for lib in (minikeras, keras):
        m = model(lib, optimizer=lib.optimizers.SGD(schedules(lib).ExponentialDecay(0.1, 5, 0.9)))
        plateau = lib.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0)
        fit = m.fit
        errors.append(
            raised(
                lambda lib, fit=fit, cb=plateau: fit(X, Y, epochs=2, verbose=0, callbacks=[cb]), lib
            )
        )
    assert type(errors[0]) is type(errors[1]) is TypeError
    assert str(errors[0]) == str(errors[1])


def constant(value):
    """A one-argument schedule function, schedule(epoch) → value."""
    return lambda epoch: value


def test_learning_rate_scheduler_returning_a_schedule(keras):
    errors = []
    for lib in (minikeras, keras):
        m = model(lib)
        schedule = schedules(lib).ExponentialDecay(0.1, 5, 0.9)
        scheduler = lib.callbacks.LearningRateScheduler(constant(schedule))
        errors.append(
            raised(lambda lib, fit=m.fit, cb=scheduler: fit(X, Y, verbose=0, callbacks=[cb]), lib)
        )
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]).split(".")[0] == str(errors[1]).split(".")[0]
