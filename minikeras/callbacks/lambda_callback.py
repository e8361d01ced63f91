"""LambdaCallback: a callback made of plain functions."""

from minikeras.callbacks.callback import Callback


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook, given by the hook's name.

    `on_epoch_begin`/`on_epoch_end` receive `(epoch, logs)`, `on_train_begin`/`on_train_end`
    `(logs)`, the batch hooks `(batch, logs)`; any other hook can be given by its name too.
    Other keyword arguments become attributes, as Keras's `self.__dict__.update(kwargs)`.

    >>> seen = []
    >>> printer = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["loss"]))
    >>> printer.on_epoch_end(0, {"loss": 0.5})
    >>> seen
    [0.5]
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        for name in kwargs:
            if name.startswith("on_") and not hasattr(Callback, name):
                # Keras would keep a misspelt hook as an attribute that never runs: we say so.
                raise TypeError(f"LambdaCallback got an unknown hook name: {name!r}")
        self.__dict__.update({k: v for k, v in kwargs.items() if not k.startswith("on_")})
        hooks = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
            **{k: v for k, v in kwargs.items() if k.startswith("on_")},
        )
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
