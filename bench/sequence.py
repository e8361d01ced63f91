"""The sequence models of `training.py`: `python bench/training.py FRAMEWORK stacked_lstm`.

stacked_lstm: the Keras guide's stacked LSTM, 3 × LSTM(32) over 8 steps of 16 features (the
    first two return their sequences), Dense(10, softmax), categorical crossentropy, RMSprop
    (lr 0.001, ρ 0.9, ε 1e-7); 1024 samples, batch 64.
text_lstm: a text classifier, Embedding(1000, 64) over 32 token ids, LSTM(64),
    Dense(1, sigmoid), binary crossentropy, the same RMSprop; 1024 samples, batch 32.

FRAMEWORK: minikeras-numba, minikeras-numpy, keras (`model.fit`), torch (eager: `nn.LSTM`, the
usual zero_grad / backward / step loop; its gate order is not Keras's, which does not matter for
timing). Synthetic data, in the order given (shuffle=False).
"""

import os

import numpy as np

LR, RHO, EPS = 0.001, 0.9, 1e-7
SEQUENCE_MODELS = {
    # name: (samples, batch size)
    "stacked_lstm": (1024, 64),
    "text_lstm": (1024, 32),
}
STEPS, FEATURES, UNITS, CLASSES = 8, 16, 32, 10
VOCAB, LENGTH, EMBED, TEXT_UNITS = 1000, 32, 64, 64


def sequence_data(model, seed=0):
    """(x, y, labels): float32 sequences and one-hot labels, or token ids and 0/1 labels."""
    rng = np.random.default_rng(seed)
    n = SEQUENCE_MODELS[model][0]
    if model == "stacked_lstm":
        x = rng.random((n, STEPS, FEATURES), dtype=np.float32)
        labels = rng.integers(0, CLASSES, n)
        return x, np.eye(CLASSES, dtype=np.float32)[labels], labels
    x = rng.integers(1, VOCAB, (n, LENGTH))
    labels = rng.integers(0, 2, n)
    return x, labels.astype(np.float32)[:, None], labels


def keras_like(module, model):
    """minikeras and Keras share the API: the same code builds both."""
    L = module.layers
    if model == "stacked_lstm":
        layers = [
            module.Input((STEPS, FEATURES)),
            L.LSTM(UNITS, return_sequences=True),
            L.LSTM(UNITS, return_sequences=True),
            L.LSTM(UNITS),
            L.Dense(CLASSES, activation="softmax"),
        ]
        loss = "categorical_crossentropy"
    else:
        layers = [
            module.Input((LENGTH,), dtype="int32"),
            L.Embedding(VOCAB, EMBED),
            L.LSTM(TEXT_UNITS),
            L.Dense(1, activation="sigmoid"),
        ]
        loss = "binary_crossentropy"
    net = module.Sequential(layers)
    net.compile(
        optimizer=module.optimizers.RMSprop(learning_rate=LR, rho=RHO, epsilon=EPS),
        loss=loss,
        metrics=["accuracy"],
    )
    return net


def setup_keras_like(framework, model, batch):
    if framework == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras as module
    else:
        kernel_set = framework.split("-", 1)[1]
        os.environ["MINIKERAS_KERNELS"] = kernel_set
        import minikeras as module

        module.config.set_kernels(kernel_set)
    net = keras_like(module, model)

    def epoch(x, y, labels):
        net.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)

    return epoch


def setup_torch(model, batch):
    import torch

    torch.manual_seed(0)
    if model == "stacked_lstm":
        lstm = torch.nn.LSTM(FEATURES, UNITS, num_layers=3, batch_first=True)
        head = torch.nn.Linear(UNITS, CLASSES)
        embed = None
        loss_fn = torch.nn.CrossEntropyLoss()  # softmax + crossentropy from the logits
    else:
        embed = torch.nn.Embedding(VOCAB, EMBED)
        lstm = torch.nn.LSTM(EMBED, TEXT_UNITS, batch_first=True)
        head = torch.nn.Linear(TEXT_UNITS, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    modules = [m for m in (embed, lstm, head) if m is not None]
    params = [p for m in modules for p in m.parameters()]
    optimizer = torch.optim.RMSprop(params, lr=LR, alpha=RHO, eps=EPS)

    def epoch(x, y, labels):
        xt = torch.from_numpy(x)
        yt = torch.from_numpy(labels if model == "stacked_lstm" else y)
        total_loss, correct = 0.0, 0
        for start in range(0, len(x), batch):
            xb, yb = xt[start : start + batch], yt[start : start + batch]
            optimizer.zero_grad()
            h = embed(xb) if embed is not None else xb
            logits = head(lstm(h)[0][:, -1])
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            if model == "stacked_lstm":
                correct += int((logits.argmax(1) == yb).sum())
            else:
                correct += int(((logits > 0).float() == yb).sum())
        return total_loss / len(x), correct / len(x)

    return epoch


def setup(framework, model):
    batch = SEQUENCE_MODELS[model][1]
    if framework == "torch":
        return setup_torch(model, batch)
    return setup_keras_like(framework, model, batch)
