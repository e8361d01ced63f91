"""Convolution and pooling ops (Keras's `keras.ops.conv`, `max_pool`, ...), on the kernels the
conv and pooling layers run: the same patch matrix, product and col2im, forward and backward.

Each op is one primitive; its vector–Jacobian product sits beside it and is the layer's
backward pass (docs/convolution.md works it by hand):

    conv:            y = im2col(x)·W                dW = colsᵀ·dy      dx = col2im(dy·Wᵀ)
    conv_transpose:  y = col2im(x·Kᵀ)               dK = im2col(dy)ᵀ·x  dx = im2col(dy)·K
    depthwise_conv:  y[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m]   (each channel on its own)
    max_pool:        dy goes to the element each window took its maximum from
    average_pool:    dy / count goes to every element of each window

Inputs are (batch, *spatial, channels), or (batch, channels, *spatial) with
data_format="channels_first" (transposed to channels-last for the kernels and back). A 1-D
input runs as an image of height 1, as in the layers.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.conv(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4)), padding="same").shape
(1, 5, 5, 4)
"""

import functools
import math

import numpy as np

from minikeras import kernels
from minikeras.autodiff import VJPS, primitive
from minikeras.ops.numpy import _float, _promote
from minikeras.ops.symbolic import symbolic_op


# ---------------------------------------------------------------- shared geometry
def _tuple(value, rank, name):
    """An int or `rank` ints as a tuple of `rank` ints (Keras's ops accept both)."""
    from minikeras.layers import conv_utils  # (layers import ops)

    if value is None:
        return None
    return conv_utils.standardize_tuple(value, rank, name)


def _check_rank(inputs, what="inputs"):
    ndim = np.ndim(inputs)
    if ndim not in (3, 4, 5):
        raise ValueError(
            f"`{what}` must be a tensor of rank 3, 4 or 5 (batch, spatial axes, channels). "
            f"Received {what}.shape={np.shape(inputs)}"
        )
    return ndim - 2


def _to_last(x, data_format):
    """x in the (batch, *spatial, channels) layout the kernels read (contiguous)."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    return np.ascontiguousarray(x)


def _back(y, data_format):
    """The inverse of `_to_last` for a result."""
    return np.ascontiguousarray(np.moveaxis(y, -1, 1)) if data_format == "channels_first" else y


def _lift(values, one=1):
    """A 1-D op's per-axis tuple as the (rows, columns) pair of an image of height 1."""
    return (one, values[0]) if len(values) == 1 else tuple(values)


def _image(x):
    """(batch, steps, channels) as (batch, 1, steps, channels); images and volumes as they are."""
    return x.reshape(x.shape[0], 1, *x.shape[1:]) if x.ndim == 3 else x


def half_as_float32(function):
    """`function` (a forward or a VJP on arrays) for float16 arrays too: the kernels are
    compiled for float32 and float64 only, so a float16 call runs in float32 and its results
    are rounded back to float16 (TensorFlow's CPU kernels also sum float16 in float32)."""

    @functools.wraps(function)
    def run(*arrays, **static):
        if not any(isinstance(a, np.ndarray) and a.dtype == np.float16 for a in arrays):
            return function(*arrays, **static)
        wide = [a.astype(np.float32) if _is_half(a) else a for a in arrays]
        result = function(*wide, **static)
        if isinstance(result, tuple):
            return tuple(None if r is None else r.astype(np.float16) for r in result)
        return result.astype(np.float16)

    return run


def _is_half(a):
    return isinstance(a, np.ndarray) and a.dtype == np.float16


def _conv_geometry(spatial, window, strides, dilation, padding):
    """(output sizes, (window, strides, dilation, padding before) lifted for the kernels).
    Output sizes below 1 raise Keras's ValueError (the input is smaller than the window)."""
    from minikeras.layers import conv_utils  # (layers import ops)

    sizes = tuple(
        conv_utils.output_size(n, k, s, d, padding)
        for n, k, s, d in zip(spatial, window, strides, dilation)
    )
    if any(m <= 0 for m in sizes):
        raise ValueError(
            "The convolution operation resulted in an empty output. Output shape: "
            f"{sizes} for spatial sizes {tuple(spatial)}, window {tuple(window)}, strides "
            f"{tuple(strides)}, dilation {tuple(dilation)} and padding '{padding}': the input is "
            "too small for the window."
        )
    pad = tuple(
        conv_utils.pad_before(n, m, k, s, d, padding)
        for n, m, k, s, d in zip(spatial, sizes, window, strides, dilation)
    )
    geometry = (_lift(window), _lift(strides), _lift(dilation), _lift(pad, one=0))
    return sizes, geometry


def _standard(rank, strides, padding, data_format, dilation_rate=1):
    """Keras's normalisation of the shared arguments (tuples, lower-case padding, format)."""
    from minikeras.layers import conv_utils  # (layers import ops)

    strides = _tuple(strides, rank, "strides")
    dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
    padding = conv_utils.standardize_padding(padding)
    data_format = conv_utils.standardize_data_format(data_format)
    return strides, padding, data_format, dilation_rate


def _check_channels(inputs, kernel, data_format, rank, kernel_axis=-2, grouped=False):
    """The kernel's rank, and its input channels (axis `kernel_axis`) against the input's, with
    Keras's message (keras/src/backend/common/backend_utils.py). `grouped`: a kernel whose
    input channels divide the input's is a grouped convolution (TensorFlow runs it)."""
    if np.ndim(kernel) != rank + 2:
        raise ValueError(
            f"The kernel of a {rank}-D convolution must have rank {rank + 2}. Received "
            f"kernel.shape={np.shape(kernel)}, inputs.shape={np.shape(inputs)}"
        )
    channels = np.shape(inputs)[-1 if data_format == "channels_last" else 1]
    kernel_channels = np.shape(kernel)[kernel_axis]
    groups_fit = grouped and channels % kernel_channels == 0
    if groups_fit and np.shape(kernel)[-1] % (channels // kernel_channels):
        raise ValueError(
            f"A grouped convolution's filters must divide into its "
            f"{channels // kernel_channels} groups. Received kernel.shape={np.shape(kernel)}, "
            f"inputs.shape={np.shape(inputs)}"
        )
    if channels != kernel_channels and not groups_fit:
        raise ValueError(
            "The number of input channels must match the kernel's input channels. Received: "
            f"input channels={channels}, kernel input channels={kernel_channels}, "
            f"data_format='{data_format}'."
        )


# ---------------------------------------------------------------- conv
@symbolic_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (N = 1, 2, 3); kernel (*window, in / groups, filters). A kernel with
    fewer input channels than the input is a grouped convolution, as in TensorFlow."""
    rank = _check_rank(inputs)
    strides, padding, data_format, dilation_rate = _standard(
        rank, strides, padding, data_format, dilation_rate
    )
    inputs, kernel = _promote(_float(inputs), _float(kernel))
    _check_channels(inputs, kernel, data_format, rank, grouped=True)
    return primitive(
        "conv", _conv, inputs, kernel, strides=strides, padding=padding,
        data_format=data_format, dilation_rate=dilation_rate,
    )  # fmt: skip


def _grouped_matrix(kernel, groups):
    """The kernel as a (kh·kw·in, filters) matrix; with groups, block diagonal (as Conv2D's
    layer builds it: channel group g feeds only filter group g)."""
    if groups == 1:
        return np.ascontiguousarray(kernel.reshape(-1, kernel.shape[-1]))
    *window, per_group, filters = kernel.shape
    fg = filters // groups
    full = np.zeros((*window, per_group * groups, filters), kernel.dtype)
    for g in range(groups):
        full[..., g * per_group : (g + 1) * per_group, g * fg : (g + 1) * fg] = kernel[
            ..., g * fg : (g + 1) * fg
        ]
    return full.reshape(-1, filters)


def _diagonal_blocks(dfull, kernel_shape, groups):
    """The kernel's gradient from the block-diagonal matrix's: its diagonal blocks."""
    if groups == 1:
        return dfull.reshape(kernel_shape)
    *window, per_group, filters = kernel_shape
    dfull = dfull.reshape(*window, per_group * groups, filters)
    fg = filters // groups
    blocks = [
        dfull[..., g * per_group : (g + 1) * per_group, g * fg : (g + 1) * fg]
        for g in range(groups)
    ]
    return np.concatenate(blocks, axis=-1)


def _conv_setup(x, kernel, strides, padding, data_format, dilation_rate):
    x = _to_last(x, data_format)
    sizes, geometry = _conv_geometry(
        x.shape[1:-1], kernel.shape[:-2], strides, dilation_rate, padding
    )
    groups = x.shape[-1] // kernel.shape[-2]
    image = _image(x)
    cols = np.empty((x.shape[0], *_lift(sizes), *geometry[0], x.shape[-1]), x.dtype)
    return x, image, sizes, geometry, groups, cols


@half_as_float32
def _conv(inputs, kernel, strides, padding, data_format, dilation_rate):
    """y = im2col(x)·W      (batch·oh·ow, kh·kw·in)·(kh·kw·in, filters)"""
    x, image, sizes, geometry, groups, cols = _conv_setup(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )
    matrix = _grouped_matrix(kernel, groups)
    z = np.empty((x.shape[0] * math.prod(sizes), kernel.shape[-1]), x.dtype)
    kernels.conv_forward(image, matrix, None, "linear", *geometry, cols, z, z)
    return _back(z.reshape(x.shape[0], *sizes, kernel.shape[-1]), data_format)


@half_as_float32
def _conv_vjp(g, ans, inputs, kernel, strides, padding, data_format, dilation_rate):
    """dW = colsᵀ·dy    (kh·kw·in, batch·oh·ow)·(batch·oh·ow, filters)
    dx = col2im(dy·Wᵀ)  (batch·oh·ow, filters)·(filters, kh·kw·in), added back onto x"""
    x, image, sizes, geometry, groups, cols = _conv_setup(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )
    kernels.im2col(image, *geometry, cols)  # the forward's patches, made again
    matrix = _grouped_matrix(kernel, groups)
    dy = np.ascontiguousarray(_to_last(g, data_format), x.dtype).reshape(-1, kernel.shape[-1])
    dmatrix = np.empty(matrix.shape, x.dtype)
    dcols = np.empty((len(dy), matrix.shape[0]), x.dtype)
    dx = np.empty(image.shape, x.dtype)
    kernels.conv_backward(
        cols, matrix, dy, dy, dy, "linear", *geometry, dy, dmatrix, None, dcols, dx
    )
    return _back(dx.reshape(x.shape), data_format), _diagonal_blocks(dmatrix, kernel.shape, groups)


# ---------------------------------------------------------------- conv_transpose
@symbolic_op
def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """The input gradient of a convolution as a forward pass; kernel (*window, filters, in)."""
    rank = _check_rank(inputs)
    strides, padding, data_format, dilation_rate = _standard(
        rank, strides, padding, data_format, dilation_rate
    )
    output_padding = _tuple(output_padding, rank, "output_padding")
    inputs, kernel = _promote(_float(inputs), _float(kernel))
    _check_channels(inputs, kernel, data_format, rank, kernel_axis=-1)
    return primitive(
        "conv_transpose", _conv_transpose, inputs, kernel, strides=strides, padding=padding,
        output_padding=output_padding, data_format=data_format, dilation_rate=dilation_rate,
    )  # fmt: skip


def _transpose_setup(inputs, kernel, strides, padding, output_padding, data_format, dilation):
    from minikeras.layers import conv_utils  # (layers import ops)
    from minikeras.layers.conv_transpose import transpose_output_size

    x = _to_last(inputs, data_format)
    window = kernel.shape[:-2]
    sizes = tuple(
        transpose_output_size(n, k, s, d, padding, p)
        for n, k, s, d, p in zip(
            x.shape[1:-1], window, strides, dilation, output_padding or (None,) * len(window)
        )
    )
    # the padding of the convolution that maps the output back to the input's sizes
    pad = tuple(
        conv_utils.pad_before(big, small, k, s, d, padding)
        for big, small, k, s, d in zip(sizes, x.shape[1:-1], window, strides, dilation)
    )
    geometry = (_lift(window), _lift(strides), _lift(dilation), _lift(pad, one=0))
    image = _image(x)
    filters = kernel.shape[-2]
    patches_shape = (*image.shape[:-1], *geometry[0], filters)
    return x, image, sizes, geometry, patches_shape


@half_as_float32
def _conv_transpose(inputs, kernel, strides, padding, output_padding, data_format, dilation_rate):
    """cols = x·Kᵀ           (batch·h·w, in)·(in, kh·kw·filters)
    y = col2im(cols)         each input pixel's kh×kw×filters patch added onto the output"""
    x, image, sizes, geometry, patches = _transpose_setup(
        inputs, kernel, strides, padding, output_padding, data_format, dilation_rate
    )
    flat_x = image.reshape(-1, x.shape[-1])
    cols = np.empty(patches, x.dtype)
    kernels.matmul_nt(flat_x, kernel.reshape(-1, x.shape[-1]), cols.reshape(len(flat_x), -1))
    y = np.empty((x.shape[0], *_lift(sizes), kernel.shape[-2]), x.dtype)
    kernels.col2im(cols, *geometry, y)
    return _back(y.reshape(x.shape[0], *sizes, kernel.shape[-2]), data_format)


@half_as_float32
def _conv_transpose_vjp(
    g, ans, inputs, kernel, strides, padding, output_padding, data_format, dilation_rate
):
    """dcols = im2col(dy)   (batch·h·w, kh·kw·filters)
    dK = dcolsᵀ·x           (kh·kw·filters, batch·h·w)·(batch·h·w, in)
    dx = dcols·K            (batch·h·w, kh·kw·filters)·(kh·kw·filters, in)"""
    x, image, sizes, geometry, patches = _transpose_setup(
        inputs, kernel, strides, padding, output_padding, data_format, dilation_rate
    )
    dy = np.ascontiguousarray(_to_last(g, data_format), x.dtype)
    dcols = np.empty(patches, x.dtype)
    kernels.im2col(_image(dy), *geometry, dcols)
    flat_x = image.reshape(-1, x.shape[-1])
    dcols = dcols.reshape(len(flat_x), -1)
    matrix = np.ascontiguousarray(kernel.reshape(-1, x.shape[-1]))
    dkernel = np.empty(matrix.shape, x.dtype)
    kernels.matmul_tn(dcols, flat_x, dkernel)
    dx = np.empty(flat_x.shape, x.dtype)
    kernels.matmul(dcols, matrix, dx)
    return _back(dx.reshape(x.shape), data_format), dkernel.reshape(kernel.shape)


# ---------------------------------------------------------------- depthwise and separable
@symbolic_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Each input channel convolved with its own `multiplier` kernels; kernel (*window, in,
    multiplier), output channel c·multiplier + m."""
    rank = _check_rank(inputs)
    strides, padding, data_format, dilation_rate = _standard(
        rank, strides, padding, data_format, dilation_rate
    )
    inputs, kernel = _promote(_float(inputs), _float(kernel))
    _check_channels(inputs, kernel, data_format, rank)
    return primitive(
        "depthwise_conv", _depthwise_conv, inputs, kernel, strides=strides, padding=padding,
        data_format=data_format, dilation_rate=dilation_rate,
    )  # fmt: skip


def _depthwise_patches(inputs, kernel, strides, padding, data_format, dilation_rate):
    """(x, sizes, geometry, cols (positions, taps, channels), W (taps, channels, multiplier))"""
    x = _to_last(inputs, data_format)
    sizes, geometry = _conv_geometry(
        x.shape[1:-1], kernel.shape[:-2], strides, dilation_rate, padding
    )
    cols = np.empty((x.shape[0], *_lift(sizes), *geometry[0], x.shape[-1]), x.dtype)
    kernels.im2col(_image(x), *geometry, cols)
    taps = math.prod(kernel.shape[:-2])
    matrix = np.ascontiguousarray(kernel.reshape(taps, x.shape[-1], -1))
    return x, sizes, geometry, cols.reshape(-1, taps, x.shape[-1]), matrix


@half_as_float32
def _depthwise_conv(inputs, kernel, strides, padding, data_format, dilation_rate):
    """z[p, c, m] = Σ_k cols[p, k, c]·W[k, c, m]    (positions, channels, multiplier)"""
    x, sizes, _, cols, matrix = _depthwise_patches(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )
    z = np.empty((len(cols), *matrix.shape[1:]), x.dtype)
    kernels.depthwise_forward(cols, matrix, z)
    return _back(z.reshape(x.shape[0], *sizes, -1), data_format)


@half_as_float32
def _depthwise_conv_vjp(g, ans, inputs, kernel, strides, padding, data_format, dilation_rate):
    """dW[k, c, m] = Σ_p cols[p, k, c]·dz[p, c, m]
    dcols[p, k, c] = Σ_m dz[p, c, m]·W[k, c, m],   dx = col2im(dcols)"""
    x, sizes, geometry, cols, matrix = _depthwise_patches(
        inputs, kernel, strides, padding, data_format, dilation_rate
    )
    dz = np.ascontiguousarray(_to_last(g, data_format), x.dtype).reshape(
        len(cols), *matrix.shape[1:]
    )
    dmatrix = np.empty(matrix.shape, x.dtype)
    dcols = np.empty(cols.shape, x.dtype)
    kernels.depthwise_backward(cols, matrix, dz, dmatrix, dcols)
    image = _image(x)
    dx = np.empty(image.shape, x.dtype)
    patches = dcols.reshape(x.shape[0], *_lift(sizes), *geometry[0], x.shape[-1])
    kernels.col2im(patches, *geometry, dx)
    return _back(dx.reshape(x.shape), data_format), dmatrix.reshape(kernel.shape)


@symbolic_op
def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """A depthwise convolution, then a 1×1 convolution mixing the channels (Keras composes
    the two the same way); pointwise_kernel (1, ..., 1, in·multiplier, filters)."""
    depthwise = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(depthwise, pointwise_kernel, strides=1, padding="valid", data_format=data_format)


# ---------------------------------------------------------------- pooling
def _pool_arguments(inputs, pool_size, strides, padding, data_format):
    from minikeras.layers import conv_utils  # (layers import ops)

    rank = _check_rank(inputs)
    pool_size = _tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, rank, "strides")
    padding = conv_utils.standardize_padding(padding)
    data_format = conv_utils.standardize_data_format(data_format)
    return pool_size, strides, padding, data_format


@symbolic_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum over each window; strides default to the pool size."""
    pool_size, strides, padding, data_format = _pool_arguments(
        inputs, pool_size, strides, padding, data_format
    )
    return primitive(
        "max_pool", _max_pool, _float(inputs), pool_size=pool_size, strides=strides,
        padding=padding, data_format=data_format,
    )  # fmt: skip


@symbolic_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean over each window (with 'same', over the elements inside the input only)."""
    pool_size, strides, padding, data_format = _pool_arguments(
        inputs, pool_size, strides, padding, data_format
    )
    return primitive(
        "average_pool", _average_pool, _float(inputs), pool_size=pool_size, strides=strides,
        padding=padding, data_format=data_format,
    )  # fmt: skip


def _pool_setup(inputs, pool_size, strides, padding, data_format):
    x = _to_last(inputs, data_format)
    ones = (1,) * len(pool_size)
    sizes, (window, strides, _, pad) = _conv_geometry(
        x.shape[1:-1], pool_size, strides, ones, padding
    )
    image = _image(x)
    y = np.empty((x.shape[0], *_lift(sizes), x.shape[-1]), x.dtype)
    return x, image, sizes, (window, strides, pad), y


@half_as_float32
def _max_pool(inputs, pool_size, strides, padding, data_format):
    """y[n, i, j, c] = max of x over window (i, j)"""
    x, image, sizes, geometry, y = _pool_setup(inputs, pool_size, strides, padding, data_format)
    argmax = np.empty(y.shape, np.int64)
    kernels.max_pool_forward(image, *geometry, y, argmax)
    return _back(y.reshape(x.shape[0], *sizes, x.shape[-1]), data_format)


@half_as_float32
def _max_pool_vjp(g, ans, inputs, pool_size, strides, padding, data_format):
    """dx[argmax] += dy: each window's gradient to the element it took its maximum from (the
    first in row-major order, TensorFlow's MaxPoolGrad). 3-D: to every element equal to the
    maximum, as TensorFlow's MaxPool3DGrad."""
    x, image, sizes, geometry, y = _pool_setup(inputs, pool_size, strides, padding, data_format)
    argmax = np.empty(y.shape, np.int64)
    kernels.max_pool_forward(image, *geometry, y, argmax)
    dy = np.ascontiguousarray(_to_last(g, data_format), x.dtype).reshape(y.shape)
    dx = np.empty(image.shape, x.dtype)
    if len(pool_size) == 3:
        kernels.max_pool_backward_ties(image, y, dy, *geometry, dx)
    else:
        kernels.max_pool_backward(dy, argmax, dx)
    return (_back(dx.reshape(x.shape), data_format),)


@half_as_float32
def _average_pool(inputs, pool_size, strides, padding, data_format):
    """y[n, i, j, c] = mean of x over window (i, j), padding not counted"""
    x, image, sizes, geometry, y = _pool_setup(inputs, pool_size, strides, padding, data_format)
    kernels.average_pool_forward(image, *geometry, y)
    return _back(y.reshape(x.shape[0], *sizes, x.shape[-1]), data_format)


@half_as_float32
def _average_pool_vjp(g, ans, inputs, pool_size, strides, padding, data_format):
    """dx[window] += dy / count(window)"""
    x, image, sizes, geometry, y = _pool_setup(inputs, pool_size, strides, padding, data_format)
    dy = np.ascontiguousarray(_to_last(g, data_format), x.dtype).reshape(y.shape)
    dx = np.empty(image.shape, x.dtype)
    kernels.average_pool_backward(dy, *geometry, dx)
    return (_back(dx.reshape(x.shape), data_format),)


# ---------------------------------------------------------------- adaptive pooling
def _adaptive_arguments(inputs, output_size, data_format):
    from minikeras.layers import conv_utils  # (layers import ops)

    rank = _check_rank(inputs)
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        output_size = (int(output_size),) * rank
    if not isinstance(output_size, (tuple, list)) or len(output_size) != rank:
        raise TypeError(
            f"`output_size` must be an integer or a tuple of {rank} integers for a "
            f"{rank}-D input. Received: output_size={output_size}"
        )
    return tuple(int(n) for n in output_size), conv_utils.standardize_data_format(data_format)


@symbolic_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """The mean over `output_size` windows that cover each spatial axis (adaptive_pooling.py)."""

    output_size, data_format = _adaptive_arguments(inputs, output_size, data_format)
    return primitive(
        "adaptive_average_pool", _adaptive_pool, _float(inputs), output_size=output_size,
        data_format=data_format, mode="average",
    )  # fmt: skip


@symbolic_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """The maximum over `output_size` windows that cover each spatial axis."""
    output_size, data_format = _adaptive_arguments(inputs, output_size, data_format)
    return primitive(
        "adaptive_max_pool", _adaptive_pool, _float(inputs), output_size=output_size,
        data_format=data_format, mode="max",
    )  # fmt: skip


def _adaptive_pool(inputs, output_size, data_format, mode):
    from minikeras.layers import adaptive_pooling  # (layers import ops)

    y, _ = adaptive_pooling.adaptive_pool_forward(_to_last(inputs, data_format), output_size, mode)
    return _back(np.ascontiguousarray(y), data_format)


def _adaptive_pool_vjp(g, ans, inputs, output_size, data_format, mode):
    """The layers' backward, axis after axis in reverse: Aᵀ·dy (average) or dy to each
    window's maximum (max)."""
    from minikeras.layers import adaptive_pooling  # (layers import ops)

    _, steps = adaptive_pooling.adaptive_pool_forward(
        _to_last(inputs, data_format), output_size, mode
    )
    dx = adaptive_pooling.adaptive_pool_backward(_to_last(g, data_format), steps)
    return (_back(np.ascontiguousarray(dx), data_format),)


# The vector–Jacobian products, registered in the tape's table beside their forwards
VJPS.update(
    {
        "conv": _conv_vjp,
        "conv_transpose": _conv_transpose_vjp,
        "depthwise_conv": _depthwise_conv_vjp,
        "max_pool": _max_pool_vjp,
        "average_pool": _average_pool_vjp,
        "adaptive_average_pool": _adaptive_pool_vjp,
        "adaptive_max_pool": _adaptive_pool_vjp,
    }
)
