"""ASE calculator for the ECT-EAM potential (eV and Å, like every ASE calculator).

    from ectem_core.ase import ECTEAM
    atoms.calc = ECTEAM("results/bundle/H-Li-F.json")        # or "name@version" from the store

implemented_properties: energy, forces, charges. Every call solves chemical-potential
equalization (warm-started from the previous weights, with the global checks of
ectem_core.potential.cpe). Periodic systems are refused until they are supported.
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.units import Bohr, Hartree

from ..errors import InputError


class ECTEAM(Calculator):
    """ECT-EAM potential from a parameter bundle.

    bundle: path to a bundle JSON (or `name@version` from the local bundle store when the
    store is available); variant: 'pure', 'resonance' or 'thermal'; total_charge: Q in e;
    cutoff_tol: None (exact, all pairs: molecules and clusters up to a few hundred atoms) or a
    kernel tolerance such as 1e-6 for per-state-pair cut-offs (≤ r_max bohr) over neighbour
    lists with the Coulomb tail summed exactly (large clusters; docs/cpe.md)."""

    implemented_properties = ["energy", "forces", "charges"]
    default_parameters = {"variant": "pure", "total_charge": 0.0, "background": "overlap", "proton": False,
                          "cutoff_tol": None, "r_max": 12.0}

    def __init__(self, bundle, **kwargs):
        super().__init__(**kwargs)
        from .loader import load_potential

        self.model = load_potential(bundle, variant=self.parameters["variant"],
                                    background=self.parameters["background"], proton=self.parameters["proton"])
        self._weights = None
        self._symbols = None
        self.weights = None
        self.mu_hartree = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from .cpe import solve

        if any(self.atoms.pbc):
            raise InputError("ECTEAM does not support periodic systems yet (pbc=True): use a cluster with pbc=False")
        symbols = self.atoms.get_chemical_symbols()
        system = self.model.system(symbols)
        warm = self._weights if self._symbols == symbols else None
        pos = self.atoms.get_positions() / Bohr
        fast = None
        if self.parameters["cutoff_tol"] is not None:
            from .fastmodel import fast_model

            fast = fast_model(self.model, cutoff_tol=float(self.parameters["cutoff_tol"]),
                              r_max=float(self.parameters["r_max"]))
        res = solve(self.model, system, pos, Q=float(self.parameters["total_charge"]), warm_start=warm, fast=fast)
        self._weights, self._symbols = res.weights, symbols
        self.weights = res.weights.copy()
        self.mu_hartree = res.mu
        ev = res.evaluation
        self.results["energy"] = ev.energy * Hartree
        self.results["forces"] = -ev.grad_r * Hartree / Bohr
        self.results["charges"] = np.asarray(ev.charges, dtype=float)
