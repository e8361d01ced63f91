"""A vector register as one Numba value: the five operations numba_gemm.py's micro-kernel needs.

    Lanes(float32) = 8 float32 in one 256-bit AVX2 register (4 float64 for Lanes(float64))

A fast matrix product keeps a tile of sums in vector registers and adds a row of b times one
number of a to each row of sums (a rank-1 update). LLVM's loop vectorizer cannot write that loop
by itself: it only vectorises the innermost loop, and here the innermost loop (along k) carries
the sums. Its SLP vectorizer, which could pack 8 scalar sums into one register, is turned off
in Numba (`NUMBA_SLP_VECTORIZE=0`), and turned on it built vectors from scalars and took them
apart again at every step (measured: 96 scalar sums, 3.4–3.8 GFLOP/s either way). So the
register is written down: `load`, `store`, `broadcast`, `zeros` and `fma` are each one LLVM
instruction on a `<8 x float>` value, the way a C programmer writes `_mm256_fmadd_ps`.

With `NUMBA_DISABLE_JIT=1` the same names work on small NumPy arrays (slowly), so the product
still runs as plain Python.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

REGISTER_BYTES = 32  # AVX2: a ymm register


def lanes_of(dtype):
    """How many numbers of `dtype` fill one register: 8 float32, 4 float64."""
    return REGISTER_BYTES // np.dtype(dtype).itemsize


class Lanes(types.Type):
    """The Numba type of one register's worth of `dtype` (a float type)."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.count = REGISTER_BYTES // (dtype.bitwidth // 8)
        super().__init__(name=f"Lanes({dtype} x {self.count})")


@register_model(Lanes)
class _LanesModel(models.PrimitiveModel):
    """Held as an LLVM vector (<8 x float>), which the code generator keeps in a ymm register."""

    def __init__(self, dmm, fe_type):
        scalar = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(scalar, fe_type.count))


def _address(context, builder, array_type, array, index):
    """The address of the number at flat position `index` of a C-ordered array (no bounds or
    wrap-around check)."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


@intrinsic
def _load(typingctx, array, index):
    """The numbers at flat positions index … index + lanes − 1 of a C-ordered array."""
    lanes = Lanes(array.dtype)

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(lanes)
        address = _address(context, builder, signature.args[0], *args)
        return builder.load(builder.bitcast(address, vector.as_pointer()), align=1)

    return lanes(array, index), codegen


@intrinsic
def _store(typingctx, array, index, value):
    """Writes `value` to flat positions index … index + lanes − 1 of a C-ordered array."""

    def codegen(context, builder, signature, args):
        address = _address(context, builder, signature.args[0], args[0], args[1])
        vector = context.get_value_type(signature.args[2])
        builder.store(args[2], builder.bitcast(address, vector.as_pointer()), align=1)
        return context.get_dummy_value()

    return types.none(array, index, value), codegen


@intrinsic
def _broadcast(typingctx, x):
    """One number in every lane."""
    lanes = Lanes(x)

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(lanes)
        one = builder.insert_element(ir.Constant(vector, ir.Undefined), args[0], ir.IntType(32)(0))
        everywhere = ir.Constant(ir.VectorType(ir.IntType(32), lanes.count), [0] * lanes.count)
        return builder.shuffle_vector(one, one, everywhere)

    return lanes(x), codegen


@intrinsic
def _zeros(typingctx, like):
    """A register of zeros, of the dtype of the array `like`."""
    lanes = Lanes(like.dtype)

    def codegen(context, builder, signature, args):
        return ir.Constant(context.get_value_type(lanes), None)

    return lanes(like), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """a·b + c in each lane, rounded once (one fused multiply-add)."""

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(signature.args[0])
        name = f"llvm.fma.v{a.count}f{a.dtype.bitwidth}"  # one vfmadd…ps / …pd
        signature_ir = ir.FunctionType(vector, [vector] * 3)
        fn = cgutils.get_or_insert_function(builder.module, signature_ir, name)
        return builder.call(fn, args)

    return c(a, b, c), codegen


# ----------------------------------------------------------------------------- without the JIT
# The same operations on small NumPy arrays, for NUMBA_DISABLE_JIT=1.
def _py_load(array, index):
    return array.reshape(-1)[index : index + lanes_of(array.dtype)].copy()


def _py_store(array, index, value):
    array.reshape(-1)[index : index + len(value)] = value


def _py_broadcast(x):
    return np.full(lanes_of(type(x)), x)


def _py_zeros(like):
    return np.zeros(lanes_of(like.dtype), like.dtype)


def _py_fma(a, b, c):
    return a * b + c


if numba.config.DISABLE_JIT:
    load, store, broadcast, zeros, fma = _py_load, _py_store, _py_broadcast, _py_zeros, _py_fma
else:
    load, store, broadcast, zeros, fma = _load, _store, _broadcast, _zeros, _fma
