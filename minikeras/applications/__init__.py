"""Keras's image classification models (`keras.applications`), built as Functional models of
minikeras's layers, with Keras's names, arguments, layer names and weight order, so a Keras
model's weights copy in (`set_weights(keras_model.get_weights())`) and its files load.

Each family lives in its own module with its `preprocess_input` and `decode_predictions`
(`minikeras.applications.resnet.preprocess_input`, ...). Pretrained ImageNet weights
(`weights="imagenet"`) are fetched with `minikeras.utils.get_file` into `~/.keras/models`,
as Keras fetches them; `weights=None` builds the network untrained.

>>> from minikeras.applications import MobileNetV2
>>> base = MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
>>> base.output_shape
(None, 1, 1, 1280)
"""

from minikeras.applications import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from minikeras.applications.convnext import (
    ConvNeXtBase,
    ConvNeXtLarge,
    ConvNeXtSmall,
    ConvNeXtTiny,
    ConvNeXtXLarge,
)
from minikeras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from minikeras.applications.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from minikeras.applications.efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from minikeras.applications.inception_resnet_v2 import InceptionResNetV2
from minikeras.applications.inception_v3 import InceptionV3
from minikeras.applications.mobilenet import MobileNet
from minikeras.applications.mobilenet_v2 import MobileNetV2
from minikeras.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from minikeras.applications.nasnet import NASNetLarge, NASNetMobile
from minikeras.applications.resnet import ResNet50, ResNet101, ResNet152
from minikeras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from minikeras.applications.vgg16 import VGG16
from minikeras.applications.vgg19 import VGG19
from minikeras.applications.xception import Xception

__all__ = [
    "NASNetLarge",
    "NASNetMobile",
    "nasnet",
    "EfficientNetV2B0",
    "EfficientNetV2B1",
    "EfficientNetV2B2",
    "EfficientNetV2B3",
    "EfficientNetV2L",
    "EfficientNetV2M",
    "EfficientNetV2S",
    "efficientnet_v2",
    "InceptionResNetV2",
    "inception_resnet_v2",
    "ConvNeXtBase",
    "ConvNeXtLarge",
    "ConvNeXtSmall",
    "ConvNeXtTiny",
    "ConvNeXtXLarge",
    "convnext",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "mobilenet_v3",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "InceptionV3",
    "Xception",
    "densenet",
    "inception_v3",
    "xception",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "MobileNet",
    "MobileNetV2",
    "ResNet101",
    "ResNet101V2",
    "ResNet152",
    "ResNet152V2",
    "ResNet50",
    "ResNet50V2",
    "VGG16",
    "VGG19",
    "efficientnet",
    "imagenet_utils",
    "mobilenet",
    "mobilenet_v2",
    "resnet",
    "resnet50",
    "resnet_v2",
    "vgg16",
    "vgg19",
]
