"""Layers, with Keras's names."""

from minikeras.layers.activation import Activation
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.embedding import Embedding
from minikeras.layers.flatten import Flatten
from minikeras.layers.input_layer import Input, InputLayer, KerasTensor
from minikeras.layers.layer import Layer
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
from minikeras.layers.repeat_vector import RepeatVector
from minikeras.layers.serialization import deserialize, serialize
from minikeras.layers.time_distributed import TimeDistributed

__all__ = [
    "Activation",
    "Add",
    "Average",
    "Concatenate",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Layer",
    "Masking",
    "Maximum",
    "Minimum",
    "Multiply",
    "RepeatVector",
    "Subtract",
    "TimeDistributed",
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
