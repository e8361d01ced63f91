"""Parity cases: a model, its data and its training run, described by plain values.

A `Case` holds only numbers and names, so it prints as a reproducer and round-trips through JSON;
`build(case)` turns it into a compiled minikeras model and its data. The fixed cases of
`python -m minikeras parity` are listed in `named_cases()`; `random_case(rng)` draws others from
the same tables the hypothesis strategies of the test suite draw from.
"""

import dataclasses
import json

import numpy as np

# Every activation minikeras and Keras share ('swish' is silu's other name).
ACTIVATIONS = (
    "relu",
    "softmax",
    "sigmoid",
    "tanh",
    "linear",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "gelu",
    "leaky_relu",
)
# Each loss, with the output activations whose values it accepts. Crossentropies need positive
# outputs: after softmax or sigmoid Keras's fit starts from the logits; softplus (categorical)
# goes through the renormalised, clipped probabilities. `from_logits=True` takes any output.
LOSS_OUTPUTS = {
    "categorical_crossentropy": ("softmax", "sigmoid", "softplus"),
    "sparse_categorical_crossentropy": ("softmax", "sigmoid"),
    "binary_crossentropy": ("sigmoid", "softmax"),
    "mean_squared_error": ACTIVATIONS,
    "mean_absolute_error": ACTIVATIONS,
}
CROSSENTROPIES = tuple(name for name in LOSS_OUTPUTS if name.endswith("crossentropy"))
OPTIMIZERS = ("sgd", "rmsprop", "adam")
COMPONENTS = ("forward", "loss", "gradients", "optimizer", "fit")
# a functional model's case: the loss component is left out (it checks the loss functions on
# arrays, which the Sequential cases cover whatever the model)
GRAPH_COMPONENTS = ("forward", "gradients", "optimizer", "fit")
GRAPHS = ("two inputs, shared Dense",)


@dataclasses.dataclass
class Case:
    """One parity case. `layers` lists {"units", "activation", "use_bias"} for a Dense layer,
    {"activation"} alone for an Activation layer, or any layer as Keras describes it,
    {"class_name": "Conv1D", "config": {...}} (so a new layer needs no code here); `loss` and
    `optimizer` are a name plus Keras's keyword arguments. `input_shape` (without the batch
    axis) replaces `input_dim` for inputs of several axes. `graph` names a functional
    architecture (one of GRAPHS) that the layers are placed in; "" for a Sequential stack."""

    name: str
    input_dim: int
    layers: list
    loss: str
    optimizer: str
    loss_args: dict = dataclasses.field(default_factory=dict)
    optimizer_args: dict = dataclasses.field(default_factory=dict)
    n: int = 64  # training samples
    batch_size: int = 32
    epochs: int = 1
    validation_split: float = 0.0
    validation_n: int = 0  # > 0: a separate `validation_data` of this many samples
    sample_weight: bool = False
    x_scale: float = 1.0  # inputs uniform in [−x_scale, x_scale]
    optimizer_steps: int = 3  # the k of the k-step optimizer check
    seed: int = 0
    dtype: str = "float32"
    components: tuple = COMPONENTS
    graph: str = ""
    input_shape: list = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Case":
        values = json.loads(text)
        values["components"] = tuple(values.get("components", COMPONENTS))
        return cls(**values)

    @property
    def output_units(self) -> int:
        units = [
            layer.get("units", layer.get("config", {}).get("units"))
            for layer in self.layers
            if "units" in layer or "units" in layer.get("config", {})
        ]
        return units[-1]

    @property
    def input_axes(self) -> tuple:
        return tuple(self.input_shape) if self.input_shape else (self.input_dim,)

    @property
    def metrics(self) -> list:
        if self.loss in CROSSENTROPIES:
            return ["accuracy"]
        # the regression loss itself as the metric: one that the training minimises, so that it
        # does not depend on weight entries whose float32 value is ill-determined (see
        # parity/conditioning.py)
        return ["mae"] if self.loss == "mean_absolute_error" else ["mse"]


def build(case: Case):
    """(model, data): the compiled minikeras model, weights drawn from the case's seed, and
    data = {"x", "y", "sample_weight", "validation_data"} in the case's dtype.

    Call it with minikeras's floatx set to `case.dtype` (`keras_env.floatx` sets both).
    """
    from minikeras import layers as mk_layers
    from minikeras import losses
    from minikeras.models import Sequential
    from minikeras.utils import set_random_seed

    set_random_seed(case.seed)
    if case.graph:
        model = _graph_model(case)
    else:
        model = Sequential([mk_layers.Input(shape=case.input_axes)])
        for spec in case.layers:
            model.add(_layer(spec))
    rng = np.random.default_rng(case.seed)
    # Glorot-uniform kernels from minikeras; biases drawn too, so that they matter from step 1
    model.set_weights(
        [w if w.ndim > 1 else rng.uniform(-0.1, 0.1, w.shape) for w in model.get_weights()]
    )
    loss = {"class_name": _loss_class(case.loss), "config": case.loss_args}
    model.compile(
        optimizer={"class_name": _optimizer_class(case.optimizer), "config": case.optimizer_args},
        # a functional model reads a dict as one loss per output name: give it the Loss itself
        loss=losses.get(loss) if case.graph else loss,
        metrics=case.metrics,
    )
    x, y = _draw_data(case, rng, case.n)
    if case.graph:  # two inputs of the same shape
        x = [x, _draw_data(case, rng, case.n)[0]]
    data = {"x": x, "y": y, "sample_weight": None, "validation_data": None}
    if case.sample_weight:
        data["sample_weight"] = rng.uniform(0.0, 2.0, case.n).astype(case.dtype)
    if case.validation_n:
        vx, vy = _draw_data(case, rng, case.validation_n)
        vsw = rng.uniform(0.0, 2.0, case.validation_n).astype(case.dtype)
        data["validation_data"] = (vx, vy, vsw) if case.sample_weight else (vx, vy)
    return model, data


def _layer(spec, name=None):
    """The minikeras layer of one entry of `Case.layers`."""
    from minikeras import layers as mk_layers

    if "class_name" in spec:  # any layer, from its Keras config
        config = dict(spec["config"], **({"name": name} if name else {}))
        return mk_layers.deserialize({"class_name": spec["class_name"], "config": config})
    if "units" in spec:
        return mk_layers.Dense(
            spec["units"],
            activation=spec.get("activation"),
            use_bias=spec.get("use_bias", True),
            name=name,
        )
    return mk_layers.Activation(spec["activation"], name=name)


def _graph_model(case):
    """The functional model `case.graph` names, made of `case.layers`.

    "two inputs, shared Dense": inputs in_a and in_b (both `input_dim` wide) through the first
    layer, shared (one set of weights, called twice), concatenated, then the other layers."""
    from minikeras import layers as mk_layers
    from minikeras.models import Model

    if case.graph != GRAPHS[0]:
        raise ValueError(f"unknown graph {case.graph!r}; known: {GRAPHS}")
    a = mk_layers.Input(shape=(case.input_dim,), name="in_a")
    b = mk_layers.Input(shape=(case.input_dim,), name="in_b")
    shared = _layer(case.layers[0], name="shared")
    h = mk_layers.Concatenate(name="joined")([shared(a), shared(b)])
    for spec in case.layers[1:]:
        h = _layer(spec)(h)
    return Model([a, b], h, name="two_inputs")


def _draw_data(case, rng, n):
    x = rng.uniform(-case.x_scale, case.x_scale, (n, *case.input_axes)).astype(case.dtype)
    units = case.output_units
    if case.loss == "categorical_crossentropy":
        y = np.eye(units, dtype=case.dtype)[rng.integers(0, units, n)]
    elif case.loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, units, n).astype(case.dtype)
    elif case.loss == "binary_crossentropy":
        y = rng.integers(0, 2, (n, units)).astype(case.dtype)
    else:
        y = rng.normal(0.0, 1.0, (n, units)).astype(case.dtype)
    return x, y


def _loss_class(name):
    from minikeras import losses

    return type(losses.to_loss(name)).__name__


def _optimizer_class(name):
    from minikeras import optimizers

    return type(optimizers.get(name)).__name__


# ----------------------------------------------------------------------------- the named cases
def _dense(units, activation=None, use_bias=True):
    return {"units": units, "activation": activation or "linear", "use_bias": use_bias}


def named_cases(dtype: str = "float32") -> list:
    """The fixed cases of `python -m minikeras parity`: the tutorial model, every activation,
    every loss (with from_logits and label smoothing), every optimizer, ragged batches,
    validation split and validation data, sample weights, a saturated softmax."""
    cases = []

    def add(name, layers, loss="categorical_crossentropy", optimizer="rmsprop", **kwargs):
        cases.append(Case(name=name, layers=layers, loss=loss, optimizer=optimizer, **kwargs))

    add(
        "tutorial 784-64-10",
        [_dense(64, "relu"), _dense(10, "softmax")],
        input_dim=784,
        n=250,
        epochs=2,
        validation_split=0.2,
        x_scale=1.0,
    )
    # every activation in a hidden layer (and as its own Activation layer for one of them)
    for activation in ACTIVATIONS:
        add(
            f"activation {activation}",
            [_dense(7, activation), _dense(3, "softmax")],
            input_dim=5,
            n=24,
            batch_size=10,
            x_scale=3.0,
        )
    add(
        "Activation layers",
        [_dense(6), {"activation": "tanh"}, _dense(4), {"activation": "softmax"}],
        input_dim=5,
        n=20,
        batch_size=8,
    )
    # every loss with the outputs it fits, and its options
    for loss, outputs in LOSS_OUTPUTS.items():
        for output in outputs if loss in CROSSENTROPIES else ("linear", "tanh"):
            add(
                f"loss {loss} after {output}",
                [_dense(8, "tanh"), _dense(1 if loss == "binary_crossentropy" else 4, output)],
                loss=loss,
                input_dim=6,
                n=30,
                batch_size=16,
                x_scale=2.0,
            )
    for loss in CROSSENTROPIES:
        add(
            f"loss {loss} from_logits",
            [_dense(8, "relu"), _dense(3, "linear")],
            loss=loss,
            loss_args={"from_logits": True},
            input_dim=6,
            n=30,
            batch_size=16,
        )
    for loss in ("categorical_crossentropy", "binary_crossentropy"):
        add(
            f"loss {loss} label_smoothing=0.1",
            [_dense(8, "relu"), _dense(3, "softmax" if loss[0] == "c" else "sigmoid")],
            loss=loss,
            loss_args={"label_smoothing": 0.1},
            input_dim=6,
            n=30,
            batch_size=16,
        )
    add(
        "saturated softmax (logits path vs clipped)",
        [_dense(3, "softmax")],
        input_dim=4,
        n=16,
        batch_size=8,
        x_scale=10.0,
        optimizer="sgd",
        optimizer_args={"learning_rate": 1e-3},
    )
    # every optimizer with its options
    for optimizer, args in (
        ("sgd", {}),
        ("sgd", {"learning_rate": 0.05, "momentum": 0.9}),
        ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        ("rmsprop", {}),
        ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
        ("adam", {}),
        ("adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "amsgrad": True}),
        ("adam", {"learning_rate": 0.01, "clipnorm": 0.1, "weight_decay": 0.01}),
        ("sgd", {"learning_rate": 0.1, "clipvalue": 0.01}),
        ("rmsprop", {"global_clipnorm": 0.5}),
    ):
        options = " ".join(k if v is True else f"{k}={v}" for k, v in args.items())
        options = options.replace("learning_rate", "lr")
        add(
            f"optimizer {optimizer} {options}".strip(),
            [_dense(8, "relu"), _dense(3, "softmax")],
            optimizer=optimizer,
            optimizer_args=args,
            input_dim=5,
            n=40,
            batch_size=16,
            epochs=2,
            optimizer_steps=5,
        )
    # a functional model: two inputs through one shared Dense (its gradient summed over both
    # calls), concatenated
    add(
        "functional: two inputs, shared Dense",
        [_dense(6, "tanh"), _dense(3, "softmax")],
        optimizer="adam",
        optimizer_args={"learning_rate": 0.01},
        input_dim=4,
        n=40,
        batch_size=16,
        epochs=2,
        graph=GRAPHS[0],
        components=GRAPH_COMPONENTS,
    )
    add(
        "ragged batches, 3 epochs",
        [_dense(9, "elu"), _dense(5, "sigmoid"), _dense(2)],
        loss="mean_squared_error",
        optimizer="adam",
        input_dim=4,
        n=37,
        batch_size=10,
        epochs=3,
    )
    add(
        "validation_split=0.25, sample weights",
        [_dense(6, "tanh"), _dense(3, "softmax")],
        input_dim=4,
        n=41,
        batch_size=8,
        epochs=2,
        validation_split=0.25,
        sample_weight=True,
    )
    add(
        "validation_data, sparse labels",
        [_dense(6, "relu"), _dense(4, "softmax")],
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        input_dim=4,
        n=33,
        batch_size=8,
        epochs=2,
        validation_n=11,
        sample_weight=True,
    )
    add(
        "layers by config: Conv1D, pooling, LSTM, BatchNormalization",
        [
            {"class_name": "Conv1D", "config": {"filters": 4, "kernel_size": 3}},
            {"class_name": "MaxPooling1D", "config": {"pool_size": 2}},
            {"class_name": "LSTM", "config": {"units": 5, "return_sequences": True}},
            {"class_name": "BatchNormalization", "config": {}},
            {"class_name": "Flatten", "config": {}},
            _dense(3, "softmax"),
        ],
        optimizer="adam",
        input_dim=0,
        input_shape=[9, 2],
        n=24,
        batch_size=8,
        epochs=2,
    )
    for case in cases:
        case.dtype = dtype
    return cases


# ----------------------------------------------------------------------------- random cases
def random_optimizer(rng) -> tuple:
    """(name, keyword arguments): an optimizer with random valid hyper-parameters."""
    name = OPTIMIZERS[rng.integers(len(OPTIMIZERS))]
    args = {"learning_rate": float(10.0 ** rng.uniform(-4, -1))}
    if name == "sgd":
        if rng.random() < 0.7:
            args["momentum"] = float(rng.uniform(0.0, 0.99))
            args["nesterov"] = bool(rng.random() < 0.5)
    elif name == "rmsprop":
        args["rho"] = float(rng.uniform(0.5, 0.999))
        args["momentum"] = float(rng.choice([0.0, rng.uniform(0.0, 0.99)]))
        args["centered"] = bool(rng.random() < 0.5)
        args["epsilon"] = float(10.0 ** rng.uniform(-8, -5))
    else:
        args["beta_1"] = float(rng.uniform(0.5, 0.99))
        args["beta_2"] = float(rng.uniform(0.9, 0.9999))
        args["amsgrad"] = bool(rng.random() < 0.5)
        args["epsilon"] = float(10.0 ** rng.uniform(-8, -5))
    return name, args


def random_case(rng, dtype: str = "float32", name: str = "random") -> Case:
    """A case drawn with numpy's generator `rng` from the tables above."""
    depth = int(rng.integers(1, 5))
    loss = list(LOSS_OUTPUTS)[rng.integers(len(LOSS_OUTPUTS))]
    loss_args = {}
    if loss in CROSSENTROPIES and rng.random() < 0.25:
        loss_args["from_logits"] = True
        output = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    else:
        outputs = LOSS_OUTPUTS[loss]
        output = outputs[rng.integers(len(outputs))]
    if loss in ("categorical_crossentropy", "binary_crossentropy") and rng.random() < 0.3:
        loss_args["label_smoothing"] = float(rng.uniform(0.0, 0.3))
    layers = [
        _dense(int(rng.integers(1, 65)), ACTIVATIONS[rng.integers(len(ACTIVATIONS))])
        for _ in range(depth - 1)
    ]
    min_units = 2 if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy") else 1
    layers.append(_dense(int(rng.integers(min_units, 11)), output))
    optimizer, optimizer_args = random_optimizer(rng)
    n = int(rng.integers(2, 201))
    split = float(rng.choice([0.0, rng.uniform(0.1, 0.4)])) if n >= 4 else 0.0
    return Case(
        name=name,
        input_dim=int(rng.integers(1, 17)),
        layers=layers,
        loss=loss,
        loss_args=loss_args,
        optimizer=optimizer,
        optimizer_args=optimizer_args,
        n=n,
        batch_size=int(rng.integers(1, n + 1)),
        epochs=int(rng.integers(1, 4)),
        validation_split=split,
        validation_n=0 if split else int(rng.choice([0, rng.integers(1, 30)])),
        sample_weight=bool(rng.random() < 0.3),
        x_scale=float(rng.choice([1.0, 10.0])),
        seed=int(rng.integers(2**31)),
        dtype=dtype,
    )
