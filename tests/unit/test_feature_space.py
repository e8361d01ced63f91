"""FeatureSpace on its own: the encoded vector worked by hand on a small table, its dict and
int outputs, the checks and messages of bad arguments, and its `.keras` file read back."""

import numpy as np
import pytest

import minikeras as mk
from minikeras.utils import FeatureSpace

TABLE = {
    "x": [0.0, 1.0, 2.0, 3.0],
    "n": [7, 5, 7, 7],
    "s": ["b", "a", "b", "c"],
}


def adapted(**kwargs):
    fs = FeatureSpace(
        {"x": "float_normalized", "n": "integer_categorical", "s": "string_categorical"},
        **kwargs,
    )
    fs.adapt(TABLE)
    return fs


def test_the_encoded_vector_worked_by_hand():
    """Sorted names n, s, x. n: vocabulary [OOV, 7, 5] (by frequency); s: [OOV, b, c, a] (b
    twice, then the ties in reverse order, as Keras's adapt gives them); x: (x − 1.5)/√1.25."""
    out = adapted()(TABLE)
    x = (np.array(TABLE["x"]) - 1.5) / np.sqrt(1.25)
    expected = np.array(
        [
            [0, 1, 0, 0, 1, 0, 0, x[0]],
            [0, 0, 1, 0, 0, 0, 1, x[1]],
            [0, 1, 0, 0, 1, 0, 0, x[2]],
            [0, 1, 0, 0, 0, 1, 0, x[3]],
        ],
        dtype="float32",
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)  # float32 rounding of x
    # one row (scalars) in, one vector out; an unseen value goes to the OOV index
    one = adapted()({"x": 1.5, "n": 9, "s": "z"})
    np.testing.assert_allclose(one, [1, 0, 0, 1, 0, 0, 0, 0], atol=1e-6)


def test_dict_and_int_outputs():
    fs = FeatureSpace(
        {
            "n": FeatureSpace.integer_categorical(output_mode="int"),
            "s": FeatureSpace.string_hashed(num_bins=8),
        },
        crosses=[FeatureSpace.cross(("n", "s"), crossing_dim=4, output_mode="int")],
        output_mode="dict",
    )
    table = {"n": TABLE["n"], "s": TABLE["s"]}
    fs.adapt(table)
    out = fs(table)
    assert sorted(out) == ["n", "n_X_s", "s"]
    np.testing.assert_array_equal(out["n"], [[1], [2], [1], [1]])  # indices of [OOV, 7, 5]
    assert out["s"].shape == (4, 8) and out["s"].sum() == 4  # one bin a row
    assert out["n_X_s"].shape == (4, 1) and out["n_X_s"].dtype.kind == "i"
    assert ((0 <= out["n_X_s"]) & (out["n_X_s"] < 4)).all()
    one = fs({"n": 5, "s": "a"})
    assert one["n"].shape == (1,) and one["s"].shape == (8,)


def test_features_that_need_no_adapt():
    fs = FeatureSpace(
        {
            "x": FeatureSpace.feature(
                dtype="float32",
                preprocessor=mk.layers.Normalization(mean=2.0, variance=4.0),
                output_mode="float",
            ),
            "y": FeatureSpace.float_rescaled(scale=2.0, offset=1.0),
            "z": "float",
        }
    )
    out = fs({"x": [0.0, 4.0], "y": [1.0, 2.0], "z": [5.0, 6.0]})
    np.testing.assert_allclose(out, [[-1.0, 3.0, 5.0], [1.0, 5.0, 6.0]])


def test_bad_arguments_raise_keras_s_errors():
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    two = {"a": "integer_categorical", "b": "integer_categorical"}
    with pytest.raises(ValueError, match="`crossing_dim`"):
        FeatureSpace(two, crosses=[("a", "b")], crossing_dim=None)
    with pytest.raises(ValueError, match="should be present in .*'c'"):
        FeatureSpace(two, crosses=[("a", "c")])
    with pytest.raises(ValueError, match="for argument `output_mode`"):
        FeatureSpace(two, output_mode="stacked")
    with pytest.raises(ValueError, match="Invalid feature type: integer"):
        FeatureSpace({"a": "integer"})
    with pytest.raises(ValueError, match="Expected one of {'int', 'one_hot'}"):
        FeatureSpace.cross(("a", "b"), crossing_dim=4, output_mode="float")
    with pytest.raises(ValueError, match="You need to call `.adapt"):
        FeatureSpace(two)({"a": [0], "b": [0]})
    with pytest.raises(ValueError, match="You need to call `.adapt"):
        FeatureSpace(two).get_encoded_features()
    with pytest.raises(ValueError, match="can only be called on a tf.data.Dataset or a dict"):
        FeatureSpace(two).adapt([[0, 1]])
    with pytest.raises(ValueError, match="can only be called with a dict"):
        adapted()([1.0, 2.0])
    with pytest.raises(KeyError, match=r"columns \['n', 's', 'x'\]; the dict given has \['n'\]"):
        adapted()({"n": [7]})
    float_one_hot = FeatureSpace(
        {"a": FeatureSpace.feature("float32", mk.layers.Rescaling(1.0), "one_hot")}
    )
    with pytest.raises(ValueError, match="should return an integer dtype"):
        float_one_hot.get_encoded_features()
    ints_in_concat = FeatureSpace({"a": FeatureSpace.integer_hashed(4, output_mode="int")})
    with pytest.raises(ValueError, match="Cannot concatenate features because feature 'a'"):
        ints_in_concat.get_encoded_features()


def test_a_keras_file_reads_back_adapted(tmp_path):
    fs = adapted(crosses=[("n", "s")], crossing_dim=8)
    fs.save(tmp_path / "fs.keras")
    again = mk.models.load_model(tmp_path / "fs.keras")
    assert isinstance(again, FeatureSpace) and again.get_config() == fs.get_config()
    np.testing.assert_array_equal(again(TABLE), fs(TABLE))
