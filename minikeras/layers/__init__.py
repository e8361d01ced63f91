"""Layers, with Keras's names."""

from minikeras.layers.activation import Activation
from minikeras.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from minikeras.layers.activity_regularization import ActivityRegularization
from minikeras.layers.adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from minikeras.layers.additive_attention import AdditiveAttention
from minikeras.layers.alpha_dropout import AlphaDropout
from minikeras.layers.attention import Attention
from minikeras.layers.batch_normalization import BatchNormalization
from minikeras.layers.conv import Conv1D, Conv2D, Conv3D
from minikeras.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from minikeras.layers.dense import Dense
from minikeras.layers.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from minikeras.layers.dot import Dot, dot
from minikeras.layers.dropout import Dropout
from minikeras.layers.einsum_dense import EinsumDense
from minikeras.layers.embedding import Embedding
from minikeras.layers.flatten import Flatten
from minikeras.layers.gaussian_noise import GaussianDropout, GaussianNoise
from minikeras.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
from minikeras.layers.group_normalization import GroupNormalization
from minikeras.layers.grouped_query_attention import GroupedQueryAttention
from minikeras.layers.identity import Identity
from minikeras.layers.input_layer import Input, InputLayer, KerasTensor
from minikeras.layers.input_spec import InputSpec
from minikeras.layers.lambda_layer import Lambda
from minikeras.layers.layer import Layer
from minikeras.layers.layer_normalization import LayerNormalization
from minikeras.layers.masking import Masking
from minikeras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from minikeras.layers.multi_head_attention import MultiHeadAttention
from minikeras.layers.normalization import Normalization
from minikeras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from minikeras.layers.preprocessing.category_encoding import CategoryEncoding
from minikeras.layers.preprocessing.discretization import Discretization
from minikeras.layers.preprocessing.hashed_crossing import HashedCrossing
from minikeras.layers.preprocessing.hashing import Hashing
from minikeras.layers.preprocessing.image_preprocessing import (
    AugMix,
    AutoContrast,
    CenterCrop,
    ContrastLimitedAdaptiveHistogramEqualization,
    CutMix,
    Equalization,
    MaxNumBoundingBoxes,
    MixUp,
    RandAugment,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomCrop,
    RandomElasticTransform,
    RandomErasing,
    RandomFlip,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPerspective,
    RandomPosterization,
    RandomRotation,
    RandomSaturation,
    RandomSharpness,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    Resizing,
    Solarization,
)
from minikeras.layers.preprocessing.index_lookup import IndexLookup as IndexLookup
from minikeras.layers.preprocessing.integer_lookup import IntegerLookup
from minikeras.layers.preprocessing.pipeline import Pipeline
from minikeras.layers.preprocessing.string_lookup import StringLookup
from minikeras.layers.preprocessing.text_vectorization import TextVectorization
from minikeras.layers.repeat_vector import RepeatVector
from minikeras.layers.rescaling import Rescaling
from minikeras.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    Reshape,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from minikeras.layers.rms_normalization import RMSNormalization
from minikeras.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minikeras.layers.separable_conv import SeparableConv1D, SeparableConv2D
from minikeras.layers.serialization import deserialize, serialize
from minikeras.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from minikeras.layers.time_distributed import TimeDistributed
from minikeras.layers.unit_normalization import UnitNormalization
from minikeras.layers.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from minikeras.layers.wrapper import Wrapper

# Keras's other names for the same classes (files name the class itself, as Keras's do)
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
AvgPool3D, MaxPool3D = AveragePooling3D, MaxPooling3D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D
Convolution3D, Convolution3DTranspose = Conv3D, Conv3DTranspose
GroupQueryAttention = GroupedQueryAttention  # the name Keras exports
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D

__all__ = [
    "RandomElasticTransform",
    "AugMix",
    "RandAugment",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "MaxNumBoundingBoxes",
    "RandomPerspective",
    "Equalization",
    "CategoryEncoding",
    "Discretization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "Pipeline",
    "StringLookup",
    "TextVectorization",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GroupNormalization",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "RMSNormalization",
    "UnitNormalization",
    "AdditiveAttention",
    "Attention",
    "AdaptiveMaxPooling3D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling1D",
    "AdaptiveAveragePooling3D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling1D",
    "dot",
    "Dot",
    "SeparableConvolution2D",
    "SeparableConvolution1D",
    "SeparableConv2D",
    "SeparableConv1D",
    "DepthwiseConv2D",
    "DepthwiseConv1D",
    "Wrapper",
    "Identity",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "AvgPool1D",
    "AvgPool2D",
    "Convolution1D",
    "Convolution2D",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "MaxPool1D",
    "MaxPool2D",
    "AvgPool3D",
    "MaxPool3D",
    "GlobalAvgPool3D",
    "GlobalMaxPool3D",
    "Convolution3D",
    "Convolution3DTranspose",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "Dense",
    "EinsumDense",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GRU",
    "GRUCell",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "LSTM",
    "LSTMCell",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MultiHeadAttention",
    "LeakyReLU",
    "Masking",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "Maximum",
    "Minimum",
    "Multiply",
    "PReLU",
    "Permute",
    "RNN",
    "ReLU",
    "RepeatVector",
    "Normalization",
    "Rescaling",
    "Resizing",
    "CenterCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomCrop",
    "RandomContrast",
    "RandomBrightness",
    "RandomShear",
    "RandomGrayscale",
    "RandomInvert",
    "RandomPosterization",
    "Solarization",
    "AutoContrast",
    "MixUp",
    "CutMix",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomHue",
    "RandomSaturation",
    "RandomColorJitter",
    "RandomColorDegeneration",
    "RandomSharpness",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "Softmax",
    "StackedRNNCells",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "Subtract",
    "TimeDistributed",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "add",
    "average",
    "concatenate",
    "deserialize",
    "maximum",
    "minimum",
    "multiply",
    "serialize",
    "subtract",
]
