"""One training benchmark in this process: `python bench/training.py FRAMEWORK MODEL [--rounds N]`.

FRAMEWORK: minikeras-numba, minikeras-numpy, keras, torch, numpy (a plain NumPy loop),
minikeras-loop (minikeras-numba trained by the user's own loop: train_on_batch on each batch),
numpy-1thread (the same NumPy loop: run.py runs it with OPENBLAS_NUM_THREADS=1).
MODEL: tutorial (784-64-10, N=1000, batch 32) or mnist (784-512-512-10, N=8192, batch 128),
mnist_convnet (keras.io's convnet, N=2048, batch 128, Adam: bench/convnet.py; not numpy),
or a sequence model of `sequence.py` (stacked_lstm, text_lstm; no plain NumPy loop).
Every framework trains the same network (ReLU hidden layers, softmax output, categorical
crossentropy, RMSprop lr=0.001 ρ=0.9 ε=1e-7) on the same synthetic data, in the order given
(shuffle=False), tracking loss and accuracy as Keras's `fit` does.

Prints one JSON line: the epoch times of the timed rounds (after `--warmup` epochs), wall and
CPU (`epoch_cpu_s`: this process's, every thread's), the minor page faults of each, and the
process's peak RSS. `--one-epoch` instead times nothing itself: it builds the model and trains a
single epoch, so that `run.py` can time the whole process (start-up = import + first epoch).
"""

import json
import os
import resource
import sys
import time

import numpy as np
import sequence  # the sequence models (this directory is on sys.path when run as a script)

MODELS = {
    # name: (layer sizes, samples, batch size)
    "tutorial": ((784, 64, 10), 1000, 32),
    "mnist": ((784, 512, 512, 10), 8192, 128),
}
LR, RHO, EPS = 0.001, 0.9, 1e-7


def synthetic_data(sizes, n, seed=0):
    """MNIST-like inputs in [0, 1) and one-hot labels, float32."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]), dtype=np.float32)
    labels = rng.integers(0, sizes[-1], n)
    return x, np.eye(sizes[-1], dtype=np.float32)[labels], labels


# ----------------------------------------------------------------------------- the frameworks
def keras_like(module, sizes):
    """minikeras and Keras share the API: the same code builds and trains both."""
    layers = [module.Input((sizes[0],))]
    for units in sizes[1:-1]:
        layers.append(module.layers.Dense(units, activation="relu"))
    layers.append(module.layers.Dense(sizes[-1], activation="softmax"))
    model = module.Sequential(layers)
    model.compile(
        optimizer=module.optimizers.RMSprop(learning_rate=LR, rho=RHO, epsilon=EPS),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def setup_minikeras(kernel_set, sizes, batch, by_hand=False):
    os.environ["MINIKERAS_KERNELS"] = kernel_set
    import minikeras

    minikeras.config.set_kernels(kernel_set)
    model = keras_like(minikeras, sizes)

    def epoch(x, y, labels):
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)

    def loop(x, y, labels):  # the same steps, by the user's own loop
        for start in range(0, len(x), batch):
            model.train_on_batch(x[start : start + batch], y[start : start + batch])

    return loop if by_hand else epoch


def setup_keras(sizes, batch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    model = keras_like(keras, sizes)

    def epoch(x, y, labels):
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)

    return epoch


def setup_torch(sizes, batch):
    import torch

    torch.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])  # no ReLU after the last layer: those are logits
    optimizer = torch.optim.RMSprop(model.parameters(), lr=LR, alpha=RHO, eps=EPS)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + crossentropy from the logits

    def epoch(x, y, labels):
        xt, lt = torch.from_numpy(x), torch.from_numpy(labels)
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch):
            xb, lb = xt[start : start + batch], lt[start : start + batch]
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, lb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            correct += int((logits.argmax(1) == lb).sum())
        return total_loss / len(x), correct / len(x)

    return epoch


def setup_numpy(sizes, batch):
    """The loop a NumPy user writes by hand: clear, unfused, allocating as it goes."""
    rng = np.random.default_rng(0)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))  # Glorot uniform, as Keras
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, np.float32))
    slots = [np.zeros_like(w) for w in weights]

    def epoch(x, y, labels):
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch):
            xb, yb = x[start : start + batch], y[start : start + batch]
            activations = [xb]
            for i in range(0, len(weights), 2):
                z = activations[-1] @ weights[i] + weights[i + 1]
                activations.append(np.maximum(z, 0) if i + 2 < len(weights) else z)
            z = activations.pop()
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            total_loss -= np.log(np.maximum((p * yb).sum(axis=1), 1e-7)).sum()
            correct += int((p.argmax(1) == labels[start : start + batch]).sum())
            dz = (p - yb) / len(xb)
            grads = [None] * len(weights)
            for i in range(len(weights) - 2, -1, -2):
                a = activations[i // 2]
                grads[i], grads[i + 1] = a.T @ dz, dz.sum(axis=0)
                if i > 0:
                    dz = (dz @ weights[i].T) * (a > 0)
            for w, g, v in zip(weights, grads, slots):
                v *= RHO
                v += (1 - RHO) * g * g
                w -= LR * g / np.sqrt(v + EPS)
        return total_loss / len(x), correct / len(x)

    return epoch


def setup(framework, sizes, batch):
    if framework == "minikeras-loop":
        return setup_minikeras("numba", sizes, batch, by_hand=True)
    if framework == "numpy-1thread":  # the threads come from the environment (run.py)
        return setup_numpy(sizes, batch)
    if framework.startswith("minikeras-"):
        return setup_minikeras(framework.split("-", 1)[1], sizes, batch)
    return {"keras": setup_keras, "torch": setup_torch, "numpy": setup_numpy}[framework](
        sizes, batch
    )


def peak_rss_mb():
    """This process's peak resident memory. /proc's VmHWM starts afresh at exec; getrusage's
    ru_maxrss would also count the parent's memory at fork time."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def setup_convnet(framework):
    """keras.io's mnist_convnet (bench/convnet.py) and its data."""
    import convnet

    module = None
    if framework.startswith("minikeras-"):
        os.environ["MINIKERAS_KERNELS"] = framework.split("-", 1)[1]
        import minikeras as module

        module.config.set_kernels(framework.split("-", 1)[1])
    elif framework == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras as module
    return convnet.synthetic_data(), convnet.setup(framework, module)


def main(argv):
    framework, model = argv[0], argv[1]
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 10
    warmup = int(argv[argv.index("--warmup") + 1]) if "--warmup" in argv else 2
    if model == "mnist_convnet":
        (x, y, labels), epoch = setup_convnet(framework)
    elif model in sequence.SEQUENCE_MODELS:
        x, y, labels = sequence.sequence_data(model)
        epoch = sequence.setup(framework, model)
    else:
        sizes, n, batch = MODELS[model]
        x, y, labels = synthetic_data(sizes, n)
        epoch = setup(framework, sizes, batch)
    if "--one-epoch" in argv:
        epoch(x, y, labels)
        print(json.dumps({"peak_rss_mb": peak_rss_mb()}))
        return
    for _ in range(warmup):
        epoch(x, y, labels)
    times, cpu, faults = [], [], []
    for _ in range(rounds):
        faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start, cpu_start = time.perf_counter(), time.process_time()
        epoch(x, y, labels)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before)
    result = {"epoch_s": times, "epoch_cpu_s": cpu, "minor_faults": faults}
    print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1:])
