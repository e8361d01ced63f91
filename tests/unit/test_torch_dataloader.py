"""A torch `DataLoader` is read as Keras reads it (`TorchDataLoaderAdapter`): its own batches,
`len(loader)` steps an epoch, each tensor through `__array__`. torch is not a test dependency
(its CPU wheel alone is hundreds of MB), so a stand-in with the same class name and module
takes its place: minikeras, like Keras, recognises a DataLoader by exactly those."""

import numpy as np
import pytest

import minikeras

X = np.linspace(-1, 1, 30).reshape(10, 3)
Y = X @ np.array([[0.5], [-1.0], [2.0]]) + 0.25


class DataLoader:
    """What fit asks of a torch DataLoader: `dataset`, `len()` and iteration over batches."""

    def __init__(self, x, y, batch_size):
        self.dataset = list(zip(x, y))
        self.x, self.y, self.batch_size = x, y, batch_size
        self.passes = 0

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        self.passes += 1
        for start in range(0, len(self.x), self.batch_size):
            stop = start + self.batch_size
            yield [self.x[start:stop], self.y[start:stop]]  # torch collates into a list


DataLoader.__module__ = "torch.utils.data.dataloader"


def model():
    minikeras.utils.set_random_seed(0)
    m = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    return m


def test_fit_reads_each_batch_of_a_dataloader_at_every_epoch():
    loader = DataLoader(X, Y, batch_size=4)
    ours, reference = model(), model()
    history = ours.fit(loader, epochs=2, shuffle=False, verbose=0)
    # the same batches as arrays fit in order, batch_size 4: the same steps
    reference.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert history.params["steps"] == 3 and loader.passes == 2
    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_dataloader_refuses_class_weight_as_keras_does():
    with pytest.raises(ValueError, match="`class_weight` is not supported for torch DataLoader"):
        model().fit(DataLoader(X, Y, 4), class_weight={0: 1.0}, verbose=0)


def test_keras_s_adapter_class_reads_the_loader():
    """`TorchDataLoaderAdapter` under Keras's module name: 11 samples in batches of 4 are three
    batches, the last a partial one of 3, each the loader's own batch."""
    from minikeras.trainers.data_adapters.torch_data_loader_adapter import (
        TorchDataLoaderAdapter,
    )

    x = np.arange(22.0).reshape(11, 2)
    loader = DataLoader(x, x[:, :1], 4)
    adapter = TorchDataLoaderAdapter(loader)
    facts = (adapter.num_batches, adapter.batch_size)
    assert facts + (adapter.has_partial_batch, adapter.partial_batch_size) == (3, 4, True, 3)
    got = list(adapter.get_numpy_iterator())
    assert len(got) == 3
    for i, batch in enumerate(got):
        np.testing.assert_array_equal(batch[0], x[4 * i : 4 * i + 4])
        np.testing.assert_array_equal(batch[1], x[4 * i : 4 * i + 4, :1])
    with pytest.raises(ValueError, match="Expected argument `dataloader` to be an instance of"):
        TorchDataLoaderAdapter([x])
