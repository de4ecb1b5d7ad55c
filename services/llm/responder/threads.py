"""How many CPU threads torch should use here, for training and evaluation alike."""

from __future__ import annotations

import os


def auto_threads() -> int:
    """One thread when the CPU is oversubscribed: multi-threaded kernels stall on descheduled peers
    (measured here under load 9 on 2 cores: 1 thread 900-1300 tok/s, 2 threads 140-440 tok/s)."""
    ncpu = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return 1 if load > ncpu - 0.5 else max(1, min(4, ncpu))
