"""The long-range Coulomb energy Σ_{i<j} q_i q_j / R of the atom charges, as data for the numba
energy kernel (`kernels.long_range`): a direct sum for clusters, an Ewald sum for periodic cells
(`ewald.ewald_setup`: positions-only tables built once per geometry, reused for every set of
charges the CPE tries)."""
from __future__ import annotations

import numpy as np

CLUSTER = 0
PERIODIC = 1

_I = np.zeros(0, dtype=np.int64)
_F1 = np.zeros(0)
_F3 = np.zeros((0, 3))
_F6 = np.zeros((0, 6))
_FN = np.zeros((0, 0))


def long_range_data(positions, cell, tol: float):
    """The `lr` tuple of kernels.long_range: (mode, Ewald pair and k-space tables, α, V); the same
    types for both modes, so one compiled kernel serves clusters and cells."""
    if cell is None:
        return (np.int64(CLUSTER), _I, _I, _F1, _F3, _F6, _F3, _F1, _F6, _FN, _FN, 0.0, 0.0)
    from .ewald import ewald_setup

    s = ewald_setup(positions, cell, tol=tol)
    return (np.int64(PERIODIC), s.pair_i, s.pair_j, s.pair_g, s.pair_dg, s.pair_w, s.kvec, s.kfac, s.kstrain,
            s.cos_kr, s.sin_kr, float(s.alpha), float(s.volume))
