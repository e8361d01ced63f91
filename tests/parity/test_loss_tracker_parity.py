"""A model of yours that keeps `self.loss_tracker = metrics.Mean(name="loss")`, as keras.io's
guides write it. Keras's own tracker is private (`_loss_tracker`, made by compile), so yours is
one more metric of the model: listed after the compiled ones, before compile too, and (with
the built-in train_step, which never updates it) the last metric named "loss", so the one the
logs report, 0, in Keras as here.

Float64, the same weights, the same SGD steps: History within 1e-12 relative."""

import numpy as np
import pytest
from layer_twins import floatx


def model_class(lib, own_step):
    class WithTracker(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(1)
            self.loss_tracker = lib.metrics.Mean(name="loss")

        def call(self, x):
            return self.dense(x)

    class WithTrackerAndStep(WithTracker):
        def train_step(self, data):
            x, y = data
            loss = self.compute_loss(x, y, self(x, training=True))  # no update: weights stay
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    return WithTrackerAndStep if own_step else WithTracker


@pytest.mark.parametrize(
    "own_step, metrics", [(False, None), (False, ["mae"]), (True, None)], ids=str
)
def test_your_loss_tracker_is_one_more_metric_as_in_keras(keras, own_step, metrics):
    import minikeras

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    with floatx(keras, "float64"):
        models = [model_class(lib, own_step)() for lib in (minikeras, keras)]
        listed = []
        for model in models:
            model(x[:2])
            listed.append([m is model.loss_tracker for m in model.metrics])  # before compile
        assert listed[0] == listed[1] == [True]
        models[0].set_weights(models[1].get_weights())
        histories = []
        for model in models:
            model.compile(optimizer="sgd", loss="mse", metrics=metrics)
            fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
            histories.append(model.fit(x, y, **fit).history)
            listed.append([m is model.loss_tracker for m in model.metrics])
            assert model.metrics[0] is model._loss_tracker is not model.loss_tracker
            assert [m.name for m in model.metrics][-1] == "loss"
        assert listed[2] == listed[3]
        assert sorted(histories[0]) == sorted(histories[1])
        for key in histories[1]:
            np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-12)
        counts = [float(np.asarray(model.loss_tracker.count)) for model in models]
        # one scalar per batch, 2 batches in the last epoch (the metrics reset at each epoch)
        assert counts[0] == counts[1] == (2.0 if own_step else 0.0)
