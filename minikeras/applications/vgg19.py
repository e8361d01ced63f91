"""VGG19 (Simonyan & Zisserman, 2014, https://arxiv.org/abs/1409.1556), Keras's
`keras.applications.vgg19`: VGG16 with a fourth convolution in blocks 3, 4 and 5."""

from minikeras.applications import imagenet_utils
from minikeras.applications.vgg16 import VGG

WEIGHTS_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_PATH_NO_TOP = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
)
WEIGHTS_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """VGG19: 2, 2, 4, 4 and 4 convolutions in its five blocks."""
    return VGG(
        (2, 2, 4, 4, 4),
        (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP),
        WEIGHTS_HASHES,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def preprocess_input(x, data_format=None):
    """RGB → BGR and subtract ImageNet's mean pixel (the "caffe" mode of `imagenet_utils`)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """The `top` ImageNet classes of each prediction (see `imagenet_utils`)."""
    return imagenet_utils.decode_predictions(preds, top=top)
