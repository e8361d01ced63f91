"""Keras's `TorchDataLoaderAdapter`: a torch `DataLoader`'s batches, as `fit` reads them (the
`IterableAdapter` of `trainers/data_adapters/__init__.py`)."""

from minikeras.trainers.data_adapters import IterableAdapter, _as_given, is_torch_dataloader


class TorchDataLoaderAdapter(IterableAdapter):
    """The batches of a DataLoader, each tensor as a NumPy array. Its number of batches is
    known when its dataset has a length."""

    def __init__(self, dataloader):
        if not is_torch_dataloader(dataloader):
            raise ValueError(
                "Expected argument `dataloader` to be an instance of"
                f"`torch.utils.data.DataLoader`. Received: {dataloader}"
            )
        count = len(dataloader) if hasattr(dataloader.dataset, "__len__") else None
        super().__init__(dataloader, count, None, _as_given)
        self.batch_size = dataloader.batch_size

    @property
    def has_partial_batch(self):
        n = len(self.dataset.dataset) if hasattr(self.dataset.dataset, "__len__") else None
        if n is None or self.batch_size is None:
            return None
        return n % self.batch_size != 0

    @property
    def partial_batch_size(self):
        n = len(self.dataset.dataset) if hasattr(self.dataset.dataset, "__len__") else None
        if n is None or self.batch_size is None:
            return None
        return n % self.batch_size or None
