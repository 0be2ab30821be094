"""Small kernel calls run on one numba thread, large ones on all, and the count comes back afterwards
(ectem_core/potential/threads.py)."""
from __future__ import annotations

import numba
import pytest

from ectem_core.potential.threads import PARALLEL_MIN_PAIRS, threads_for


def test_small_work_runs_on_one_thread_and_the_count_is_restored():
    n = numba.get_num_threads()
    with threads_for(10):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == n
    with threads_for(PARALLEL_MIN_PAIRS):
        assert numba.get_num_threads() == n
    with pytest.raises(RuntimeError):
        with threads_for(10):
            raise RuntimeError("a kernel failed")
    assert numba.get_num_threads() == n
