"""AdamW: Adam with decoupled weight decay on by default."""

from minikeras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam whose `weight_decay` defaults to 0.004 and must be a number. The decay is the base
    optimizer's decoupled one, applied before the Adam step: w ← w − w·wd·lr.

    >>> from minikeras.optimizers import AdamW
    >>> AdamW().get_config()["weight_decay"]
    0.004
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
