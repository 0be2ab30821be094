"""Minimal Basis Iterative Stockholder (MBIS) charges on a molecular grid.

Verstraelen et al., J. Chem. Theory Comput. 12, 3894 (2016): each pro-atom is a sum of
Slater shells rho0_Ai(r) = N_Ai / (8 pi sigma_Ai^3) exp(-r/sigma_Ai), one shell per
periodic-table row; fixed-point iteration N_Ai = ∫ w_Ai rho, sigma_Ai = ∫ w_Ai rho r_A / (3 N_Ai)
with w_Ai = rho0_Ai / rho0, which minimises the Kullback-Leibler divergence of the
promolecule from rho. Needs no free-atom calculations. Charges in e, lengths in bohr.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import ConvergenceError
from .molgrid import MolecularGrid


def n_shells(Z: int) -> int:
    return 1 if Z <= 2 else 2 if Z <= 10 else 3 if Z <= 18 else 4 if Z <= 36 else 5


def initial_shells(Z: int) -> tuple[np.ndarray, np.ndarray]:
    """Populations (Z/m each) and widths sigma = 1/(2 Z^(1-i/(m-1))) (core ~ 1/(2Z) to 1/2)."""
    m = n_shells(Z)
    expo = 2.0 * Z ** (1.0 - np.arange(m) / max(m - 1, 1)) if m > 1 else np.array([2.0 * Z])
    return np.full(m, Z / m, dtype=float), 1.0 / expo


def mbis(mol, grid: MolecularGrid, dist: np.ndarray, tol: float = 1e-6,
         max_iter: int = 5000) -> tuple[np.ndarray, dict]:
    """MBIS charges and {iterations, max_change, populations, sigmas_bohr}; converged when the
    largest change of an atomic charge between iterations is below `tol` (e). Shell
    populations themselves need not converge: for an ion whose shells describe the same
    density (Li+ with two shells for 1s^2) population drifts between them at fixed charge."""
    Z = mol.atom_charges()
    shells = [initial_shells(int(z)) for z in Z]
    owner = np.concatenate([np.full(len(n), a) for a, (n, _) in enumerate(shells)])
    N = np.concatenate([n for n, _ in shells])
    sig = np.concatenate([s for _, s in shells])
    r = dist[owner]  # (n_shells_total, n_points)
    wr = grid.weights * grid.rho
    change = math.inf
    q = np.zeros(mol.natm)
    for it in range(1, max_iter + 1):
        pro = N[:, None] / (8 * np.pi * sig[:, None] ** 3) * np.exp(-r / sig[:, None])
        tot = pro.sum(axis=0)
        w = np.where(tot > 1e-300, pro / np.where(tot > 1e-300, tot, 1.0), 0.0)
        N_new = w @ wr
        sig = (w * r) @ wr / (3.0 * np.maximum(N_new, 1e-300))
        sig = np.maximum(sig, 1e-6)
        q_new = Z.astype(float) - np.bincount(owner, weights=N_new, minlength=mol.natm)
        change = float(np.max(np.abs(q_new - q))) if it > 1 else math.inf
        N, q = N_new, q_new
        if change < tol:
            return q, {"iterations": it, "max_change": change, "tol": tol,
                       "populations": N.tolist(), "sigmas_bohr": sig.tolist()}
    raise ConvergenceError(f"MBIS not converged after {max_iter} iterations (last change {change:.2e} e)")
