"""Recurrent layers: the cells, RNN around a cell, SimpleRNN, LSTM, GRU, Bidirectional."""

from minikeras.layers.rnn.bidirectional import Bidirectional
from minikeras.layers.rnn.gru import GRU, GRUCell
from minikeras.layers.rnn.lstm import LSTM, LSTMCell
from minikeras.layers.rnn.rnn import RNN
from minikeras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell

RNN_LAYERS = (Bidirectional, GRU, GRUCell, LSTM, LSTMCell, RNN, SimpleRNN, SimpleRNNCell)

__all__ = [cls.__name__ for cls in RNN_LAYERS]
