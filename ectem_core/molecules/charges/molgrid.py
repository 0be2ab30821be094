"""The molecular density on a PySCF Becke multicentre grid (`pyscf.dft.gen_grid`).

Points in bohr, weights in bohr^3, rho in electrons/bohr^3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MolecularGrid:
    coords: np.ndarray    # (n, 3) bohr
    weights: np.ndarray   # (n,) bohr^3
    rho: np.ndarray       # (n,) molecular density
    level: int

    @property
    def n_integrated(self) -> float:
        return float(self.weights @ self.rho)


def molecular_grid(mol, dm: np.ndarray, level: int = 3, chunk: int = 20000) -> MolecularGrid:
    """Becke grid of `level` (PySCF 0-9) with the density of `dm` evaluated by `numint`."""
    from pyscf.dft import gen_grid, numint

    grids = gen_grid.Grids(mol)
    grids.level = int(level)
    grids.prune = None  # unpruned: the same angular grid everywhere, no symmetry assumptions
    grids.build(with_non0tab=False)
    coords = np.asarray(grids.coords)
    rho = np.empty(len(coords))
    for s in range(0, len(coords), chunk):
        ao = numint.eval_ao(mol, coords[s:s + chunk])
        rho[s:s + chunk] = numint.eval_rho(mol, ao, dm)
    return MolecularGrid(coords, np.asarray(grids.weights), rho, int(level))
