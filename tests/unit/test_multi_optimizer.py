"""MultiOptimizer and OptimizerMap: which optimizer each weight gets, the refusals, the steps of
each sub-optimizer, the variables and state, configs, and the callbacks that set or log the
learning rate of each sub-optimizer. Expected numbers are worked by hand (SGD: w − lr·g)."""

import numpy as np
import pytest

from minikeras import Sequential, backend, callbacks, layers, optimizers


def scoped(scope, value, name="kernel"):
    with backend.name_scope(scope):
        return backend.Variable(np.array(value, dtype="float32"), name=name)


def test_name_scope_paths_a_variable():
    with backend.name_scope("outer"):
        with backend.name_scope("inner"):
            inside = backend.Variable(np.zeros(2), name="kernel")
    outside = backend.Variable(np.zeros(2), name="bias")
    assert inside.path == "outer/inner/kernel"
    assert outside.path == "bias"
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        with backend.name_scope("a/b"):
            pass


def test_map_exact_key_then_one_pattern_then_default():
    adam, sgd, default = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    chooser = optimizers.OptimizerMap(default_optimizer=default)
    chooser["dense/kernel"] = adam
    chooser["dense/.*"] = sgd
    assert chooser["dense/kernel"] is adam  # the exact key wins over the pattern
    assert chooser["dense/bias"] is sgd
    assert chooser["dense"] is default  # fullmatch: "dense/.*" does not take "dense"
    assert chooser(scoped("dense", [1.0], "bias")) is sgd
    assert len(chooser) == 2 and list(chooser) == ["dense/kernel", "dense/.*"]
    del chooser["dense/.*"]
    assert chooser["dense/bias"] is default


def test_map_refusals():
    default = optimizers.SGD()
    with pytest.raises(TypeError, match="default_optimizer must be a Keras Optimizer"):
        optimizers.OptimizerMap(default_optimizer="sgd")
    with pytest.raises(TypeError, match="optimizer_map must be a dictionary"):
        optimizers.OptimizerMap(default, optimizer_map=[("a", default)])
    chooser = optimizers.OptimizerMap(default)
    chooser[".*kernel"] = optimizers.Adam()
    chooser["dense/.*"] = optimizers.SGD()
    with pytest.raises(ValueError, match="Multiple optimizers assigned to variable dense/kernel"):
        chooser["dense/kernel"]
    with pytest.raises(ValueError, match="already exists in the OptimizerMap"):
        chooser[".*kernel"] = optimizers.Adam()
    with pytest.raises(ValueError, match="key must be a string"):
        chooser[3] = optimizers.Adam()
    with pytest.raises(ValueError, match="optimizer must be a Keras Optimizer instance"):
        chooser["x"] = "adam"
    with pytest.raises(ValueError, match="optimizer cannot be LossScaleOptimizer"):
        chooser["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(ValueError, match="optimizer cannot be MultiOptimizer"):
        chooser["x"] = optimizers.MultiOptimizer(chooser)


def test_build_refuses_wrapped_optimizers_before_building_any():
    plain = optimizers.SGD(momentum=0.5)
    chooser = optimizers.OptimizerMap(default_optimizer=plain)
    chooser._optimizer_map = {"b/.*": optimizers.LossScaleOptimizer(optimizers.SGD())}
    multi = optimizers.MultiOptimizer(chooser)
    with pytest.raises(ValueError, match="LossScaleOptimizer cannot be used inside"):
        multi.build([scoped("a", [1.0]), scoped("b", [1.0])])
    assert not multi.built and not plain.built  # nothing was built
    with pytest.raises(ValueError, match="is not an Optimizer instance"):
        optimizers.MultiOptimizer(lambda variable: "sgd").build([scoped("a", [1.0])])


def test_each_weight_stepped_by_its_optimizer():
    w1, w2, w3 = scoped("a", [[2.0, 2.0]]), scoped("b", [[3.0, 3.0]]), scoped("c", [[4.0]])
    first, second = optimizers.SGD(learning_rate=0.5), optimizers.SGD(learning_rate=1.0)
    default = optimizers.SGD(learning_rate=0.25)
    multi = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(default, {"a/.*": first, "b/.*": second})
    )
    assert multi.optimizers == [first, second, default]  # the map's, then the default
    ones = [np.ones((1, 2), "float32"), np.ones((1, 2), "float32"), np.ones((1, 1), "float32")]
    multi.apply(ones, [w1, w2, w3])
    np.testing.assert_array_equal(w1, [[1.5, 1.5]])
    np.testing.assert_array_equal(w2, [[2.0, 2.0]])
    np.testing.assert_array_equal(w3, [[3.75]])
    multi.apply_gradients(zip(ones, [w1, w2, w3]))
    assert int(multi.iterations) == 2
    assert [int(o.iterations) for o in multi.optimizers] == [2, 2, 2]
    with pytest.raises(ValueError, match="Received 2 gradients and 3 variables"):
        multi.apply(ones[:2], [w1, w2])  # Keras takes one gradient per weight built with
    with pytest.raises(AttributeError, match="Learning rate cannot be accessed"):
        _ = multi.learning_rate
    with pytest.raises(AttributeError, match="Learning rate cannot be set"):
        multi.learning_rate = 0.1


def test_a_function_chooses_and_new_choices_join_the_list():
    adam, sgd = optimizers.Adam(), optimizers.SGD(learning_rate=0.5)
    multi = optimizers.MultiOptimizer(lambda v: adam if v.path.startswith("a/") else sgd)
    assert multi.optimizers == []
    w1, w2 = scoped("a", [1.0]), scoped("b", [1.0])
    multi.apply([np.ones(1, "float32"), np.ones(1, "float32")], [w1, w2])
    assert multi.optimizers == [adam, sgd]
    np.testing.assert_array_equal(w2, [0.5])


def test_loss_scale_factor_reaches_every_sub_optimizer():
    sgd = optimizers.SGD(learning_rate=0.1, loss_scale_factor=2.0)
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd), loss_scale_factor=4.0)
    assert sgd.loss_scale_factor == 4.0
    assert float(multi.scale_loss(np.float32(2.0))) == 8.0
    w = scoped("a", [[2.0]])
    multi.apply([np.array([[8.0]], "float32")], [w])  # 8 / 4 = 2, then w − 0.1·2
    np.testing.assert_allclose(w, [[1.8]], rtol=1e-7)
    optimizers.LossScaleOptimizer(multi)  # it scales the loss itself: None all the way down
    assert multi.loss_scale_factor is None and sgd.loss_scale_factor is None


def test_variables_state_and_weights_round_trip():
    w1, w2 = scoped("a", [1.0, 2.0]), scoped("b", [3.0])
    adam, sgd = optimizers.Adam(learning_rate=0.1), optimizers.SGD(momentum=0.9)
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"a/.*": adam}))
    grads = [np.array([0.5, -1.0], "float32"), np.array([2.0], "float32")]
    multi.apply(grads, [w1, w2])
    names = [v.path for v in multi.variables]
    # its own two, then Adam's (iteration, rate, m, v), then SGD's (iteration, rate, momentum)
    assert len(names) == 2 + 4 + 3
    assert names[:2] == [f"{multi.name}/iteration", f"{multi.name}/learning_rate"]
    assert names[2].startswith(adam.name) and names[-1].startswith(sgd.name)
    state = multi.get_state()
    saved = [np.array(v) for v in multi.variables]
    weights = [w1.copy(), w2.copy()]
    multi.apply(grads, [w1, w2])
    multi.set_state(state)  # back to before the second step
    for a, b in zip(multi.variables, saved):
        np.testing.assert_array_equal(a, b)
    w1[...], w2[...] = weights
    twin = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(optimizers.SGD(momentum=0.9), {"a/.*": optimizers.Adam(0.1)})
    )
    twin.build([w1, w2])
    twin.set_weights(saved)
    for a, b in zip(twin.variables, saved):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="has not yet been built"):
        optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD())).set_weights(saved)


def test_config_round_trip():
    multi = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(
            optimizers.RMSprop(learning_rate=1e-4), {"a/.*": optimizers.Adam(learning_rate=0.5)}
        ),
        loss_scale_factor=2.0,
        name="multi",
    )
    entry = optimizers.serialize(multi)
    assert entry["class_name"] == "MultiOptimizer"
    assert entry["config"]["optimizer_map"]["class_name"] == "OptimizerMap"
    again = optimizers.deserialize(entry)
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "RMSprop"]
    assert float(again.optimizers[0].learning_rate) == 0.5
    assert again.name == "multi" and again.loss_scale_factor == 2.0
    assert optimizers.serialize(again) == entry


def model_with_two_optimizers(first, second):
    model = Sequential(
        [
            layers.Input((1,)),
            layers.Dense(2, kernel_initializer="ones", use_bias=False, name="dense_a"),
            layers.Dense(1, kernel_initializer="ones", use_bias=False, name="dense_b"),
        ]
    )
    chooser = optimizers.OptimizerMap(second, {".*dense_a/.*": first})
    model.compile(optimizer=optimizers.MultiOptimizer(chooser), loss="mse")
    return model


def test_learning_rate_callbacks_set_and_log_each_sub_optimizer():
    first = optimizers.SGD(learning_rate=0.5, name="first")
    second = optimizers.SGD(learning_rate=0.25, name="second")
    model = model_with_two_optimizers(first, second)
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    scheduler.set_model(model)
    scheduler.on_epoch_begin(0)
    assert (float(first.learning_rate), float(second.learning_rate)) == (0.25, 0.125)
    logs = {}
    scheduler.on_epoch_end(0, logs)
    assert logs == {"learning_rate_first": 0.25, "learning_rate_second": 0.125}
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    plateau.set_model(model)
    plateau.on_train_begin()
    plateau.on_epoch_end(0, {"loss": 1.0})
    plateau.on_epoch_end(1, {"loss": 1.0})  # no better: both rates halve, on one count
    assert (float(first.learning_rate), float(second.learning_rate)) == (0.125, 0.0625)


def test_fit_steps_each_layer_with_its_optimizer():
    first = optimizers.SGD(learning_rate=1e-3)
    second = optimizers.SGD(learning_rate=1e-2)
    model = model_with_two_optimizers(first, second)
    model.fit(np.ones((1, 1)), np.zeros((1, 1)), verbose=0)
    # y = 2, dL/dy = 4; dense_a's kernel gradient 4 each, dense_b's 4 each
    np.testing.assert_allclose(model.layers[0].kernel, [[0.996, 0.996]], rtol=1e-6)
    np.testing.assert_allclose(model.layers[1].kernel, [[0.96], [0.96]], rtol=1e-6)
    assert int(model.optimizer.iterations) == 1


def test_swap_ema_weights_swaps_only_the_sub_optimizers_with_ema():
    first = optimizers.SGD(learning_rate=0.1, use_ema=True)
    second = optimizers.SGD(learning_rate=0.1)
    model = model_with_two_optimizers(first, second)
    model.train_on_batch(np.ones((1, 1)), np.ones((1, 1)))
    model.layers[0].kernel.assign(np.full((1, 2), 2.0))
    model.layers[1].kernel.assign(np.full((2, 1), 3.0))
    first._model_variables_moving_average[0].assign(np.full((1, 2), 9.0))
    swap = callbacks.SwapEMAWeights()
    swap.set_model(model)
    swap.on_test_begin()
    np.testing.assert_array_equal(model.layers[0].kernel, np.full((1, 2), 9.0))
    np.testing.assert_array_equal(model.layers[1].kernel, np.full((2, 1), 3.0))
    swap.on_test_end()
    np.testing.assert_array_equal(model.layers[0].kernel, np.full((1, 2), 2.0))
    np.testing.assert_array_equal(first.slots["average"][0], np.full((1, 2), 9.0))
    without = model_with_two_optimizers(optimizers.SGD(), optimizers.SGD())
    swap.set_model(without)
    with pytest.raises(ValueError, match="at least one inner optimizer"):
        swap.on_test_begin()
