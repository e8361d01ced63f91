"""Hypothesis strategies shared by the whole test suite.

Each group of tests keeps its strategies in its own section below; add a section rather than
changing another one.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# ---------------------------------------------------------------- unit tests of the workflow
# (tests/unit/): small shapes, float64 values in a safe range, inputs kept off the kinks.

# Gradient checks difference every element, so shapes stay small.
batch_sizes = st.integers(1, 4)
feature_sizes = st.integers(1, 5)
class_counts = st.integers(2, 5)


def floats(low=-3.0, high=3.0):
    """Finite float64 values in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def off_kink_floats(gap=0.05, high=3.0):
    """Values at least `gap` from 0: ReLU-like activations have a kink there, where central
    differences straddle two slopes and cannot give the one-sided derivative."""
    return st.one_of(floats(-high, -gap), floats(gap, high))


def arrays(shape, elements=None):
    """float64 arrays of `shape` (a tuple or a strategy of tuples)."""
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats())


def matrices(elements=None):
    """(batch, features) float64 matrices of small random shape."""
    return st.tuples(batch_sizes, feature_sizes).flatmap(lambda shape: arrays(shape, elements))


@st.composite
def one_hot(draw, rows, classes):
    """`rows` one-hot label rows over `classes` classes, float64."""
    labels = draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
    return np.eye(classes)[labels]


@st.composite
def logits_and_labels(draw):
    """(logits z, one-hot labels y): z of shape (batch, classes), y of the same shape."""
    rows, classes = draw(batch_sizes), draw(class_counts)
    z = draw(arrays((rows, classes), floats(-5.0, 5.0)))
    return z, draw(one_hot(rows, classes))


@st.composite
def probabilities_and_labels(draw, low=0.02):
    """(p, y): rows of p positive, summing to 1, every entry ≥ `low`, so no clipping applies;
    y one-hot of the same shape."""
    rows, classes = draw(batch_sizes), draw(class_counts)
    raw = draw(arrays((rows, classes), floats(0.1, 1.0)))
    p = raw / raw.sum(axis=1, keepdims=True)
    p = low + (1 - classes * low) * p  # still sums to 1, every entry ≥ low
    return p, draw(one_hot(rows, classes))


# ---------------------------------------------------------------- kernels (test_kernels.py)
# Kernel tests need large shapes (1..300) in both float dtypes and every memory layout a user
# may hand to `fit`. Hypothesis draws the shape, dtype, layout and a seed; NumPy fills the values
# (drawing 90 000 elements one by one through hypothesis would be slow and no more useful).

# sizes that catch edge cases in blocked loops: 1, primes, powers of two and their neighbours
EDGE_SIZES = (1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 63, 64, 65, 97, 127, 128, 129, 257, 300)
kernel_sizes = st.one_of(st.sampled_from(EDGE_SIZES), st.integers(1, 300))
float_dtypes = st.sampled_from([np.float32, np.float64])
LAYOUTS = ("C", "F", "strided")


def in_layout(values, layout):
    """`values` (a C array) re-laid out: 'C' as is, 'F' in Fortran order, 'strided' as a view
    that skips every other element of a larger array. Same numbers, different memory."""
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in values.shape), dtype=values.dtype)
        view = big[(slice(None, None, 2),) * values.ndim]
        view[...] = values
        return view
    return values


@st.composite
def kernel_arrays(draw, *shapes, scale=None):
    """A tuple of float arrays of `shapes`, one dtype for all, each in a drawn layout (C, Fortran,
    strided), with standard-normal values times a drawn scale. Returns (dtype, arrays)."""
    dtype = draw(float_dtypes)
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0])) if scale is None else scale
    rng = np.random.default_rng(seed)
    arrays_ = []
    for shape in shapes:
        values = (scale * rng.standard_normal(shape)).astype(dtype)
        arrays_.append(in_layout(values, draw(st.sampled_from(LAYOUTS))))
    return dtype, tuple(arrays_)


def matmul_shapes():
    """(m, k, n): the product (m, k)·(k, n)."""
    return st.tuples(kernel_sizes, kernel_sizes, kernel_sizes)


# ---------------------------------------------------------------- merge layers and graphs
# (tests/unit/test_merging.py, tests/unit/test_functional.py)


@st.composite
def merge_inputs(draw, counts, distinct=False):
    """A list of n float64 arrays (n drawn from `counts`) of one small (batch, features) shape.
    With `distinct`, all values differ by at least 0.1: Maximum and Minimum have a kink where
    two inputs tie, which central differences cannot straddle."""
    n = draw(st.sampled_from(counts))
    shape = draw(st.tuples(batch_sizes, feature_sizes))
    if not distinct:
        return [draw(arrays(shape)) for _ in range(n)]
    size = shape[0] * shape[1]
    values = draw(st.permutations(np.arange(n * size) * 0.1 - 1.0))
    return [np.array(values[i * size : (i + 1) * size]).reshape(shape) for i in range(n)]


@st.composite
def dag_recipes(draw, max_steps=6):
    """A small random graph of layers, as a recipe for tests/unit/test_functional.py to build:
    {"inputs": n, "width": w, "steps": [...], "outputs": m}. Every tensor is (batch, w). A step
    is ("dense", source, layer id or None) — a Dense(w, tanh), a new one (None) or one made by an
    earlier step again, which shares it — or ("merge", kind, sources), or ("concat", sources)
    followed by a Dense back to width w. Sources index earlier tensors (inputs first)."""
    n_inputs, width = draw(st.integers(1, 2)), draw(st.integers(2, 3))
    steps, dense_steps = [], []
    for _ in range(draw(st.integers(2, max_steps))):
        n_tensors = n_inputs + len(steps)
        source = st.integers(0, n_tensors - 1)
        kind = draw(st.sampled_from(["dense", "dense", "merge", "concat"]))
        if kind == "dense":
            reuse = st.one_of(st.none(), st.sampled_from(dense_steps)) if dense_steps else st.none()
            shared = draw(reuse)
            if shared is None:
                dense_steps.append(len(steps))
            steps.append(("dense", draw(source), shared))
        else:
            sources = draw(st.lists(source, min_size=2, max_size=3))
            if kind == "merge":
                merge = draw(st.sampled_from(["add", "subtract", "multiply", "average"]))
                sources = sources[:2] if merge == "subtract" else sources
                steps.append(("merge", merge, sources))
            else:
                steps.append(("concat", sources))
    return {"inputs": n_inputs, "width": width, "steps": steps, "outputs": draw(st.integers(1, 2))}


# ---------------------------------------------------------------- parity with Keras (tests/parity/)
# Whole parity cases (minikeras.parity.Case): a model, its loss and optimizer, data and a fit run,
# drawn from the tables of minikeras/parity/cases.py (the same ones `parity --random` uses).


def _parity_tables():
    from minikeras.parity import cases

    return cases


def learning_rates():
    """Learning rates across decades, 1e-4 to 0.1."""
    return st.floats(-4.0, -1.0).map(lambda e: float(10.0**e))


@st.composite
def optimizer_specs(draw, names=("sgd", "rmsprop", "adam")):
    """(name, keyword arguments): an optimizer with random valid hyper-parameters, and
    sometimes gradient clipping or weight decay."""
    name = draw(st.sampled_from(names))
    args = {"learning_rate": draw(learning_rates())}
    unit = st.floats(0.0, 0.99)
    if name == "sgd":
        args["momentum"] = draw(st.one_of(st.just(0.0), unit))
        args["nesterov"] = draw(st.booleans())
    elif name == "rmsprop":
        args["rho"] = draw(st.floats(0.5, 0.999))
        args["momentum"] = draw(st.one_of(st.just(0.0), unit))
        args["centered"] = draw(st.booleans())
        args["epsilon"] = draw(st.sampled_from([1e-7, 1e-6, 1e-4]))
    else:
        args["beta_1"] = draw(st.floats(0.5, 0.99))
        args["beta_2"] = draw(st.floats(0.9, 0.9999))
        args["amsgrad"] = draw(st.booleans())
        args["epsilon"] = draw(st.sampled_from([1e-7, 1e-6, 1e-4]))
    extra = draw(
        st.sampled_from([None, None, None, "clipnorm", "clipvalue", "global_clipnorm", "wd"])
    )
    if extra == "wd":
        args["weight_decay"] = draw(st.floats(1e-4, 0.1))
    elif extra is not None:
        args[extra] = draw(st.floats(0.01, 2.0))
    return name, args


@st.composite
def loss_specs(draw):
    """(loss name, keyword arguments, output activation, output units): each loss with an output
    activation it accepts; crossentropies sometimes from_logits, with label smoothing."""
    cases = _parity_tables()
    loss = draw(st.sampled_from(list(cases.LOSS_OUTPUTS)))
    args = {}
    if loss in cases.CROSSENTROPIES and draw(st.booleans()) and draw(st.booleans()):
        args["from_logits"] = True
        output = draw(st.sampled_from(cases.ACTIVATIONS))
    else:
        output = draw(st.sampled_from(cases.LOSS_OUTPUTS[loss]))
    if loss in ("categorical_crossentropy", "binary_crossentropy") and draw(st.booleans()):
        args["label_smoothing"] = draw(st.floats(0.0, 0.3))
    low = 2 if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy") else 1
    return loss, args, output, draw(st.integers(low, 10))


@st.composite
def parity_cases(draw, dtype, components, max_samples=200, max_epochs=3):
    """A Case: depth 1–4, 1–64 units, every activation, a loss with a fitting output, an
    optimizer with random hyper-parameters, N samples with a batch size that usually leaves a
    ragged last batch, 1–3 epochs, validation split or data, sample weights, |x| ≤ 1 or ≤ 10."""
    cases = _parity_tables()
    hidden = draw(
        st.lists(
            st.builds(
                lambda units, activation: {
                    "units": units,
                    "activation": activation,
                    "use_bias": True,
                },
                st.integers(1, 64),
                st.sampled_from(cases.ACTIVATIONS),
            ),
            max_size=3,
        )
    )
    loss, loss_args, output, units = draw(loss_specs())
    layers = [*hidden, {"units": units, "activation": output, "use_bias": draw(st.booleans())}]
    optimizer, optimizer_args = draw(optimizer_specs())
    n = draw(st.integers(1, max_samples))
    split, validation_n = 0.0, 0
    validation = draw(st.sampled_from(["none", "split", "data"]))
    if validation == "split" and n >= 4:
        split = draw(st.floats(0.1, 0.5))
    elif validation == "data":
        validation_n = draw(st.integers(1, 40))
    n_train = int(np.floor(n * (1 - split))) if split else n
    return cases.Case(
        name="hypothesis",
        input_dim=draw(st.integers(1, 16)),
        layers=layers,
        loss=loss,
        loss_args=loss_args,
        optimizer=optimizer,
        optimizer_args=optimizer_args,
        n=n,
        batch_size=draw(st.integers(1, max(1, n_train))),
        epochs=draw(st.integers(1, max_epochs)),
        validation_split=split,
        validation_n=validation_n,
        sample_weight=draw(st.booleans()),
        x_scale=draw(st.sampled_from([1.0, 10.0])),
        optimizer_steps=draw(st.integers(1, 10)),
        seed=draw(st.integers(0, 2**31 - 1)),
        dtype=dtype,
        components=tuple(components),
    )


# ---------------------------------------------------------------- sequence layers
# (tests/unit/test_sequence_layers.py): integer ids over a small vocabulary, so ids repeat.


@st.composite
def ids_and_vocabulary(draw, max_vocabulary=6):
    """(ids, input_dim): int64 ids of shape (batch, length) in [0, input_dim), a small input_dim
    so that most draws look some row up more than once."""
    input_dim = draw(st.integers(1, max_vocabulary))
    shape = (draw(batch_sizes), draw(st.integers(1, 4)))
    ids = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, input_dim - 1)))
    return ids, input_dim


# ---------------------------------------------------------------- convolution and pooling
# (tests/unit/test_conv.py, tests/parity/test_conv_parity.py): input size, kernel, stride,
# dilation and padding drawn together so that the window always fits ('valid' needs
# size ≥ (kernel − 1)·dilation + 1), strides that do not divide the input, even kernels
# under 'same' (uneven padding), and Keras's rule that strides > 1 exclude dilation > 1.


@st.composite
def conv_axis(draw, max_kernel=4, max_stride=3, max_dilation=2, paddings=("valid", "same")):
    """(size, kernel, stride, dilation) along one axis, for every padding in `paddings`."""
    kernel = draw(st.integers(1, max_kernel))
    stride = draw(st.integers(1, max_stride))
    dilation = 1 if stride > 1 else draw(st.integers(1, max_dilation))
    span = (kernel - 1) * dilation + 1
    low = span if "valid" in paddings else 1
    size = draw(st.integers(low, low + 4))
    return size, kernel, stride, dilation


@st.composite
def conv_geometries(draw, rank, paddings=("valid", "same"), max_dilation=2):
    """A convolution's shapes, coupled: {"spatial", "kernel_size", "strides",
    "dilation_rate", "padding"}, one entry per spatial axis. Strides > 1 on one axis exclude
    dilation > 1 on every axis (Keras refuses the mix)."""
    padding = draw(st.sampled_from(paddings))
    dilate = draw(st.booleans()) and max_dilation > 1
    axes = [
        draw(
            conv_axis(
                max_stride=1 if dilate else 3,
                max_dilation=max_dilation if dilate else 1,
                paddings=(padding,),
            )
        )
        for _ in range(rank)
    ]
    return {
        "spatial": tuple(a[0] for a in axes),
        "kernel_size": tuple(a[1] for a in axes),
        "strides": tuple(a[2] for a in axes),
        "dilation_rate": tuple(a[3] for a in axes),
        "padding": padding,
    }


@st.composite
def pool_geometries(draw, rank):
    """A pooling layer's shapes: {"spatial", "pool_size", "strides", "padding"}; the window
    fits the input under 'valid', strides may be smaller (overlap) or larger (gaps)."""
    padding = draw(st.sampled_from(["valid", "same"]))
    axes = [draw(conv_axis(max_kernel=3, max_dilation=1, paddings=(padding,))) for _ in range(rank)]
    return {
        "spatial": tuple(a[0] for a in axes),
        "pool_size": tuple(a[1] for a in axes),
        "strides": tuple(a[2] for a in axes),
        "padding": padding,
    }


# ---------------------------------------------------------------- the compiled step
# (tests/unit/test_compiled_step.py): parity cases reshaped into what models/compiled_step.py
# runs, a Dense stack ending in one of its losses (categorical crossentropy after a softmax,
# binary after a sigmoid, mean squared error after any activation); the rest as drawn, so its
# fallbacks (a batch of 1, a layer of 1 unit, sample weights, label smoothing) come up too.
COMPILED_HIDDEN_ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh")
# the compiled step's losses, each with its output activation (None: any the kernels have)
COMPILED_LOSSES = (
    ("categorical_crossentropy", "softmax"),
    ("binary_crossentropy", "sigmoid"),
    ("mean_squared_error", None),
)
ALL_OPTIMIZERS = (
    "sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam", "ftrl",
    "lion", "lamb", "adafactor",
)  # fmt: skip


@st.composite
def compiled_step_cases(draw, dtype):
    import dataclasses

    case = draw(parity_cases(dtype, components=()))
    hidden = [
        dict(layer, activation=draw(st.sampled_from(COMPILED_HIDDEN_ACTIVATIONS)))
        for layer in case.layers[:-1]
    ]
    loss, activation = draw(st.sampled_from(COMPILED_LOSSES))
    activation = activation or draw(st.sampled_from(COMPILED_HIDDEN_ACTIVATIONS + ("softmax",)))
    output = dict(case.layers[-1], activation=activation, units=draw(st.integers(2, 10)))
    smoothing = 0.0 if loss == "mean_squared_error" else draw(st.sampled_from([0.0] * 3 + [0.1]))
    return dataclasses.replace(
        case,
        layers=[*hidden, output],
        loss=loss,
        loss_args={"label_smoothing": smoothing} if smoothing else {},
        sample_weight=draw(st.sampled_from([False, False, False, True])),
    )
