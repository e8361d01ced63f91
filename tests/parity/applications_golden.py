"""Digests of Keras's application models, layer by layer, for the families too slow to build
in Keras at every test run (a Keras build of InceptionResNetV2 takes seconds of CPU).

A digest is the SHA-256 of the model's layer table: one line per layer, "name class" then
each weight's name and shape, in `model.layers` and `layer.weights` order (what
`set_weights` and Keras's files rely on). `python tests/parity/applications_golden.py`
rebuilds each family in Keras and rewrites applications_golden.json; the parity test
compares minikeras's digests with it.
"""

import hashlib
import json
import pathlib
import re

GOLDEN_PATH = pathlib.Path(__file__).parent / "applications_golden.json"

# family → keyword arguments (weights=None), small inputs
GOLDEN_FAMILIES = {
    "DenseNet121": dict(input_shape=(32, 32, 3), include_top=False),
    "DenseNet169": dict(input_shape=(32, 32, 3), classes=7),
    "InceptionV3": dict(input_shape=(75, 75, 3), classes=7),
    "InceptionResNetV2": dict(input_shape=(75, 75, 3), include_top=False, pooling="max"),
    "MobileNetV3Large": dict(input_shape=(32, 32, 3), minimalistic=True, include_top=False),
    "EfficientNetB3": dict(input_shape=(32, 32, 3), include_top=False),
    "EfficientNetV2B0": dict(input_shape=(32, 32, 3), classes=7),
    "EfficientNetV2S": dict(input_shape=(32, 32, 3), include_top=False),
    "NASNetMobile": dict(input_shape=(32, 32, 3), include_top=False),
    "ResNet101": dict(input_shape=(32, 32, 3), include_top=False),
    "ResNet152V2": dict(input_shape=(32, 32, 3), classes=7),
    "VGG19": dict(input_shape=(32, 32, 3), classes=7),
    "ConvNeXtSmall": dict(input_shape=(32, 32, 3), classes=7),
}


def _weight_name(name):
    # unnamed weights: minikeras numbers them per layer, Keras across the session
    return "variable" if re.fullmatch(r"variable(_\d+)?", name) else name


def layer_lines(model):
    """The layer table, one string per layer."""
    lines = []
    for layer in model.layers:
        weights = " ".join(
            f"{_weight_name(w.name)}{tuple(int(d) for d in w.shape)}" for w in layer.weights
        )
        lines.append(f"{layer.name} {type(layer).__name__} {weights}".strip())
    return lines


def digest(model):
    """(layer count, parameter count, SHA-256 of the layer table) of a model."""
    table = "\n".join(layer_lines(model)).encode()
    return [len(model.layers), int(model.count_params()), hashlib.sha256(table).hexdigest()]


def main():  # pragma: no cover - run by hand with Keras installed
    import keras

    golden = {}
    for family, kwargs in GOLDEN_FAMILIES.items():
        keras.utils.clear_session()
        model = getattr(keras.applications, family)(weights=None, **kwargs)
        golden[family] = {"name": model.name, "digest": digest(model)}
        print(family, golden[family])
    GOLDEN_PATH.write_text(json.dumps(golden, indent=1) + "\n")


if __name__ == "__main__":
    main()
