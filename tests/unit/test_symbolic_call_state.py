"""A layer of yours that counts its calls in a non-trainable weight: building the model on
`Input` (a call on stand-ins, as Keras's symbolic call) changes no variable, and `fit` calls
it once per batch, so callbacks see the count Keras's see (Keras 3.15 on TensorFlow, run with
this very model: 0 after building, then 1, 2, ... at each batch end). And SwapEMAWeights
reaching the averages of a LossScaleOptimizer's inner optimizer, as Keras's."""

import numpy as np

import minikeras


def _counter_layer(K):
    class Counter(K.layers.Layer):
        def __init__(self):
            super().__init__()
            self.count = self.add_weight(
                shape=(), initializer="zeros", dtype="float32", trainable=False
            )

        def call(self, x):
            self.count.assign_add(1)
            return x

    return Counter


def _counts(K):
    model = K.Sequential([K.layers.Input((3,)), _counter_layer(K)(), K.layers.Dense(1)])
    seen = [float(model.layers[0].count.numpy())]

    class Watch(K.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(float(np.asarray(model.layers[0].count)))

    model.compile(loss="mse", optimizer="sgd")
    x, y = np.random.default_rng(0).random((10, 3)), np.zeros((10, 1))
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[Watch()], verbose=0)
    return seen


def test_building_changes_no_variable_and_fit_calls_once_per_batch():
    assert _counts(minikeras) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_swap_ema_weights_finds_a_loss_scale_optimizers_averages():
    K = minikeras
    model = K.Sequential([K.layers.Input((3,)), K.layers.Dense(2)])
    optimizer = K.optimizers.LossScaleOptimizer(K.optimizers.SGD(use_ema=True))
    model.compile(loss="mse", optimizer=optimizer, metrics=["mse"])
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 3)), rng.random((16, 2))
    history = model.fit(
        x, y, epochs=2, validation_data=(x, y), callbacks=[K.callbacks.SwapEMAWeights()], verbose=0
    )
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    # fit leaves the averages in the model, which its last validation already used
    assert history.history["val_mse"][-1] == logs["mse"]
