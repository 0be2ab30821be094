"""The long-range Coulomb energy Σ_{i<j} q_i q_j / R of the atom charges, as data for the numba
energy kernel (`kernels.long_range`): a direct sum for clusters (mode CLUSTER), an Ewald sum for
periodic cells (mode PERIODIC, `ewald.ewald_setup`), or the particle-mesh Ewald sum for cells and
clusters (mode MESH, `pme.pme_setup`); in each case positions-only tables built once per geometry,
reused for every set of charges the CPE tries."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

CLUSTER = 0
PERIODIC = 1
MESH = 2

METHODS = ("auto", "direct", "ewald", "pme")
# "auto" switches to PME at these sizes (measured crossover of setup + energy, benchmarks/bench_long_range.py)
AUTO_PME_CLUSTER_ATOMS = 8000
AUTO_PME_CELL_ATOMS = 200    # docs/periodic.md: the crystal stage's cells keep Ewald at 1e-10
# a caller's pair list (pairs, pair_reach) is PME's real-space list when it reaches this far (bohr); its
# reach, capped, is then PME's r_cut: a longer reach lowers α and coarsens the mesh at no search cost
MIN_PAIR_REACH = 8.0
MAX_PAIR_REACH = 16.0

_I = np.zeros(0, dtype=np.int64)
_I2 = np.zeros((0, 3), dtype=np.int64)
_F1 = np.zeros(0)
_F3 = np.zeros((0, 3))
_F6 = np.zeros((0, 6))
_FN = np.zeros((0, 0))
_F33 = np.zeros((3, 3))
_FP = np.zeros((0, 3, 0))
_NO_EWALD = (_I, _I, _F1, _F3, _F6, _F3, _F1, _F6, _FN, _FN, 0.0, 0.0)
_NO_MESH = (_I, _I, _F1, _F1, _F3, _I2, _FP, _FP, _F33, np.zeros((0, 0, 0)), _F33, np.zeros(3, dtype=np.int64),
            _F3, _I, np.zeros(1, dtype=np.int64), 0.0, 0.0, np.int64(0))


def check_method(method: str) -> str:
    """The long-range method name, validated: one of METHODS."""
    if method not in METHODS:
        raise InputError(f"long-range method {method!r} is not known: use one of {', '.join(map(repr, METHODS))} "
                         "(direct: clusters, ewald: cells, pme: particle-mesh Ewald for both, auto: by size)")
    return method


def choose_method(n_atoms: int, periodic: bool, method: str = "auto") -> str:
    """The method "auto" resolves to: the exact sums (direct for clusters, ewald for cells) below
    AUTO_PME_CLUSTER_ATOMS / AUTO_PME_CELL_ATOMS atoms, PME above."""
    check_method(method)
    if method != "auto":
        return method
    if periodic:
        return "pme" if n_atoms >= AUTO_PME_CELL_ATOMS else "ewald"
    return "pme" if n_atoms >= AUTO_PME_CLUSTER_ATOMS else "direct"


def folded_real_space(n_atoms: int, periodic: bool, method: str, mesh_tol: float,
                      pair_reach: float | None) -> float | None:
    """The PME splitting α (1/bohr) when `long_range_data(..., pair_reach=pair_reach)` sums this system
    by PME on the caller's pair list, else None. A caller whose pair tables hold q_A q_B erfc(αR)/R for
    every pair of its list out to min(pair_reach, MAX_PAIR_REACH) (`uniform_tables.UniformTables(ewald=
    (α, reach))`) then asks for `long_range_data(..., real_space=False)`: the mesh and self terms only,
    no second pass over the pairs."""
    from .pme import pme_parameters

    if pair_reach is None or pair_reach < MIN_PAIR_REACH or n_atoms < 2:
        return None
    if choose_method(n_atoms, periodic, method) != "pme":
        return None
    return pme_parameters(float(mesh_tol), min(float(pair_reach), MAX_PAIR_REACH), periodic)[0]


def long_range_data(positions, cell, tol: float, method: str = "auto", mesh_tol: float | None = None,
                    pairs=None, pair_reach: float | None = None, real_space: bool = True):
    """The `lr` tuple of kernels.long_range: (mode, Ewald pair and k-space tables, α, V, PME data);
    the same types for every mode, so one compiled kernel serves clusters and cells. tol: the
    Ewald accuracy (cells); mesh_tol: the PME accuracy (None: tol); pairs, pair_reach: a half pair
    list (pi, pj, shift) holding every pair within pair_reach bohr, which PME uses instead of its own
    search (see MIN_PAIR_REACH). real_space=False: PME leaves out its real-space pairs, which the
    caller's tables hold (only where `folded_real_space` gave α; InputError otherwise)."""
    periodic = cell is not None
    n = int(np.asarray(positions).reshape(-1, 3).shape[0])
    chosen = choose_method(n, periodic, method)
    if not real_space and chosen != "pme":
        raise InputError(f"the real space is left out only for PME (this system is summed by {chosen!r})")
    if chosen == "direct":
        if periodic:
            raise InputError("long-range method 'direct' is for clusters only: use 'ewald' or 'pme' for a periodic cell")
        return (np.int64(CLUSTER), *_NO_EWALD, _NO_MESH)
    if chosen == "pme":
        from .pme import pme_setup

        if not real_space:
            if pair_reach is None or pair_reach < MIN_PAIR_REACH:
                raise InputError(f"PME without its real space needs the caller's pair reach >= {MIN_PAIR_REACH} bohr")
            none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 3)))
            s = pme_setup(positions, cell, tol=float(tol if mesh_tol is None else mesh_tol),
                          r_cut=min(float(pair_reach), MAX_PAIR_REACH), pairs=none)
        elif pairs is not None and pair_reach is not None and pair_reach >= MIN_PAIR_REACH:
            # the caller's Verlet list holds every pair within pair_reach: PME's real space goes that far
            s = pme_setup(positions, cell, tol=float(tol if mesh_tol is None else mesh_tol),
                          r_cut=min(float(pair_reach), MAX_PAIR_REACH), pairs=pairs)
        else:
            s = pme_setup(positions, cell, tol=float(tol if mesh_tol is None else mesh_tol))
        return (np.int64(MESH), *_NO_EWALD, s.data)
    if not periodic:
        raise InputError("long-range method 'ewald' needs a periodic cell: use 'direct' or 'pme' for a cluster")
    from .ewald import ewald_setup

    s = ewald_setup(positions, cell, tol=tol)
    return (np.int64(PERIODIC), s.pair_i, s.pair_j, s.pair_g, s.pair_dg, s.pair_w, s.kvec, s.kfac, s.kstrain,
            s.cos_kr, s.sin_kr, float(s.alpha), float(s.volume), _NO_MESH)
