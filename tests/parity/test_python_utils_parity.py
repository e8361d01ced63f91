"""minikeras.utils.python_utils beside Keras's: the same answers, and a function written by
one read back by the other (the same base64-of-marshal text)."""

import pytest

from minikeras.utils import python_utils


@pytest.mark.parametrize("axis", [1, [1], [1, 2, 3], [3, 2, 1], [-2, -1], [1, 3], [1, 2, 4], []])
def test_is_continuous_axis(keras, axis):
    expected = keras.src.utils.python_utils.is_continuous_axis(axis)
    assert python_utils.is_continuous_axis(axis) == expected


def test_string_and_sequence_helpers(keras):
    theirs = keras.src.utils.python_utils
    for x, affix in [("model_weights", "model_"), ("model_weights", ""), ("abc", "abcd")]:
        assert python_utils.removeprefix(x, affix) == theirs.removeprefix(x, affix)
    for x, affix in [("model.keras", ".keras"), ("model.keras", ""), ("a", "ba")]:
        assert python_utils.removesuffix(x, affix) == theirs.removesuffix(x, affix)
    seq, label = [[1, 2], [1, 2, 3, 4], [5], [6, 7, 8]], [0, 1, 2, 3]
    assert python_utils.remove_long_seq(3, seq, label) == theirs.remove_long_seq(3, seq, label)
    assert python_utils.to_list(3) == theirs.to_list(3) == [3]


def test_functions_cross_between_the_two(keras):
    theirs = keras.src.utils.python_utils
    offset = 10

    def shifted(x, scale=2):
        return x * scale + offset

    assert theirs.func_load(python_utils.func_dump(shifted))(3) == 16
    assert python_utils.func_load(theirs.func_dump(shifted))(3, scale=1) == 13
    assert python_utils.func_dump(shifted) == theirs.func_dump(shifted)


def test_func_load_of_text_that_is_no_bytecode(keras):
    with pytest.raises(AttributeError):
        keras.src.utils.python_utils.func_load("This isn't valid base64!")
    with pytest.raises(AttributeError):
        python_utils.func_load("This isn't valid base64!")
