"""UpSampling1D/2D/3D: repeat each step (each row and column, each slice of a volume) `size`
times, or, in 2-D, interpolate bilinearly as TensorFlow's image resize does."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.layers.reshaping import standardize_data_format, standardize_tuple


def repeat_backward(dy, axis, size):
    """The gradient of np.repeat(x, size, axis): each input gets the sum of its `size` copies."""
    shape = dy.shape[:axis] + (dy.shape[axis] // size, size) + dy.shape[axis + 1 :]
    return dy.reshape(shape).sum(axis=axis + 1)


def bilinear_matrix(n, size, dtype):
    """The (n·size, n) matrix A with resized = A·x along one axis: TensorFlow's bilinear resize
    with half-pixel centres (Keras's default, no antialias at a scale-up). Output o reads the
    source point s = (o + ½)/size − ½, clamped to [0, n − 1], between x[⌊s⌋] and x[⌊s⌋ + 1]."""
    a = np.zeros((n * size, n))
    for o in range(n * size):
        s = (o + 0.5) / size - 0.5
        low = int(np.floor(s))
        frac = s - low
        a[o, min(max(low, 0), n - 1)] += 1 - frac
        a[o, min(max(low + 1, 0), n - 1)] += frac
    return a.astype(dtype)


def lanczos_matrix(n, size, radius, dtype):
    """The (n·size, n) matrix A with resized = A·x along one axis: TensorFlow's Lanczos resize
    (its `scale_and_translate`, half-pixel centres). Output o is centred at c = (o + ½)/size
    in source coordinates (pixel i's centre at i + ½); it weighs each pixel i within `radius`
    of c by L(i + ½ − c), L(t) = sinc(t)·sinc(t/radius), the weights (cut at the image's
    edges) divided by their sum."""
    a = np.zeros((n * size, n))
    for o in range(n * size):
        centre = (o + 0.5) / size
        low = max(int(np.ceil(centre - radius - 0.5)), 0)
        high = min(int(np.floor(centre + radius - 0.5)), n - 1)
        t = np.arange(low, high + 1) + 0.5 - centre
        weights = np.sinc(t) * np.sinc(t / radius)
        a[o, low : high + 1] = weights / weights.sum()
    return a.astype(dtype)


def bicubic_matrix(n, size, dtype):
    """The (n·size, n) matrix A with resized = A·x along one axis: TensorFlow's bicubic resize
    (ResizeBicubic, half-pixel centres, Keys's cubic with a = −½). Output o reads the source
    point s = (o + ½)/size − ½ from the four pixels ⌊s⌋ − 1 … ⌊s⌋ + 2, those outside the image
    left out and the rest divided by their sum. TensorFlow looks the weights up in a table of
    1024 steps of the fraction s − ⌊s⌋ (rounded to the nearest step); so does this, to match."""

    def keys(t):  # Keys's cubic, a = −½, for |t| < 2
        t = abs(t)
        return ((1.5 * t - 2.5) * t * t + 1) if t < 1 else (((-0.5 * t + 2.5) * t - 4) * t + 2)

    a = np.zeros((n * size, n))
    for o in range(n * size):
        s = (o + 0.5) / size - 0.5
        low = int(np.floor(s))
        frac = np.rint((s - low) * 1024) / 1024
        taps = [(i, keys(i - low - frac)) for i in range(low - 1, low + 3) if 0 <= i < n]
        total = sum(w for _, w in taps)
        for i, w in taps:
            a[o, i] = w / total
    return a.astype(dtype)


def resize_matrix(n, size, interpolation, dtype):
    """The resize along one axis of n pixels, as a matrix (see the functions above)."""
    if interpolation == "bilinear":
        return bilinear_matrix(n, size, dtype)
    if interpolation == "bicubic":
        return bicubic_matrix(n, size, dtype)
    return lanczos_matrix(n, size, {"lanczos3": 3, "lanczos5": 5}[interpolation], dtype)


class UpSampling1D(Layer):
    """Each step of (batch, steps, features) repeated `size` times.

    >>> import numpy as np
    >>> from minikeras.layers import UpSampling1D
    >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]]))[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = size
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def call(self, x, training=False):
        return np.repeat(x, self.size, axis=1)

    def backward(self, dy):
        """dx[t] = Σ of dy over the `size` copies of step t"""
        self.grads = []
        return repeat_backward(dy, 1, self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Rows repeated size[0] times and columns size[1] times ("nearest"), or a resize to the
    same shape as TensorFlow's ("bilinear", "bicubic", "lanczos3", "lanczos5").

    >>> import numpy as np
    >>> from minikeras.layers import UpSampling2D
    >>> UpSampling2D((1, 2))(np.array([[[[1.0], [2.0]]]]))[0, 0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 2, "size")
        if 0 in self.size:
            raise ValueError(
                f"The `size` argument must be a tuple of 2 integers. Received size={size}, "
                "including values {0} that do not satisfy `value > 0`"
            )
        self.interpolation = interpolation.lower()
        methods = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")
        if self.interpolation not in methods:
            raise NotImplementedError(
                f"UpSampling2D(interpolation={interpolation!r}) is not supported by minikeras "
                f"(only {', '.join(methods)})"
            )
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, size in zip(self._axes(), self.size):
            if shape[axis] is not None:
                shape[axis] *= size
        return tuple(shape)

    def call(self, x, training=False):
        """nearest: y[i, j] = x[i // size[0], j // size[1]];
        bilinear, bicubic, lanczos: y = A_rows·x·A_colsᵀ on each image and channel
        (`resize_matrix`)."""
        rows, cols = self._axes()
        if self.interpolation == "nearest":
            return np.repeat(np.repeat(x, self.size[0], axis=rows), self.size[1], axis=cols)
        self.a_rows = resize_matrix(x.shape[rows], self.size[0], self.interpolation, x.dtype)
        self.a_cols = resize_matrix(x.shape[cols], self.size[1], self.interpolation, x.dtype)
        y = np.moveaxis(np.tensordot(self.a_rows, x, axes=(1, rows)), 0, rows)
        return np.ascontiguousarray(
            np.moveaxis(np.tensordot(self.a_cols, y, axes=(1, cols)), 0, cols)
        )

    def backward(self, dy):
        """nearest: each input pixel gets the sum of its size[0]·size[1] copies;
        bilinear, bicubic, lanczos: dx = A_rowsᵀ·dy·A_cols (the transposed resize)."""
        self.grads = []
        rows, cols = self._axes()
        if self.interpolation == "nearest":
            return repeat_backward(repeat_backward(dy, rows, self.size[0]), cols, self.size[1])
        d = np.moveaxis(np.tensordot(self.a_cols.T, dy, axes=(1, cols)), 0, cols)
        return np.ascontiguousarray(
            np.moveaxis(np.tensordot(self.a_rows.T, d, axes=(1, rows)), 0, rows)
        )

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling3D(Layer):
    """Each of the three spatial axes of (batch, dim1, dim2, dim3, channels) repeated size[i]
    times ("nearest", the only interpolation Keras's UpSampling3D has).

    >>> import numpy as np
    >>> from minikeras.layers import UpSampling3D
    >>> UpSampling3D((1, 2, 3))(np.ones((1, 2, 2, 2, 4))).shape
    (1, 2, 4, 6, 4)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        size = standardize_tuple(size, 3, "size")
        if 0 in size:  # Keras's standardize_tuple (no zero allowed here)
            raise ValueError(
                f"The `size` argument must be a tuple of 3 integers. Received size={size}, "
                "including values {0} that do not satisfy `value > 0`"
            )
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.size, self.data_format = size, data_format
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _axes(self):
        return (2, 3, 4) if self.data_format == "channels_first" else (1, 2, 3)

    def build(self, input_shape):
        self.check_input_shape(input_shape)  # symbolic inputs too
        super().build(input_shape)

    def check_input_shape(self, shape):
        if len(shape) != 5:  # Keras's InputSpec(ndim=5)
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim=5, found ndim={len(shape)}. Full shape received: {tuple(shape)}"
            )
        super().check_input_shape(shape)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, size in zip(self._axes(), self.size):
            if shape[axis] is not None:
                shape[axis] *= size
        return tuple(shape)

    def call(self, x, training=False):
        """y[i, j, k] = x[i // size[0], j // size[1], k // size[2]]"""
        for axis, size in zip(self._axes(), self.size):
            x = np.repeat(x, size, axis=axis)
        return x

    def backward(self, dy):
        """each input element gets the sum of its size[0]·size[1]·size[2] copies"""
        self.grads = []
        for axis, size in zip(self._axes(), self.size):
            dy = repeat_backward(dy, axis, size)
        return dy

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
