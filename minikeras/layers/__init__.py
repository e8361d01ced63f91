"""Layers, with Keras's names."""

from minikeras.layers.activation import Activation
from minikeras.layers.conv import Conv1D, Conv2D
from minikeras.layers.conv_transpose import Conv2DTranspose
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
from minikeras.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)
from minikeras.layers.input_layer import Input, InputLayer, KerasTensor
from minikeras.layers.layer import Layer
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
from minikeras.layers.pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from minikeras.layers.serialization import deserialize, serialize

__all__ = [
    "MaxPooling2D",
    "MaxPooling1D",
    "AveragePooling2D",
    "AveragePooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling1D",
    "Conv2DTranspose",
    "Conv2D",
    "Conv1D",
    "Activation",
    "Add",
    "Average",
    "Concatenate",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
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
