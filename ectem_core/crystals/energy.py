"""Energies of periodic crystals under the three models the crystal benchmark compares (eV, Å
at the interface; atomic units inside), each relative to the separated neutral ground-state atoms:

  'ectem'  the bundle's ECT-EAM (its variant): weights from chemical-potential equalization in the
           cell (cpe.solve with the cell: Ewald long range, Q = 0);
  'eam'    plain EAM: the same functions with every atom fixed in its neutral ground state (no charge);
  'qeq'    QEq + EAM: classic QEq charges (Rappé & Goddard 1991, published χ, J, Slater shielding)
           added to the plain-EAM energy, which supplies the short-range repulsion QEq lacks
           (the construction of Streitz & Mintmire, Phys. Rev. B 50, 11996 (1994): EAM + variable-charge
           electrostatics); the QEq charges do not change the EAM part.

`CrystalEnergy(bundle, model).point(atoms)` → CrystalPoint(energy_ev, charges, weights, state_ids, mu_ev)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..elements import BOHR_ANGSTROM, HARTREE_EV
from ..errors import EctemError, InputError

MODELS = ("ectem", "eam", "qeq")
CUTOFF_TOL = 1e-6      # kernel tolerance of the periodic cut-off model (docs/periodic.md)
R_MAX = 12.0           # cap of every state-pair radius (bohr)
QEQ_SR_TOL = 1e-10     # |J_ij(R) − 1/R| below this (hartree) beyond the QEq short-range cut-off


@dataclass
class CrystalPoint:
    """One structure at one geometry: energy per cell (eV, against neutral atoms), atom charges (e),
    weights (flat, per atom `state_ids`), the chemical potential interval (eV; NaN where none)."""

    energy_ev: float
    charges: np.ndarray
    weights: np.ndarray
    state_ids: list
    mu_ev: tuple


class CrystalEnergy:
    """Energy of any periodic ASE Atoms under one model of one bundle (see module docstring)."""

    def __init__(self, bundle, model: str = "ectem", variant: str = "pure"):
        from ..potential import load_potential
        from ..potential.fastmodel import fast_model

        if model not in MODELS:
            raise InputError(f"unknown crystal model {model!r}: use one of {', '.join(MODELS)}")
        self.model = model
        self.pot = load_potential(bundle, variant=variant)
        self.fm = fast_model(self.pot, cutoff_tol=CUTOFF_TOL, r_max=R_MAX)

    def _geometry(self, atoms):
        if not all(atoms.pbc):
            raise InputError("crystal energies need a cell periodic in all three directions (atoms.pbc)")
        system = self.pot.system(atoms.get_chemical_symbols())
        return system, atoms.get_positions() / BOHR_ANGSTROM, np.asarray(atoms.get_cell(), float) / BOHR_ANGSTROM

    def state_ids(self, system) -> list:
        return [self.pot.elements[k].state_ids[s] for k in system.element_index
                for s in range(len(self.pot.elements[k].state_ids))]

    def point(self, atoms, warm_start=None) -> CrystalPoint:
        from ..potential.cpe import solve

        system, pos, cell = self._geometry(atoms)
        ids = self.state_ids(system)
        if self.model == "ectem":
            res = solve(self.pot, system, pos, Q=0.0, warm_start=warm_start, fast=self.fm, cell=cell)
            return CrystalPoint(res.evaluation.energy * HARTREE_EV, np.asarray(res.evaluation.charges), res.weights,
                                ids, tuple(m * HARTREE_EV for m in res.mu))
        c = self.pot.ground_weights(system)
        ev = self.fm.evaluate(system, pos, c, want_forces=False, cell=cell)
        nan = (float("nan"), float("nan"))
        if self.model == "eam":
            return CrystalPoint(ev.energy * HARTREE_EV, np.zeros(system.n_atoms), c, ids, nan)
        q, e_qeq = periodic_qeq(atoms.get_chemical_symbols(), pos, cell)
        return CrystalPoint((ev.energy + e_qeq) * HARTREE_EV, q, c, ids, nan)


def periodic_qeq(symbols, pos_bohr, cell_bohr, params=None, ewald_tol: float = 1e-10):
    """QEq charges and energy (hartree) of a neutral periodic cell:
    E(q) = Σ χ_i q_i + ½ Σ J_i q_i² + E_Ewald(q) + Σ_{pairs, images} q_i q_j [J_ij(R) − 1/R],
    the bracket (the Slater shielding) summed over image pairs until it is below QEQ_SR_TOL;
    one linear KKT solve with Σq = 0. EctemError where E(q) is not convex on Σq = 0 (no minimum)."""
    from ..potential.ewald import ewald_energy, ewald_setup
    from ..potential.neighbours import periodic_pairs
    from ..potential.qeq import _params_for, shielded_coulomb

    ps = _params_for(list(symbols), params)
    n = len(symbols)
    chi = np.array([p.chi for p in ps])
    H = np.diag([p.J for p in ps])
    setup = ewald_setup(pos_bohr, cell_bohr, tol=ewald_tol)
    for j in range(n):   # the Ewald part is linear in q: its matrix column by column
        e = np.zeros(n)
        e[j] = 1.0
        H[:, j] += ewald_energy(setup, e, want_forces=False, want_stress=False).potential
    r_sr = _shielding_range(ps)
    pi, pj, shift = periodic_pairs(pos_bohr, cell_bohr, r_sr)
    R = np.linalg.norm(pos_bohr[pi] - pos_bohr[pj] - shift, axis=1)
    d = np.empty(R.size)
    key = [(ps[i].chi, ps[i].J, ps[i].zeta, ps[i].n, ps[j].chi, ps[j].J, ps[j].zeta, ps[j].n) for i, j in zip(pi, pj)]
    for k in set(key):   # one vectorized Coulomb-integral call per parameter pair
        on = np.array([x == k for x in key])
        i0, j0 = int(pi[on][0]), int(pj[on][0])
        d[on] = np.atleast_1d(shielded_coulomb(ps[i0], ps[j0], R[on])) - 1.0 / R[on]
    # an atom and its own image (i == j) appears once for +n and −n: twice on the diagonal
    np.add.at(H, (pi, pj), np.where(pi == pj, 2.0 * d, d))
    off = pi != pj
    np.add.at(H, (pj[off], pi[off]), d[off])
    if n > 1:   # E(q) must be convex on Σq = 0, else QEq has no minimum (the polarization catastrophe)
        basis = np.linalg.svd(np.ones((1, n)))[2][1:]        # orthonormal basis of Σq = 0
        lowest = float(np.linalg.eigvalsh(basis @ H @ basis.T).min())
        if lowest <= 0.0:
            raise EctemError(f"QEq has no minimum here: the hardness matrix on Σq = 0 has eigenvalue {lowest:.3g} Ha "
                             "(the polarization catastrophe of compressed QEq; charges would diverge)")
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = H
    A[:n, n] = A[n, :n] = 1.0
    sol = np.linalg.solve(A, np.concatenate([-chi, [0.0]]))
    q = sol[:n] - sol[:n].mean()
    return q, float(chi @ q + 0.5 * q @ H @ q)


def _shielding_range(ps) -> float:
    """Distance (bohr) beyond which |J_ij − 1/R| < QEQ_SR_TOL for every parameter pair."""
    from ..potential.qeq import shielded_coulomb

    grid = np.arange(1.0, 60.0, 0.25)
    worst = 1.0
    uniq = list({(p.chi, p.J, p.zeta, p.n): p for p in ps}.values())
    for a in range(len(uniq)):
        for b in range(a, len(uniq)):
            d = np.abs(np.asarray(shielded_coulomb(uniq[a], uniq[b], grid)) - 1.0 / grid)
            big = np.nonzero(d >= QEQ_SR_TOL)[0]
            if big.size:
                worst = max(worst, float(grid[min(big[-1] + 1, grid.size - 1)]))
    return worst
