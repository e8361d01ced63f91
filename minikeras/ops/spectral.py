"""Fourier transforms of `keras.ops.math`: fft, fft2, ifft2, rfft, irfft, stft, istft.

Keras hands complex numbers around as a pair of real arrays (real part, imaginary part), so
every op here takes and gives such pairs and the tape only ever sees real arrays.

>>> import numpy as np
>>> from minikeras import ops
>>> real, imag = ops.rfft(np.array([1.0, 0.0, -1.0, 0.0]))
>>> real, imag
(array([0., 2., 0.]), array([0., 0., 0.]))

Gradients. A DFT is linear, y = F·z, so dL/dz = Fᴴ·g, with Fᴴ = n·F⁻¹ (the conjugate
transpose of the DFT matrix is n times the inverse DFT). For the real-input transforms the
gradient is that of the complex one, restricted to the entries that exist (autodiff/vjps.py).
"""

import numpy as np

from minikeras.autodiff import primitive, unwrap
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.numpy import multiply, take
from minikeras.ops.symbolic import symbolic_op


def _pair(x, name="x"):
    """The (real, imag) arrays of Keras's complex pair `x`, checked as Keras checks it."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"Input `{name}` should be a tuple of two tensors - real and imaginary. "
            f"Received: {name}={x}"
        )
    real, imag = convert_to_tensor(x[0]), convert_to_tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            f"Input `{name}` should be a tuple of two tensors - real and imaginary. Both the "
            "real and imaginary parts should have the same shape. "
            f"Received: {name}[0].shape = {real.shape}, {name}[1].shape = {imag.shape}"
        )
    return real, imag


def _rank_at_least(real, rank):
    if len(real.shape) < rank:
        raise ValueError(f"Input should have rank >= {rank}. Received: input.shape = {real.shape}")


def _check_float(x, real, imag, name="x"):
    """As Keras: the shapes and the rank are checked first (on KerasTensors too), then that
    both parts are floats."""
    for part in (real, imag):
        if np.dtype(part.dtype).kind != "f":
            raise ValueError(
                f"At least one tensor in input `{name}` is not of type float. Received: {name}={x}."
            )


def _as_pair(z, dtype):
    """A complex array as Keras's (real, imag) pair in `dtype`."""
    return np.real(z).astype(dtype), np.imag(z).astype(dtype)


def _known_axes(axes):
    """The shape rule of a complex-to-complex transform over `axes` (on KerasTensors): the
    pair's shapes, which Keras's spec wants known along the transformed axes."""

    def rule(x):
        real, imag = _pair(x)
        _rank_at_least(real, len(axes))
        if any(real.shape[a] is None for a in axes):
            what = "its last dimension" if axes == (-1,) else f"its {axes} axes"
            raise ValueError(
                f"Input should have {what} fully-defined. Received: input.shape = {real.shape}"
            )
        return [tuple(real.shape), tuple(imag.shape)]

    return rule


# ---------------------------------------------------------------- complex-to-complex
@symbolic_op(shape=_known_axes((-1,)))
def fft(x):
    """The discrete Fourier transform along the last axis: yₖ = Σₜ zₜ·e^(−2πikt/n)."""
    real, imag = _pair(x)
    _rank_at_least(real, 1)
    _check_float(x, real, imag)
    return primitive("fft", _fft, real, imag)


def _fft(real, imag):
    return _as_pair(np.fft.fft(real + 1j * imag, axis=-1), real.dtype)


@symbolic_op(shape=_known_axes((-2, -1)))
def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes."""
    real, imag = _pair(x)
    _rank_at_least(real, 2)
    _check_float(x, real, imag)
    return primitive("fft2", _fft2, real, imag)


def _fft2(real, imag):
    return _as_pair(np.fft.fft2(real + 1j * imag, axes=(-2, -1)), real.dtype)


@symbolic_op(shape=_known_axes((-2, -1)))
def ifft2(x):
    """The inverse of fft2: zₜ = (1/n) Σₖ yₖ·e^(+2πikt/n) over the last two axes."""
    real, imag = _pair(x)
    _rank_at_least(real, 2)
    _check_float(x, real, imag)
    return primitive("ifft2", _ifft2, real, imag)


def _ifft2(real, imag):
    return _as_pair(np.fft.ifft2(real + 1j * imag, axes=(-2, -1)), real.dtype)


# ---------------------------------------------------------------- real-to-complex and back
@symbolic_op
def rfft(x, fft_length=None):
    """The DFT of a real signal along the last axis, cut or zero-padded to `fft_length`: only
    the n//2 + 1 non-negative frequencies (the others are their complex conjugates)."""
    x = convert_to_tensor(x)
    _rank_at_least(x, 1)
    if np.dtype(x.dtype).kind != "f":
        x = cast(x, "float32")  # as TensorFlow's backend: an integer signal becomes float32
    return primitive("rfft", _rfft, x, fft_length=fft_length)


def _rfft(x, fft_length=None):
    return _as_pair(np.fft.rfft(x, n=fft_length, axis=-1), x.dtype)


@symbolic_op
def irfft(x, fft_length=None):
    """The real signal of length `fft_length` (default 2·(m − 1)) whose rfft is `x`."""
    real, imag = _pair(x)
    _rank_at_least(real, 1)
    _check_float(x, real, imag)
    return primitive("irfft", _irfft, real, imag, fft_length=fft_length)


def _irfft(real, imag, fft_length=None):
    return np.fft.irfft(real + 1j * imag, n=fft_length, axis=-1).astype(real.dtype)


# ---------------------------------------------------------------- short-time transforms
def _window(window, sequence_length, fft_length, dtype):
    """The window of length fft_length: Keras's window of length sequence_length, centred
    between zeros. "hann" and "hamming" are the periodic windows (as TensorFlow's)."""
    if isinstance(window, str):
        if window not in {"hann", "hamming"}:
            raise ValueError(
                'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                f"Received: window={window}"
            )
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * np.pi * np.arange(sequence_length) / sequence_length)
    elif window is None:
        win = np.ones(sequence_length)
    else:
        win = np.asarray(unwrap(window))
        if win.ndim != 1 or win.shape[-1] != sequence_length:
            raise ValueError(
                "The shape of `window` must be equal to [sequence_length]."
                f"Received: window shape={win.shape}"
            )
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def _check_stride(sequence_stride):
    if not isinstance(sequence_stride, int) or sequence_stride <= 0:
        raise ValueError(
            "`sequence_stride` must be a positive integer. "
            f"Received: sequence_stride={sequence_stride}"
        )


def _frame_indices(length, frame_length, stride):
    """(frames, frame_length) indices: frame f holds samples f·stride ... f·stride + length−1."""
    count = max(0, 1 + (length - frame_length) // stride)
    return np.arange(count)[:, None] * stride + np.arange(frame_length)[None, :]


@symbolic_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform: the signal cut into frames of fft_length every
    sequence_stride samples (reflect-padded by fft_length//2 at both ends if `center`), each
    frame multiplied by the window and rfft-ed. Result (real, imag), shape
    (..., frames, fft_length//2 + 1). Made of take, multiply and rfft, so its gradient is theirs.
    """
    _check_stride(sequence_stride)
    x = convert_to_tensor(x)
    if np.dtype(x.dtype).name not in {"float32", "float64"}:
        raise TypeError(
            f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}"
        )
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. "
            f"Received: sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _window(window, sequence_length, fft_length, x.dtype)
    n = x.shape[-1]
    index = np.arange(n)
    if center:  # reflect padding (the edge sample not repeated): [p .. 1, 0 .. n−1, n−2 .. n−1−p]
        pad = fft_length // 2
        index = np.concatenate([index[pad:0:-1], index, index[-2 : -2 - pad : -1]])
    # one gather does the padding and the framing: frames[..., f, t] = x[..., index[f·s + t]]
    frames = take(x, index[_frame_indices(len(index), fft_length, sequence_stride)], axis=-1)
    return rfft(multiply(frames, win), fft_length=fft_length)


def _inverse_window(win, stride):
    """TensorFlow's inverse_stft_window_fn: w / Σⱼ w²[k + j·stride], the window that makes
    overlap-add of windowed frames give back the signal where the frames cover it."""
    frame_length = len(win)
    overlaps = -(-frame_length // stride)
    squares = np.pad(win * win, (0, overlaps * stride - frame_length))
    denominator = np.tile(squares.reshape(overlaps, stride).sum(axis=0), overlaps)
    return win / denominator[:frame_length]


@symbolic_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """The inverse of stft: each frame irfft-ed, multiplied by the inverse window, and the
    frames added where they overlap; `center` drops the fft_length//2 padding at both ends,
    `length` cuts (or zero-pads) the result."""
    _check_stride(sequence_stride)
    real, imag = _pair(x)
    _rank_at_least(real, 2)
    _check_float(x, real, imag)
    dtype = real.dtype
    frames = irfft((real, imag), fft_length=fft_length)  # (..., frames, fft_length)
    if window is not None:
        win = _window(window, sequence_length, fft_length, dtype)
        frames = multiply(frames, _inverse_window(win, sequence_stride).astype(dtype))
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    signal = primitive("overlap_add", _overlap_add, frames, stride=sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - fft_length // 2
    else:
        end = total
    return signal[..., start:end] if start or end != total else signal


def _overlap_add(frames, stride=1):
    """out[..., f·stride + t] += frames[..., f, t]: frames laid end to end with overlaps."""
    count, frame_length = frames.shape[-2:]
    out = np.zeros(frames.shape[:-2] + (frame_length + stride * (count - 1),), frames.dtype)
    for f in range(count):  # one slice per frame (a handful): readable and fast enough
        out[..., f * stride : f * stride + frame_length] += frames[..., f, :]
    return out
