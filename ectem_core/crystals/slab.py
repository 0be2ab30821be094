"""The (100) surface of a rock-salt crystal: a slab of neutral (100) layers in a fully periodic
cell with vacuum along z (no dipole across the cell, so no dipole correction is needed), at the
model's own bulk lattice constant, positions unrelaxed.

Surface energy γ = (E_slab − n_fu E_bulk) / (2 A) (J/m² and eV/Å²), E_bulk per formula unit from
the same model and the same cut-offs at the same a0; surface charges: the mean charge of each
element in each atomic layer, from the surface inwards."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

EV_PER_A2_IN_J_PER_M2 = 16.02176634      # 1 eV/Å² in J/m² (exact SI e)


def rocksalt_100_slab(symbols, a: float, cells: int = 3, vacuum: float = 12.0):
    """2·cells atomic (100) layers of the conventional cell (4 atoms each), `vacuum` Å on each side."""
    from ase.build import bulk, surface

    if cells < 1 or vacuum <= 0:
        raise InputError(f"slab: need at least one cell and positive vacuum (got {cells}, {vacuum} Å)")
    conv = bulk("".join(symbols), "rocksalt", a=a, cubic=True)
    slab = surface(conv, (1, 0, 0), cells, vacuum=vacuum, periodic=True)
    slab.pbc = True
    return slab


def surface_energy(ce, symbols, a0: float, cells: int = 3, vacuum: float = 12.0) -> dict:
    """γ and layer charges of the rock-salt (100) surface under CrystalEnergy `ce` (see module doc)."""
    from .structures import build

    bulk_atoms = build(symbols, "rocksalt", a0)
    bulk = ce.point(bulk_atoms)
    e_bulk = bulk.energy_ev / (len(bulk_atoms) // 2)
    slab = rocksalt_100_slab(symbols, a0, cells, vacuum)
    per_el = {}
    sys_b = ce.pot.system(bulk_atoms.get_chemical_symbols())
    for i, s in enumerate(bulk_atoms.get_chemical_symbols()):
        per_el.setdefault(s, bulk.weights[sys_b.offsets[i]:sys_b.offsets[i + 1]])
    warm = np.concatenate([per_el[s] for s in slab.get_chemical_symbols()]) if ce.model == "ectem" else None
    p = ce.point(slab, warm_start=warm)
    cell = np.asarray(slab.get_cell())
    area = float(np.linalg.norm(np.cross(cell[0], cell[1])))
    n_fu = len(slab) // 2
    gamma = (p.energy_ev - n_fu * e_bulk) / (2.0 * area)
    z = slab.positions[:, 2]
    layers = np.unique(np.round(z, 2))
    syms = np.array(slab.get_chemical_symbols())
    profile = []
    for k, zl in enumerate(layers):
        on = np.abs(z - zl) < 0.05
        profile.append({"layer": k, "z_angstrom": float(zl),
                        **{f"q_{s}": float(np.mean(p.charges[on & (syms == s)])) for s in symbols if np.any(on & (syms == s))}})
    return {"formula": "".join(symbols), "model": ce.model, "facet": "100", "a0_angstrom": a0, "layers": len(layers),
            "atoms": len(slab), "vacuum_angstrom": vacuum, "area_A2": area,
            "surface_energy_eV_per_A2": gamma, "surface_energy_J_per_m2": gamma * EV_PER_A2_IN_J_PER_M2,
            "bulk_charges": {s: float(bulk.charges[list(bulk_atoms.get_chemical_symbols()).index(s)]) for s in symbols},
            "layer_charges": profile}
