"""Giving the memory of a swapped-out model back to the system.

Why: a swap holds two models for a moment (the new one loads while the old one
answers). When the old one is freed, glibc's allocator keeps most of that heap for
later instead of returning it, so a worker's resident memory settled at two models'
worth after a few swaps (100,000 customers: 254 MiB after the first, 355 MiB from the
fourth on; bench/soak.py). `malloc_trim` returns the free heap; where the C library
has none (musl, macOS), this does nothing.
"""

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger("nextbest")


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return library if library is not None and hasattr(library, "malloc_trim") else None


def release_freed() -> None:
    """Return the allocator's free memory to the system, where it can."""
    library = _libc()
    if library is not None:
        library.malloc_trim(0)
