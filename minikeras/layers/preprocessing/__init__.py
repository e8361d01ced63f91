"""Preprocessing layers, in Keras's modules (keras/src/layers/preprocessing/)."""
