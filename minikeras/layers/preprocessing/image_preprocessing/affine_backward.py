"""The backward of `ops.image.affine_transform` with respect to the images.

For a fixed transform, each output pixel is a weighted sum of (at most four) input pixels:

    out[n, y, x, c] = Σ_k w_k(y, x) · in[n, iy_k(y, x), ix_k(y, x), c]   (bilinear: 4 corners;
                                                                           nearest: 1, w = 1)

where (iy_k, ix_k) are the neighbours of the source point the transform maps (y, x) to, folded
back inside the image by `fill_mode` ("constant" drops the neighbours outside: they read
`fill_value`, which is not an input; "wrap" moves the source point, as TensorFlow does, and
then reads as "constant"). It is linear in the images, so its gradient is the
transposed sum, a scatter-add:

    dx[n, iy_k, ix_k, c] += w_k · dy[n, y, x, c]

This is the exact gradient of the forward pass. TensorFlow's gradient of the same op
(ImageProjectiveTransformV3) instead warps dy back with the inverse transform, which is
the transpose only for permutations (a flip, a rotation by a multiple of 90°, a whole-pixel
translation); elsewhere the two differ.
"""

import numpy as np

from minikeras.ops.image import _fill_index, wrap_coordinate


def affine_transform_adjoint(dy, transform, interpolation, fill_mode, data_format):
    """dL/d(images) of `ops.image.affine_transform(images, transform, ...)` given
    dy = dL/d(output): batched images (N, H, W, C) or (N, C, H, W) as `data_format` says."""
    channels_first = data_format == "channels_first"
    g = np.moveaxis(dy, 1, -1) if channels_first else dy  # (N, H, W, C)
    n_images, height, width, channels = g.shape
    t = np.asarray(transform, np.float32)  # float32 as the forward (ops/image.py) computes
    t = np.broadcast_to(t if t.ndim == 2 else t[None], (n_images, 8))
    ys, xs = np.meshgrid(
        np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32), indexing="ij"
    )
    dx = np.zeros((n_images, height * width, channels), np.float64)
    # "wrap" moves the source coordinate first and then reads as "constant" (TensorFlow's rule)
    mode = fill_mode if fill_mode in ("reflect", "nearest") else "constant"
    for n in range(n_images):
        a, b, c, d, e, f, p, q = t[n]
        k = p * xs + q * ys + 1
        src_x, src_y = (a * xs + b * ys + c) / k, (d * xs + e * ys + f) / k
        if fill_mode == "wrap":
            src_x, src_y = wrap_coordinate(src_x, width), wrap_coordinate(src_y, height)
        g_n = g[n].reshape(-1, channels)  # (H·W, C): one row per output pixel
        for iy, ix, weight in _corners(src_y, src_x, interpolation, height, width, mode):
            rows = (iy * width + ix).ravel()  # the input pixel each output pixel reads
            weighted = weight.ravel()[:, None] * g_n  # w·dy, (H·W, C)
            for ch in range(channels):  # dx[rows] += w·dy, a sum per input pixel
                dx[n, :, ch] += np.bincount(rows, weighted[:, ch], minlength=height * width)
    dx = dx.reshape(n_images, height, width, channels).astype(dy.dtype)
    return np.moveaxis(dx, -1, 1) if channels_first else dx


def _corners(src_y, src_x, interpolation, height, width, mode):
    """(iy, ix, weight) of each neighbour the forward reads, weight 0 where "constant" reads
    the fill value instead (the same rounding and folding as ops.image.affine_transform)."""
    if interpolation == "nearest":  # TensorFlow rounds halves away from zero
        ys = [(np.floor(src_y + 0.5), np.ones_like(src_y))]
        xs = [(np.floor(src_x + 0.5), np.ones_like(src_x))]
    else:
        y0, x0 = np.floor(src_y), np.floor(src_x)
        ys = [(y0, 1 - (src_y - y0)), (y0 + 1, src_y - y0)]
        xs = [(x0, 1 - (src_x - x0)), (x0 + 1, src_x - x0)]
    for y_position, y_weight in ys:
        iy, y_inside = _fill_index(y_position, height, mode)
        for x_position, x_weight in xs:
            ix, x_inside = _fill_index(x_position, width, mode)
            weight = (y_weight * x_weight).astype(np.float64)  # float32, as the forward
            if mode == "constant":
                weight = weight * (y_inside & x_inside)
            yield iy, ix, weight
