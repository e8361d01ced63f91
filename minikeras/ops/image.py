"""Image ops (Keras's `keras.ops.image`): resize, colour conversions, padding and cropping,
patches, affine transforms, coordinate mapping, Gaussian blur.

>>> import numpy as np
>>> from minikeras import ops
>>> ops.image.resize(np.ones((4, 4, 3)), (2, 2)).shape
(2, 2, 3)

Images are (height, width, channels), or (batch, height, width, channels); with
data_format="channels_first" the channels come before height and width. Each op works on
channels-last images and moves the channel axis there and back for channels_first.

Resizing is linear in the image: out = R_h · image · R_wᵀ, with one resampling matrix per
spatial axis (row o holds the weights of the input pixels that output pixel o mixes). So its
gradient is the same product with the matrices transposed (autodiff/vjps_math.py). The
matrices are TensorFlow's (tf.image.resize: half-pixel centres; each kernel's weights
renormalised where the kernel hangs over the border; `antialias` widens the kernel by the
downscaling factor).
"""

import numpy as np

from minikeras import config
from minikeras.autodiff import primitive, unwrap
from minikeras.ops.core import cast, convert_to_tensor
from minikeras.ops.op_class import op_class
from minikeras.ops.symbolic import symbolic_op

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


# ---------------------------------------------------------------- layout helpers
def _data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def _check_rank(images, ranks=(3, 4)):
    if len(images.shape) not in ranks:
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={images.shape}"
        )


def _to_last(x, data_format):
    """x with its channels last (a view)."""
    return np.moveaxis(x, -3, -1) if data_format == "channels_first" else x


def _from_last(x, data_format):
    return np.moveaxis(x, -1, -3) if data_format == "channels_first" else x


# ---------------------------------------------------------------- colour
@symbolic_op
def rgb_to_grayscale(images, data_format=None):
    """0.2989·R + 0.5870·G + 0.1140·B (TensorFlow's weights), one channel kept."""
    images = convert_to_tensor(images)
    data_format = _data_format(data_format)
    _check_rank(images)
    axis = -1 if data_format == "channels_last" else -3
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). "
            f"Received input with shape: images.shape={images.shape}"
        )
    if images.shape[axis] == 1:
        return images
    x = np.asarray(unwrap(images))
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(config.floatx())
    weights = np.array([0.2989, 0.5870, 0.1140], dtype)
    gray = np.tensordot(x.astype(dtype), weights, axes=([axis % x.ndim], [0]))
    return np.expand_dims(gray, axis).astype(x.dtype)


def _check_float(images):
    if np.dtype(images.dtype).kind != "f":
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype={images.dtype}"
        )


def _check_three_channels(images, data_format):
    channels = images.shape[-1 if data_format == "channels_last" else -3]
    if channels != 3:
        raise ValueError(
            f"Input images must have 3 channels, but received images with {channels} channels."
        )


@symbolic_op
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value in [0, 1] (TensorFlow's formulas: hue in sixths
    of a turn from the largest channel, 0 for a grey pixel). Made of max, min, where and
    arithmetic, so its gradient is theirs (on a GradientTape)."""
    from minikeras.ops import numpy as mnp

    images = convert_to_tensor(images)
    data_format = _data_format(data_format)
    _check_rank(images)
    _check_float(images)
    _check_three_channels(images, data_format)
    x = images if data_format == "channels_last" else mnp.moveaxis(images, -3, -1)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    value = mnp.max(x, axis=-1)
    spread = value - mnp.min(x, axis=-1)
    lit = mnp.greater(value, 0)
    saturation = mnp.where(lit, spread / mnp.where(lit, value, 1), 0)
    colour = mnp.greater(spread, 0)
    safe = mnp.where(colour, spread, 1)  # a grey pixel divides by 1, its hue is set to 0
    hue = mnp.where(
        mnp.equal(value, r),
        (g - b) / safe,
        mnp.where(mnp.equal(value, g), (b - r) / safe + 2, (r - g) / safe + 4),
    )
    hue = mnp.where(colour, hue / 6, 0)
    hue = mnp.where(mnp.less(hue, 0), hue + 1, hue)
    out = cast(mnp.stack([hue, saturation, value], axis=-1), images.dtype)
    return out if data_format == "channels_last" else mnp.moveaxis(out, -1, -3)


@symbolic_op
def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] back to RGB (TensorFlow's piecewise-linear formula).
    Made of abs, clip and arithmetic, so its gradient is theirs (on a GradientTape)."""
    from minikeras.ops import numpy as mnp

    images = convert_to_tensor(images)
    data_format = _data_format(data_format)
    _check_rank(images)
    _check_float(images)
    _check_three_channels(images, data_format)
    x = images if data_format == "channels_last" else mnp.moveaxis(images, -3, -1)
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    # each channel: v − v·s·clip(|6h − offset| − 1, 0, 1) shifted so that the colour wheel turns
    dh = h * 6
    red = mnp.clip(mnp.abs(dh - 3) - 1, 0, 1)
    green = mnp.clip(2 - mnp.abs(dh - 2), 0, 1)
    blue = mnp.clip(2 - mnp.abs(dh - 4), 0, 1)
    rgb = mnp.stack([red, green, blue], axis=-1)
    out = ((rgb - 1) * mnp.expand_dims(s, -1) + 1) * mnp.expand_dims(v, -1)
    out = cast(out, images.dtype)
    return out if data_format == "channels_last" else mnp.moveaxis(out, -1, -3)


# ---------------------------------------------------------------- resampling matrices
def _triangle(x):
    return np.maximum(0, 1 - np.abs(x))


def _keys_cubic(x):
    """Keys's cubic convolution kernel with a = −0.5 (TensorFlow's bicubic)."""
    x = np.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1
    far = ((-0.5 * x + 2.5) * x - 4) * x + 2
    return np.where(x < 1, near, np.where(x < 2, far, 0))


def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            px = np.pi * x
            value = radius * np.sin(px) * np.sin(px / radius) / (px * px)
        return np.where(x < 1e-3, 1.0, np.where(x < radius, value, 0.0))

    return kernel


_KERNELS = {
    "bilinear": (_triangle, 1),
    "bicubic": (_keys_cubic, 2),
    "lanczos3": (_lanczos(3), 3),
    "lanczos5": (_lanczos(5), 5),
}


def _kernel_matrix(in_size, out_size, interpolation, antialias):
    """(out, in) weights of TensorFlow's scale_and_translate along one axis: output pixel o
    samples the input at s = (o + ½)·in/out; input pixel i gets weight k((i + ½ − s)/w), w the
    kernel's width (in/out when antialiasing a downscale, else 1); each row sums to 1 (pixels
    past the border are left out and the rest renormalised)."""
    kernel, _ = _KERNELS[interpolation]
    scale = out_size / in_size
    width = max(1 / scale, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) / scale  # (out,)
    position = np.arange(in_size)[None, :] + 0.5 - sample[:, None]  # (out, in)
    if interpolation == "bicubic" and not antialias:
        # TensorFlow's ResizeBicubic reads its weights from a table of 1024 steps per pixel:
        # the fractional position is rounded to the nearest multiple of 1/1024 first
        start = np.floor(sample - 0.5)
        fraction = np.round((sample - 0.5 - start) * 1024) / 1024
        position = np.arange(in_size)[None, :] - (start + fraction)[:, None]
    weights = kernel(position / width)
    total = weights.sum(axis=1, keepdims=True)
    return weights / np.where(np.abs(total) > 0, total, 1)


def _nearest_matrix(in_size, out_size):
    """TensorFlow's nearest neighbour (half-pixel centres): input pixel ⌊(o + ½)·in/out⌋."""
    source = np.minimum(np.floor((np.arange(out_size) + 0.5) * (in_size / out_size)), in_size - 1)
    weights = np.zeros((out_size, in_size))
    weights[np.arange(out_size), source.astype(np.intp)] = 1
    return weights


def _area_matrix(in_size, out_size):
    """TensorFlow's area resize: output pixel o is the mean of the input over
    [o·in/out, (o + 1)·in/out), each input pixel weighted by how much of it lies inside."""
    scale = in_size / out_size
    lo = np.arange(out_size)[:, None] * scale
    hi = lo + scale
    left = np.arange(in_size)[None, :]
    overlap = np.clip(np.minimum(hi, left + 1) - np.maximum(lo, left), 0, None)
    return overlap / scale


def _resize_matrix(in_size, out_size, interpolation, antialias):
    if interpolation == "nearest":
        return _nearest_matrix(in_size, out_size)
    if interpolation == "area":
        return _area_matrix(in_size, out_size)
    return _kernel_matrix(in_size, out_size, interpolation, antialias)


def _resample(x, rows=None, cols=None):
    """rows · x · colsᵀ over the height and width axes of channels-last images x."""
    out = np.einsum("oh,...hwc->...owc", rows, x)  # (out_h, h) · (..., h, w, c)
    return np.einsum("pw,...owc->...opc", cols, out)  # (out_w, w) · (..., out_h, w, c)


# ---------------------------------------------------------------- resize
@symbolic_op
def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """The images resized to `size` = (height, width), as tf.image.resize: float32 out (the
    input's dtype for "nearest"). `crop_to_aspect_ratio` first crops the centre to the target's
    aspect ratio; `pad_to_aspect_ratio` pads with `fill_value` instead."""
    data_format = _data_format(data_format)
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{RESIZE_INTERPOLATIONS}. Received: interpolation={interpolation}"
        )
    if fill_mode != "constant":
        raise ValueError(
            "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
            f"Received: fill_mode={fill_mode}"
        )
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`."
        )
    if len(size) != 2:
        raise ValueError(
            "Argument `size` must be a tuple of two elements (height, width). "
            f"Received: size={size}"
        )
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"`size` must have positive height and width. Received: size={size}")
    images = convert_to_tensor(images)
    _check_rank(images)
    height, width = _spatial(images.shape, data_format)
    target_height, target_width = (int(s) for s in size)
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(width * target_height / target_width)), 1)
        crop_w = max(min(width, int(height * target_width / target_height)), 1)
        top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
        images = crop_images(
            images, top, left, target_height=crop_h, target_width=crop_w, data_format=data_format
        )
        height, width = crop_h, crop_w
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(width * target_height / target_width))
        pad_w = max(width, int(height * target_width / target_height))
        top, left = int((pad_h - height) / 2), int((pad_w - width) / 2)
        images = primitive(
            "pad", _pad_fill, images, pad_width=_pad_width(images, top, left, data_format),
            mode="constant", constant_values=fill_value,
        )  # fmt: skip
        height, width = height + 2 * top, width + 2 * left
    dtype = np.dtype(images.dtype)
    if interpolation != "nearest":  # TensorFlow resamples in float32 (nearest: in place)
        images = cast(images, "float32")
    rows = _resize_matrix(height, target_height, interpolation, antialias)
    cols = _resize_matrix(width, target_width, interpolation, antialias)
    out = primitive("resize", _resize, images, rows=rows, cols=cols, data_format=data_format)
    if dtype.kind in "iub":  # Keras gives the input's dtype back: integers rounded, saturated
        from minikeras.ops.core import saturate_cast
        from minikeras.ops.numpy import round as _round

        return saturate_cast(_round(out), dtype.name)
    return cast(out, dtype.name)


def _resize(images, rows=None, cols=None, data_format="channels_last"):
    x = _to_last(images, data_format)
    out = _resample(x.astype(np.float64), rows, cols).astype(images.dtype)
    return np.ascontiguousarray(_from_last(out, data_format))


def _spatial(shape, data_format):
    """(height, width) of an image shape."""
    return tuple(shape[-3:-1]) if data_format == "channels_last" else tuple(shape[-2:])


def _pad_width(images, top, left, data_format, bottom=None, right=None):
    bottom = top if bottom is None else bottom
    right = left if right is None else right
    pads = [(0, 0)] * len(images.shape)
    h_axis = len(images.shape) - (3 if data_format == "channels_last" else 2)
    pads[h_axis], pads[h_axis + 1] = (top, bottom), (left, right)
    return tuple(pads)


def _pad_fill(x, pad_width=None, mode="constant", constant_values=0):
    return np.pad(x, pad_width, mode=mode, constant_values=constant_values)


# ---------------------------------------------------------------- padding and cropping
def _sides(name, before, after, size, target, total):
    """The (before, after) amounts of padding or cropping along one axis, Keras's way: two of
    before, after and target given, the third follows."""
    given = [v is not None for v in (before, after, target)]
    if sum(given) != 2:
        raise ValueError(
            f"Must specify exactly two of {name[0]}, {name[1]}, {name[2]}. Received: "
            f"{name[0]}={before}, {name[1]}={after}, {name[2]}={target}"
        )
    for label, value in zip(name, (before, after, target)):
        if value is not None and value < 0:
            raise ValueError(f"{label} must be >= 0. Received: {label}={value}")
    if target is None:
        return before, after
    if before is None:
        before = total(target, size) - after
    if after is None:
        after = total(target, size) - before
    return before, after


def _with_spatial(shape, data_format, height, width):
    """`shape` with its height and width replaced."""
    shape = list(shape)
    h_axis = len(shape) - (3 if data_format == "channels_last" else 2)
    shape[h_axis], shape[h_axis + 1] = height, width
    return tuple(shape)


def _pad_images_shape(
    images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
    target_height=None, target_width=None, data_format=None,
):  # fmt: skip
    """pad_images's output shape, where the height or width may be unknown (None): the
    target, or the known size plus both paddings (still unknown without a target)."""
    data_format = _data_format(data_format)
    _check_rank(images)
    sizes = []
    for names, before, after, size, target in (
        (("top_padding", "bottom_padding", "target_height"),
         top_padding, bottom_padding, _spatial(images.shape, data_format)[0], target_height),
        (("left_padding", "right_padding", "target_width"),
         left_padding, right_padding, _spatial(images.shape, data_format)[1], target_width),
    ):  # fmt: skip
        before, after = _sides(names, before, after, size or 0, target, lambda t, s: t - s)
        if size is None:  # the arguments checked; the output's size is the target's
            sizes.append(target)
            continue
        for name, value in zip(names, (before, after)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
        sizes.append(size + before + after)
    return _with_spatial(images.shape, data_format, *sizes)


def _crop_images_shape(
    images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
    target_height=None, target_width=None, data_format=None,
):  # fmt: skip
    """crop_images's output shape: an unknown height (or width) needs its target, which is
    then the output's (as Keras's CropImages.compute_output_spec asks)."""
    data_format = _data_format(data_format)
    _check_rank(images)
    sizes = []
    for names, before, after, size, target, axis in (
        (("top_cropping", "bottom_cropping", "target_height"),
         top_cropping, bottom_cropping, _spatial(images.shape, data_format)[0], target_height,
         "height"),
        (("left_cropping", "right_cropping", "target_width"),
         left_cropping, right_cropping, _spatial(images.shape, data_format)[1], target_width,
         "width"),
    ):  # fmt: skip
        if size is None and target is None:
            raise ValueError(
                f"When the {axis} of the images is unknown, `{names[2]}` must be specified. "
                f"Received images.shape={list(images.shape)} and {names[2]}={target}"
            )
        before, after = _sides(names, before, after, size or 0, target, lambda t, s: s - t)
        if size is None:
            sizes.append(target)
            continue
        for name, value in zip(names, (before, after)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
        sizes.append(size - before - after)
    return _with_spatial(images.shape, data_format, *sizes)


@symbolic_op(shape=_pad_images_shape)
def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """The images with zeros added around them: two of top/bottom/target_height given (and of
    left/right/target_width), the third follows. Made of a pad: its gradient is a crop."""
    data_format = _data_format(data_format)
    images = convert_to_tensor(images)
    _check_rank(images)
    height, width = _spatial(images.shape, data_format)
    top, bottom = _sides(
        ("top_padding", "bottom_padding", "target_height"),
        top_padding, bottom_padding, height, target_height, lambda t, s: t - s,
    )  # fmt: skip
    left, right = _sides(
        ("left_padding", "right_padding", "target_width"),
        left_padding, right_padding, width, target_width, lambda t, s: t - s,
    )  # fmt: skip
    for name, value in (("top_padding", top), ("bottom_padding", bottom)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    for name, value in (("left_padding", left), ("right_padding", right)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    from minikeras.ops.numpy import pad

    return pad(images, _pad_width(images, top, left, data_format, bottom, right))


@symbolic_op(shape=_crop_images_shape)
def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """The images with rows and columns cut off around them: two of top/bottom/target_height
    given (and of left/right/target_width), the third follows. A slice: its gradient pads."""
    data_format = _data_format(data_format)
    images = convert_to_tensor(images)
    _check_rank(images)
    height, width = _spatial(images.shape, data_format)
    top, bottom = _sides(
        ("top_cropping", "bottom_cropping", "target_height"),
        top_cropping, bottom_cropping, height, target_height, lambda t, s: s - t,
    )  # fmt: skip
    left, right = _sides(
        ("left_cropping", "right_cropping", "target_width"),
        left_cropping, right_cropping, width, target_width, lambda t, s: s - t,
    )  # fmt: skip
    for label, value in (
        ("top_cropping", top), ("bottom_cropping", bottom),
        ("left_cropping", left), ("right_cropping", right),
    ):  # fmt: skip
        if value < 0:  # (a computed one: the target is larger than the image)
            raise ValueError(f"{label} must be >= 0. Received: {label}={value}")
    out_h, out_w = height - top - bottom, width - left - right
    if out_h <= 0 or out_w <= 0 or min(top, bottom, left, right) < 0:
        raise ValueError(
            "The cropping leaves no image (or a cropping is negative): "
            f"images.shape={images.shape}, top_cropping={top}, bottom_cropping={bottom}, "
            f"left_cropping={left}, right_cropping={right}"
        )
    index = [slice(None)] * len(images.shape)
    h_axis = len(images.shape) - (3 if data_format == "channels_last" else 2)
    index[h_axis] = slice(top, top + out_h)
    index[h_axis + 1] = slice(left, left + out_w)
    return images[tuple(index)]


# ---------------------------------------------------------------- patches
@symbolic_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Each size[0]×size[1] patch (every `strides` pixels; `dilation_rate` apart), flattened
    into the channel axis: (..., h', w', size[0]·size[1]·channels) channels last. A size of
    three numbers takes 3-D patches of volumes (extract_patches_3d). Made of a pad, gathers
    and reshapes, so its gradient adds each pixel's copies back."""
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(
                "Invalid `size` argument. Expected an int or a tuple. "
                f"Received: size={size} of type {type(size).__name__}"
            )
        if len(size) not in (2, 3):
            raise ValueError(
                "Invalid `size` argument. Expected a tuple of length 2 or 3. "
                f"Received: size={size} with length {len(size)}"
            )
    size = (size, size) if isinstance(size, int) else tuple(size)
    return _patches(images, size, strides, dilation_rate, padding, data_format)


@symbolic_op
def extract_patches_3d(
    volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None
):
    """extract_patches for volumes (..., depth, height, width, channels): 3-D patches."""
    size = (size,) * 3 if isinstance(size, int) else tuple(size)
    if len(size) != 3:
        raise TypeError(
            "Invalid `size` argument. Expected an int or a tuple of length 3. "
            f"Received: size={size}"
        )
    return _patches(volumes, size, strides, dilation_rate, padding, data_format)


def _patches(x, size, strides, dilation_rate, padding, data_format):
    """Patches over the last len(size) spatial axes of channels-last (or -first) arrays, laid
    out as a convolution with an identity kernel lays them out (Keras's definition)."""
    from minikeras.ops.numpy import moveaxis, pad, reshape, take, transpose

    data_format = _data_format(data_format)
    k = len(size)
    x = convert_to_tensor(x)
    if len(x.shape) not in (k + 1, k + 2):
        raise ValueError(
            f"Invalid images rank: expected rank {k + 1} or {k + 2} for patches of size {size}. "
            f"Received input with shape: images.shape={x.shape}"
        )
    strides = size if strides is None else strides
    strides = (strides,) * k if isinstance(strides, int) else tuple(strides)
    if len(strides) != k:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    rate = (dilation_rate,) * k if isinstance(dilation_rate, int) else tuple(dilation_rate)
    # (strides and dilation together work here, as on Keras's NumPy and JAX backends;
    # TensorFlow's convolution refuses them)
    if data_format == "channels_first":
        x = moveaxis(x, -k - 1, -1)
    spatial = x.shape[-k - 1 : -1]
    lead = tuple(x.shape[: -k - 1])
    pads, counts, windows = [], [], []
    for n, kernel, s, r in zip(spatial, size, strides, rate):
        span = (kernel - 1) * r + 1
        if padding == "same":
            count = -(-n // s)
            total = max((count - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            count = max(0, (n - span) // s + 1)
            pads.append((0, 0))
        counts.append(count)
        windows.append(np.arange(count)[:, None] * s + np.arange(kernel)[None, :] * r)
    if any(p != (0, 0) for p in pads):
        x = pad(x, tuple([(0, 0)] * len(lead) + pads + [(0, 0)]))
    for axis, window in enumerate(windows):  # gather each axis: n → (count, kernel)
        x = take(x, window.ravel(), axis=len(lead) + 2 * axis)
        x = reshape(x, tuple(x.shape[: len(lead) + 2 * axis]) + window.shape + tuple(
            x.shape[len(lead) + 2 * axis + 1 :]))  # fmt: skip
    # (..., c₁, k₁, c₂, k₂, ..., C) → (..., c₁, c₂, ..., k₁, k₂, ..., C) → (..., c₁, c₂, ..., K)
    n = len(lead)
    order = tuple(range(n)) + tuple(n + 2 * a for a in range(k))
    order += tuple(n + 2 * a + 1 for a in range(k)) + (n + 2 * k,)
    x = transpose(x, order)
    x = reshape(x, lead + tuple(counts) + (int(np.prod(size)) * x.shape[-1],))
    return x if data_format == "channels_last" else moveaxis(x, -1, -k - 1)


# ---------------------------------------------------------------- coordinate mapping
_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fill_index(index, size, fill_mode):
    """Integer positions outside [0, size) mapped back in (fill_mode as scipy's ndimage, the
    rule Keras's map_coordinates follows); also returns where "constant" is outside."""
    inside = (index >= 0) & (index < size)
    if fill_mode == "nearest":
        index = np.clip(index, 0, size - 1)
    elif fill_mode == "wrap":
        index = np.mod(index, size)
    elif fill_mode == "mirror":  # ... 2 1 | 0 1 2 | 1 0 ...: the edge pixel not repeated
        period = max(2 * size - 2, 1)
        index = np.mod(index, period)
        index = np.where(index >= size, period - index, index)
    elif fill_mode == "reflect":  # ... 1 0 | 0 1 2 | 2 1 ...: the edge pixel repeated
        period = 2 * size
        index = np.mod(index, period)
        index = np.where(index >= size, period - 1 - index, index)
    elif fill_mode == "keras_reflect":
        # Keras's map_coordinates "reflect" (TensorFlow backend): |i| folded into [0, 2n),
        # the upper half reflected with the edge repeated: ... 2 1 | 0 1 2 | 2 1 ...
        index = np.mod(np.abs(index), 2 * size)
        index = np.where(index >= size, 2 * size - 1 - index, index)
    return np.clip(index, 0, size - 1).astype(np.intp), inside


@symbolic_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """inputs sampled at `coordinates` (one array per axis of inputs): order 0 the nearest
    entry, order 1 linear interpolation between the 2^ndim neighbours; positions outside are
    filled as `fill_mode` says ("constant" uses fill_value)."""
    return _map_coordinates(inputs, coordinates, order, fill_mode, fill_value)


def _map_coordinates(
    inputs, coordinates, order, fill_mode="constant", fill_value=0, _exact_reflect=False
):
    """map_coordinates; `_exact_reflect` for affine_transform, whose "reflect" is the true
    reflection (TensorFlow's image transform), not Keras's map_coordinates variant."""
    x = np.asarray(unwrap(convert_to_tensor(inputs)))
    coords = [np.asarray(unwrap(c)) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(
            "First dim of `coordinates` must be the same as the rank of `inputs`. "
            f"Received inputs with shape: {x.shape} and coordinate leading dim of {len(coords)}"
        )
    if any(c.ndim < 1 for c in coords):  # coordinates of rank 1: one scalar per axis
        raise ValueError(
            "Invalid coordinates rank: expected at least rank 2. Received input with shape: "
            f"{(len(coords), *np.shape(coords[0]))}"
        )
    if order not in (0, 1):
        raise NotImplementedError(
            "`order` must be 0 or 1 (the orders Keras's backends implement). "
            f"Received: order={order}"
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of {set(_FILL_MODES)}. "
            f"Received: fill_mode={fill_mode}"
        )
    if order == 0:
        # rounding half to even, as jax.scipy's map_coordinates (and so Keras's backends)
        corners = [[(np.round(c), 1.0)] for c in coords]
    else:
        corners = [
            [(np.floor(c), 1 - (c - np.floor(c))), (np.floor(c) + 1, c - np.floor(c))]
            for c in coords
        ]
    out = np.zeros(coords[0].shape, np.float64)
    for choice in np.ndindex(*[len(c) for c in corners]):
        index, weight, valid = [], 1.0, True
        for axis, k in enumerate(choice):
            position, w = corners[axis][k]
            mode = "keras_reflect" if fill_mode == "reflect" and not _exact_reflect else fill_mode
            i, inside = _fill_index(position, x.shape[axis], mode)
            index.append(i)
            weight = weight * w
            valid = valid & inside if fill_mode == "constant" else valid
        values = np.where(valid, x[tuple(index)], fill_value)
        out = out + weight * values
    dtype = x.dtype
    if dtype.kind in "iu":
        return np.round(out).astype(dtype) if order == 1 else out.astype(dtype)
    return out.astype(dtype)


@symbolic_op
def affine_transform(
    images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
    data_format=None,
):  # fmt: skip
    """Each output pixel (y, x) takes the input at ((d·x + e·y + f)/k, (a·x + b·y + c)/k),
    k = g·x + h·y + 1, for transform [a, b, c, d, e, f, g, h] (one per image, or one for all):
    tf.raw_ops.ImageProjectiveTransformV3's convention."""
    data_format = _data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{('nearest', 'bilinear')}. Received: interpolation={interpolation}"
        )
    # "mirror" is Keras's on its NumPy and JAX backends (TensorFlow's transform has none):
    # the reflection without the edge pixel repeated, as map_coordinates's
    fill_modes = ("constant", "nearest", "wrap", "mirror", "reflect")
    if fill_mode not in fill_modes:
        raise ValueError(
            "Invalid value for argument `fill_mode`. Expected of one "
            f"{fill_modes}. Received: fill_mode={fill_mode}"
        )
    x = np.asarray(unwrap(convert_to_tensor(images)))
    # the source coordinates in float32, as TensorFlow computes them: where one lands on a
    # half pixel, float64 would round it the other way
    t = np.asarray(unwrap(convert_to_tensor(transform)), np.float32)
    _check_rank(x)
    if t.ndim not in (1, 2):
        raise ValueError(
            "Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
            f"transforms). Received input with shape: transform.shape={t.shape}"
        )
    single = x.ndim == 3
    x = _to_last(x[None] if single else x, data_format)
    t = np.broadcast_to(t if t.ndim == 2 else t[None], (x.shape[0], 8))
    height, width = x.shape[1:3]
    ys, xs = np.meshgrid(
        np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32), indexing="ij"
    )
    out = np.empty(x.shape, np.float64)
    mode = {"reflect": "reflect", "nearest": "nearest", "mirror": "mirror"}.get(
        fill_mode, "constant"
    )
    order = 0 if interpolation == "nearest" else 1
    for n in range(x.shape[0]):
        a, b, c, d, e, f, g, h = t[n]
        k = g * xs + h * ys + 1
        src_x, src_y = (a * xs + b * ys + c) / k, (d * xs + e * ys + f) / k
        if fill_mode == "wrap":  # TensorFlow wraps the coordinate, then reads as "constant"
            src_x, src_y = wrap_coordinate(src_x, width), wrap_coordinate(src_y, height)
        if order == 0:  # TensorFlow rounds halves away from zero (map_coordinates: to even)
            src_x, src_y = np.floor(src_x + 0.5), np.floor(src_y + 0.5)
        out[n] = _sample_channels(x[n], src_y, src_x, order, mode, fill_value)
    if x.dtype.kind in "iu" and order == 1:  # integers: the interpolated values rounded
        out = np.round(out)
    out = _from_last(out.astype(x.dtype), data_format)
    return out[0] if single else out


def wrap_coordinate(coordinate, size):
    """TensorFlow's "wrap" of a source coordinate (ImageProjectiveTransformV3's MapCoordinate):
    moved by whole multiples of `size`, their count found by dividing by size − 1, then clamped
    to [0, size − 1]; the neighbours past the edge then read the fill value. (Not the periodic
    wrap of the pixel indices: between the last pixel and the first it clamps.)"""
    if size <= 1:
        return np.zeros_like(coordinate)
    span = size - 1
    below = coordinate + size * (np.trunc(-coordinate / span) + 1)
    above = coordinate - size * np.trunc(coordinate / span)
    coordinate = np.where(coordinate < 0, below, np.where(coordinate > span, above, coordinate))
    return np.clip(coordinate, 0, span).astype(np.float32)


def _sample_channels(image, ys, xs, order, fill_mode, fill_value):
    """The (H, W, C) image read at the points (ys, xs), every channel at once: the neighbours,
    weights and folding of _map_coordinates (with the true reflection), found once for all
    channels."""
    if order == 0:
        corners = [[(np.round(ys), 1.0)], [(np.round(xs), 1.0)]]
    else:
        corners = [
            [(np.floor(c), 1 - (c - np.floor(c))), (np.floor(c) + 1, c - np.floor(c))]
            for c in (ys, xs)
        ]
    out = np.zeros(np.shape(ys) + image.shape[-1:], np.float64)
    for y_position, y_weight in corners[0]:
        iy, y_inside = _fill_index(y_position, image.shape[0], fill_mode)
        for x_position, x_weight in corners[1]:
            ix, x_inside = _fill_index(x_position, image.shape[1], fill_mode)
            weight = np.asarray(1.0 * y_weight * x_weight)[..., None]  # float32, as there
            values = image[iy, ix]  # (H', W', C)
            if fill_mode == "constant":
                values = np.where((y_inside & x_inside)[..., None], values, fill_value)
            out = out + weight * values
    return out


def _homography(start_points, end_points):
    """The transform [a, b, c, d, e, f, g, h] taking each end point (x, y) to its start point:
    start = ((a·x + b·y + c)/k, (d·x + e·y + f)/k), k = g·x + h·y + 1; two equations per
    point pair, eight unknowns, solved exactly."""
    rows, rhs = [], []
    for (sx, sy), (ex, ey) in zip(start_points, end_points):
        rows.append([ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey])
        rows.append([0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey])
        rhs.extend([sx, sy])
    return np.linalg.solve(np.array(rows, np.float64), np.array(rhs, np.float64))


def _check_points(start, end):
    """Keras's checks of perspective_transform's corner points: (4, 2) or (N, 4, 2) each, alike."""
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or points.shape[-2:] != (4, 2):
            raise ValueError(
                f"Invalid {name} shape: expected (4,2) for a single image or (N,4,2) for a "
                f"batch. Received shape: {points.shape}"
            )
    if start.shape != end.shape:
        raise ValueError(
            "start_points and end_points must have the same shape. "
            f"Received start_points.shape={start.shape}, end_points.shape={end.shape}"
        )


def _perspective_transform_shape(images, start_points, end_points, *args, **kwargs):
    """The images' shape: the checks are made on shapes, so they hold for unknown axes too
    (solving for the homography on stand-in corners would meet a singular system)."""
    _check_rank(images)
    _check_points(start_points, end_points)
    return tuple(images.shape)


@symbolic_op(shape=_perspective_transform_shape)
def perspective_transform(
    images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None
):
    """The images warped so that the four `start_points` (x, y) land on the `end_points`:
    affine_transform with the homography that takes each end point back to its start point
    (constant fill outside the image)."""
    images = convert_to_tensor(images)
    _check_rank(images)  # first, as Keras: a wrong image is named before wrong points
    start = np.asarray(unwrap(convert_to_tensor(start_points)), np.float64)
    end = np.asarray(unwrap(convert_to_tensor(end_points)), np.float64)
    _check_points(start, end)
    start, end = start.reshape(-1, 4, 2), end.reshape(-1, 4, 2)
    transforms = np.stack([_homography(s, e) for s, e in zip(start, end)]).astype(np.float32)
    return affine_transform(
        images, transforms, interpolation, "constant", fill_value, data_format=data_format
    )


def elastic_coordinates(batch_size, height, width, alpha, sigma, seed=None, dtype="float32"):
    """The points (ys, xs), each (batch, height, width), that elastic_transform reads: pixel
    (y, x) moved by alpha·(blurred noise), the noise N(0, 1)·sigma per pixel (as Keras scales
    it), blurred by a Gaussian of sigma over a (⌊6·sigma⌋ | 1)-wide square. The x and y noises
    are two draws (Keras's NumPy backend; its TensorFlow backend draws the same field twice)."""
    from minikeras import random

    dtype = np.dtype(dtype)
    alpha, sigma = dtype.type(alpha), dtype.type(sigma)
    size = int(6 * sigma) | 1
    fields = []
    for _ in range(2):
        noise = random.normal((batch_size, height, width, 1), dtype=dtype, seed=seed) * sigma
        blurred = gaussian_blur(noise, (size, size), (sigma, sigma), "channels_last")
        fields.append(np.asarray(unwrap(blurred))[..., 0])
    xs, ys = np.meshgrid(np.arange(width, dtype=dtype), np.arange(height, dtype=dtype))
    return ys[None] + alpha * fields[1], xs[None] + alpha * fields[0]


def sample_at(images, ys, xs, order, fill_mode, fill_value, data_format):
    """Each channel of each image read at its points (ys[n], xs[n]) by map_coordinates."""
    x = _to_last(images, data_format)
    out = np.stack(
        [
            np.stack(
                [
                    _map_coordinates(x[n, ..., c], [ys[n], xs[n]], order, fill_mode, fill_value)
                    for c in range(x.shape[-1])
                ],
                axis=-1,
            )
            for n in range(x.shape[0])
        ]
    )
    return _from_last(out.astype(x.dtype), data_format)


@symbolic_op
def elastic_transform(
    images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect",
    fill_value=0.0, seed=None, data_format=None,
):  # fmt: skip
    """The images displaced by a smooth random field (elastic_coordinates), read with
    map_coordinates (`interpolation` "nearest" or "bilinear", `fill_mode` as there)."""
    data_format = _data_format(data_format)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            "Invalid value for argument `interpolation`. Expected of one "
            f"{set(('nearest', 'bilinear'))}. Received: interpolation={interpolation}"
        )
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            "Invalid value for argument `fill_mode`. Expected of one "
            f"{set(_FILL_MODES)}. Received: fill_mode={fill_mode}"
        )
    x = np.asarray(unwrap(convert_to_tensor(images)))
    _check_rank(x)
    single = x.ndim == 3
    x = x[None] if single else x
    height, width = _spatial(x.shape, data_format)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(config.floatx())
    ys, xs = elastic_coordinates(x.shape[0], height, width, alpha, sigma, seed, dtype)
    order = 0 if interpolation == "nearest" else 1
    out = sample_at(x, ys, xs, order, fill_mode, fill_value, data_format)
    return out[0] if single else out


# ---------------------------------------------------------------- blur
def _gaussian_kernel(kernel_size, sigma, dtype):
    """Keras's 2-D kernel: the outer product of a 1-D Gaussian of (kernel_size[1], sigma[1])
    with one of (kernel_size[0], sigma[0]), each normalised, laid out as
    (kernel_size[0], kernel_size[1]) (for unequal sizes that layout is Keras's reshape)."""

    def one_d(size, s):
        x = np.arange(size, dtype=dtype) - (size - 1) / 2
        k = np.exp(-0.5 * (x / s) ** 2)
        return k / k.sum()

    k_x = one_d(kernel_size[0], sigma[0])
    k_y = one_d(kernel_size[1], sigma[1])
    return np.outer(k_y, k_x).reshape(kernel_size[0], kernel_size[1]).astype(dtype)


@symbolic_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Each channel correlated with Keras's Gaussian kernel, zero-padded to keep its size
    (TensorFlow's "same" padding: the extra row or column after). Made of pad, slices,
    multiply and add, so its gradient is theirs."""
    from minikeras.ops.numpy import add, multiply, pad

    data_format = _data_format(data_format)
    images = convert_to_tensor(images)
    _check_rank(images)
    dtype = np.dtype(images.dtype) if np.dtype(images.dtype).kind == "f" else config.floatx()
    images = cast(images, dtype)
    kh, kw = (int(k) for k in kernel_size)
    kernel = _gaussian_kernel((kh, kw), sigma, dtype)
    height, width = _spatial(images.shape, data_format)
    padded = pad(images, _pad_width(images, (kh - 1) // 2, (kw - 1) // 2, data_format,
                                    kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2))  # fmt: skip
    h_axis = len(images.shape) - (3 if data_format == "channels_last" else 2)
    out = None
    for a in range(kh):
        for b in range(kw):
            index = [slice(None)] * len(images.shape)
            index[h_axis], index[h_axis + 1] = slice(a, a + height), slice(b, b + width)
            term = multiply(padded[tuple(index)], kernel[a, b])
            out = term if out is None else add(out, term)
    return out


# ---------------------------------------------------------------- edges
_SOBEL_DY = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])  # rows: the vertical gradient


@symbolic_op
def sobel_edges(images, data_format=None):
    """The Sobel gradients of each channel, (..., channels, 2) with [dy, dx] last
    (tf.image.sobel_edges): the image reflected by one pixel at its borders, correlated with
    [[−1, −2, −1], [0, 0, 0], [1, 2, 1]] and its transpose. Made of gathers, slices, products
    and sums, so its gradient is theirs."""
    from minikeras.ops.numpy import add, moveaxis, multiply, stack, take

    data_format = _data_format(data_format)
    images = convert_to_tensor(images)
    if len(images.shape) != 4:
        raise ValueError(
            "Invalid images rank: expected rank 4 (batch of images). "
            f"Received input with shape: images.shape={images.shape}"
        )
    x = images if data_format == "channels_last" else moveaxis(images, 1, -1)
    height, width = x.shape[1], x.shape[2]
    # reflection without repeating the edge: row −1 is row 1, row h is row h − 2
    x = take(x, np.concatenate([[1], np.arange(height), [height - 2]]), axis=1)
    x = take(x, np.concatenate([[1], np.arange(width), [width - 2]]), axis=2)
    gradients = []
    for kernel in (_SOBEL_DY, _SOBEL_DY.T):
        out = None
        for a in range(3):
            for b in range(3):
                if kernel[a, b]:
                    term = multiply(x[:, a : a + height, b : b + width], float(kernel[a, b]))
                    out = term if out is None else add(out, term)
        gradients.append(out)
    edges = stack(gradients, axis=-1)  # (N, H, W, C, 2)
    return edges if data_format == "channels_last" else moveaxis(edges, 3, 1)


# ---------------------------------------------------------------- similarity
def _valid_gaussian_matrix(size, filter_size, sigma):
    """(size − filter_size + 1, size): row o holds the normalised Gaussian over pixels
    o ... o + filter_size − 1 (a "valid" correlation along one axis)."""
    x = np.arange(filter_size) - (filter_size - 1) / 2
    g = np.exp(-(x**2) / (2.0 * sigma**2))
    g = g / g.sum()
    out = size - filter_size + 1
    matrix = np.zeros((out, size))
    for o in range(out):
        matrix[o, o : o + filter_size] = g
    return matrix


@symbolic_op
def ssim(
    image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
    data_format=None,
):  # fmt: skip
    """The structural similarity of two images (Keras's ssim): local means, variances and the
    covariance under a filter_size Gaussian window ("valid": no padding), then the mean over
    positions and channels of (2μ₁μ₂ + c₁)(2σ₁₂ + c₂) / ((μ₁² + μ₂² + c₁)(σ₁² + σ₂² + c₂)),
    c = (k·max_val)². One number per image. Made of ops and the resampling product, so it is
    differentiable (a loss)."""
    from minikeras.ops.numpy import add, divide, mean, moveaxis, multiply, subtract

    data_format = _data_format(data_format)
    image1, image2 = convert_to_tensor(image1), convert_to_tensor(image2)
    for name, image in (("image1", image1), ("image2", image2)):
        if len(image.shape) not in (3, 4):
            raise ValueError(
                f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of "
                f"images). Received input with shape: {name}.shape={image.shape}"
            )
    original = np.dtype(image1.dtype)
    compute = original if original.kind == "f" else np.dtype(config.floatx())
    x, y = cast(image1, compute.name), cast(image2, compute.name)
    if data_format == "channels_first":
        x, y = moveaxis(x, -3, -1), moveaxis(y, -3, -1)
    height, width = x.shape[-3], x.shape[-2]
    rows = _valid_gaussian_matrix(height, filter_size, filter_sigma)
    cols = _valid_gaussian_matrix(width, filter_size, filter_sigma)

    def window_mean(z):
        return primitive("resize", _resize, z, rows=rows, cols=cols)

    mu1, mu2 = window_mean(x), window_mean(y)
    mu1_sq, mu2_sq, mu12 = multiply(mu1, mu1), multiply(mu2, mu2), multiply(mu1, mu2)
    var1 = subtract(window_mean(multiply(x, x)), mu1_sq)
    var2 = subtract(window_mean(multiply(y, y)), mu2_sq)
    cov = subtract(window_mean(multiply(x, y)), mu12)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    numerator = multiply(add(multiply(mu12, 2.0), c1), add(multiply(cov, 2.0), c2))
    denominator = multiply(add(add(mu1_sq, mu2_sq), c1), add(add(var1, var2), c2))
    value = mean(divide(numerator, denominator), axis=(-3, -2, -1))
    return cast(value, original.name)


# ---------------------------------------------------------------- scale and translate
SCALE_AND_TRANSLATE_METHODS = {
    "linear": "bilinear", "bilinear": "bilinear", "trilinear": "bilinear",
    "cubic": "bicubic", "bicubic": "bicubic", "tricubic": "bicubic",
    "lanczos3": "lanczos3", "lanczos5": "lanczos5",
}  # fmt: skip


def _scale_translate_matrix(in_size, out_size, scale, translation, kernel, antialias):
    """(out, in) weights of jax.image.scale_and_translate along one axis: output pixel o samples
    the input at s = (o + ½ − translation)/scale − ½; weights renormalised to sum to 1, and
    zero for an output whose sample falls outside the input [−½, in − ½]."""
    width = max(1 / scale, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5 - translation) / scale - 0.5  # (out,)
    weights = kernel(np.abs(sample[:, None] - np.arange(in_size)[None, :]) / width)
    total = weights.sum(axis=1, keepdims=True)
    usable = np.abs(total) > 1000 * np.finfo(np.float32).eps  # (else: no input near, zeros)
    weights = np.where(usable, weights / np.where(usable, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return weights * inside[:, None]


@symbolic_op
def scale_and_translate(
    images, output_shape, scale, translation, spatial_dims, method, antialias=True
):
    """The images resampled on the axes `spatial_dims` to `output_shape`, each scaled by
    `scale` and shifted by `translation` (jax.image.scale_and_translate). Integer images are
    rounded and clipped to their own range. Linear in the images: its gradient is a product
    with the same matrices transposed (made of tensordot and moveaxis)."""
    from minikeras.ops.numpy import clip, moveaxis, round, tensordot

    if method not in SCALE_AND_TRANSLATE_METHODS:
        raise ValueError(
            "Invalid value for argument `method`. Expected of one "
            f"{set(SCALE_AND_TRANSLATE_METHODS)}. Received: method={method}"
        )
    kernel, _ = _KERNELS[SCALE_AND_TRANSLATE_METHODS[method]]
    images = convert_to_tensor(images)
    scale = np.asarray(unwrap(scale), np.float64).reshape(-1)
    translation = np.asarray(unwrap(translation), np.float64).reshape(-1)
    integer = np.dtype(images.dtype).kind in "iub"
    out = cast(images, "float32") if integer else images
    for i, d in enumerate(spatial_dims):
        d = d % len(images.shape)
        matrix = _scale_translate_matrix(
            images.shape[d], output_shape[d], scale[i], translation[i], kernel, antialias
        ).astype(out.dtype)
        out = moveaxis(tensordot(out, matrix, axes=([d], [1])), -1, d)  # (..., in, ...)·(out, in)ᵀ
    if integer:
        x = np.asarray(unwrap(images))
        out = cast(clip(round(out), x.min(), x.max()), images.dtype)
    return out


# Keras's op classes (image_test builds them): each an op's options, called with its tensors
RGBToGrayscale = op_class(rgb_to_grayscale, "RGBToGrayscale")
RGBToHSV = op_class(rgb_to_hsv, "RGBToHSV")
HSVToRGB = op_class(hsv_to_rgb, "HSVToRGB")
Resize = op_class(resize, "Resize")
AffineTransform = op_class(affine_transform, "AffineTransform")
ExtractPatches = op_class(extract_patches, "ExtractPatches")
ExtractPatches3D = op_class(extract_patches_3d, "ExtractPatches3D")
MapCoordinates = op_class(map_coordinates, "MapCoordinates")
PadImages = op_class(pad_images, "PadImages")
CropImages = op_class(crop_images, "CropImages")
GaussianBlur = op_class(gaussian_blur, "GaussianBlur")
ScaleAndTranslate = op_class(scale_and_translate, "ScaleAndTranslate")
SobelEdges = op_class(sobel_edges, "SobelEdges")
SSIM = op_class(ssim, "SSIM")
PerspectiveTransform = op_class(perspective_transform, "PerspectiveTransform")
