"""Rearranging ops of Keras's nn group: `unfold` (im2col), `fold` (col2im),
`depth_to_space`, `space_to_depth`, and `polar`.

`unfold` is the patch matrix the convolutions use (`kernels.im2col`), laid out as Keras's
(and PyTorch's): (N, C·kH·kW, L) from an (N, C, H, W) image, L the number of windows.
`fold` adds patches back onto an image (`kernels.col2im`). Each is the other's transpose, so
each one's VJP is the other:

    unfold: dx = fold(g)        fold: dx = unfold(g)

`depth_to_space` and `space_to_depth` are a reshape and a transpose (their gradients come
from those ops' VJPs on the tape).

>>> import numpy as np
>>> from minikeras import ops
>>> ops.unfold(np.ones((1, 2, 4, 4)), kernel_size=2, stride=2).shape
(1, 8, 4)
"""

import numpy as np

from minikeras import kernels
from minikeras.autodiff import VJPS, primitive, unwrap
from minikeras.kernels import numpy_kernels
from minikeras.ops import shapes
from minikeras.ops.core import convert_to_tensor
from minikeras.ops.nn_conv import half_as_float32
from minikeras.ops.numpy import _float, cos, multiply, reshape, sin, transpose
from minikeras.ops.symbolic import symbolic_op


def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _windows(size, kernel, dilation, padding, stride):
    """How many windows fit along an axis of `size` padded by `padding` on both sides."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _patch_kernels(dtype):
    """The compiled kernels read floats; other dtypes take the NumPy reference."""
    return kernels if np.dtype(dtype).kind == "f" else numpy_kernels


@symbolic_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding kH×kW blocks of an (N, C, H, W) image as columns: (N, C·kH·kW, L)."""
    shape = np.shape(unwrap(x))
    if len(shape) != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={shape}")
    geometry = dict(
        kernel_size=_pair(kernel_size),
        dilation=_pair(dilation),
        padding=_pair(padding),
        stride=_pair(stride),
    )
    return primitive("unfold", _unfold, convert_to_tensor(x), **geometry)


@half_as_float32
def _unfold(x, kernel_size, dilation, padding, stride):
    """cols[n, c·kH·kW + a·kW + b, i·nW + j] = x[n, c, i·sH + a·dH − pH, j·sW + b·dW − pW]"""
    n, c, h, w = x.shape
    out = tuple(map(_windows, (h, w), kernel_size, dilation, padding, stride))
    image = np.ascontiguousarray(np.moveaxis(x, 1, -1))  # (N, H, W, C)
    cols = np.empty((n, *out, *kernel_size, c), x.dtype)
    _patch_kernels(x.dtype).im2col(image, kernel_size, stride, dilation, padding, cols)
    # (N, nH, nW, kH, kW, C) → (N, C, kH, kW, nH, nW) → (N, C·kH·kW, nH·nW)
    return cols.transpose(0, 5, 3, 4, 1, 2).reshape(n, -1, out[0] * out[1])


@symbolic_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse arrangement of `unfold`: (N, C·kH·kW, L) columns added onto an
    (N, C, oH, oW) image, overlapping entries summed."""
    shape = np.shape(unwrap(x))
    if len(shape) != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={shape}")
    geometry = dict(
        output_size=_pair(output_size),
        kernel_size=_pair(kernel_size),
        dilation=_pair(dilation),
        padding=_pair(padding),
        stride=_pair(stride),
    )
    return primitive("fold", _fold, convert_to_tensor(x), **geometry)


@half_as_float32
def _fold(x, output_size, kernel_size, dilation, padding, stride):
    """image[n, c, r, s] = Σ of the columns entries that `unfold` reads from (r, s)"""
    n, ckk, _ = x.shape
    kh, kw = kernel_size
    c = ckk // (kh * kw)
    out = tuple(map(_windows, output_size, kernel_size, dilation, padding, stride))
    # (N, C·kH·kW, nH·nW) → (N, C, kH, kW, nH, nW) → (N, nH, nW, kH, kW, C)
    cols = np.ascontiguousarray(x.reshape(n, c, kh, kw, *out).transpose(0, 4, 5, 2, 3, 1))
    image = np.empty((n, *output_size, c), x.dtype)
    _patch_kernels(x.dtype).col2im(cols, kernel_size, stride, dilation, padding, image)
    return np.ascontiguousarray(np.moveaxis(image, -1, 1))


@half_as_float32
def _unfold_vjp(g, ans, x, kernel_size, dilation, padding, stride):
    """unfold is linear, its transpose is fold: dx = fold(g) onto x's (H, W)"""
    return (_fold(g, x.shape[2:], kernel_size, dilation, padding, stride),)


@half_as_float32
def _fold_vjp(g, ans, x, output_size, kernel_size, dilation, padding, stride):
    """fold is linear, its transpose is unfold: dx = unfold(g)"""
    return (_unfold(g, kernel_size, dilation, padding, stride),)


VJPS.update({"unfold": _unfold_vjp, "fold": _fold_vjp})


# ---------------------------------------------------------------- depth and space
def _check_block(x, block_size, name):
    if block_size < 2:
        raise ValueError(f"`block_size` must be at least 2. Received: block_size={block_size}")
    shape = np.shape(unwrap(x))
    if len(shape) != 4:
        raise ValueError(f"`{name}` requires a 4D input tensor. Received: x.shape={shape}")
    return shape


@symbolic_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """(N, H, W, C·r²) → (N, H·r, W·r, C): each pixel's channels become an r×r block
    (TensorFlow's order: channel (a·r + b)·C + c goes to row a, column b of the block)."""
    x = convert_to_tensor(x)
    n, h, w, c = _nhwc(_check_block(x, block_size, "depth_to_space"), data_format)
    r = block_size
    if c % (r * r):
        raise ValueError(
            f"The number of channels ({c}) must be divisible by block_size**2 ({r * r})."
        )
    x = _to_nhwc(x, data_format)
    blocks = reshape(x, (n, h, w, r, r, c // (r * r)))
    y = reshape(transpose(blocks, (0, 1, 3, 2, 4, 5)), (n, h * r, w * r, c // (r * r)))
    return _from_nhwc(y, data_format)


@symbolic_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """(N, H·r, W·r, C) → (N, H, W, C·r²): the inverse of `depth_to_space`."""
    x = convert_to_tensor(x)
    n, h, w, c = _nhwc(_check_block(x, block_size, "space_to_depth"), data_format)
    r = block_size
    if h % r or w % r:
        raise ValueError(f"The height ({h}) and width ({w}) must be divisible by block_size ({r}).")
    x = _to_nhwc(x, data_format)
    blocks = reshape(x, (n, h // r, r, w // r, r, c))
    y = reshape(transpose(blocks, (0, 1, 3, 2, 4, 5)), (n, h // r, w // r, r * r * c))
    return _from_nhwc(y, data_format)


def _nhwc(shape, data_format):
    return shape if data_format == "channels_last" else (shape[0], *shape[2:], shape[1])


def _to_nhwc(x, data_format):
    return x if data_format == "channels_last" else transpose(x, (0, 2, 3, 1))


def _from_nhwc(y, data_format):
    return y if data_format == "channels_last" else transpose(y, (0, 3, 1, 2))


# ---------------------------------------------------------------- polar
@symbolic_op(shape=shapes.like_first)
def polar(abs_, angle):
    """abs_·(cos(angle) + i·sin(angle)), complex64 from float32 (complex128 from float64)."""
    abs_, angle = _float(abs_), _float(angle)
    real = np.asarray(unwrap(multiply(abs_, cos(angle))))
    imaginary = np.asarray(unwrap(multiply(abs_, sin(angle))))
    if real.shape != imaginary.shape:
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary. Both the real and "
            "imaginary parts should have the same shape. "
            f"Received: x[0].shape = {real.shape}, x[1].shape = {imaginary.shape}"
        )
    complex_dtype = np.result_type(real.dtype, np.complex64)
    return (real + 1j * imaginary).astype(complex_dtype)
