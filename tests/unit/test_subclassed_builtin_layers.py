"""Your subclass of a built-in layer with a `call` of its own (keras.io's StandardizedConv2D
recipe): the built-in backward was written for the built-in call, so the tape differentiates
the new one. Checked against central differences in float64 (relative 1e-6: the truncation
error of a central difference with ε ≈ 1e-6 on these smooth, small models is ~1e-9, rounding
~1e-10; a wrong backward is off by O(1))."""

import numpy as np

import minikeras
from minikeras import layers, ops, testing


class DoubledDense(layers.Dense):
    def call(self, inputs):
        return ops.matmul(inputs, 2.0 * self.kernel) + self.bias


class StandardizedConv2DWithCall(layers.Conv2D):
    def call(self, inputs):
        mean, var = ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
        result = self.convolution_op(inputs, (self.kernel - mean) / ops.sqrt(var + 1e-10))
        return result + self.bias


class StandardizedConv2DWithOverride(layers.Conv2D):
    def convolution_op(self, inputs, kernel):
        mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
        return ops.conv(inputs, (kernel - mean) / ops.sqrt(var + 1e-10), strides=self.strides)


def test_a_dense_with_a_call_of_its_own_is_differentiated_by_the_tape():
    assert not DoubledDense.has_own_backward and layers.Dense.has_own_backward
    model = minikeras.Sequential([minikeras.Input((4,)), DoubledDense(3)])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    testing.check_gradients(model, x, y, loss="mse", tolerance=1e-6, verbose=False)


def test_conv_subclasses_through_convolution_op_are_differentiated_by_the_tape():
    model = minikeras.Sequential(
        [
            minikeras.Input((6, 6, 2)),
            StandardizedConv2DWithCall(3, 3),
            StandardizedConv2DWithOverride(2, 2, activation="tanh"),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(3, 6, 6, 2)), rng.normal(size=(3, 2))
    testing.check_gradients(model, x, y, loss="mse", tolerance=1e-6, verbose=False)


def test_convolution_op_is_the_convolution_alone():
    conv = layers.Conv2D(3, 2, strides=2, padding="same", activation="relu")
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 4)).astype("float32")
    y = conv(x)
    z = conv.convolution_op(x, conv.kernel) + conv.bias
    np.testing.assert_allclose(np.maximum(np.asarray(z), 0), y, rtol=1e-5, atol=1e-6)


class ScaledDense(layers.Dense):
    """Keras's everyday pattern: the built-in call through `super().call`, then ops on it."""

    def call(self, inputs):
        return super().call(inputs) * 2.0 + ops.sum(self.kernel)


class ReluPlusOneConv1D(layers.Conv1D):
    def call(self, inputs):
        return ops.relu(super().call(inputs)) + 1.0


def test_super_call_of_a_builtin_layer_is_one_entry_of_the_tape():
    layer = ScaledDense(3, activation="tanh")
    x = np.random.default_rng(3).normal(size=(4, 2))
    layer(x)
    with minikeras.GradientTape() as tape:
        y = layer(x)
        loss = ops.sum(y * y)
    names = [entry.name for entry in tape._entries]
    assert names.count("Dense.call") == 1, names
    grads = tape.gradient(loss, layer.trainable_variables)
    assert [g.shape for g in grads] == [(2, 3), (3,)]


def test_super_call_subclasses_train_with_the_right_gradients():
    model = minikeras.Sequential(
        [
            minikeras.Input((6, 2)),
            ReluPlusOneConv1D(3, 3),
            layers.Flatten(),
            ScaledDense(4, activation="tanh"),
            ScaledDense(2),
        ]
    )
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 2))
    testing.check_gradients(model, x, y, loss="mse", tolerance=1e-6, verbose=False)


def test_a_builtin_call_outside_a_tape_is_the_call_itself():
    layer = layers.Dense(2)
    x = np.ones((1, 3), "float32")
    y = np.array(layer(x))
    assert np.allclose(layer.call(x), y)
