"""Atomic charges (ectem_core.molecules.charges) on real PySCF densities (HF, small basis sets).

Expected values come from sum rules, symmetry, the separated-atom limit and an independent
quadrature, not from this code's earlier output."""
from __future__ import annotations

import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.molecules.charges import METHODS, charges_from_npz, compute_charges
from ectem_core.molecules.charges.freeatoms import FreeAtoms, hund_spin
from ectem_core.molecules.charges.hirshfeld import atom_distances
from ectem_core.molecules.charges.molgrid import molecular_grid
from ectem_core.molecules.charges.single_centre import hirshfeld_single_centre

pyscf = pytest.importorskip("pyscf")
from pyscf import gto, scf  # noqa: E402


def _mol(geom: str, basis: str = "6-31g"):
    return gto.M(atom=geom, unit="Bohr", basis=basis, verbose=0)


def _rhf(mol):
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-10
    mf.kernel()
    assert mf.converged
    return mf


@pytest.fixture(scope="module")
def lif_re():
    mol = _mol("Li 0 0 0; F 0 0 2.955")
    dm = _rhf(mol).make_rdm1()
    return mol, dm, compute_charges(mol, dm)


def test_hund_spin_table():
    # 2S of ground configurations: H 2S, Li 2S, C 3P, N 4S, O 3P, F 2P, Ne 1S, Na 2S
    assert [hund_spin(n) for n in (1, 3, 6, 7, 8, 9, 10, 11, 2, 0)] == [1, 1, 2, 3, 2, 1, 0, 1, 0, 0]


def test_sum_rule_every_method(lif_re):
    mol, dm, res = lif_re
    d = res["diagnostics"]
    assert set(res["charges"]) == set(METHODS)
    # Mulliken and IAO partition tr(DS) exactly
    for m in ("mulliken", "iao"):
        assert abs(res["charges"][m].sum()) < 1e-10
    # grid methods: the charge sum is Z - ∫rho on that grid, i.e. minus the grid's own error
    grid_err = d["n_integrated"] - mol.nelectron
    assert abs(grid_err) < 1e-4
    for m in ("hirshfeld", "hirshfeld_i", "mbis"):
        assert res["charges"][m].sum() == pytest.approx(-grid_err, abs=1e-9)
    bader_err = d["bader"]["n_integrated"] - mol.nelectron
    assert res["charges"]["bader"].sum() == pytest.approx(-bader_err, abs=1e-9)
    assert d["hirshfeld_i"]["max_change"] < d["hirshfeld_i"]["tol"]
    assert d["mbis"]["max_change"] < d["mbis"]["tol"]


def test_lif_signs_and_ordering(lif_re):
    # LiF is ionic: Li positive under every scheme. Hirshfeld charges are known to be small
    # next to Bader and Hirshfeld-I charges (Wiberg & Rablen, J. Comput. Chem. 14, 1504
    # (1993); Bultinck et al., J. Chem. Phys. 126, 144111 (2007)).
    q = {m: v[0] for m, v in lif_re[2]["charges"].items()}
    assert all(v > 0.3 for v in q.values())
    assert q["hirshfeld"] < q["hirshfeld_i"]
    assert q["hirshfeld"] < q["bader"]
    assert q["hirshfeld"] < q["mbis"]


def test_h2_symmetric_zero():
    mol = _mol("H 0 0 0; H 0 0 1.4")
    dm = _rhf(mol).make_rdm1()
    res = compute_charges(mol, dm)
    grid_err = res["diagnostics"]["n_integrated"] - 2
    for m, q in res["charges"].items():
        tol = 1e-8 if m in ("mulliken", "iao") else max(1e-8, abs(grid_err))
        if m == "bader":
            tol = max(1e-8, abs(res["diagnostics"]["bader"]["n_integrated"] - 2))
        assert np.all(np.abs(q) <= tol), (m, q)
    assert res["diagnostics"]["bader"]["z_bcp_bohr"] == pytest.approx(0.7, abs=1e-6)  # the midpoint


def _uhf_fragment_guess(mol, spins):
    """Broken-symmetry UHF from separate UHF atoms (the neutral-atom branch)."""
    from pyscf import gto as g

    dma = np.zeros((mol.nao, mol.nao))
    dmb = np.zeros_like(dma)
    off = mol.aoslice_by_atom()
    for a, spin in enumerate(spins):
        sym = mol.atom_pure_symbol(a)
        amol = g.M(atom=[[sym, (0, 0, 0)]], basis={sym: mol._basis[sym]}, spin=abs(spin), verbose=0)
        d = scf.UHF(amol).run().make_rdm1()
        if spin < 0:
            d = d[::-1]
        i, j = off[a, 2], off[a, 3]
        dma[i:j, i:j], dmb[i:j, i:j] = d[0], d[1]
    mf = scf.UHF(mol)
    mf.conv_tol = 1e-10
    mf.kernel(dm0=np.array([dma, dmb]))
    assert mf.converged
    return mf


def test_two_atom_limit_neutral_branch_lih():
    """LiH at 20 bohr, broken-symmetry UHF (Li 2S up, H 2S down): the density is the sum of
    the two free-atom densities up to overlap, so Hirshfeld q -> 0. With Delta = rho - rho_pro,
    q_A = -∫ w_A Delta and Delta splits into pieces localised on each atom that integrate to
    zero, so |q_A| <= ∫ min(w_A, w_B)|Delta| + |∫_grid rho0_A - N_A| (the grid's error on the
    pro-atom itself): the bound is computed here."""
    mol = _mol("Li 0 0 0; H 0 0 20")
    mf = _uhf_fragment_guess(mol, [1, -1])
    dm = mf.make_rdm1()
    dm = dm[0] + dm[1]
    free = FreeAtoms(mol)
    # the neutral branch is the separated atoms: E = E(Li) + E(H) at this level (to overlap)
    assert mf.e_tot == pytest.approx(free.get("Li", 0).energy_hartree + free.get("H", 0).energy_hartree, abs=1e-5)
    res = compute_charges(mol, dm, methods=("hirshfeld", "hirshfeld_i", "mbis", "bader"), free_atoms=free)
    grid = molecular_grid(mol, dm, 3)
    dist = atom_distances(mol, grid.coords)
    pro = np.array([free.get(mol.atom_pure_symbol(a), 0)(dist[a]) for a in range(2)])
    w = pro / pro.sum(axis=0)
    bound = float(grid.weights @ (w.min(axis=0) * np.abs(grid.rho - pro.sum(axis=0))))
    bound = bound + np.abs(pro @ grid.weights - [3.0, 1.0])
    assert np.all(bound < 1e-3)
    q = res["charges"]
    assert np.all(np.abs(q["hirshfeld"]) <= bound)
    assert np.all(np.abs(q["hirshfeld_i"]) <= bound + 1e-5)  # the neutral pro-atoms are its fixed point
    for m in ("mbis", "bader"):  # no free-atom bound for these: electrons in the overlap tails only
        assert np.all(np.abs(q[m]) < 1e-3), m


def test_two_atom_limit_ionic_branch_lif():
    """LiF at 20 bohr, closed-shell RHF from an ion-pair guess (6-31+G: without diffuse
    functions F- is so poor that RHF relaxes to a partly covalent q ~ 0.8 solution): the ionic
    solution Li+ F- has the free ions' energy minus 1/R up to polarisation, and q = +-1 up to
    the electrons in the tails."""
    mol = _mol("Li 0 0 0; F 0 0 20", "6-31+g")
    dm0 = np.zeros((mol.nao, mol.nao))
    off = mol.aoslice_by_atom()
    for a, charge in ((0, 1), (1, -1)):  # closed-shell ion guess: Li+ and F-
        sym = mol.atom_pure_symbol(a)
        amol = gto.M(atom=[[sym, (0, 0, 0)]], basis={sym: mol._basis[sym]}, charge=charge, verbose=0)
        dm0[off[a, 2]:off[a, 3], off[a, 2]:off[a, 3]] = scf.RHF(amol).run().make_rdm1()
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-10
    mf.kernel(dm0=dm0)
    assert mf.converged
    free = FreeAtoms(mol)
    e_ions = free.get("Li", 1).energy_hartree + free.get("F", -1).energy_hartree - 1.0 / 20.0
    # polarisation only: -alpha(F-)/(2R^4) with alpha(F-) < 16 bohr^3 is below 5e-5 Ha
    assert mf.e_tot - e_ions == pytest.approx(0.0, abs=1e-4)
    res = compute_charges(mol, mf.make_rdm1(), methods=("hirshfeld", "hirshfeld_i", "mbis", "bader"),
                          free_atoms=free)
    for m in ("hirshfeld_i", "mbis", "bader"):
        assert res["charges"][m] == pytest.approx([1.0, -1.0], abs=2e-3), m


def test_hirshfeld_independent_crosscheck():
    """Becke-grid Hirshfeld (Lebedev + splines, numint) vs single-centre quadrature (exact
    spherical averages, own AO contraction); an off-axis geometry so no frame is special."""
    mol = _mol("Li 0 0 0; F 0.3 0.4 2.96")
    dm = _rhf(mol).make_rdm1()
    q_grid = compute_charges(mol, dm, methods=("hirshfeld",), grid_level=5)["charges"]["hirshfeld"]
    q_sc = hirshfeld_single_centre(mol, dm)
    assert q_grid == pytest.approx(q_sc, abs=1e-4)
    assert q_sc.sum() == pytest.approx(0.0, abs=1e-5)


def test_npz_roundtrip_and_bad_inputs(tmp_path, lif_re):
    mol, dm, res = lif_re
    path = tmp_path / "density_R2.955.npz"
    np.savez(path, mol=mol.dumps(), dm=dm, r_bohr=2.955, branch="rhf", energy_hartree=0.0,
             symbols=np.array(["Li", "F"]), positions_bohr=mol.atom_coords())
    out = charges_from_npz(path, methods=("mulliken",))
    assert out["charges"]["mulliken"] == pytest.approx(res["charges"]["mulliken"], abs=1e-12)
    assert out["meta"]["r_bohr"] == 2.955
    with pytest.raises(InputError, match="not found"):
        charges_from_npz(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, dm=dm)
    with pytest.raises(InputError, match="lacks key"):
        charges_from_npz(bad)
    with pytest.raises(InputError, match="unknown charge method"):
        compute_charges(mol, dm, methods=("loewdin",))
    with pytest.raises(InputError, match="shape"):
        compute_charges(mol, dm[:-1, :-1])
    with pytest.raises(InputError, match="spin-summed"):
        compute_charges(mol, np.array([dm / 2, dm / 2]))
    with pytest.raises(InputError, match="electrons"):
        compute_charges(mol, 0.5 * dm)
    with pytest.raises(InputError, match="diatomic"):
        compute_charges(_mol("H 0 0 0; H 0 0 1.4; H 0 0 2.8; H 0 0 4.2"),
                        _rhf(_mol("H 0 0 0; H 0 0 1.4; H 0 0 2.8; H 0 0 4.2")).make_rdm1(), methods=("bader",))


def test_non_nuclear_attractor_leaves_other_methods_standing():
    """Li2 at Re (5.05 bohr) has a non-nuclear attractor at the bond midpoint (a known feature of
    its density, Cao et al., Chem. Phys. Lett. 141, 380 (1987)): the diatomic zero-flux tracer
    cannot apply, so Bader is recorded as unavailable while the other charges (zero by symmetry)
    are computed."""
    mol = gto.M(atom="Li 0 0 0; Li 0 0 5.05", unit="Bohr", basis="6-31g", verbose=0)
    dm = scf.RHF(mol).run().make_rdm1()
    res = compute_charges(mol, dm, methods=("mulliken", "bader"))
    assert "bader" not in res["charges"] and "non-nuclear attractor" in res["diagnostics"]["bader"]["unavailable"]
    assert res["charges"]["mulliken"] == pytest.approx([0.0, 0.0], abs=1e-8)
