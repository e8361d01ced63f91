"""A subclassed model whose `call` returns a dict (or a list), compiled with losses and
`loss_weights` keyed by those keys (or one per item): Keras matches them with the outputs at
the first batch, and so must minikeras (before, the dict of weights was refused at compile,
the model's one output being named after the model, and a list of outputs reached the loss
stacked in one array). Compared with Keras on the same weights: History's total and
per-output losses.

Tolerance: float32, SGD, three epochs of two batches; the losses are means of a few dozen
products that each library sums in its own order: 1e-5 relative (float32's eps is 1.2e-7;
the differences seen are ~1e-7).
"""

import numpy as np

import minikeras as mk


def dict_model(lib, seed, as_list=False):
    """Two Dense layers, one per input key, returning {"y_two", "y_one"} (not in sorted
    order, so that the gradients must go back by key) or [y_one, y_two]."""

    class TwoHeads(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense_1 = lib.layers.Dense(3, use_bias=False)
            self.dense_2 = lib.layers.Dense(3, use_bias=False)

        def call(self, x):
            y_one, y_two = self.dense_1(x["x_one"]), self.dense_2(x["x_two"])
            return [y_one, y_two] if as_list else {"y_two": y_two, "y_one": y_one}

    model = TwoHeads()
    rng = np.random.default_rng(seed)
    model({"x_one": np.zeros((1, 4), "float32"), "x_two": np.zeros((1, 4), "float32")})
    for dense in (model.dense_1, model.dense_2):
        dense.kernel.assign(rng.normal(size=(4, 3)).astype("float32") * 0.5)
    return model


def fit_history(lib, loss, loss_weights):
    model = dict_model(lib, seed=0, as_list=isinstance(loss, list))
    model.compile(optimizer=lib.optimizers.SGD(0.05), loss=loss, loss_weights=loss_weights)
    rng = np.random.default_rng(1)
    x = {k: rng.normal(size=(40, 4)).astype("float32") for k in ("x_one", "x_two")}
    y = {k: rng.normal(size=(40, 3)).astype("float32") for k in ("y_one", "y_two")}
    if isinstance(loss, list):
        y = [y["y_one"], y["y_two"]]
    return model.fit(x, y, batch_size=20, epochs=3, shuffle=False, verbose=0).history


def test_losses_and_loss_weights_keyed_by_the_outputs_keys(keras):
    loss = {"y_one": "mse", "y_two": "mean_absolute_error"}
    weights = {"y_one": 0.1, "y_two": 0.2}
    ours = fit_history(mk, loss, weights)
    theirs = fit_history(keras, loss, weights)
    for key in ("loss", "y_one_loss", "y_two_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)


def test_a_list_of_losses_and_weights_for_a_list_of_outputs(keras):
    loss = ["mse", "mean_absolute_error"]
    ours = fit_history(mk, loss, [0.1, 0.2])
    theirs = fit_history(keras, loss, [0.1, 0.2])
    assert ours.keys() == theirs.keys()
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)
