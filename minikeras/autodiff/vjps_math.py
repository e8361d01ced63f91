"""The vector–Jacobian products of the math ops with longer formulas (Fourier transforms,
overlap-add, slogdet, erfinv, image resizing); the one-line ones sit in vjps.py's table, which
lists these too.

Complex numbers travel as (real, imag) pairs, so `g` for a transform is the pair (g_re, g_im);
write G = g_re + i·g_im. For y = F·z (F linear, complex), L depends on y through
Re Σ conj(G)·y, so dL/dz = Fᴴ·G, given back as the pair (Re, Im): the real gradients of the
real and imaginary parts, as TensorFlow's.
"""

import math

import numpy as np


def _complex(g):
    return g[0] + 1j * g[1]


def _pair(z, dtype):
    return np.real(z).astype(dtype), np.imag(z).astype(dtype)


def fft_vjp(g, ans, real, imag):
    """y = F·z: Fᴴ = n·F⁻¹, so dz = n·ifft(G)."""
    n = real.shape[-1]
    return _pair(n * np.fft.ifft(_complex(g), axis=-1), real.dtype)


def fft2_vjp(g, ans, real, imag):
    """The same over the last two axes: dz = (m·n)·ifft2(G)."""
    n = real.shape[-1] * real.shape[-2]
    return _pair(n * np.fft.ifft2(_complex(g), axes=(-2, -1)), real.dtype)


def ifft2_vjp(g, ans, real, imag):
    """y = F⁻¹·z = Fᴴ·z / n, so dz = F·G / n = fft2(G) / n."""
    n = real.shape[-1] * real.shape[-2]
    return _pair(np.fft.fft2(_complex(g), axes=(-2, -1)) / n, real.dtype)


def _fit_last_axis(a, size):
    """a's last axis cut to `size` or zero-padded up to it."""
    if a.shape[-1] >= size:
        return a[..., :size]
    return np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, size - a.shape[-1])])


def rfft_vjp(g, ans, x, fft_length=None):
    """y = the first n//2 + 1 entries of F·x (x cut or zero-padded to n): dx = Re(Fᴴ·G) with
    G zero at the frequencies not returned, Fᴴ = n·ifft; then back to x's length (the entries
    cut off before the transform get 0)."""
    n = fft_length or x.shape[-1]
    full = _fit_last_axis(_complex(g), n)  # (..., n//2 + 1) -> (..., n), zeros above
    return (_fit_last_axis(np.real(n * np.fft.ifft(full, axis=-1)), x.shape[-1]).astype(x.dtype),)


def irfft_vjp(g, ans, real, imag, fft_length=None):
    """x_t = (1/n) Σₖ wₖ·(aₖ cos θ − bₖ sin θ), θ = 2πkt/n, wₖ = 2 but 1 at k = 0 and at n/2:
    so (da, db) = (w/n)·(Re, Im) of rfft(g). The imaginary parts at k = 0 and n/2 get 0, as
    they do not reach x."""
    n = fft_length or 2 * (real.shape[-1] - 1)
    bins = n // 2 + 1
    weights = np.full(bins, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    z = np.fft.rfft(g, n=n, axis=-1) * weights / n  # (..., n) -> (..., n//2 + 1)
    z = _fit_last_axis(z, real.shape[-1])
    return _pair(z, real.dtype)


def overlap_add_vjp(g, ans, frames, stride=1):
    """out[f·stride + t] += frames[f, t]: each frame entry gets the gradient of its sample."""
    count, frame_length = frames.shape[-2:]
    index = np.arange(count)[:, None] * stride + np.arange(frame_length)[None, :]
    return (g[..., index],)


def slogdet_vjp(g, ans, x):
    """log |det A| has gradient A⁻ᵀ; the sign is piecewise constant (no gradient)."""
    return (g[1][..., None, None] * np.swapaxes(np.linalg.inv(x), -1, -2),)


def erfinv_vjp(g, ans, x):
    """erf(y) = x gives dx = (2/√π)·e^(−y²)·dy, so dy/dx = (√π/2)·e^(y²)."""
    return (g * (math.sqrt(math.pi) / 2) * np.exp(ans * ans),)


def ldexp_vjp(g, ans, x1, x2):
    """ans = x1·2^x2 (x2 integer, no gradient); TensorFlow passes x1 through unchanged where it
    is 0 or ±inf, so the gradient there is 1."""
    scale = np.where(np.isinf(x1) | (x1 == 0), 1.0, np.exp2(x2.astype(np.float64)))
    return g * scale.astype(g.dtype), None


def resize_vjp(g, ans, images, rows=None, cols=None, data_format="channels_last"):
    """out = R·x·Cᵀ over (height, width): dx = Rᵀ·g·C (ops/image.py builds R and C)."""
    last = data_format == "channels_last"
    g = g if last else np.moveaxis(g, -3, -1)
    dx = np.einsum("oh,...owc->...hwc", rows, g)  # (out_h, h)ᵀ · (..., out_h, out_w, c)
    dx = np.einsum("pw,...hpc->...hwc", cols, dx)  # (out_w, w)ᵀ · (..., h, out_w, c)
    dx = dx if last else np.moveaxis(dx, -1, -3)
    return (dx.astype(images.dtype),)
