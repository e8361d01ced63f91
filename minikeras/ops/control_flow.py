"""Control flow (Keras's `keras.ops` core group): cond, switch, loops, scans and maps.

Each runs eagerly, as a plain Python loop over the ops of `minikeras.ops`. That is also how
each is differentiated: the loop body's ops are recorded on the GradientTape one by one, as
they run, so a gradient flows back through every iteration the loop took; slices of `xs`
(`get_item`) and the stacking of the outputs (`stack`) are ops with VJPs like any other.
TensorFlow differentiates its `tf.while_loop` the same way: through the iterations it ran.

Called on KerasTensors (the Functional API), each is one graph node, made by its Operation
class (ops/core_operations.py): the output's shape and dtype come from running the function on
stand-in arrays, as every other op's, or from a rule (a while loop keeps its variables' shapes).

>>> import numpy as np
>>> from minikeras import ops
>>> carry, ys = ops.scan(lambda c, x: (c + x, c + x), np.array(0.0), np.array([1.0, 2.0, 3.0]))
>>> carry, ys
(array(6.), array([1., 3., 6.]))
"""

import builtins
import functools
import re

import numpy as np

from minikeras import tree
from minikeras.autodiff import unwrap
from minikeras.ops import core_operations as operations
from minikeras.ops import numpy as onp
from minikeras.ops.core import convert_to_tensor, get_item, unstack
from minikeras.ops.symbolic import has_symbolic


def _any_symbolic(*structures):
    return has_symbolic(list(tree.flatten(structures)))


# ---------------------------------------------------------------- branches
def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()`.

    Only the branch taken runs, so only its ops are on the tape: the gradient is that
    branch's. On a symbolic `pred` both branches are traced, and must give the same
    structure, shapes and dtypes (Keras's check, `Cond._check_output_spec`).
    """
    if _any_symbolic(pred):
        return operations.Cond()(pred, true_fn, false_fn)
    return true_fn() if bool(unwrap(pred)) else false_fn()


def switch(index, branches, *operands):
    """`branches[index](*operands)`, `index` clipped to the branches (-100 is the first).

    Differentiated as the branch taken, as `cond`. On symbolic operands the first branch gives
    the output's shape (Keras's rule).
    """
    if _any_symbolic(index, operands):
        return operations.Switch()(index, branches, *operands)
    index = builtins.min(builtins.max(int(unwrap(index)), 0), len(branches) - 1)
    return branches[index](*operands)


# ---------------------------------------------------------------- loops
def fori_loop(lower, upper, body_fun, init_val):
    """val = body_fun(i, val) for i in range(lower, upper); returns val.

    Differentiated through every iteration, whose ops the tape recorded.
    """
    if _any_symbolic(init_val):
        return operations.ForiLoop(lower, upper, body_fun)(init_val)
    val = init_val
    for i in range(int(unwrap(lower)), int(unwrap(upper))):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """loop_vars = body(*loop_vars) while cond(*loop_vars) holds, at most
    `maximum_iterations` times.

    A tuple or list of loop variables is passed to `cond` and `body` as separate arguments and
    comes back as a tuple (Keras's rule); anything else (an array, a dict) as one argument.
    Differentiated through the iterations that ran.
    """
    if _any_symbolic(loop_vars):
        return operations.WhileLoop(cond, body, maximum_iterations)(loop_vars)
    several = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if several else (loop_vars,)
    state = tree.map_structure(convert_to_tensor, state)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(unwrap(cond(*state))):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        count += 1
    return state if several else state[0]


# ---------------------------------------------------------------- scans and maps
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Run `carry, y = f(carry, x)` over the leading axis of `xs`; returns the last carry and
    the `y`s stacked (in the order of `xs`, also when `reverse` walks it from the end).

    As JAX's `lax.scan`: `init` and `xs` may be nested structures; with `xs=None`, `f` gets
    None `length` times. `unroll` changes nothing here (there is no compiled loop to unroll).
    Differentiated through every step: the slices `xs[i]`, each `f`, and the stacking are all
    recorded ops.
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(
            f"`unroll` must be an positive integer or boolean. Received: unroll={unroll}"
        )
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    if _any_symbolic(init, xs):
        return operations.Scan(length=length, reverse=reverse, unroll=unroll)(f, init, xs)

    xs_flat = [] if xs is None else [convert_to_tensor(x) for x in tree.flatten(xs)]
    n = int(length) if length is not None else xs_flat[0].shape[0]
    carry = tree.map_structure(convert_to_tensor, init)
    # the slices xs[i], all at once: one `unstack` entry on the tape, whose VJP stacks their
    # gradients back (n `get_item`s would each scatter into an array of the size of xs)
    slices = [unstack(x, axis=0) for x in xs_flat]
    steps = reversed(range(n)) if reverse else range(n)
    ys = [None] * n
    for i in steps:
        x = tree.pack_sequence_as(xs, [s[i] for s in slices]) if xs_flat else None
        carry, ys[i] = f(carry, x)
    # (NumPy's arithmetic gives a scalar for 0-d arrays; ops give arrays)
    carry = tree.map_structure(lambda c: c if c is None else convert_to_tensor(c), carry)
    if n == 0 or ys[0] is None:  # f gave no outputs to stack (Keras's NumPy backend stacks
        return carry, None  # zeros in their place; JAX and TensorFlow give None)
    return carry, tree.map_structure(lambda *items: onp.stack(list(items)), *ys)


def map(f, xs):
    """`f` applied to each slice of `xs` along its leading axis, the results stacked:
    `stack([f(xs[0]), f(xs[1]), ...])`, for nested `xs` and nested results.

    A scan without a carry; differentiated as `scan`.
    """
    if _any_symbolic(xs):
        return operations.Map()(f, xs)
    return scan(lambda carry, x: (carry, f(x)), (), xs)[1]


def vectorized_map(function, elements):
    """`function` applied to each slice of `elements` along its leading axis, the results
    stacked. A list or tuple of arrays is sliced together: `function([x[i], y[i]])`.

    Keras's backends vectorise `function` (JAX's vmap); here it runs once per slice, as Keras's
    NumPy backend does. Differentiated as `map`.
    """
    if _any_symbolic(elements):
        return operations.VectorizedMap(function)(elements)
    if isinstance(elements, (list, tuple)):
        return scan(lambda carry, x: (carry, function(list(x))), (), list(elements))[1]
    return scan(lambda carry, x: (carry, function(x)), (), elements)[1]


def vectorize(pyfunc, *, excluded=None, signature=None):
    """`pyfunc`, made to apply to every element of its (broadcast) arguments, as
    `np.vectorize`: `vectorize(f)([1, 2, 3], 2)` is `[f(1, 2), f(2, 2), f(3, 2)]`.

    Arguments at the positions in `excluded` are passed unchanged. A `signature` such as
    "(m,n),(n)->(m)" names the trailing (core) axes `pyfunc` takes whole; the axes before them
    are broadcast together and looped over. The loop is `map` over the flattened loop axes, so
    it is differentiated as `map`.

    Its results are those of Keras's NumPy backend (`np.vectorize`): Keras 3.15 on TensorFlow
    raises "Not supported with `vectorize()`" for every call (its vmap takes no tuple of axes).
    """
    excluded = set(excluded or ())
    core_dims = _parse_signature(signature) if signature else None

    @functools.wraps(pyfunc)
    def vectorized(*args):
        looped = [i for i in range(len(args)) if i not in excluded]
        arrays = [convert_to_tensor(args[i]) for i in looped]
        cores = core_dims or [()] * len(arrays)
        loop_shapes = [a.shape[: a.ndim - len(dims)] for a, dims in zip(arrays, cores)]
        loop = np.broadcast_shapes(*loop_shapes)
        flat = []  # each argument as (loop entries, *its core axes)
        for a, dims in zip(arrays, cores):
            core_shape = a.shape[a.ndim - len(dims) :]
            spread = onp.broadcast_to(a, loop + core_shape)
            flat.append(onp.reshape(spread, (-1,) + core_shape))

        def one(items):
            full = list(args)
            for i, item in zip(looped, items):
                full[i] = item
            return pyfunc(*full)

        out = map(one, tuple(flat))
        return tree.map_structure(lambda o: onp.reshape(o, loop + tuple(o.shape[1:])), out)

    return vectorized


def _parse_signature(signature):
    """The core axes of each input of a signature: "(m,n),(n)->(m)" → [("m", "n"), ("n",)]."""
    inputs = signature.replace(" ", "").split("->")[0]
    return [tuple(d for d in group.split(",") if d) for group in re.findall(r"\(([^)]*)\)", inputs)]


def associative_scan(f, elems, reverse=False, axis=0):
    """All prefix combinations along `axis`: [e₀, f(e₀, e₁), f(f(e₀, e₁), e₂), ...], for an
    associative `f` (add: a cumulative sum) that works on whole slices at once.

    The parallel algorithm JAX and Keras's backends use (Blelloch's), so that the numbers are
    combined in their order: combine neighbours pairwise (e₀∘e₁, e₂∘e₃, ...), scan that
    half-length sequence recursively (giving the prefixes that end at odd positions), then
    combine those with the even elements to get the prefixes that end at even positions, and
    interleave the two. `f` runs about 2·log₂(n) times, on slices. Differentiated through those
    calls and the slicing and interleaving ops, all recorded.
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    flat = tree.flatten(elems)
    lengths = [x.shape[axis] for x in flat]
    if len(set(lengths)) != 1:
        raise ValueError(
            "Array inputs to associative_scan must have the same first dimension. "
            f"(saw: {[x.shape for x in flat]})"
        )
    if _any_symbolic(elems):
        return operations.AssociativeScan(reverse=reverse, axis=axis)(f, elems)
    flat = [convert_to_tensor(x) for x in flat]
    if reverse:
        flat = [onp.flip(x, axis) for x in flat]

    def along(x, start, stop=None, step=None):
        index = [builtins.slice(None)] * x.ndim
        index[axis] = builtins.slice(start, stop, step)
        return get_item(x, tuple(index))

    def combine(a, b):
        packed = f(tree.pack_sequence_as(elems, a), tree.pack_sequence_as(elems, b))
        return tree.flatten(packed)

    def interleave(even, odd):
        """[even₀, odd₀, even₁, odd₁, ...] along `axis` (even has as many items as odd, or
        one more)."""
        if even.shape[axis] > odd.shape[axis]:  # pad odd, interleave, drop the pad
            pad = along(odd, 0, 1) * 0
            both = onp.stack([even, onp.concatenate([odd, pad], axis=axis)], axis=axis + 1)
        else:
            both = onp.stack([even, odd], axis=axis + 1)
        shape = list(even.shape)
        shape[axis] = both.shape[axis] * 2
        merged = onp.reshape(both, tuple(shape))
        return along(merged, 0, even.shape[axis] + odd.shape[axis])

    def _prefixes(items):
        n = items[0].shape[axis]
        if n < 2:
            return items
        pairs = combine([along(x, 0, -1, 2) for x in items], [along(x, 1, None, 2) for x in items])
        odd = _prefixes(pairs)  # prefixes ending at positions 1, 3, 5, ...
        odd_before = odd if n % 2 else [along(x, 0, -1) for x in odd]
        even = combine(odd_before, [along(x, 2, None, 2) for x in items])  # positions 2, 4, ...
        even = [onp.concatenate([along(x, 0, 1), e], axis=axis) for x, e in zip(items, even)]
        return [interleave(e, o) for e, o in zip(even, odd)]

    result = _prefixes(flat)
    if reverse:
        result = [onp.flip(x, axis) for x in result]
    return tree.pack_sequence_as(elems, result)
