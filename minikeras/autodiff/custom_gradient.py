"""custom_gradient: a function whose gradient is the one its author wrote, as tf.custom_gradient.

`f(*args)` returns `(output, grad_fn)`. The decorated function returns `output`, and puts ONE
entry on the tape whose vector–Jacobian product is `grad_fn`: given the gradient of the loss
with respect to each output (`upstream`), `grad_fn(*upstream)` returns the gradient with
respect to each argument. The ops `f` ran to compute `output` are not recorded (they run in
`paused()`), so their own VJPs are never used: that is the point — the classic example is
log(1 + eˣ), whose automatic gradient e^x / (1 + e^x) is inf/inf = NaN at x = 100, and whose
written one, 1 − 1/(1 + eˣ), is 1.

>>> import numpy as np
>>> from minikeras import ops
>>> from minikeras.autodiff import GradientTape, Tensor
>>> @ops.custom_gradient
... def log1pexp(x):
...     e = ops.exp(x)
...     def grad(upstream):
...         return upstream * (1.0 - 1.0 / (1 + e))
...     return ops.log(1 + e), grad
>>> x = Tensor(np.array(100.0))
>>> with GradientTape() as tape:
...     tape.watch(x)
...     y = log1pexp(x)
>>> tape.gradient(y, x)
array(1.)

Limitation: a trainable Variable that `f` reads without receiving it as an argument gets no
gradient (TensorFlow asks `grad_fn` for those through a `variables` keyword; pass the Variable
as an argument instead).
"""

import functools

import numpy as np

from minikeras import tree
from minikeras.autodiff.primitive import unwrap
from minikeras.autodiff.tape import paused, record


def custom_gradient(f):
    """`f`, returning `(output, grad_fn)`, made a function returning `output` whose gradient
    on the tape is `grad_fn(*upstream)`: one gradient per (flattened) argument, or a single
    one for a single argument; None where an argument gets none."""

    @functools.wraps(f)
    def _with_custom_gradient(*args):
        with paused():  # f's own ops are not recorded: grad_fn replaces their VJPs
            output, grad_fn = f(*args)
        inputs = tree.flatten(list(args))
        outputs = [np.asarray(unwrap(out)) for out in tree.flatten(output)]

        def vjp(output_grads):
            with paused():
                grads = grad_fn(*output_grads)
            grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
            if len(grads) != len(inputs):
                raise ValueError(
                    f"The gradient function of `{f.__name__}` returned {len(grads)} "
                    f"gradients; expected {len(inputs)}, one for each argument."
                )
            return [None if g is None else np.asarray(unwrap(g)) for g in grads], []

        recorded = record(inputs, outputs, vjp, name=f"custom_gradient {f.__name__}")
        return tree.pack_sequence_as(output, list(recorded))

    return _with_custom_gradient
