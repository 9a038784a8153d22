"""A software prefetch for the compiled kernels: ``prefetch(array, index)`` asks the CPU
to start loading ``array[index]`` into the cache and returns at once.

The walks read raster cells scattered over tens of megabytes, nearly every read a cache
(and often a TLB) miss. Reading a block of paths' cells in one loop lets the CPU overlap
only the few misses its reorder window holds; issuing a prefetch for every path of the
block first, then reading, keeps dozens in flight (the region march took half the time).
A prefetch never faults and changes no result.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_BYTE_PTR = ir.IntType(8).as_pointer()


@intrinsic
def prefetch(typingctx, array, index):
    """Start loading ``array[index]`` (1-d array, integer index; not bounds-checked,
    which a prefetch needs not be)."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [_BYTE_PTR],
            ir.FunctionType(ir.VoidType(), [_BYTE_PTR, _I32, _I32, _I32]))
        # address, 0: for reading, 3: keep in every cache level, 1: data
        builder.call(fn, [builder.bitcast(ptr, _BYTE_PTR), ir.Constant(_I32, 0),
                          ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return sig, codegen
