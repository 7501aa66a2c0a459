"""glibc's heap tuned for a relay that reads in large chunks (a framed stream, a TUN with
a 64 KiB MTU).

Each read allocates a fresh buffer of 64-256 KiB and frees it once written. With glibc's
default thresholds such a buffer lies at the top of the heap, so every free() gives the
memory back (brk) and the next read takes it again, faulting and zeroing fresh pages:
measured between two namespaces, a framed tunnel spent a third more CPU per byte that
way. Raising the trim and mmap thresholds keeps a few MiB for reuse instead. Tried once,
only where the C library has mallopt (glibc); elsewhere nothing changes.
"""
from __future__ import annotations

LARGE_READ = 65536  # a relay reading chunks this large or larger tunes the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
TRIM_THRESHOLD = 32 << 20  # free memory kept at the top of the heap before giving it back
MMAP_THRESHOLD = 4 << 20  # buffers below this come from the heap, not from their own mmap()
_tuned: bool | None = None


def keep_freed_memory() -> bool:
    """Applies the thresholds (once per process); returns whether the C library took them."""
    global _tuned
    if _tuned is None:
        _tuned = _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and _mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return _tuned


def _mallopt(param: int, value: int) -> bool:
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(param, value))


__all__ = ["LARGE_READ", "keep_freed_memory"]
