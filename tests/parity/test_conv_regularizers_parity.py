"""Weight regularizers, activity regularizers and constraints on the convolution and
normalization layers (Conv1D, Conv2D, Conv2DTranspose, BatchNormalization, LayerNormalization,
PReLU), against real Keras with the same weights: configs, the loss with its penalties, and a
whole `fit(shuffle=False)` (History and every weight after the constraints' projections).

Tolerances (minikeras/parity/compare.py, docs/parity.md): float64 within 1e-10 relative after k
steps. A penalty is one sum of at most a few hundred squares or absolute values, computed in
another order on each side (~100 roundings of 2⁻⁵³, < 1e-13 relative); a constraint is a
clip or a norm of the same size; so the layers' own bounds (test_conv_parity.py) still hold.
float32: the parity suite's 1e-5 plus 1e-6 a step (`tolerance`).
"""

import numpy as np
import pytest
from layer_twins import floatx

import minikeras
from minikeras.parity.compare import differences, tolerance


def penalties(K):
    """Weight regularizers and constraints for a layer's kernel (or gamma) and bias (beta).

    Biases start at 0.05, not 0: at 0, L1's gradient sign(b) and NonNeg meet at their kink, so a
    bias whose data gradient is small (the Conv2D's, before BatchNormalization) would step by the
    sign of rounding noise (float32: 3e-4 apart from Keras once, measured), not by the
    arithmetic this test compares."""
    return dict(
        bias_initializer=K.initializers.Constant(0.05),
        kernel_regularizer=K.regularizers.L2(0.02),
        bias_regularizer=K.regularizers.L1(0.01),
        activity_regularizer=K.regularizers.L2(0.001),
        kernel_constraint=K.constraints.MaxNorm(0.6),
        bias_constraint=K.constraints.NonNeg(),
    )


def normalization(K):
    return dict(
        beta_initializer=K.initializers.Constant(0.05),  # off L1's kink (see `penalties`)
        gamma_regularizer=K.regularizers.L2(0.03),
        beta_regularizer=K.regularizers.L1L2(0.01, 0.02),
        gamma_constraint=K.constraints.MinMaxNorm(0.5, 1.5),
        beta_constraint=K.constraints.NonNeg(),
    )


def images_model(K):
    return K.Sequential(
        [
            K.Input(shape=(6, 6, 2)),
            K.layers.Conv2D(3, 3, padding="same", activation="tanh", **penalties(K)),
            K.layers.BatchNormalization(**normalization(K)),
            K.layers.PReLU(
                alpha_initializer=K.initializers.Constant(0.2),
                alpha_regularizer=K.regularizers.L2(0.05),
                alpha_constraint=K.constraints.NonNeg(),
            ),
            K.layers.Conv2DTranspose(2, 2, strides=2, **penalties(K)),
            K.layers.LayerNormalization(**normalization(K)),
            K.layers.GlobalAveragePooling2D(),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def signals_model(K):
    return K.Sequential(
        [
            K.Input(shape=(7, 2)),
            K.layers.Conv1D(4, 3, padding="causal", activation="relu", **penalties(K)),
            K.layers.Flatten(),
            K.layers.Dense(3, activation="softmax"),
        ]
    )


def twins(keras, make):
    ours, theirs = make(minikeras), make(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def data(shape, n=24):
    rng = np.random.default_rng(5)
    return rng.standard_normal((n, *shape)), np.eye(3)[rng.integers(0, 3, n)]


def without_names(config):
    """A layer's config without its name (the two libraries count names apart)."""
    return {k: v for k, v in config.items() if k != "name"}


@pytest.mark.parametrize("make", [images_model, signals_model])
def test_configs_equal_keras_configs(keras, make):
    with floatx(keras, "float32"):
        ours, theirs = twins(keras, make)
        for mine, theirs_layer in zip(ours.layers, theirs.layers):
            assert without_names(mine.get_config()) == without_names(theirs_layer.get_config())
        # and back: Keras's config rebuilds the minikeras layer with the same options
        for layer in theirs.layers:
            config = keras.layers.serialize(layer)
            rebuilt = minikeras.layers.deserialize(config)
            assert without_names(rebuilt.get_config()) == without_names(layer.get_config())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make, shape", [(images_model, (6, 6, 2)), (signals_model, (7, 2))])
def test_fit_with_penalties_and_constraints_matches_keras(keras, dtype, make, shape):
    # largest measured: float64 5.6e-14 (weights after 9 steps), float32 1.6e-5 (weights,
    # under the 1e-5 + 9·1e-6 of 9 steps); History float32 1.6e-7
    with floatx(keras, dtype):
        ours, theirs = twins(keras, make)
        for model, K in ((ours, minikeras), (theirs, keras)):
            model.compile(optimizer=K.optimizers.SGD(0.2), loss="categorical_crossentropy")
        x, y = data(shape)
        # the loss with every penalty, before training
        before = ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0)
        assert differences(*before)[1] < tolerance(dtype)
        fit = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
        ours_history = ours.fit(x, y, **fit).history
        theirs_history = theirs.fit(x, y, **fit).history
        steps = 3 * 3
        assert sorted(ours_history) == sorted(theirs_history)
        for key, values in theirs_history.items():
            assert differences(ours_history[key], values)[1] < tolerance(dtype, steps), key
        for w, v in zip(ours.weights, theirs.weights):
            assert differences(np.asarray(w), np.asarray(v))[1] < tolerance(dtype, steps), w.name


def test_constraints_hold_after_fit_and_penalties_change_the_weights(keras):
    """A negative control: the same model without its penalties and constraints ends elsewhere,
    and the constrained weights satisfy their constraints."""
    with floatx(keras, "float64"):
        ours, _ = twins(keras, images_model)
        plain = minikeras.Sequential(
            [minikeras.Input(shape=(6, 6, 2))]
            + [
                minikeras.layers.deserialize(
                    {
                        "class_name": type(layer).__name__,
                        "config": {
                            k: (None if ("regularizer" in k or "constraint" in k) else v)
                            for k, v in layer.get_config().items()
                            if k != "name"
                        },
                    }
                )
                for layer in ours.layers
            ]
        )
        plain.set_weights(ours.get_weights())
        x, y = data((6, 6, 2))
        for model in (ours, plain):
            model.compile(optimizer=minikeras.optimizers.SGD(0.2), loss="categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        conv, batch_norm, prelu = ours.layers[0], ours.layers[1], ours.layers[2]
        # MaxNorm's default axis=0, as Keras: norms along the kernel's first axis
        norms = np.sqrt(np.sum(np.square(conv.kernel.numpy()), axis=0))
        assert np.all(norms <= 0.6 + 1e-12)
        assert np.all(conv.bias.numpy() >= 0) and np.all(prelu.alpha.numpy() >= 0)
        assert np.all(batch_norm.beta.numpy() >= 0)
        assert differences(ours.get_weights()[0], plain.get_weights()[0])[1] > 1e-3
