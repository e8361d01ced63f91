"""Layers that move values without arithmetic: Reshape, Permute, ZeroPadding1D/2D/3D,
Cropping1D/2D/3D.

Each backward sends every output gradient back to the input position it came from: the inverse
reshape or transpose, a crop of the padded gradient, a zero-padding of the cropped one.
(UpSampling is in up_sampling.py; Flatten in flatten.py.)
"""

import math

import numpy as np

from minikeras.layers.layer import Layer


def standardize_tuple(value, n, name):
    """`value` (an int, or n ints ≥ 0) as a tuple of n ints; Keras's ValueError otherwise."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int):
        value = (value,) * n
    else:
        try:
            value = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if len(value) != n:
            raise ValueError(message)
    negative = {v for v in value if v < 0}
    if negative:
        raise ValueError(f"{message}, including values {negative} that do not satisfy `value >= 0`")
    return value


def standardize_data_format(data_format):
    if data_format is None:  # Keras: the global setting (`keras.config.image_data_format()`)
        from minikeras import config

        return config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def pairs_2d(value, name):
    """Keras's ZeroPadding2D/Cropping2D argument: an int, 2 ints, or 2 pairs of ints."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value), (value, value))
    if hasattr(value, "__len__"):
        if len(value) != 2:
            raise ValueError(f"`{name}` should have two elements. Received: {name}={value}.")
        return (
            standardize_tuple(value[0], 2, f"1st entry of {name}"),
            standardize_tuple(value[1], 2, f"2nd entry of {name}"),
        )
    raise ValueError(
        f"`{name}` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
        "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), "
        f"(left_crop, right_crop)). Received: {name}={value}."
    )


def pairs_3d(value, name, example):
    """Keras's ZeroPadding3D/Cropping3D argument: an int ≥ 0, 3 ints, or 3 pairs of ints
    (keras/src/layers/reshaping/cropping3d.py); `example` names the pairs in the message."""
    if isinstance(value, int):
        if value < 0:  # Keras checks this for cropping only; padding fails later, in np.pad
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * 3
    if hasattr(value, "__len__"):
        if len(value) != 3:
            raise ValueError(f"`{name}` should have 3 elements. Received: {value}.")
        return tuple(
            standardize_tuple(v, 2, f"{nth} entry of {name}")
            for v, nth in zip(value, ("1st", "2nd", "3rd"))
        )
    raise ValueError(
        f"`{name}` should be either an int, a tuple of 3 ints {example[0]}, or a tuple of 3 "
        f"tuples of 2 ints {example[1]}. Received: {name}={value}."
    )


class Reshape(Layer):
    """Each sample reshaped to `target_shape` (one entry may be -1: inferred).

    >>> import numpy as np
    >>> from minikeras.layers import Reshape
    >>> Reshape((-1, 2))(np.zeros((5, 3, 4))).shape
    (5, 6, 2)
    """

    keeps_integer_inputs = True  # values only moved about: uint8 stays uint8, as in Keras

    has_build_config = False  # Keras marks it built at once and saves no build_config
    builds_at_init = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if any(d < -1 for d in target_shape):
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a "
                f"single unknown dimension. Received: target_shape={target_shape}."
            )
        if target_shape.count(-1) > 1:
            raise ValueError(
                "There must be at most one unknown dimension (-1) in `target_shape`. "
                f"Received: target_shape={target_shape}."
            )
        self.target_shape = target_shape
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def check_input_shape(self, shape):
        self.compute_output_shape(shape)  # the size must fit target_shape, whatever the axes

    def compute_output_shape(self, input_shape):
        features, target = tuple(input_shape[1:]), self.target_shape
        if None in features:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in target)
        size = math.prod(features)
        if -1 not in target:
            if size != math.prod(target):
                raise ValueError(
                    "The total size of the tensor must be unchanged. Received: "
                    f"input_shape={features}, target_shape={target}"
                )
            return (input_shape[0],) + target
        known = math.prod(d for d in target if d != -1)
        if known == 0 or size % known:
            raise ValueError(
                "The total size of the tensor must be unchanged, however, the input size cannot "
                "by divided by the specified dimensions in target_shape. Received: "
                f"input_shape={features}, target_shape={target}"
            )
        return (input_shape[0],) + tuple(size // known if d == -1 else d for d in target)

    def call(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape((x.shape[0],) + self.compute_output_shape(x.shape)[1:])

    def backward(self, dy):
        """dx = dy reshaped back to the input's shape"""
        self.grads = []
        return dy.reshape(self.x_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """The feature axes reordered by `dims` (1-based; the batch axis stays first).

    >>> import numpy as np
    >>> from minikeras.layers import Permute
    >>> Permute((2, 1))(np.zeros((5, 3, 4))).shape
    (5, 4, 3)
    """

    keeps_integer_inputs = True  # values only moved about: uint8 stays uint8, as in Keras

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, x, training=False):
        return np.ascontiguousarray(np.transpose(x, (0,) + self.dims))

    def backward(self, dy):
        """dx = dy with the inverse permutation"""
        self.grads = []
        return np.ascontiguousarray(np.transpose(dy, np.argsort((0,) + self.dims)))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class _SpatialLayer(Layer):
    """A layer on (batch, steps, channels) or (batch, rows, cols, channels) inputs (channels
    first: (batch, channels, ...)), that pads or crops each spatial axis by a (before, after)."""

    keeps_integer_inputs = True  # values only moved about: uint8 stays uint8, as in Keras

    rank = 1

    def _spatial_axes(self):
        first = 2 if getattr(self, "data_format", "channels_last") == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def build(self, input_shape):
        self.check_input_shape(input_shape)  # Keras's InputSpec(ndim), symbolic inputs too
        super().build(input_shape)

    def check_input_shape(self, shape):
        if len(shape) != self.rank + 2:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={self.rank + 2}, found ndim={len(shape)}. "
                f"Full shape received: {tuple(shape)}"
            )
        super().check_input_shape(shape)


class _ZeroPadding(_SpatialLayer):
    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self._pairs):
            if shape[axis] is not None:
                shape[axis] += before + after
        return tuple(shape)

    def call(self, x, training=False):
        widths = [(0, 0)] * x.ndim
        for axis, pair in zip(self._spatial_axes(), self._pairs):
            widths[axis] = pair
        return np.pad(x, widths)

    def backward(self, dy):
        """dx = dy without the padded border (the zeros do not depend on x)"""
        self.grads = []
        index = [slice(None)] * dy.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self._pairs):
            index[axis] = slice(before, dy.shape[axis] - after)
        return np.ascontiguousarray(dy[tuple(index)])


class ZeroPadding1D(_ZeroPadding):
    """Zeros added before and after the steps axis of (batch, steps, channels).

    >>> import numpy as np
    >>> from minikeras.layers import ZeroPadding1D
    >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1)))[0, :, 0].tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = standardize_tuple(padding, 2, "padding")
        self._pairs = (self.padding,)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(_ZeroPadding):
    """Zeros around the rows and columns: padding ((top, bottom), (left, right)).

    >>> import numpy as np
    >>> from minikeras.layers import ZeroPadding2D
    >>> ZeroPadding2D(1)(np.ones((1, 2, 2, 3))).shape
    (1, 4, 4, 3)
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        if isinstance(padding, int) or hasattr(padding, "__len__"):
            self.padding = pairs_2d(padding, "padding")
        else:
            raise ValueError(
                "`padding` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
                "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, "
                f"bottom_crop), (left_crop, right_crop)). Received: padding={padding}."
            )
        self._pairs = self.padding
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class _Cropping(_SpatialLayer):
    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self._pairs):
            if shape[axis] is not None:
                if before + after >= shape[axis]:
                    raise ValueError(self._too_much_message(tuple(input_shape)))
                shape[axis] -= before + after
        return tuple(shape)

    def call(self, x, training=False):
        self.compute_output_shape(x.shape)
        self.x_shape = x.shape
        index = [slice(None)] * x.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self._pairs):
            index[axis] = slice(before, x.shape[axis] - after)
        self.index = tuple(index)
        return np.ascontiguousarray(x[self.index])

    def backward(self, dy):
        """dx = dy where the values were kept, 0 in the cropped border"""
        self.grads = []
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        dx[self.index] = dy
        return dx


class Cropping1D(_Cropping):
    """(before, after) steps removed from the steps axis of (batch, steps, channels).

    >>> import numpy as np
    >>> from minikeras.layers import Cropping1D
    >>> Cropping1D((1, 2))(np.arange(5.0).reshape(1, 5, 1))[0, :, 0].tolist()
    [1.0, 2.0]
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping")
        self._pairs = (self.cropping,)
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _too_much_message(self, input_shape):
        return (
            "`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
            f"Received: input_shape={input_shape}, cropping={self.cropping}"
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(_Cropping):
    """Rows and columns removed: cropping ((top, bottom), (left, right)).

    >>> import numpy as np
    >>> from minikeras.layers import Cropping2D
    >>> Cropping2D(((1, 0), (0, 1)))(np.ones((1, 3, 3, 2))).shape
    (1, 2, 2, 2)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = pairs_2d(cropping, "cropping")
        self._pairs = self.cropping
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _too_much_message(self, input_shape):
        return (
            "Values in `cropping` argument should be smaller than the corresponding spatial "
            f"dimension of the input. Received: input_shape={input_shape}, "
            f"cropping={self.cropping}"
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class ZeroPadding3D(_ZeroPadding):
    """Zeros around the three spatial axes of (batch, dim1, dim2, dim3, channels): padding
    ((before, after) for each axis), 3 ints (the same before and after), or one int.

    >>> import numpy as np
    >>> from minikeras.layers import ZeroPadding3D
    >>> ZeroPadding3D(((1, 0), (0, 2), 1))(np.ones((1, 2, 2, 2, 3))).shape
    (1, 3, 4, 4, 3)
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        padding = pairs_3d(
            padding,
            "padding",
            (
                "(symmetric_dim1_pad, symmetric_dim2_pad, symmetric_dim3_pad)",
                "((left_dim1_pad, right_dim1_pad), (left_dim2_pad, right_dim2_pad), "
                "(left_dim3_pad, right_dim3_pad))",
            ),
        )
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.padding, self.data_format = padding, data_format
        self._pairs = self.padding
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping3D(_Cropping):
    """Elements removed from the three spatial axes of (batch, dim1, dim2, dim3, channels):
    cropping ((before, after) for each axis), 3 ints, or one int.

    >>> import numpy as np
    >>> from minikeras.layers import Cropping3D
    >>> Cropping3D(((1, 0), (0, 1), 1))(np.ones((1, 3, 3, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        cropping = pairs_3d(
            cropping,
            "cropping",
            (
                "(symmetric_dim1_crop, symmetric_dim2_crop, symmetric_dim3_crop)",
                "((left_dim1_crop, right_dim1_crop), (left_dim2_crop, right_dim2_crop), "
                "(left_dim3_crop, right_dim3_crop))",
            ),
        )
        data_format = standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.cropping, self.data_format = cropping, data_format
        self._pairs = self.cropping
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    def _too_much_message(self, input_shape):
        return (
            "Values in `cropping` argument should be smaller than the corresponding spatial "
            f"dimension of the input. Received: input_shape={input_shape}, "
            f"cropping={self.cropping}"
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
