"""Shapes of nn and math ops on symbolic tensors, and their checks, against Keras's: ops whose
shape Keras gives without looking at the other arguments (psnr, polar, ctc_loss, attention, the
normalizations, the segment reductions) and batch_normalization's check of its statistics."""

import numpy as np
import pytest

from minikeras import ops as mops
from minikeras.backend import KerasTensor

CASES = {
    "psnr": lambda o, T: o.psnr(T((None, 2, 3)), T((None, 5, 6)), max_val=224),
    "polar": lambda o, T: o.polar(T((1, 2)), T((3, 4))),
    "ctc_loss": lambda o, T: o.ctc_loss(
        T((10, 3, 4)), T((10, 3)), T((10,), dtype="int32"), T((10,), dtype="int32")
    ),
    "dot_product_attention": lambda o, T: o.dot_product_attention(
        T((2, 3, 8, 16)), T((2, 4, 6, 16)), T((2, 4, 6, 16))
    ),
    "layer_normalization": lambda o, T: o.layer_normalization(
        T((None, 8, 16)), T((None, 16)), T((None, 16))
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_symbolic_shapes_match_keras(keras, name):
    expected = CASES[name](keras.ops, keras.KerasTensor)
    got = CASES[name](mops, KerasTensor)
    assert (tuple(got.shape), got.dtype) == (tuple(expected.shape), expected.dtype)


@pytest.mark.parametrize("wrong", ["offset", "scale"])
def test_batch_normalization_checks_the_lengths_of_its_statistics(keras, wrong):
    def call(o, T):
        stats = {"offset": T((5,)), "scale": T((5,)), wrong: T((3,))}
        return o.batch_normalization(T((None, 3, 4, 5)), T((5,)), T((5,)), axis=-1, **stats)

    with pytest.raises(ValueError, match=f"`{wrong}` must be a vector of length") as expected:
        call(keras.ops, keras.KerasTensor)
    with pytest.raises(ValueError) as got:
        call(mops, KerasTensor)
    assert str(got.value) == str(expected.value)


SEGMENTS = {
    "unknown rows": lambda o, T: o.segment_sum(T((None, 4)), T((10,), dtype="int32")),
    "given count": lambda o, T: o.segment_max(T((None, 4)), T((10,), dtype="int32"), 5),
    "known rows": lambda o, T: o.segment_sum(T((10, 4)), T((10,), dtype="int32")),
    "vector": lambda o, T: o.segment_min(T((6,)), T((6,), dtype="int32"), num_segments=3),
}


@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_segment_reductions_symbolic_shapes_match_keras(keras, case):
    expected = SEGMENTS[case](keras.ops, keras.KerasTensor)
    got = SEGMENTS[case](mops, KerasTensor)
    assert (tuple(got.shape), got.dtype) == (tuple(expected.shape), expected.dtype)


def test_softmax_over_an_axis_of_size_one_warns_as_keras(keras):
    x = np.array([[1.0]])
    with pytest.warns(UserWarning) as expected:
        keras.ops.softmax(x, axis=1)
    with pytest.warns(UserWarning) as got:
        mops.softmax(x, axis=1)
    assert str(got[0].message) == str(expected[0].message)


def test_layer_normalization_with_rms_scaling_warns_and_scales_as_keras(keras):
    x = np.linspace(-1.0, 2.0, 10).reshape(2, 5)
    gamma = np.linspace(0.5, 1.5, 5)
    with pytest.warns(UserWarning, match="`rms_scaling=True`, which is deprecated"):
        expected = keras.ops.layer_normalization(x, gamma, rms_scaling=True)
    with pytest.warns(UserWarning, match="`rms_scaling=True`, which is deprecated"):
        got = mops.layer_normalization(x, gamma, rms_scaling=True)
    # float64 on both sides: a few roundings of a variance, a root and two products
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-10)
