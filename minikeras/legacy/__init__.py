"""Keras's `keras.src.legacy` names: what remains of Keras 2 in Keras 3 (its `.h5` files)."""
