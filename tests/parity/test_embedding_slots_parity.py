"""An Embedding trained by an optimizer with slots (Adam, RMSprop, Adagrad): rows a batch does
not look up. Keras's TensorFlow backend hands the optimizer the embedding's gradient as
IndexedSlices, and Adam's and RMSprop's `m + (g − m)·(1 − β)` make it dense: every row's moments
decay at every step, and a row looked up earlier keeps moving after its last lookup. Adagrad's
`accumulator += g²` stays sparse, but a row's g² is 0 where it is not looked up, the same as
dense. minikeras's gradient is dense: the same numbers.

Each batch looks up each id at most once (repeated ids are a known difference, pinned down by
test_sequence_layers_parity.py). float64, the same arithmetic in the same order on both sides:
1e-12 relative, 1e-15 absolute (measured ≤ 2.2e-16)."""

import numpy as np
import pytest
from layer_twins import floatx

import minikeras

# ids 0–3, then 4–7 (0–3 not looked up: Adam's moments decay there), then 0–3 again;
# rows 8 and 9 are never looked up
BATCHES = [[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[0, 2], [1, 3]]]


@pytest.mark.parametrize("optimizer", ["Adam", "RMSprop", "Adagrad"])
def test_rows_not_looked_up_as_keras(keras, optimizer):
    rng = np.random.default_rng(0)
    with floatx(keras, "float64"):
        models = []
        for lib in (minikeras, keras):
            model = lib.Sequential(
                [
                    lib.Input((2,), dtype="int32"),
                    lib.layers.Embedding(10, 3),
                    lib.layers.Flatten(),
                    lib.layers.Dense(1),
                ]
            )
            model.compile(getattr(lib.optimizers, optimizer)(learning_rate=0.1), "mse")
            models.append(model)
        models[0].set_weights(models[1].get_weights())
        start = models[1].get_weights()[0].copy()
        for ids in BATCHES:
            x, y = np.array(ids), rng.normal(size=(2, 1))
            for model in models:
                model.train_on_batch(x, y)
        ours, theirs = models[0].get_weights()[0], models[1].get_weights()[0]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
        assert not np.allclose(ours[:8], start[:8])  # every row looked up has moved
        np.testing.assert_array_equal(ours[8:], start[8:])
        # the slots, every row: moments that decayed where the batch did not look up
        ours_slots = [np.asarray(v) for v in models[0].optimizer.variables]
        theirs_slots = [np.asarray(v) for v in models[1].optimizer.variables]
        assert len(ours_slots) == len(theirs_slots)
        for a, b in zip(ours_slots, theirs_slots):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
