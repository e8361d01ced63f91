"""Smaller behaviours checked against Keras: `build` on a subclass of Model, VarianceScaling's
`input_axes`/`output_axes`, a Metric's stateless forms.

Exact comparisons throughout (shapes, configs, counts; metric values are sums of a few
numbers, exact in float32).
"""

import warnings

import numpy as np

import minikeras


def subclass(lib):
    class Two(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    return Two()


def test_build_on_a_subclass_without_build_creates_no_weights_and_warns_as_keras(keras):
    found = []
    for lib in (minikeras, keras):
        model = subclass(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.build((None, 4))
        messages = [str(w.message) for w in caught if "unbuilt state" in str(w.message)]
        found.append((model.built, len(model.weights), model.count_params(), len(messages)))
        model.compile(optimizer="sgd", loss="mse")
        model.fit(np.ones((4, 4)), np.ones((4, 3)), verbose=0)  # built by its first call
        found.append(len(model.weights))
    assert found[:2] == found[2:] == [(True, 0, 0, 1), 2]


def test_variance_scaling_input_and_output_axes_as_keras(keras):
    from keras.src.initializers.random_initializers import compute_fans

    for axes in ([0, 1], [2]), ([0], [1, 2]), ([1], None):
        ours = minikeras.initializers.compute_fans((3, 4, 5), *axes)
        assert ours == compute_fans((3, 4, 5), *axes)
    for name in ("VarianceScaling", "GlorotUniform", "HeNormal", "LecunUniform"):
        ours = getattr(minikeras.initializers, name)(input_axes=[0, 1], output_axes=[2])
        theirs = getattr(keras.initializers, name)(input_axes=[0, 1], output_axes=[2])
        assert ours.get_config() == theirs.get_config()
        assert list(ours.get_config()) == list(theirs.get_config())  # the same key order
        copy = type(ours).from_config(ours.get_config())
        assert (copy.input_axes, copy.output_axes) == ([0, 1], [2])
    # the fans reach the draw: fan_in = 3·4 = 12 gives the uniform limit √(3/12)
    values = minikeras.initializers.VarianceScaling(
        distribution="uniform", input_axes=[0, 1], output_axes=[2], seed=1
    )((3, 4, 5))
    assert np.abs(values).max() <= 0.5 and np.abs(values).max() > 0.4


def test_a_metric_stateless_forms_as_keras(keras):
    results = []
    for lib in (minikeras, keras):
        metric = lib.metrics.Mean()
        metric.update_state([10.0])
        start = [np.zeros(v.shape, "float32") for v in metric.variables]
        updated = metric.stateless_update_state(start, np.array([1.0, 3.0]))
        results.append(
            (
                [np.asarray(v).tolist() for v in updated],
                float(metric.stateless_result(updated)),
                [np.asarray(v).tolist() for v in metric.stateless_reset_state()],
                float(metric.result()),  # its own state untouched
            )
        )
    assert results[0] == results[1] == ([4.0, 2.0], 2.0, [0.0, 0.0], 10.0)


def ops_regularizer(lib):
    class SquaresAndAbs(lib.regularizers.Regularizer):  # written with ops only, no gradient
        def __call__(self, x):
            return 0.1 * lib.ops.sum(lib.ops.square(x)) + 0.05 * lib.ops.sum(lib.ops.abs(x))

    return SquaresAndAbs()


def test_a_regularizer_made_of_ops_gets_its_gradient_from_the_tape_in_fit(keras):
    """float64; two SGD epochs differ by rounding only: 1e-9 relative (the float64 bound of
    the parity property tests)."""
    from minikeras.parity.keras_env import floatx

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    runs, start = [], None
    with floatx("float64"):
        for lib in (minikeras, keras):
            dense = lib.layers.Dense(2, kernel_regularizer=ops_regularizer(lib))
            model = lib.Sequential([lib.Input((3,)), dense])
            if start is None:
                start = model.get_weights()
            model.set_weights(start)
            model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
            fit = dict(epochs=2, batch_size=4, shuffle=False, verbose=0)
            runs.append((model.fit(x, y, **fit).history["loss"], model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-9)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_op_node_names_after_reading_a_config_continue_keras_counters(keras):
    names = []
    for lib in (minikeras, keras):
        lib.utils.clear_session()
        a, b = lib.Input((3,)), lib.Input((3,))
        model = lib.Model([a, b], a + b)
        lib.Model.from_config(model.get_config())  # its `add` keeps the name, spends no count
        c, d = lib.Input((3,)), lib.Input((3,))
        later = lib.Model([c, d], c + d)
        names.append([entry["name"] for entry in later.get_config()["layers"]])
    assert names[0] == names[1] == ["input_layer_2", "input_layer_3", "add_1"]
