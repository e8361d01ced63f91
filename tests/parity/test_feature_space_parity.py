"""FeatureSpace against Keras's: keras.io's heart-disease feature spec (integer and string
categories, a discretized age, normalized measurements, two crosses) adapted on the same
generated table, then the same encoded vectors, eagerly, inside `tf.data.Dataset.map`, from a
functional model of `get_inputs()`/`get_encoded_features()`, and after a `.keras` file goes
from one library to the other.

Tolerance: the one-hot parts (lookups, bins, hashes) are integers encoded: equal. The
normalized columns are (x − mean)/√var in float32, mean and variance summed by each library
in its own order over batches of 32: their float32 roundings differ, a few ulps of values of
order 1; 1e-5 absolute covers them with room (float32's eps is 1.2e-7).
"""

import numpy as np
import pytest

import minikeras as mk

NORMALIZED = ("chol", "oldpeak", "slope", "thalach", "trestbps")


def heart_table(rows=60, seed=0):
    """Columns like the guide's dataframe: int64 and float64 arrays, one string column."""
    rng = np.random.default_rng(seed)
    return {
        "age": rng.integers(29, 78, rows),
        "sex": rng.integers(0, 2, rows),
        "cp": rng.integers(0, 5, rows),
        "trestbps": rng.integers(94, 200, rows),
        "chol": rng.integers(126, 564, rows),
        "fbs": rng.integers(0, 2, rows),
        "restecg": rng.integers(0, 3, rows),
        "thalach": rng.integers(71, 202, rows),
        "exang": rng.integers(0, 2, rows),
        "oldpeak": np.round(rng.uniform(0.0, 6.2, rows), 1),
        "slope": rng.integers(1, 4, rows),
        "ca": rng.integers(0, 4, rows),
        "thal": rng.choice(["normal", "fixed", "reversible"], rows),
    }


def guide_spec(FeatureSpace, customized):
    """The guide's two FeatureSpaces: features by type name, or customized (no OOV index,
    30 age bins, crossing dims 64 and 16)."""
    categorical = ("sex", "cp", "fbs", "restecg", "exang", "ca")
    if not customized:
        features = {name: "integer_categorical" for name in categorical}
        features.update(thal="string_categorical", age="float_discretized")
        features.update({name: "float_normalized" for name in NORMALIZED})
        return FeatureSpace(
            features=features,
            crosses=[("sex", "age"), ("thal", "ca")],
            crossing_dim=32,
            output_mode="concat",
        )
    features = {name: FeatureSpace.integer_categorical(num_oov_indices=0) for name in categorical}
    features["thal"] = FeatureSpace.string_categorical(num_oov_indices=0)
    features["age"] = FeatureSpace.float_discretized(num_bins=30)
    features.update({name: FeatureSpace.float_normalized() for name in NORMALIZED})
    return FeatureSpace(
        features=features,
        crosses=[
            FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
            FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=16),
        ],
        output_mode="concat",
    )


def normalized_columns(feature_space):
    """The column indices of the normalized features in the concatenated vector."""
    columns, start = [], 0
    for name in feature_space._preprocessed_features_names:
        encoder = feature_space.one_hot_encoders.get(name)
        width = encoder.num_tokens if encoder is not None else 1
        if name in NORMALIZED:
            columns.append(start)
        start += width
    return columns


def assert_encoded_alike(ours, theirs, columns):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours[..., columns], theirs[..., columns], rtol=0, atol=1e-5)
    exact = [c for c in range(ours.shape[-1]) if c not in columns]
    np.testing.assert_array_equal(ours[..., exact], theirs[..., exact])


def adapted_pair(keras, customized, table):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(table).batch(32)
    ours = guide_spec(mk.utils.FeatureSpace, customized)
    theirs = guide_spec(keras.utils.FeatureSpace, customized)
    ours.adapt(dataset)
    theirs.adapt(dataset)
    return ours, theirs


@pytest.mark.parametrize("customized", [False, True])
def test_the_guides_feature_space_encodes_as_keras_s(keras, customized):
    table = heart_table()
    ours, theirs = adapted_pair(keras, customized, table)
    columns = normalized_columns(ours)
    assert_encoded_alike(ours(table), theirs(table), columns)
    one_row = {name: values[3] for name, values in table.items()}
    assert_encoded_alike(ours(one_row), theirs(one_row), columns)
    # the guide's inference sample: values Keras never saw in adapt (an age out of range)
    sample = dict(age=90, sex=1, cp=1, trestbps=145, chol=233, fbs=1, restecg=2, thalach=150)
    sample.update(exang=0, oldpeak=2.3, slope=3, ca=0, thal="fixed")
    assert_encoded_alike(ours(sample), theirs(sample), columns)


def test_feature_space_in_dataset_map_and_in_a_model_as_keras_s(keras):
    import tensorflow as tf

    table = heart_table(rows=20, seed=1)
    ours, theirs = adapted_pair(keras, False, table)
    columns = normalized_columns(ours)
    dataset = tf.data.Dataset.from_tensor_slices(table).batch(8)
    ours_mapped = np.concatenate([b.numpy() for b in dataset.map(ours)])
    theirs_mapped = np.concatenate([b.numpy() for b in dataset.map(theirs)])
    assert_encoded_alike(ours_mapped, theirs_mapped, columns)
    # the functional model of the raw columns (the guide's inference model, without its head)
    model = mk.Model(ours.get_inputs(), ours.get_encoded_features())
    assert_encoded_alike(model.predict(table, verbose=0), theirs_mapped, columns)


def file_layout(path):
    """A `.keras` file's members, its weights' groups and datasets (with their shapes), and
    the FeatureSpace's build config."""
    import io
    import json
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as zf:
        found = []
        with h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as h5:
            h5.visititems(lambda name, item: found.append((name, getattr(item, "shape", None))))
        build_config = json.loads(zf.read("config.json"))["build_config"]
        return sorted(zf.namelist()), found, build_config


def test_feature_space_files_go_both_ways(keras, tmp_path):
    table = heart_table(rows=20, seed=2)
    ours, theirs = adapted_pair(keras, True, table)
    columns = normalized_columns(ours)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    # the same members, the same groups and datasets in the weights, the same build config
    assert file_layout(tmp_path / "ours.keras") == file_layout(tmp_path / "theirs.keras")
    read_by_keras = keras.models.load_model(tmp_path / "ours.keras")
    read_by_us = mk.models.load_model(tmp_path / "theirs.keras")
    assert read_by_us.get_config()["features"].keys() == theirs.get_config()["features"].keys()
    assert_encoded_alike(read_by_keras(table), theirs(table), columns)
    assert_encoded_alike(read_by_us(table), theirs(table), columns)
