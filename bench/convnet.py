"""keras.io's mnist_convnet, timed per epoch in each framework, and its convolution kernels' rate.

    python bench/training.py FRAMEWORK mnist_convnet [--rounds N]   (training.py calls `setup`)
    python bench/convnet.py [--seconds S]                           the kernels, one JSON line

The model (keras.io/examples/vision/mnist_convnet): Input 28×28×1, Conv2D 32 3×3 relu,
MaxPooling 2×2, Conv2D 64 3×3 relu, MaxPooling 2×2, Flatten, Dropout 0.5, Dense 10 softmax;
categorical crossentropy, Adam (Keras's defaults), batch 128, on 2048 random 28×28×1 images in
[0, 1), shuffle=False. PyTorch trains the same network (nn.Conv2d takes channels first, so each
batch is permuted from the channels-last data, as a user porting the example would).

The kernels section times, at this model's shapes, each convolution's three products as
minikeras computes them (patch matrix + product: the forward `im2col` then cols·W, the weight
gradient colsᵀ·dz, the input gradient dz·Wᵀ then `col2im`), against OpenBLAS (`np.matmul`) on
the equivalent product alone: what a convolution costs at best when done as a GEMM.
"""

import json
import sys
import time

import numpy as np

SAMPLES, BATCH, CLASSES = 2048, 128, 10


def synthetic_data(n=SAMPLES, seed=0):
    """MNIST-shaped images in [0, 1) and one-hot labels, float32."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, CLASSES, n)
    return x, np.eye(CLASSES, dtype=np.float32)[labels], labels


def keras_like(module):
    """minikeras and Keras share the API: the same code builds both (keras.io's model)."""
    layers = module.layers
    model = module.Sequential(
        [
            module.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def setup_torch():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, CLASSES),  # logits: CrossEntropyLoss applies the softmax
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(x, y, labels):
        model.train()
        xt, lt = torch.from_numpy(x), torch.from_numpy(labels)
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), BATCH):
            xb = xt[start : start + BATCH].permute(0, 3, 1, 2)  # (batch, 1, 28, 28)
            lb = lt[start : start + BATCH]
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, lb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            correct += int((logits.argmax(1) == lb).sum())
        return total_loss / len(x), correct / len(x)

    return epoch


def setup(framework, module):
    """An `epoch(x, y, labels)` function for `framework`; `module` is minikeras or keras (None
    for torch)."""
    if framework == "torch":
        return setup_torch()
    model = keras_like(module)

    def epoch(x, y, labels):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)

    return epoch


# ----------------------------------------------------------------------------- the kernels
# (name, input (batch, h, w, channels), filters, input gradient needed): the model's two layers
CONVS = [
    ("conv2d 28×28×1→32", (BATCH, 28, 28, 1), 32, False),
    ("conv2d_1 13×13×32→64", (BATCH, 13, 13, 32), 64, True),
]


def timed(fn, seconds):
    """(median, best) seconds per call over 10 bursts of about seconds/10 each."""
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds / 10:
        fn()
        calls += 1
    calls = max(calls, 1)
    times = []
    for _ in range(10):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times)), min(times)


def conv_cases(shape, filters, with_dx, rng):
    """{pass: (minikeras-numba call, the equivalent np.matmul products)} for one 3×3 'valid'
    convolution of an input of `shape` (batch, h, w, channels), on fresh float32 arrays; and
    its (m, k, n). The backward pass with dx makes two products (dW and dcols)."""
    from minikeras.kernels import numba_kernels as nb

    f = np.float32
    n, h, w, c = shape
    oh, ow, k = h - 2, w - 2, 9 * c
    m = n * oh * ow
    x = rng.random(shape, dtype=f)
    kernel = rng.standard_normal((k, filters)).astype(f)
    bias = rng.standard_normal(filters).astype(f)
    dy = rng.standard_normal((m, filters)).astype(f)
    cols = np.empty((n, oh, ow, 3, 3, c), f)
    z, y, dz = (np.empty((m, filters), f) for _ in range(3))
    dkernel, dbias = np.empty((k, filters), f), np.empty(filters, f)
    dcols, dx = np.empty((m, k), f), np.empty(shape, f)
    geometry = ((3, 3), (1, 1), (1, 1), (0, 0))  # window, strides, dilation, padding
    flat = cols.reshape(m, k)
    nb.conv_forward(x, kernel, bias, "relu", *geometry, cols, z, y)  # a realistic z

    def backward():
        nb.conv_backward(
            cols, kernel, z, y, dy, "relu", *geometry, dz, dkernel, dbias,
            dcols if with_dx else None, dx if with_dx else None,
        )  # fmt: skip

    def gemm_backward():
        np.matmul(flat.T, dz, out=dkernel)
        if with_dx:
            np.matmul(dz, kernel.T, out=dcols)

    cases = {
        "forward: im2col, cols·W + b, relu": (
            lambda: nb.conv_forward(x, kernel, bias, "relu", *geometry, cols, z, y),
            lambda: np.matmul(flat, kernel, out=z),
        ),
        "backward: relu', db, colsᵀ·dz" + (", dz·Wᵀ, col2im" if with_dx else ""): (
            backward,
            gemm_backward,
        ),
    }
    return cases, (m, k, filters)


def conv_kernels(seconds):
    """For each convolution and each of its passes: the minikeras-numba kernels (im2col or
    col2im included) and OpenBLAS's GEMM on the same product, both in GFLOP/s of the product."""
    rng = np.random.default_rng(0)
    rows = []
    for name, shape, filters, with_dx in CONVS:
        cases, (m, k, n) = conv_cases(shape, filters, with_dx, rng)
        for form, (ours, gemm) in cases.items():
            products = 2 if form.endswith("col2im") else 1  # the backward with dx: two
            flops = 2 * m * k * n * products
            (t_ours, best_ours), (t_gemm, best_gemm) = timed(ours, seconds), timed(gemm, seconds)
            rows.append(
                {
                    "layer": name,
                    "form": form,
                    "gemm_shape": [m, k, n],
                    "ours_us": 1e6 * t_ours,
                    "gemm_us": 1e6 * t_gemm,
                    "ours_gflops": flops / t_ours / 1e9,
                    "gemm_gflops": flops / t_gemm / 1e9,
                    "ours_best_gflops": flops / best_ours / 1e9,
                    "gemm_best_gflops": flops / best_gemm / 1e9,
                    "ratio": t_gemm / t_ours,
                }
            )
    return rows


def main(argv):
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 1.0
    print(json.dumps({"conv_kernels": conv_kernels(seconds)}))


if __name__ == "__main__":
    main(sys.argv[1:])
