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

MD at the pace of a fixed-charge potential: with `cpe_skin` (bohr) the weights of a solve that
landed on a vertex (every weight 0 or 1: most pure-model configurations) are held while no atom has
moved more than `cpe_skin` from where they were solved, and the step is the fixed-weight path
(`potential.fixed`, Verlet list kept between steps); a solve with a fractional weight, a larger
move, a new cell or new atoms re-solves. Holding a vertex can only give an energy at or above the
CPE minimum; the size of that error is measured in docs/performance.md ("MD step").
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.units import Bohr, Hartree

from ..errors import InputError
from .cell import same_cell

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
    first CPE solve (e.g. a crystal's ionic state tiled over a supercell); cpe_skin: None (solve the
    CPE at every call) or a distance in bohr within which vertex weights are held (module doc);
    global_checks: False re-solves from the previous weights alone (no vertex/probe starts; the
    first solve is always global), the cost of one warm-started charge solve; long_range: how the
    Coulomb tail of a cut-off model is summed ('auto': the exact direct/Ewald sums for small
    systems, particle-mesh Ewald to the relative accuracy `mesh_tol` from 200 atoms in a cell
    or ~8000 in a cluster; or 'direct', 'ewald', 'pme'; docs/periodic.md).
    Attributes: `cpe_solves` and `held_steps` count the calls that solved and that held weights."""

    implemented_properties = ["energy", "free_energy", "forces", "charges", "stress"]
    default_parameters = {"variant": "pure", "total_charge": 0.0, "background": "overlap", "proton": False,
                          "cutoff_tol": None, "r_max": 12.0, "ewald_tol": 1e-10, "fixed_weights": None,
                          "initial_weights": None, "cpe_skin": None,
                          "global_checks": True, "long_range": "auto", "mesh_tol": 1e-6}

    def __init__(self, bundle, **kwargs):
        super().__init__(**kwargs)
        from .loader import load_potential

        self.model = load_potential(bundle, variant=self.parameters["variant"],
                                    background=self.parameters["background"], proton=self.parameters["proton"])
        self._weights = None
        self._symbols = None
        self.weights = None
        self.mu_hartree = None
        skin = self.parameters["cpe_skin"]
        if skin is not None and not (float(skin) >= 0.0 and np.isfinite(float(skin))):
            raise InputError(f"cpe_skin must be a distance >= 0 in bohr (or None to solve every step); got {skin}")
        self._solved_at = None     # (positions bohr, cell) of the last CPE solve
        self._held = None          # FixedWeights of the held vertex (Verlet list kept between steps)
        self._mu_held = None
        self._fixed_eval = None    # (key, FixedWeights) of the fixed_weights parameter
        self.cpe_solves = 0
        self.held_steps = 0

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
                              ewald_tol=float(self.parameters["ewald_tol"]), long_range=self.parameters["long_range"],
                              mesh_tol=float(self.parameters["mesh_tol"]))
        fixed = self.parameters["fixed_weights"]
        if self.parameters["cpe_skin"] is not None and fast is None and fixed is None:
            raise InputError("cpe_skin holds weights on the fixed-weight path, which needs a cut-off model: "
                             "set cutoff_tol (e.g. 1e-6) or leave cpe_skin at None")
        solved = False
        if fixed is not None:
            c = np.asarray(fixed, dtype=float)
            if fast is not None and (self.model.options.variant == "pure" or np.all((c == 0) | (c == 1))):
                from .fixed import FixedWeights  # active state pairs only, parallel (same numbers)

                key = (tuple(symbols), c.tobytes(), id(fast))
                if self._fixed_eval is None or self._fixed_eval[0] != key:   # keep its Verlet list between steps
                    self._fixed_eval = (key, FixedWeights(fast, system, c))
                ev = self._fixed_eval[1].evaluate(pos, cell=cell)
            else:
                ev = (fast or fast_model(self.model)).evaluate(system, pos, c, cell=cell)
            mu = (float("nan"), float("nan"))
        elif self._can_hold(symbols, pos, cell, fast):
            ev = self._held.evaluate(pos, cell=cell)
            c, mu = self._weights, self._mu_held
            self.held_steps += 1
        else:
            warm = self._weights if self._symbols == symbols else None
            if warm is None and self.parameters["initial_weights"] is not None:
                warm = np.asarray(self.parameters["initial_weights"], dtype=float)
                if warm.shape != (int(system.offsets[-1]),):
                    raise InputError(f"initial_weights: expected {int(system.offsets[-1])} values (every state of "
                                     f"every atom, atom by atom), got {warm.size}")
            checks = bool(self.parameters["global_checks"]) or self._symbols != symbols   # the first solve is global
            res = solve(self.model, system, pos, Q=float(self.parameters["total_charge"]), warm_start=warm,
                        fast=fast, cell=cell, global_checks=checks)
            c, ev, mu = res.weights, res.evaluation, res.mu
            self._weights, self._symbols = c, symbols
            self.cpe_solves += 1
            solved = True
            self._remember_solve(system, pos, cell, fast, c, mu)
        self.weights = c.copy()
        self.mu_hartree = mu
        self.results["energy"] = self.results["free_energy"] = ev.energy * Hartree
        self.results["forces"] = -ev.grad_r * Hartree / Bohr
        self.results["charges"] = np.asarray(ev.charges, dtype=float)
        self.results["weights"] = c.copy()
        self.results["mu"] = tuple(float(m) * Hartree for m in mu)
        self.results["cpe_solved"] = solved
        if cell is not None:
            s = ev.strain / abs(float(np.linalg.det(cell))) * Hartree / Bohr**3
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        elif "stress" in properties:
            raise InputError("stress needs a periodic cell (pbc=True in all three directions)")

    # ------------------------------------------------------------------ held vertex weights (cpe_skin)
    def _remember_solve(self, system, pos, cell, fast, c, mu):
        """After a CPE solve: keep a fixed-weight evaluator if the weights sit on a vertex."""
        self._held, self._solved_at = None, None
        if self.parameters["cpe_skin"] is None or fast is None:
            return
        if not np.all((np.abs(c) < 1e-12) | (np.abs(c - 1.0) < 1e-12)):
            return   # fractional weights move with the geometry: solve every step
        from .fixed import cached_fixed_weights

        # the object a local solve from these weights also uses (cpe._converged_vertex): one Verlet list
        self._held = cached_fixed_weights(fast, system, np.round(c))
        self._solved_at = (pos.copy(), None if cell is None else cell.copy())
        self._mu_held = mu

    def _can_hold(self, symbols, pos, cell, fast) -> bool:
        """True when the last solve's vertex may be held: same atoms and cell, every atom within
        cpe_skin of where the weights were solved."""
        if self._held is None or self._symbols != symbols or fast is None or self._solved_at is None:
            return False
        p0, c0 = self._solved_at
        if not same_cell(c0, cell):
            return False
        if p0.shape != pos.shape:
            return False
        return float(np.max(np.linalg.norm(pos - p0, axis=1))) <= float(self.parameters["cpe_skin"])
