"""Your subclass of a built-in layer whose `call` runs the built-in one through `super().call`
and adds ops around it: the same model in Keras and in minikeras, the same weights, trains to
the same history and weights. float64 on both sides: 1e-10 relative (the two sum the same
products in different orders; nothing here amplifies rounding beyond ~1e-13)."""

import numpy as np

import minikeras
from minikeras.parity.keras_env import floatx


def model_of(lib):
    class ScaledDense(lib.layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2.0 + lib.ops.sum(self.kernel)

    class ShiftedConv1D(lib.layers.Conv1D):
        def call(self, inputs):
            return lib.ops.relu(super().call(inputs)) + 1.0

    return lib.Sequential(
        [
            lib.Input((6, 2)),
            ShiftedConv1D(3, 3, activation="tanh"),
            lib.layers.Flatten(),
            ScaledDense(4, activation="tanh"),
            ScaledDense(2, activation="softmax"),
        ]
    )


def test_super_call_subclasses_fit_as_keras(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 2))
    y = np.eye(2)[rng.integers(0, 2, 16)]
    results = []
    weights = None
    for lib in (keras, minikeras):
        with floatx("float64"):
            model = model_of(lib)
            if weights is None:
                weights = model.get_weights()
            model.set_weights(weights)
            model.compile(optimizer=lib.optimizers.Adam(0.01), loss="categorical_crossentropy")
            history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
            predictions = model.predict(x, verbose=0)
        assert predictions.dtype == np.float64
        results.append((history.history["loss"], model.get_weights(), predictions))
    (k_loss, k_weights, k_pred), (m_loss, m_weights, m_pred) = results
    np.testing.assert_allclose(m_loss, k_loss, rtol=1e-10)
    for ours, theirs in zip(m_weights, k_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m_pred, k_pred, rtol=1e-10, atol=1e-12)
