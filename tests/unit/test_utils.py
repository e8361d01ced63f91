"""Utilities: to_categorical as Keras (and the tutorial's Keras 2 spelling), seeding, names,
and the batching helpers of the training loop."""

import random

import numpy as np
import pytest

from minikeras import utils
from minikeras.layers import Dense
from minikeras.utils import batching, to_categorical


def test_labels_of_shape_n_by_1_become_one_hot_rows():
    # the tutorial: np.random.randint(10, size=(1000, 1)) → (1000, 10), as Keras
    labels = np.random.default_rng(0).integers(10, size=(1000, 1))
    one_hot = to_categorical(labels, 10)
    assert one_hot.shape == (1000, 10) and one_hot.dtype == np.float64  # Keras: float64
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(one_hot, axis=1), labels[:, 0])


def test_to_categorical_values_and_shapes():
    np.testing.assert_array_equal(to_categorical([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    # without num_classes: max + 1 classes
    np.testing.assert_array_equal(to_categorical([0, 2]), [[1, 0, 0], [0, 0, 1]])
    assert to_categorical(np.array([[0, 1], [2, 0]])).shape == (2, 2, 3)  # keeps other axes
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 2.0]), 3), [[0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(to_categorical(np.array(2), 3), [0, 0, 1])


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 5], r"\[0, 3\).*max 5"),  # Keras: an IndexError from NumPy
        ([-1, 0], r"\[0, 3\).*min -1"),  # Keras: silently wraps to the last class
        ([0.5, 1.0], "integer class ids"),  # Keras: silently truncates
    ],
)
def test_to_categorical_rejects_what_keras_silently_mangles(labels, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(np.array(labels), 3)


def test_the_tutorial_keras_2_spelling_works():
    from minikeras.utils import np_utils
    from minikeras.utils.np_utils import to_categorical as np_utils_to_categorical

    assert np_utils.to_categorical is to_categorical
    assert np_utils_to_categorical is to_categorical
    assert utils.np_utils.to_categorical([1], 2).tolist() == [[0.0, 1.0]]


def test_set_random_seed_seeds_python_and_numpy_too():
    utils.set_random_seed(11)
    first = (random.random(), np.random.random(), Dense(2)(np.ones((1, 3))))
    utils.set_random_seed(11)
    second = (random.random(), np.random.random(), Dense(2)(np.ones((1, 3))))
    assert first[:2] == second[:2]
    np.testing.assert_array_equal(first[2], second[2])


@pytest.mark.parametrize("seed", [1.5, "1", None, True])
def test_set_random_seed_wants_an_int(seed):
    with pytest.raises(ValueError, match="seed"):
        utils.set_random_seed(seed)


def test_clear_session_restarts_layer_names():
    assert Dense(1).name == "dense" and Dense(1).name == "dense_1"
    utils.clear_session()
    assert Dense(1).name == "dense"


def test_utils_exports():
    for name in ("to_categorical", "np_utils", "set_random_seed", "Progbar", "clear_session"):
        assert hasattr(utils, name)


# ------------------------------------------------------------------ batching
def test_validation_split_cuts_at_floor_of_n_times_one_minus_split():
    x, y = np.arange(10), np.arange(10) * 2
    (xt, yt, wt), (xv, yv, wv) = batching.train_validation_split([x, y, None], 0.25)
    # Keras: split_at = floor(10 · 0.75) = 7
    assert xt.tolist() == list(range(7)) and xv.tolist() == [7, 8, 9]
    assert yv.tolist() == [14, 16, 18] and wt is None and wv is None


def test_validation_split_needs_both_parts():
    # floor(1 · 0.5) = 0 training samples: Keras's message
    with pytest.raises(ValueError, match="contains 1 samples, which is not sufficient"):
        batching.train_validation_split([np.arange(1)], 0.5)
    (xt,), (xv,) = batching.train_validation_split([np.arange(3)], 0.1)
    assert len(xt) == 2 and len(xv) == 1  # floor(3 · 0.9) = 2


def test_batches_cover_every_sample_once():
    assert batching.num_batches(1000, 32) == 32
    assert batching.num_batches(64, 32) == 2 and batching.num_batches(65, 32) == 3
    slices = list(batching.batch_slices(70, 32))
    assert slices == [(0, 32), (32, 64), (64, 70)]
    order = batching.epoch_order(50, True, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(50)) and order.tolist() != list(range(50))
    assert batching.epoch_order(5, False, None).tolist() == [0, 1, 2, 3, 4]
