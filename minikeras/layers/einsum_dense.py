"""EinsumDense: a dense layer whose product is any einsum of the input with the kernel.

    z = einsum(equation, x, W) + b;   y = act(z)

The equation names each axis with a letter: `"abc,cde->abde"` takes x (a, b, c) and a kernel
(c, d, e) and sums over c. An axis of the kernel is either one of the input's (summed over,
unless the output keeps it) or one of the output's (its length comes from `output_shape`).
`...` stands for the axes the equation leaves unnamed, on the input's left or right.

The backward is two more einsums with the same letters, each operand's gradient being the
product of dz with the other operand, into that operand's letters:

    dW = einsum("x,z->w", x, dz)    the kernel's letters; sums over every axis W lacks
    dx = einsum("z,w->x", dz, W)    the input's letters
    db = Σ dz over the axes b broadcasts along
"""

import re

import numpy as np

from minikeras import activations, constraints, initializers, regularizers
from minikeras.layers.layer import Layer

_FORMS = (
    # (pattern with "..." written as "0", which side the ellipsis is on)
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right"),
)


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """The kernel's shape, the bias's shape (or None), the full output shape, and which kernel
    axes are input and output axes (for the initializer's fans), as Keras derives them."""
    form = None
    for pattern, side in _FORMS:
        found = re.fullmatch(pattern, equation.replace("...", "0"))
        if found:
            form = (found.groups(), side)
            break
    if form is None:
        raise ValueError(
            f"Invalid einsum equation '{equation}'. Equations must be in the form "
            "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    (input_spec, weight_spec, output_spec), side = form
    input_shape = list(input_shape)
    elided = len(input_shape) - len(input_spec)
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    # The full output shape: the batch axis, then what the ellipsis stands for on its side
    if side == "left" and elided > 0:
        full = [input_shape[0], *input_shape[1:elided], *partial]
    elif elided > 0:
        full = [input_shape[0], *partial, *input_shape[len(input_shape) - elided :]]
    else:
        full = [input_shape[0], *partial]
    offset = elided if side == "left" else 0  # where the named axes start
    input_at = {letter: input_shape[i + offset] for i, letter in enumerate(input_spec)}
    output_at = {letter: full[i + offset] for i, letter in enumerate(output_spec)}
    for letter, size in input_at.items():
        if letter in output_at and output_at[letter] is not None and output_at[letter] != size:
            raise ValueError(
                f"Input shape and output shape do not match at shared dimension '{letter}'. "
                f"Input shape is {size}, and output shape is {output_at[letter]}."
            )
    for letter in output_spec:
        if letter not in input_spec and letter not in weight_spec:
            raise ValueError(
                f"Dimension '{letter}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f"'{output_spec}'"  # (sic: Keras names the output spec twice)
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, letter in enumerate(weight_spec):
        if letter in output_at:
            kernel_shape.append(output_at[letter])
            output_axes.append(i)
        elif letter in input_at:
            kernel_shape.append(input_at[letter])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{letter}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                "must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for letter in bias_axes:
            if letter not in output_spec:
                raise ValueError(
                    f"Bias dimension '{letter}' was requested, but is not part of the output "
                    f"spec '{output_spec}'"
                )
        # the bias spans the output from its first biased axis on, 1 where not biased, so
        # that it broadcasts against the trailing axes of z
        first = min(output_spec.find(letter) for letter in bias_axes)
        bias_shape = [output_at[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if side != "left":
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, full, input_axes, output_axes


def explicit_letters(equation, ndim):
    """(input, kernel, output) letters with `...` replaced by letters of its own, for an
    input of rank `ndim`, so that each backward einsum can name every axis."""
    x_spec, rest = equation.split(",")
    w_spec, y_spec = rest.split("->")
    named = len(x_spec.replace("...", ""))
    unused = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    ellipsis = "".join(unused[: max(ndim - named, 0)])
    return x_spec.replace("...", ellipsis), w_spec, y_spec.replace("...", ellipsis)


class EinsumDense(Layer):
    """A dense layer as an einsum: `y = activation(einsum(equation, x, kernel) + bias)`.

    >>> import numpy as np
    >>> from minikeras.layers import EinsumDense
    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 4, 2), bias_axes="de")
    >>> layer(np.ones((3, 5, 6))).shape, layer.kernel.shape, layer.bias.shape
    ((3, 5, 4, 2), (6, 4, 2), (4, 2))
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        if lora_rank or quantization_config is not None:
            raise NotImplementedError(
                "EinsumDense's LoRA and quantization are not supported by minikeras"
            )
        super().__init__(**kwargs)
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.activation_backward = activations.backward_of(self.activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank, self.lora_alpha, self.lora_enabled = None, None, False
        self.quantization_config = None
        self.kernel, self.bias = None, None
        if self._input_shape_arg is not None:
            self.build((None,) + self._input_shape_arg)

    @property
    def output_activation(self):
        return activations.serialize(self.activation)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        kernel_initializer = self.kernel_initializer
        if isinstance(kernel_initializer, initializers.VarianceScaling) and (
            kernel_initializer.input_axes is None or kernel_initializer.output_axes is None
        ):
            # Keras gives the initializer the kernel's input and output axes, so that fans are
            # the products of those axes (a (c, d, e) kernel from c to (d, e): c and d·e)
            config = {**kernel_initializer.get_config(), "seed": kernel_initializer.seed}
            config.update(input_axes=input_axes, output_axes=output_axes)
            kernel_initializer = type(kernel_initializer).from_config(config)
        self.kernel = self.add_weight(
            tuple(kernel_shape),
            kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        if bias_shape is not None:
            self.bias = self.add_weight(
                tuple(bias_shape),
                self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        super().build(input_shape)

    def check_input_shape(self, shape):
        """Only the rank is fixed, as Keras's InputSpec(ndim=...): axes the kernel does not
        span (a sequence's length) may differ from call to call."""
        if self.input_shape is not None and len(shape) != len(self.input_shape):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={len(self.input_shape)}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}"
            )

    def compute_output_shape(self, input_shape):
        _, _, full, _, _ = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        return tuple(full)

    def call(self, x, training=False):
        """z = einsum(equation, x, W) + b;  y = act(z)"""
        self.x = x
        z = np.einsum(self.equation, x, self.kernel.value)
        if self.bias is not None:
            z = z + self.bias.value
        y = self.activation(z)
        self.z, self.y = z, y
        return y

    @property
    def logits(self):
        return self.z

    def backward(self, dy):
        """dz = dy ⊙ act'(z), then the two einsums of `backward_logits`."""
        return self.backward_logits(self.activation_backward(self.z, self.y, dy))

    def backward_logits(self, dz):
        """With the equation's letters x, w, z (`...` spelled out):
        dW = einsum("z,x->w", dz, x)    the kernel's shape
        dx = einsum("z,w->x", dz, W)    the input's shape
        db = Σ dz over the axes where b has length 1 or is absent
        """
        x_spec, w_spec, z_spec = explicit_letters(self.equation, self.x.ndim)
        dz = np.asarray(dz, dtype=self.z.dtype)
        dkernel = _einsum_into(f"{z_spec},{x_spec}->{w_spec}", dz, self.x, self.kernel.shape)
        grads = [dkernel]
        if self.bias is not None:
            grads.append(_sum_to_shape(dz, self.bias.shape))
        self.grads = grads
        if not self.input_gradient_needed:
            return None
        return _einsum_into(f"{z_spec},{w_spec}->{x_spec}", dz, self.kernel.value, self.x.shape)

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.config_value(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,  # Keras 3.15's key; minikeras does not quantize
        }


def _einsum_into(spec, a, b, shape):
    """einsum(spec, a, b) of the given shape: a letter of the result that neither operand has
    (an input axis summed away in the forward pass) gets the result broadcast along it."""
    operands, result = spec.split("->")
    present = "".join(c for c in result if c in operands)
    value = np.einsum(f"{operands}->{present}", a, b)
    for axis, letter in enumerate(result):
        if letter not in present:
            value = np.expand_dims(value, axis)
    return np.ascontiguousarray(np.broadcast_to(value, shape))


def _sum_to_shape(g, shape):
    """Σ g over the axes that `shape` (aligned to g's trailing axes) broadcasts along."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead > 0 else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


_analyze_einsum_string = analyze_equation  # Keras's private name for it (its tests import it)
