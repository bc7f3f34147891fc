"""glibc malloc tuning for large tensors.

Under glibc's defaults a buffer above the mmap threshold (128 KB, raised dynamically up to
the largest freed buffer) is mapped fresh for each request and unmapped when freed, and the
heap top is returned to the system beyond the trim threshold; either way every request
faults its tensor pages in again. Fixed thresholds keep such buffers in the heap for reuse.
Fewer arenas keep gRPC's threads from holding freed buffers each in a heap of its own. The
same values can be given before start-up through the environment (the Dockerfile does):
MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ and MALLOC_ARENA_MAX.
"""

from __future__ import annotations

import ctypes
import logging
import platform

log = logging.getLogger("oipserve")

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Buffers below this come from the heap (32 MB is glibc's largest allowed value)."""
TRIM_THRESHOLD = 128 * 1024 * 1024
"""Free memory at the heap top kept for reuse before it goes back to the system."""
ARENA_MAX = 2
"""Heaps shared by all threads: gRPC's threads would each keep freed buffers in their own."""
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
    "MALLOC_ARENA_MAX": str(ARENA_MAX),
}
"""The same tuning as environment variables, which glibc reads when a process starts."""
_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc(
    mmap_threshold: int = MMAP_THRESHOLD,
    trim_threshold: int = TRIM_THRESHOLD,
    arena_max: int = ARENA_MAX,
) -> bool:
    """Set glibc's mmap and trim thresholds and its arena count (call it before threads
    start); False (and nothing done) on other C libraries."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    settings = [
        (_M_MMAP_THRESHOLD, mmap_threshold),
        (_M_TRIM_THRESHOLD, trim_threshold),
        (_M_ARENA_MAX, arena_max),
    ]
    results = [libc.mallopt(option, value) for option, value in settings]  # every one
    done = all(results)
    if not done:
        log.warning("could not set the malloc thresholds")
    return done
