"""Limit the thread pools of NumPy's BLAS, OpenMP and PyTorch.

Import and call `limit_threads` before the first import of numpy or torch:
OpenBLAS, MKL and OpenMP read these variables once, when the library loads.
This module itself imports neither.
"""

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def limit_threads(threads):
    """Set every thread-count variable to `threads` (1 or more)."""
    if threads < 1:
        raise ValueError(
            f"invalid thread count {threads}: expected 1 or more; pass --threads 1 or 2"
        )
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def limit_torch_threads(torch_module, threads):
    """Set PyTorch's intra-op pool to `threads` and its inter-op pool to 1.

    Call right after `import torch`, before any tensor operation, because
    PyTorch fixes the inter-op pool size at its first parallel call.
    """
    torch_module.set_num_threads(threads)
    torch_module.set_num_interop_threads(1)
