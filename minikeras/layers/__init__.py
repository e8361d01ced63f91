"""Layers, with Keras's names."""

from minikeras.layers.activation import Activation
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.flatten import Flatten
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
from minikeras.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)
from minikeras.layers.serialization import deserialize, serialize

__all__ = [
    "SimpleRNNCell",
    "SimpleRNN",
    "RNN",
    "LSTMCell",
    "LSTM",
    "GRUCell",
    "GRU",
    "Bidirectional",
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
