"""utils.timeseries_dataset_from_array against Keras's (tf.data, unshuffled): the same windows,
targets and batches for strides, sampling rates, start/end indices and batch sizes; Keras's
errors for bad arguments. Windows are copies of integers: compared exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras
from minikeras.utils import timeseries_dataset_from_array


def batches(dataset):
    return [
        tuple(np.asarray(p) for p in b) if isinstance(b, tuple) else (np.asarray(b),)
        for b in dataset
    ]


@settings(max_examples=12, deadline=None)
@given(
    length=st.integers(12, 40),
    sequence_length=st.integers(1, 5),
    sequence_stride=st.integers(1, 4),
    sampling_rate=st.integers(1, 3),
    batch_size=st.sampled_from([None, 1, 3, 7]),
    with_targets=st.booleans(),
    start_index=st.sampled_from([None, 0, 2]),
    end_index=st.sampled_from([None, 11]),
)
def test_windows_as_keras(
    keras,
    length,
    sequence_length,
    sequence_stride,
    sampling_rate,
    batch_size,
    with_targets,
    start_index,
    end_index,
):
    data = np.arange(length * 2).reshape(length, 2)
    targets = np.arange(length) * 10 if with_targets else None
    args = dict(
        sequence_length=sequence_length,
        sequence_stride=sequence_stride,
        sampling_rate=sampling_rate,
        batch_size=batch_size,
        start_index=start_index,
        end_index=end_index,
    )
    theirs = batches(keras.utils.timeseries_dataset_from_array(data, targets, **args))
    ours = batches(timeseries_dataset_from_array(data, targets, **args))
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        assert len(mine) == len(reference)
        for a, b in zip(mine, reference):
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_index": -1},
        {"start_index": 30},
        {"start_index": 5, "end_index": 3},
        {"end_index": 30},
        {"sampling_rate": 0},
        {"sequence_stride": 0},
        {"sequence_stride": 30},
        {"format": "torch"},
    ],
)
def test_bad_arguments_as_keras(keras, kwargs):
    data = np.arange(20)
    with pytest.raises(ValueError) as theirs:
        keras.utils.timeseries_dataset_from_array(data, None, sequence_length=3, **kwargs)
    with pytest.raises(ValueError) as ours:
        timeseries_dataset_from_array(data, None, sequence_length=3, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_shuffle_draws_a_permutation_of_the_windows():
    data = np.arange(30)
    plain = timeseries_dataset_from_array(data, data, sequence_length=4, batch_size=None)
    mixed = timeseries_dataset_from_array(
        data, data, sequence_length=4, batch_size=None, shuffle=True, seed=3
    )
    order = [int(x[0]) for x, _ in mixed]
    assert sorted(order) == [int(x[0]) for x, _ in plain]
    assert order != sorted(order)
    assert [int(y) for _, y in mixed] == order  # each target stays with its window


def test_fit_reads_the_windows():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(64, 2)).astype("float32")
    windows = timeseries_dataset_from_array(series, series[4:, 0], sequence_length=4, batch_size=8)
    model = minikeras.Sequential(
        [minikeras.Input((4, 2)), minikeras.layers.Flatten(), minikeras.layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    history = model.fit(windows, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(windows, verbose=0).shape == (60, 1)
