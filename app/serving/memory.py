"""Giving the memory of a swapped-out model back to the system.

Why: a swap holds two models for a moment (the new one loads while the old one
answers). When the old one is freed, glibc's allocator keeps most of that heap for
later instead of returning it, so a worker's resident memory settled at two models'
worth after a few swaps (100,000 customers: 254 MiB after the first, 355 MiB from the
fourth on; bench/soak.py). `malloc_trim` returns the free heap; where the C library
has none (musl, macOS), this does nothing. The registry trims after each swap and again
at its next refresh once the swapped-out model is gone: requests still answering from
it when it was swapped out hold it until they end.

And why a fixed mmap threshold: glibc raises its threshold to the size of every
mmapped block it frees, so after the first swap a model's arrays (up to 32 MiB each)
came from the heap instead, between small objects that stay, where trimming cannot
return them: resident memory grew by a fifth over 30 swaps under load. Fixed at 1 MiB,
every large array is its own mapping, returned whole when freed.
"""

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger("nextbest")


M_MMAP_THRESHOLD = -3  # mallopt parameter numbers, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 1 << 20


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


def map_large_blocks() -> None:
    """Give every allocation over 1 MiB its own mapping, for the life of the process."""
    library = _libc()
    if library is not None and hasattr(library, "mallopt"):
        library.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
