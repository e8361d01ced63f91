"""Generators and PyDatasets in fit, evaluate and predict, without Keras: the order batches
arrive in (workers read ahead but hand out in order), the dataset's hooks, and the errors."""

import threading
import time
import warnings

import numpy as np
import pytest

import minikeras
from minikeras.trainers.data_adapters import ordered_prefetch
from minikeras.utils import PyDataset

X = np.linspace(-1, 1, 24).reshape(8, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)


def model():
    m = minikeras.Sequential([minikeras.layers.Input((3,)), minikeras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    return m


class Slow(PyDataset):
    """Batch i after a delay that shrinks with i: read in parallel, later batches finish first."""

    def __init__(self, count=4, **kwargs):
        super().__init__(**kwargs)
        self.count = count
        self.threads = set()

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        self.threads.add(threading.get_ident())
        time.sleep(0.02 * (self.count - i))
        return X[2 * i : 2 * i + 2], Y[2 * i : 2 * i + 2]


def test_prefetch_hands_batches_out_in_order():
    order = list(
        ordered_prefetch(lambda i: (time.sleep(0.01 * (5 - i)), i)[1], range(6), 3, 2, False)
    )
    assert order == list(range(6))


def test_workers_read_in_threads_and_train_as_one_worker_does():
    one, several = model(), model()
    several.set_weights(one.get_weights())
    h_one = one.fit(Slow(), epochs=2, shuffle=False, verbose=0)
    data = Slow(workers=3, max_queue_size=3)
    h_several = several.fit(data, epochs=2, shuffle=False, verbose=0)
    assert len(data.threads) > 1
    assert h_one.history == h_several.history
    for a, b in zip(one.get_weights(), several.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_workers_in_processes():
    data = Slow(workers=2, use_multiprocessing=True)
    out = model().predict(data, verbose=0)
    assert out.shape == (8, 1)


def test_pydataset_without_super_init_warns_and_takes_the_defaults():
    class NoInit(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return X, Y

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoInit().workers == 1


def test_pydataset_batch_may_be_a_list_or_an_array_and_class_weight_applies():
    class Listed(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return [X[4 * i : 4 * i + 4], Y[4 * i : 4 * i + 4]]

    m = model()
    m.fit(Listed(), class_weight={0: 2.0}, shuffle=False, verbose=0)
    assert m.predict(Listed(), verbose=0).shape == (8, 1)


def test_a_pydataset_is_shuffled_by_batch_when_fit_shuffles():
    class Seen(Slow):
        def __getitem__(self, i):
            self.seen.append(i)
            return X[2 * i : 2 * i + 2], Y[2 * i : 2 * i + 2]

    data = Seen(count=4)
    data.seen = []
    minikeras.utils.set_random_seed(3)
    model().fit(data, epochs=3, verbose=0)
    epochs = [data.seen[i : i + 4] for i in range(0, 12, 4)]
    assert all(sorted(e) == [0, 1, 2, 3] for e in epochs)
    assert any(e != [0, 1, 2, 3] for e in epochs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y=Y), "When providing `x` as a generator, `y` should not be passed"),
        (dict(sample_weight=np.ones(8)), "`sample_weights` should not be passed"),
        (dict(class_weight={0: 1.0}), "`class_weight` is not supported for Python generator"),
        (dict(validation_split=0.5), "`validation_split` is only supported for tensors"),
        (dict(steps_per_epoch=0), "`steps_per_epoch` must be a positive integer"),
    ],
)
def test_generator_arguments_it_cannot_take(kwargs, message):
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit((b for b in [(X, Y)]), verbose=0, **kwargs)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "batches, message",
    [
        ([], "the generator must yield at least one batch"),
        ([X], "the generator must return a tuple"),
    ],
)
def test_generators_that_yield_nothing_or_no_tuple(batches, message):
    m = model()
    with pytest.raises(ValueError, match=message):
        m.fit((b for b in batches), verbose=0, shuffle=False)


def test_a_generator_that_runs_out_warns_and_keeps_the_steps_done():
    m = model()
    with pytest.warns(UserWarning, match="Your input ran out of data; interrupting training"):
        history = m.fit(
            ((X[i : i + 2], Y[i : i + 2]) for i in range(0, 8, 2)),
            steps_per_epoch=6,
            shuffle=False,
            verbose=0,
        )
    assert int(m.optimizer.iterations) == 4
    assert history.params["steps"] == 6
