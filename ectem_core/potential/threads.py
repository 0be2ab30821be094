"""How many numba threads a kernel call gets: one for small work, all otherwise.

A parallel region pays a thread wake-up on every call, and on a loaded machine (a Snakemake run with
--cores 2, the test suite beside a pipeline) it waits for a worker that the OS has descheduled: a
200-point dimer scan took 2.1 s on two threads against 0.29 s on one. Kernels called many times on
small systems (dimer scans, 2–64-atom crystal cells) therefore run on the calling thread alone."""
from __future__ import annotations

from contextlib import contextmanager

import numba

PARALLEL_MIN_PAIRS = 20_000   # pair visits below which a kernel call runs on one thread (~300 atoms at 12 bohr)


@contextmanager
def threads_for(pairs: int):
    """Run the enclosed kernel calls on one numba thread when `pairs` < PARALLEL_MIN_PAIRS."""
    n = numba.get_num_threads()
    if n == 1 or pairs >= PARALLEL_MIN_PAIRS:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(n)
