"""The steps every application function takes around its own layers: check `weights`,
make (or adopt) the image input, find the model's inputs, and load the weights at the end.

Keras repeats these lines in each family's module; here they are written once, with
Keras's messages.
"""

from minikeras import backend
from minikeras.layers import Input
from minikeras.utils import file_utils, get_source_inputs

# Keras's families word these two errors in slightly different ways; each module passes its
# own wording (format strings of `weights` and `classes`), these are the most common.
WEIGHTS_MESSAGE = (
    "The `weights` argument should be either `None` (random initialization), 'imagenet' "
    "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
    "weights={weights}"
)
CLASSES_MESSAGE = (
    "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
    "Received classes={classes}"
)


def check_weights_argument(
    weights, include_top, classes, weights_message=WEIGHTS_MESSAGE, classes_message=CLASSES_MESSAGE
):
    """`weights` is None, "imagenet" or an existing file; ImageNet's top has 1000 classes."""
    if not (weights in {"imagenet", None} or file_utils.exists(weights)):
        raise ValueError(weights_message.format(weights=weights))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(classes_message.format(classes=classes))


def image_input(input_tensor, input_shape):
    """The tensor the network starts from: a new Input of `input_shape`, or `input_tensor`
    itself when it is already a symbolic tensor (the output of another model's layer)."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        return Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def model_inputs(input_tensor, img_input):
    """The model's inputs: the Inputs `input_tensor` was computed from, when one was given,
    so that the layers before it belong to the model too."""
    if input_tensor is not None:
        return get_source_inputs(input_tensor)
    return img_input


def load_weights(model, weights, file_name, origin, file_hash=None):
    """Load "imagenet" weights (fetched once into `~/.keras/models` with `get_file`) or the
    weights file at the path `weights`; None leaves the initial weights."""
    if weights == "imagenet":
        path = file_utils.get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
        model.load_weights(path)
    elif weights is not None:
        model.load_weights(weights)
    return model
