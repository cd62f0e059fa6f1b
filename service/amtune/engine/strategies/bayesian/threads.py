"""Run the engine's linear algebra on one BLAS thread (the calling thread's setting only).

The engine's matrices are small (at most a few hundred rows). Multi-threaded OpenBLAS splits
even a 100 x 100 product across cores, and on a busy 2-core host each call then waits for a
worker thread to be scheduled: measured here under load, a 100 x 100 matmul took 17 ms with the
default two threads and 0.24 ms with one, and a whole suggestion was ~10x slower. The API serves
each claim on its own thread anyway, so one BLAS thread per claim is also the right
parallelism.

OpenBLAS >= 0.3.27 has ``openblas_set_num_threads_local``, which changes the setting for the
calling thread only and returns the previous one, so other threads of the server never notice.
The numpy and scipy wheels each bundle their own OpenBLAS; both are found next to the package.
Anything else (MKL, Accelerate, an older OpenBLAS) leaves BLAS untouched: a speed concern, never
a correctness one.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
import scipy

SetLocal = Callable[[int], int]


@lru_cache(maxsize=1)
def _setters() -> tuple[SetLocal, ...]:
    found: list[SetLocal] = []
    for module in (np, scipy):
        libs = os.path.join(
            os.path.dirname(module.__file__ or ""), os.pardir, f"{module.__name__}.libs"
        )
        for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
            try:
                fn = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_int]
            found.append(fn)
    return tuple(found)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    setters = _setters()
    previous = [fn(1) for fn in setters]
    try:
        yield
    finally:
        for fn, value in zip(setters, previous, strict=True):
            fn(value)
