"""ASE calculator for the ECT-EAM potential (eV and Å, like every ASE calculator).

    from ectem_core.ase import ECTEAM
    atoms.calc = ECTEAM("results/bundle/H-Li-F.json")        # or "name@version" from the store

implemented_properties: energy, free_energy (the same number), forces, charges and, for periodic
cells, stress (eV/Å³, Voigt order xx yy zz yz xz xy, ASE's sign: (1/V) ∂E/∂ε). `results` also
holds the ensemble weights (`weights`, flat, atom by atom) and the chemical potential (`mu`,
eV; an interval (lo, hi) when every weight is integer). Every call solves chemical-potential
equalization (warm-started from the previous weights, with the global checks of
ectem_core.potential.cpe). Periodic cells must be periodic in all three directions (a slab is a
cell with vacuum), neutral (total_charge 0), and use a cut-off model: cutoff_tol defaults to
1e-6 there (docs/periodic.md).
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.units import Bohr, Hartree

from ..errors import InputError

PERIODIC_CUTOFF_TOL = 1e-6


class ECTEAM(Calculator):
    """ECT-EAM potential from a parameter bundle.

    bundle: path to a bundle JSON (or `name@version` from the local bundle store when the
    store is available); variant: 'pure', 'resonance' or 'thermal'; total_charge: Q in e;
    cutoff_tol: None (exact, all pairs: molecules and clusters up to a few hundred atoms; for a
    periodic cell this means 1e-6) or a kernel tolerance such as 1e-6 for per-state-pair
    cut-offs (≤ r_max bohr) over neighbour lists with the Coulomb tail summed exactly (direct
    sum for clusters, Ewald to ewald_tol for cells; docs/cpe.md, docs/periodic.md);
    fixed_weights: None (solve the CPE) or a flat weight vector held fixed (e.g. the neutral
    ground states: the plain-EAM limit); initial_weights: a flat weight vector that warm-starts the
    first CPE solve (e.g. a crystal's ionic state tiled over a supercell)."""

    implemented_properties = ["energy", "free_energy", "forces", "charges", "stress"]
    default_parameters = {"variant": "pure", "total_charge": 0.0, "background": "overlap", "proton": False,
                          "cutoff_tol": None, "r_max": 12.0, "ewald_tol": 1e-10, "fixed_weights": None,
                          "initial_weights": None}

    def __init__(self, bundle, **kwargs):
        super().__init__(**kwargs)
        from .loader import load_potential

        self.model = load_potential(bundle, variant=self.parameters["variant"],
                                    background=self.parameters["background"], proton=self.parameters["proton"])
        self._weights = None
        self._symbols = None
        self.weights = None
        self.mu_hartree = None

    def _cell(self):
        """The cell in bohr for a periodic system, None for a cluster (mixed pbc refused)."""
        from .cell import check_cell, check_neutral

        pbc = tuple(bool(p) for p in self.atoms.pbc)
        cell, periodic = check_cell(np.asarray(self.atoms.get_cell(), dtype=float) / Bohr, pbc)
        if not periodic:
            return None
        check_neutral(float(self.parameters["total_charge"]))
        return cell

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from .cpe import solve
        from .fastmodel import fast_model

        cell = self._cell()
        symbols = self.atoms.get_chemical_symbols()
        system = self.model.system(symbols)
        pos = self.atoms.get_positions() / Bohr
        tol = self.parameters["cutoff_tol"]
        if tol is None and cell is not None:
            tol = PERIODIC_CUTOFF_TOL
        fast = None
        if tol is not None:
            fast = fast_model(self.model, cutoff_tol=float(tol), r_max=float(self.parameters["r_max"]),
                              ewald_tol=float(self.parameters["ewald_tol"]))
        fixed = self.parameters["fixed_weights"]
        if fixed is not None:
            c = np.asarray(fixed, dtype=float)
            if fast is not None and (self.model.options.variant == "pure" or np.all((c == 0) | (c == 1))):
                from .fixed import FixedWeights  # active state pairs only, parallel (same numbers)

                ev = FixedWeights(fast, system, c).evaluate(pos, cell=cell)
            else:
                ev = (fast or fast_model(self.model)).evaluate(system, pos, c, cell=cell)
            mu = (float("nan"), float("nan"))
        else:
            warm = self._weights if self._symbols == symbols else None
            if warm is None and self.parameters["initial_weights"] is not None:
                warm = np.asarray(self.parameters["initial_weights"], dtype=float)
                if warm.shape != (int(system.offsets[-1]),):
                    raise InputError(f"initial_weights: expected {int(system.offsets[-1])} values (every state of "
                                     f"every atom, atom by atom), got {warm.size}")
            res = solve(self.model, system, pos, Q=float(self.parameters["total_charge"]), warm_start=warm,
                        fast=fast, cell=cell)
            c, ev, mu = res.weights, res.evaluation, res.mu
            self._weights, self._symbols = c, symbols
        self.weights = c.copy()
        self.mu_hartree = mu
        self.results["energy"] = self.results["free_energy"] = ev.energy * Hartree
        self.results["forces"] = -ev.grad_r * Hartree / Bohr
        self.results["charges"] = np.asarray(ev.charges, dtype=float)
        self.results["weights"] = c.copy()
        self.results["mu"] = tuple(float(m) * Hartree for m in mu)
        if cell is not None:
            s = ev.strain / abs(float(np.linalg.det(cell))) * Hartree / Bohr**3
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        elif "stress" in properties:
            raise InputError("stress needs a periodic cell (pbc=True in all three directions)")
