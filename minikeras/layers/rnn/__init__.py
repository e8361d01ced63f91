"""Recurrent layers: the cells, StackedRNNCells, RNN around a cell, SimpleRNN, LSTM, GRU,
Bidirectional, ConvLSTM1D/2D/3D."""

from minikeras.layers.rnn.bidirectional import Bidirectional
from minikeras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from minikeras.layers.rnn.gru import GRU, GRUCell
from minikeras.layers.rnn.lstm import LSTM, LSTMCell
from minikeras.layers.rnn.rnn import RNN
from minikeras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from minikeras.layers.rnn.stacked_rnn_cells import StackedRNNCells

RNN_LAYERS = (
    Bidirectional,
    ConvLSTM1D,
    ConvLSTM2D,
    ConvLSTM3D,
    GRU,
    GRUCell,
    LSTM,
    LSTMCell,
    RNN,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)

__all__ = [cls.__name__ for cls in RNN_LAYERS]
