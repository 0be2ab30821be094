"""Density weights vs energy weights (docs/weights.md) on the shared small bundle (H, Li, F at
CCSD(T)/aug-cc-pVDZ, CCSD densities) against real PySCF densities at HF/aug-cc-pVDZ."""
from __future__ import annotations

import numpy as np
import pytest
from pyscf import gto, scf
from scipy.linalg import block_diag

from ectem_core.errors import InputError
from ectem_core.molecules.weights.density import (
    dissociation_tolerance,
    fit_density_weights,
    fit_on_grid,
    load_reference,
    molecular_grid,
    state_basis,
)
from ectem_core.molecules.weights.energy import (
    consistency_from_reference,
    consistency_row,
    fit_energy_weights,
    scan_regularization,
)
from ectem_core.potential import cpe, load_potential
from ectem_core.potential.bundle import load_bundle

BASIS = "aug-cc-pvdz"
RE = {"LiH": 3.015, "LiF": 2.955}   # experimental R_e in bohr (Huber & Herzberg 1979)
# docs/model.md §5: the proposing group's density-weight fit of CO left q_C = +0.25 … +0.39
# at 3–6 Å; our dissociation charges must be far below that.
PRIOR_ART_Q = 0.25


# ---------------------------------------------------------------------------- QM references
def _atom(sym):
    mol = gto.M(atom=f"{sym} 0 0 0", basis=BASIS, spin=1, verbose=0)
    mf = scf.UHF(mol)
    mf.conv_tol = 1e-10
    mf.kernel()
    assert mf.converged
    return mol, mf.make_rdm1(), mf.e_tot


def _pair(a, b, R, broken_symmetry):
    """RHF (ionic branch) or UHF from a fragment broken-symmetry guess (A up, B down)."""
    mol = gto.M(atom=f"{a} 0 0 0; {b} 0 0 {R}", unit="Bohr", basis=BASIS, spin=0, verbose=0)
    if not broken_symmetry:
        mf = scf.RHF(mol)
        mf.conv_tol = 1e-10
        mf.kernel()
        assert mf.converged
        return mol, mf.make_rdm1(), mf.e_tot
    (_, da, _), (_, db, _) = _ATOMS[a], _ATOMS[b]
    dm0 = np.array([block_diag(da[0], db[1]), block_diag(da[1], db[0])])
    mf = scf.UHF(mol)
    mf.conv_tol = 1e-10
    mf.max_cycle = 200
    mf.kernel(dm0=dm0)
    assert mf.converged
    dm = mf.make_rdm1()
    return mol, dm[0] + dm[1], mf.e_tot


_ATOMS: dict = {}


@pytest.fixture(scope="module")
def atoms():
    for s in ("H", "Li", "F"):
        _ATOMS[s] = _atom(s)
    return _ATOMS


@pytest.fixture(scope="module")
def bundle(small_bundle):
    return load_bundle(small_bundle)


@pytest.fixture(scope="module")
def potential(small_bundle):
    return load_potential(small_bundle)


@pytest.fixture(scope="module")
def tolerance(bundle, atoms):
    return dissociation_tolerance(bundle, {s: atoms[s][:2] for s in atoms}, loss="kl")


def _constraints_hold(res, Q=0.0):
    c = res.weights
    assert c.min() >= 0.0
    k = 0
    for ids in res.state_ids:
        assert abs(c[k:k + len(ids)].sum() - 1.0) <= 1e-12
        k += len(ids)
    assert abs(res.charges.sum() - Q) <= 1e-12


# ---------------------------------------------------------------------------- density weights
@pytest.mark.parametrize("loss", ["kl", "rweighted"])
def test_constraints_exact_and_kkt(bundle, atoms, loss):
    mol, dm, _ = _pair("Li", "F", RE["LiF"], broken_symmetry=False)
    res = fit_density_weights(bundle, mol, dm, loss=loss)
    _constraints_hold(res)
    assert res.converged and res.kkt_residual < 1e-8
    assert res.constraint_residual <= 1e-12
    # the Becke grid integrates the reference density to the electron count
    assert abs(res.n_electrons_grid - mol.nelectron) < 1e-4   # level-3 grid: ~3e-5
    assert res.n_grid > 1000 and np.isfinite(res.condition_number) and res.condition_number >= 1.0
    assert res.state_densities.startswith("fitted")
    # at R_e LiF is ionic: charge of Li between the neutral and the ionic limits, near +1
    assert 0.5 < res.charges[0] <= 1.0


def test_charge_constraint_other_total(bundle, atoms):
    """Σq = Q for a charged molecule (LiF⁺ doublet at R_e, UHF)."""
    mol = gto.M(atom=f"Li 0 0 0; F 0 0 {RE['LiF']}", unit="Bohr", basis=BASIS, charge=1, spin=1, verbose=0)
    mf = scf.UHF(mol)
    mf.kernel()
    assert mf.converged
    dm = mf.make_rdm1()
    res = fit_density_weights(bundle, mol, dm[0] + dm[1])
    _constraints_hold(res, Q=1.0)


@pytest.mark.parametrize("loss", ["kl", "rweighted"])
def test_homonuclear_symmetry(bundle, loss):
    """F₂ (RHF at the experimental 2.668 bohr) and H₂ with the bare proton in the ensemble
    (1.401 bohr): the problem is symmetric under exchange of the atoms and convex, so its
    unique optimum has q_A = q_B and, with Σq = 0, q = 0."""
    for sym, R, proton in (("F", 2.668, False), ("H", 1.401, True)):
        mol = gto.M(atom=f"{sym} 0 0 0; {sym} 0 0 {R}", unit="Bohr", basis=BASIS, verbose=0)
        mf = scf.RHF(mol)
        mf.kernel()
        res = fit_density_weights(bundle, mol, mf.make_rdm1(), loss=loss, proton=proton)
        _constraints_hold(res)
        assert np.abs(res.charges).max() < 1e-8, (sym, res.charges)
        if proton:
            assert "H+1" in res.state_ids[0]


@pytest.mark.parametrize("loss", ["kl", "rweighted"])
def test_synthetic_density_recovers_charges(bundle, loss):
    """A 'molecule' density made of the bundle's own state densities with chosen weights
    (q_Li = +0.4): both losses vanish exactly there, so the fit must return those charges."""
    mol = gto.M(atom="Li 0 0 0; F 0 0 4.0", unit="Bohr", basis="sto-3g", verbose=0)
    basis = state_basis(bundle, ["Li", "F"])
    assert basis.state_ids == [["Li0", "Li+1", "Li-1", "Li0_2P"], ["F0", "F+1", "F-1"]]
    c_true = np.array([0.3, 0.5, 0.1, 0.1, 0.5, 0.05, 0.45])
    q_true = basis.atom_charges(c_true)
    assert np.allclose(q_true, [0.4, -0.4])
    coords, gw = molecular_grid(mol, 3)
    from ectem_core.molecules.weights.density import basis_on_grid
    rho = basis_on_grid(basis, mol.atom_coords(), coords) @ c_true
    res = fit_on_grid(basis, mol.atom_coords(), coords, gw, rho, loss=loss, Q=0.0)
    _constraints_hold(res)
    assert np.abs(res.charges - q_true).max() < 1e-6
    assert res.fit_residual < 1e-6
    # the problem is ill-conditioned along Li⁰ ↔ ½(Li⁺ + Li⁻) but not singular
    assert np.isfinite(res.condition_number) and res.condition_number > 10


def test_dissociation_within_derived_tolerance(bundle, atoms, tolerance):
    """LiH and LiF at 20 bohr on the fragment broken-symmetry UHF branch: exact q = 0; the fit
    with fitted (CCSD) state densities of an HF density may move q only as far as the free
    isolated-atom fits do (dissociation_tolerance derives the bound)."""
    tol = tolerance["tolerance"]
    assert 0 < tol < PRIOR_ART_Q
    for a, b in (("Li", "H"), ("Li", "F")):
        mol, dm, e = _pair(a, b, 20.0, broken_symmetry=True)
        # the broken-symmetry branch is the separated atoms (docs/model.md §6: to µHa)
        assert abs(e - _ATOMS[a][2] - _ATOMS[b][2]) < 1e-4
        res = fit_density_weights(bundle, mol, dm, loss="kl")
        _constraints_hold(res)
        assert abs(res.charges[0]) <= tol, (a + b, res.charges, tol)


# ---------------------------------------------------------------------------- energy weights
@pytest.fixture(scope="module")
def lif_energy_scan(potential):
    syms, pos = ["Li", "F"], np.array([[0.0, 0, 0], [0, 0, RE["LiF"]]])
    system = potential.system(syms)
    c_cpe = cpe.solve(potential, system, pos).weights
    # an attainable target: the energy at a feasible mixed point (known exact answer: E_ref is
    # reached with residual 0 by some weights)
    c_x = 0.5 * (c_cpe + potential.ground_weights(system))
    e_ref = potential.evaluate(system, pos, c_x).energy
    e_cpe = potential.evaluate(system, pos, c_cpe).energy
    lams = [1e-8, 1e-4, 1e-2, 1.0, 1e2, 1e6]
    scan = scan_regularization(potential, syms, pos, e_ref, c_cpe, lams)
    return dict(syms=syms, pos=pos, system=system, c_cpe=c_cpe, c_x=c_x, e_ref=e_ref, e_cpe=e_cpe, scan=scan)


def test_energy_weights_limits_and_tradeoff(potential, lif_energy_scan):
    d = lif_energy_scan
    scan, e_ref, e_cpe = d["scan"], d["e_ref"], d["e_cpe"]
    assert e_ref - e_cpe > 0.1   # the CPE minimum is far below the target: a real fit
    dist_x = np.linalg.norm(d["c_x"] - d["c_cpe"])
    for r in scan:
        assert r.constraint_residual <= 1e-12 and r.weights.min() >= 0
        assert abs(r.charges.sum()) <= 1e-12
        assert r.converged
        # rigorous bounds from comparing the optimum with two feasible points:
        # c_CPE gives  (E−E_ref)² + λ d² ≤ (E_CPE − E_ref)²  ⇒ d ≤ |E_CPE − E_ref| / √λ
        assert r.distance_from_cpe <= abs(e_cpe - e_ref) / np.sqrt(r.lam) * (1 + 1e-9)
        # c_x gives    (E−E_ref)² ≤ λ ‖c_x − c_CPE‖²       ⇒ |E − E_ref| ≤ √λ ‖c_x − c_CPE‖
        assert abs(r.residual_hartree) <= np.sqrt(r.lam) * dist_x * (1 + 1e-9) + 1e-12
        ev = potential.evaluate(d["system"], d["pos"], r.weights)
        assert r.residual_hartree == pytest.approx(ev.energy - e_ref, abs=1e-14)
    # λ → large: the CPE weights (first-order: d ≈ |r| ‖∇E‖ / λ)
    big = scan[-1]
    g = np.abs(potential.evaluate(d["system"], d["pos"], d["c_cpe"]).grad_c).max()
    assert big.distance_from_cpe <= 2 * abs(e_cpe - e_ref) * g * np.sqrt(len(d["c_cpe"])) / big.lam
    assert np.abs(big.charge_change).max() < 1e-5
    # λ → 0 reproduces E_ref
    assert abs(scan[0].residual_hartree) < 1e-6
    # the trade-off is monotone: distance non-increasing, |residual| non-decreasing in λ
    dist = [r.distance_from_cpe for r in scan]
    res = [abs(r.residual_hartree) for r in scan]
    assert all(b <= a + 1e-9 for a, b in zip(dist, dist[1:])), dist
    assert all(b >= a - 1e-12 for a, b in zip(res, res[1:])), res


def test_energy_fit_unreachable_target_returns_cpe(potential):
    """CPE is the global minimum of E, so a target below it is best approached by the CPE
    weights themselves, for every λ (both terms are minimized there)."""
    syms, pos = ["Li", "F"], np.array([[0.0, 0, 0], [0, 0, RE["LiF"]]])
    res = cpe.solve(potential, potential.system(syms), pos)
    r = fit_energy_weights(potential, syms, pos, res.evaluation.energy - 0.05, res.weights, 1e-6)
    assert r.distance_from_cpe < 1e-6
    assert r.residual_hartree == pytest.approx(0.05, abs=1e-6)


# ---------------------------------------------------------------------------- consistency rows
def test_consistency_rows(tmp_path, small_bundle, bundle, potential, atoms, tolerance):
    """Per geometry the benchmark numbers, from a reference file in the documented .npz
    format; at 20 bohr CPE gives q = 0 exactly (docs/model.md §4) and density weights agree
    with it within the derived tolerance."""
    rows, e_binds = [], []
    for R, bs in ((RE["LiF"], False), (20.0, True)):
        mol, dm, e = _pair("Li", "F", R, broken_symmetry=bs)
        path = tmp_path / f"density_R{R:.3f}.npz"
        np.savez(path, mol=mol.dumps(), dm=dm, r_bohr=R, branch="broken_symmetry" if bs else "ionic",
                 energy_hartree=e, symbols=np.array(["Li", "F"]), positions_bohr=mol.atom_coords())
        ref = load_reference(path)
        e_bind = e - _ATOMS["Li"][2] - _ATOMS["F"][2]
        rows.append(consistency_from_reference(small_bundle, ref, e_bind, lam=1e-2))
        e_binds.append(e_bind)
    near, far = rows
    for row in rows:
        for key in ("r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit", "disagreement_q", "disagreement_w",
                    "fit_residual", "condition_number", "regularization", "distance_from_cpe"):
            assert np.isfinite(row[key]), key
        assert row["disagreement_q"] == pytest.approx(abs(row["q_A_density"] - row["q_A_cpe"]), abs=1e-15)
    assert far["q_A_cpe"] == 0.0
    assert far["disagreement_q"] <= tolerance["tolerance"]
    # at 20 bohr the reference is the separated atoms (E_bind ≈ 0 ≈ E_CPE): the energy fit stays at
    # CPE, within the rigorous bound ‖c − c_CPE‖ ≤ |E_CPE − E_ref| / √λ
    assert abs(e_binds[1]) < 1e-4
    assert far["distance_from_cpe"] <= abs(far["e_cpe_hartree"] - e_binds[1]) / np.sqrt(1e-2) + 1e-12
    # near R_e the pure model is ionic with whole-number charges (docs/model.md §4)
    assert near["q_A_cpe"] == pytest.approx(1.0, abs=1e-9)
    assert 0.5 < near["q_A_density"] <= 1.0


def test_consistency_row_layout_mismatch(bundle, potential):
    mol = gto.M(atom="Li 0 0 0; F 0 0 20", unit="Bohr", basis="sto-3g", verbose=0)
    coords, gw = molecular_grid(mol, 1)
    basis = state_basis(bundle, ["Li", "F"], proton=False)
    from ectem_core.molecules.weights.density import basis_on_grid
    c = np.array([1.0, 0, 0, 0, 1.0, 0, 0])
    dens = fit_on_grid(basis, mol.atom_coords(), coords, gw, basis_on_grid(basis, mol.atom_coords(), coords) @ c)
    pos = mol.atom_coords()
    cres = cpe.solve(potential, potential.system(["Li", "F"]), pos)
    en = fit_energy_weights(potential, ["Li", "F"], pos, 0.0, cres.weights, 1.0)
    row = consistency_row(dens, cres, en, 20.0)
    assert row["q_A_density"] == pytest.approx(0.0, abs=1e-9)
    dens.weights = np.concatenate([dens.weights, [0.0]])
    with pytest.raises(InputError, match="weight layouts differ"):
        consistency_row(dens, cres, en, 20.0)


# ---------------------------------------------------------------------------- bad input
def test_bad_inputs(tmp_path, bundle, potential):
    mol = gto.M(atom="Li 0 0 0; F 0 0 3", unit="Bohr", basis="sto-3g", verbose=0)
    dm = np.eye(mol.nao_nr()) * 0.1
    with pytest.raises(InputError, match="unknown loss"):
        fit_density_weights(bundle, mol, dm, loss="l2")
    with pytest.raises(InputError, match="AOs"):
        fit_density_weights(bundle, mol, np.eye(3))
    with pytest.raises(InputError, match="grid_level"):
        fit_density_weights(bundle, mol, dm, grid_level=12)
    with pytest.raises(InputError, match="no weights satisfy"):
        fit_density_weights(bundle, mol, dm, Q=5.0)
    with pytest.raises(InputError, match="not in bundle"):
        fit_density_weights(bundle, gto.M(atom="Na 0 0 0; F 0 0 4", basis="sto-3g", verbose=0, spin=0),
                            np.eye(4))
    with pytest.raises(InputError, match="pyscf.gto.Mole"):
        fit_density_weights(bundle, "LiF", dm)
    if not hasattr(potential, "bundle"):
        with pytest.raises(InputError, match="does not carry its bundle"):
            fit_density_weights(potential, mol, dm)
    pos = np.array([[0.0, 0, 0], [0, 0, 3.0]])
    c0 = potential.ground_weights(potential.system(["Li", "F"]))
    with pytest.raises(InputError, match="λ"):
        fit_energy_weights(potential, ["Li", "F"], pos, 0.0, c0, -1.0)
    with pytest.raises(InputError, match="c_cpe has"):
        fit_energy_weights(potential, ["Li", "F"], pos, 0.0, c0[:-1], 1.0)
    with pytest.raises(InputError, match="positions"):
        fit_energy_weights(potential, ["Li", "F"], pos[:1], 0.0, c0, 1.0)
    bad = tmp_path / "density_R3.000.npz"
    np.savez(bad, mol=mol.dumps(), dm=dm)
    with pytest.raises(InputError, match="lacks"):
        load_reference(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_reference(tmp_path / "nope.npz")
