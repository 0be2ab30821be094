"""Hirshfeld and iterative Hirshfeld (Hirshfeld-I) charges on a molecular grid.

Hirshfeld (Theor. Chim. Acta 44, 129 (1977)): w_A = rho0_A(|r-R_A|) / sum_B rho0_B, with
rho0_A the spherically averaged neutral free atom; q_A = Z_A - ∫ w_A rho.
Hirshfeld-I (Bultinck et al., J. Chem. Phys. 126, 144111 (2007)): rho0_A is the free-ion
density of the atom's current electron count N_A, linearly interpolated between the integer
ions floor(N_A) and floor(N_A)+1; iterate until max_A |q_A^(k+1) - q_A^(k)| < tol.
Charges in e, grid in bohr.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import ConvergenceError
from .freeatoms import FreeAtoms
from .molgrid import MolecularGrid


def atom_distances(mol, coords: np.ndarray) -> np.ndarray:
    """(natm, npts) distances in bohr from every nucleus to every grid point."""
    R = mol.atom_coords()
    return np.linalg.norm(coords[None, :, :] - R[:, None, :], axis=2)


def stockholder_charges(mol, grid: MolecularGrid, proatoms: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """q_A = Z_A - ∫ w_A rho for pro-atom densities `proatoms` (natm, npts) on the grid.

    Where the promolecule underflows (< 1e-200, far out) the point goes to its nearest atom."""
    pro = proatoms.sum(axis=0)
    tiny = pro < 1e-200
    w = np.where(tiny[None, :], 0.0, proatoms / np.where(tiny, 1.0, pro)[None, :])
    if tiny.any():
        nearest = np.argmin(dist[:, tiny], axis=0)
        w[nearest, np.flatnonzero(tiny)] = 1.0
    pops = w @ (grid.weights * grid.rho)
    return mol.atom_charges().astype(float) - pops


def hirshfeld(mol, grid: MolecularGrid, free: FreeAtoms, dist: np.ndarray | None = None) -> np.ndarray:
    """Hirshfeld charges with neutral spherical free atoms."""
    dist = atom_distances(mol, grid.coords) if dist is None else dist
    pro = np.array([free.get(mol.atom_pure_symbol(a), 0)(dist[a]) for a in range(mol.natm)])
    return stockholder_charges(mol, grid, pro, dist)


def hirshfeld_i(mol, grid: MolecularGrid, free: FreeAtoms, tol: float = 1e-6, max_iter: int = 500,
                dist: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Hirshfeld-I charges and {iterations, max_change, n_electrons_atoms_used}.

    Converged when the largest charge change between iterations is below `tol` (e);
    raises ConvergenceError after `max_iter` iterations."""
    dist = atom_distances(mol, grid.coords) if dist is None else dist
    Z = mol.atom_charges().astype(float)
    syms = [mol.atom_pure_symbol(a) for a in range(mol.natm)]
    ion_cache: dict[tuple[int, int], np.ndarray] = {}  # (atom, integer N) -> rho on grid

    def ion_on_grid(a: int, n_int: int) -> np.ndarray:
        key = (a, n_int)
        if key not in ion_cache:
            ion_cache[key] = free.get(syms[a], int(Z[a]) - n_int)(dist[a])
        return ion_cache[key]

    def proatom(a: int, n_el: float) -> np.ndarray:
        n_el = min(max(n_el, 0.0), Z[a] + 2.0)  # anions beyond -2 are not bound in any basis worth using
        lo = int(math.floor(n_el))
        f = n_el - lo
        rho = ion_on_grid(a, lo)
        return rho if f < 1e-14 else (1.0 - f) * rho + f * ion_on_grid(a, lo + 1)

    q = hirshfeld(mol, grid, free, dist)
    change = math.inf
    for it in range(1, max_iter + 1):
        pro = np.array([proatom(a, Z[a] - q[a]) for a in range(mol.natm)])
        q_new = stockholder_charges(mol, grid, pro, dist)
        change = float(np.max(np.abs(q_new - q)))
        q = q_new
        if change < tol:
            return q, {"iterations": it, "max_change": change, "tol": tol,
                       "ions_used": sorted(_state_id(syms[a], int(Z[a]) - n) for a, n in ion_cache)}
    raise ConvergenceError(f"Hirshfeld-I not converged after {max_iter} iterations (last change {change:.2e} e)")


def _state_id(symbol: str, charge: int) -> str:
    return f"{symbol}{charge:+d}" if charge else f"{symbol}0"
