"""Molecular QM reference curves (ectem_core.molecules.diatomics, ectem_core.molecules.reference) with real PySCF.

Expected numbers come from physics: the dissociation limit E(A)+E(B), exactness of CCSD
for two electrons (= FCI), the ion-pair limit E(A+)+E(B-)-1/R, Hellmann-Feynman
(dipole = -dE/dF for a variational SCF), and the electron count of a 1-RDM.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from ectem_core.errors import InputError
from ectem_core.molecules.diatomics import DEFAULT_NAMES, default_molecules, molecule, r_grid
from ectem_core.molecules.reference import (
    CSV_COLUMNS,
    atom_energy,
    atoms_reference,
    build_mole,
    crossing_distance,
    re_estimate,
    reference_point,
    run_molecule,
)
from ectem_core.qm.level import Level

CCSDT_ADZ = Level(method="ccsd(t)", basis="aug-cc-pvdz", frozen_core=True)
CCSDT_SMALL = Level(method="ccsd(t)", basis="6-31+g", frozen_core=True)


@pytest.fixture(autouse=True)
def _one_thread():
    from pyscf import lib

    n = lib.num_threads()
    lib.num_threads(1)
    yield
    lib.num_threads(n)


# ----------------------------------------------------------------------------- molecules

def test_molecule_specs_and_default_lists():
    lif = molecule("LiF")
    assert lif.symbols == ("Li", "F") and lif.spins == (1, 1) and lif.n_electrons == 12
    assert molecule("H2").symbols == ("H", "H")
    assert molecule("N2").spins == (3, 3) and molecule("CO").spins == (2, 2)
    # Huber & Herzberg r_e(H2) = 0.74144 A = 1.4011 bohr
    assert molecule("H2").re_guess_bohr == pytest.approx(1.4011, abs=1e-3)
    # every pair of the element set: homonuclear first, then heteronuclear, in the set's order
    assert [m.name for m in default_molecules(["H", "Li", "F"])] == ["H2", "Li2", "F2", "LiH", "HF", "LiF"]
    assert set(DEFAULT_NAMES) <= {m.name for m in default_molecules(["H", "Li", "F"])}
    assert [m.name for m in default_molecules(["H", "F"])] == ["H2", "F2", "HF"]
    assert [m.name for m in default_molecules(["Na", "Cl", "Li"])] == ["Na2", "Cl2", "Li2", "NaCl", "NaLi", "LiCl"]
    assert [m.name for m in default_molecules(["H", "Li", "F"], names=["LiF"])] == ["LiF"]


@pytest.mark.parametrize("names, elements, match", [
    (["Lif"], ["Li", "F"], "not a diatomic formula"),
    (["LiF2"], ["Li", "F"], "not a diatomic formula"),
    (["XyZ"], ["Li", "F"], "unknown element"),
    (["Li"], ["Li", "F"], "not a diatomic formula"),
    (["Xe2"], ["Li", "F"], "unknown element"),
    (["NaCl"], ["H", "Li", "F"], "not in the element set"),
    (["LiF", "LiF"], ["Li", "F"], "twice"),
    ("LiF", ["Li", "F"], "must be a list"),
])
def test_bad_molecule_names(names, elements, match):
    with pytest.raises(InputError, match=match):
        default_molecules(elements, names=names)


@pytest.mark.parametrize("name", ["H2", "LiF", "NaCl", "N2"])
def test_r_grid(name):
    mol = molecule(name)
    r = r_grid(mol, 12, 20.0)
    assert len(r) <= 12 and r[-1] == 20.0 and np.all(np.diff(r) > 0)
    assert r[0] == pytest.approx(0.75 * mol.re_guess_bohr, abs=1e-3)
    dr = np.diff(r)
    near = r <= 1.25 * mol.re_guess_bohr + 1e-3
    assert near.sum() >= 6                                # half the points in the well
    assert dr[: near.sum() - 1].max() < dr[near.sum() - 1:].min()   # denser near Re
    assert np.all(np.diff(dr[near.sum() - 1:]) > 0)      # then growing steps to r_max
    with pytest.raises(InputError, match="too short"):
        r_grid(mol, 12, 1.5 * mol.re_guess_bohr)
    with pytest.raises(InputError, match="at least 4"):
        r_grid(mol, 2)


# ----------------------------------------------------------------------------- analysis helpers

def test_crossing_and_parabola_helpers():
    r = [1.0, 2.0, 3.0, 4.0]
    # dE = E_ionic - E_bs: one solution (0) at short R, ionic lower, then bs lower
    assert crossing_distance(r, [0.0, -0.2, -0.1, 0.3], [0.0, 0.0, 0.0, 0.0]) == pytest.approx(3.25)
    assert crossing_distance(r, [0.0, 0.1, 0.2, 0.3], [0.0, 0.0, 0.0, 0.0]) is None
    # a left-out (NaN) branch energy between opposite signs: no neighbouring pair, no crossing
    assert crossing_distance(r, [0.0, -0.2, math.nan, 0.3], [0.0, 0.0, 0.0, 0.0]) is None
    rr = np.array([1.0, 1.5, 2.0, 3.0, 5.0])
    x, e = re_estimate(rr, 0.3 * (rr - 1.7) ** 2 - 1.0)   # exact parabola
    assert x == pytest.approx(1.7, abs=1e-12) and e == pytest.approx(-1.0, abs=1e-12)
    assert re_estimate(rr, -rr) == (None, None)            # no minimum


# ----------------------------------------------------------------------------- H2: two electrons

def test_h2_branches_agree_at_re_and_bs_limit_is_two_h_atoms():
    h2 = molecule("H2")
    p = reference_point(h2, 1.4, CCSDT_ADZ)
    # at Re the fragment UHF collapses onto the RHF (Coulson-Fischer point lies beyond)
    assert p["scf_bs_hartree"] == pytest.approx(p["scf_ionic_hartree"], abs=1e-9)
    assert p["s2_bs"] == pytest.approx(0.0, abs=1e-6)
    # CCSD is exact for two electrons: both branches give FCI
    assert p["energy_bs_hartree"] == pytest.approx(p["energy_ionic_hartree"], abs=1e-6)
    assert p["branch"] == "ionic" and abs(p["dipole_ref_au"]) < 1e-8   # homonuclear
    # the fragment branch at 20 bohr is two H atoms (E(H) at the same level)
    far = reference_point(h2, 20.0, CCSDT_ADZ)
    e_h = atom_energy("H", CCSDT_ADZ)
    assert far["energy_bs_hartree"] == pytest.approx(2 * e_h, abs=1e-6)
    assert far["s2_bs"] == pytest.approx(1.0, abs=1e-4)       # one alpha H + one beta H
    assert far["energy_ref_hartree"] == pytest.approx(2 * e_h, abs=1e-6)
    # the RHF determinant itself is far above (half ionic): E_RHF(inf) - 2E_HF(H) ~ +0.25 Ha
    assert far["scf_ionic_hartree"] - far["scf_bs_hartree"] > 0.2


# ----------------------------------------------------------------------------- LiH

def test_lih_dissociates_to_atoms():
    lih = molecule("LiH")
    atoms = atoms_reference(lih, CCSDT_ADZ)
    far = reference_point(lih, 20.0, CCSDT_ADZ)
    assert far["energy_bs_hartree"] == pytest.approx(atoms["sum"], abs=1e-3)
    assert abs(far["energy_bs_hartree"] - atoms["sum"]) < 2e-5       # in fact to ~µHa
    assert far["energy_ref_hartree"] <= far["energy_bs_hartree"] + 1e-7
    assert abs(far["dipole_ref_au"]) < 0.01                           # neutral atoms


# ----------------------------------------------------------------------------- LiF curve (small basis)

@pytest.fixture(scope="module")
def lif_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("LiF")
    mol = molecule("LiF")
    rec = run_molecule(mol, CCSDT_SMALL, r_grid(mol, 7), density_rs=("Re", 20.0), out_dir=out, progress=False)
    return mol, out, rec


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_lif_curve_limits_and_crossing(lif_run):
    mol, out, rec = lif_run
    rows = _rows(out / "reference.csv")
    assert tuple(rows[0].keys()) == CSV_COLUMNS and len(rows) == 7
    last = rows[-1]
    e_atoms = rec["atoms"]["energy_sum_hartree"]
    assert float(last["r_bohr"]) == 20.0 and last["branch"] == "bs"
    # fragment branch ends at E(Li)+E(F) within 1 mHa (model.md: to µHa)
    assert abs(float(last["energy_bs_hartree"]) - e_atoms) < 1e-3
    assert abs(float(last["binding_ref_hartree"])) < 1e-3
    # closed-shell branch at 20 bohr is the ion pair Li+ F-: E(Li+) + E(F-) - 1/R above the atoms
    # (point charges; polarization -alpha(F-)/(2R^4) ~ -5e-5 Ha at 20 bohr)
    ion_pair = atom_energy("Li", CCSDT_SMALL, 1) + atom_energy("F", CCSDT_SMALL, -1) - 1.0 / 20.0
    assert float(last["energy_ionic_hartree"]) == pytest.approx(ion_pair, abs=5e-4)
    assert float(last["energy_ionic_hartree"]) - e_atoms > 0.01      # "far above" (tens of mHa)
    # near Re the ionic branch is the reference and bound
    assert rows[2]["branch"] == "ionic" and float(rows[2]["binding_ref_hartree"]) < -0.1
    # the two branches cross in between; the crossing is where dE changes sign
    cross = rec["crossing_bohr"]
    assert cross is not None and 4.0 < cross < 20.0
    # LiF dipole near Re: Li+ F- with A = Li at the origin -> mu_z < 0, |mu| < R (partial charge < 1)
    mu = float(rows[2]["dipole_ref_au"])
    assert -float(rows[2]["r_bohr"]) < mu < -1.0
    # Re from the parabola lies among the grid points near the minimum
    assert 2.5 < rec["re_bohr"] < 4.0 and rec["de_hartree"] > 0.1


def test_lif_density_files(lif_run):
    from pyscf import gto

    mol, out, rec = lif_run
    names = sorted(p.name for p in out.glob("density_R*.npz"))
    assert names == sorted([f"density_R{rec['re_bohr']:.3f}.npz", "density_R20.000.npz"])
    with np.load(out / "density_R20.000.npz") as d:
        assert set(d.files) == {"mol", "dm", "r_bohr", "branch", "energy_hartree", "symbols", "positions_bohr"}
        mole = gto.loads(str(d["mol"]))
        dm = d["dm"]
        assert tuple(d["symbols"]) == ("Li", "F") and str(d["branch"]) == "bs"
        assert np.allclose(d["positions_bohr"], [[0, 0, 0], [0, 0, 20.0]])
        assert float(d["r_bohr"]) == 20.0
        assert mole.atom_coords()[1, 2] == pytest.approx(20.0)
    # a 1-RDM integrates to the electron count: tr(D S) = N (12 for LiF)
    s = mole.intor("int1e_ovlp")
    assert np.einsum("ij,ji->", dm, s) == pytest.approx(12.0, abs=1e-8)
    assert np.allclose(dm, dm.T, atol=1e-10)
    # Mulliken population on Li at 20 bohr: a neutral Li atom (3 electrons)
    nli = mole.aoslice_by_atom()[0]
    pop_li = np.einsum("ij,ji->", dm[nli[2]:nli[3]], s[:, nli[2]:nli[3]])
    assert pop_li == pytest.approx(3.0, abs=0.01)


def test_point_files_are_reused_and_outputs_atomic(lif_run):
    mol, out, rec = lif_run
    assert len(list((out / "points").glob("R*.json"))) == 7
    assert not list(out.glob(".*.tmp"))
    again = run_molecule(mol, CCSDT_SMALL, r_grid(mol, 7), density_rs=(20.0,), out_dir=out, progress=False)
    # cached points: identical energies, no new QM at the grid points
    assert again["points"] == rec["points"]
    assert again["re_bohr"] == rec["re_bohr"]


# ----------------------------------------------------------------------------- dipole

def test_scf_dipole_equals_finite_field_derivative():
    """Hellmann-Feynman: for a variational SCF, mu_z = -dE/dF_z (central difference, F = 1e-4)."""
    from pyscf import scf

    hf_level = Level(method="hf", basis="6-31g", conv_tol=1e-12)
    hf = molecule("HF")
    R = 1.75
    p = reference_point(hf, R, hf_level)
    assert p["dipole_source"] == "scf"
    mole = build_mole(hf, R, hf_level)
    z = mole.intor("int1e_r", comp=3)[2]
    h0 = mole.intor("int1e_kin") + mole.intor("int1e_nuc")
    z_nuc = float(np.dot(mole.atom_charges(), mole.atom_coords()[:, 2]))

    def energy(f):
        mf = scf.RHF(mole)
        mf.conv_tol = 1e-13
        mf.get_hcore = lambda *a: h0 + f * z      # electron (charge -1) in field f along z
        return mf.kernel() - f * z_nuc            # nuclei

    f = 1e-4
    mu_ff = -(energy(f) - energy(-f)) / (2 * f)
    assert p["dipole_ref_au"] == pytest.approx(mu_ff, abs=1e-5)
    # H-F with H at the origin: H(delta+) F(delta-) -> dipole points from F to H: mu_z < 0
    assert p["dipole_ref_au"] < -0.5


# ----------------------------------------------------------------------------- bad input

def test_bad_inputs(tmp_path):
    lih = molecule("LiH")
    with pytest.raises(InputError, match="r_grid"):
        run_molecule(lih, CCSDT_SMALL, [3.0, 2.0, 5.0], out_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="density point"):
        run_molecule(lih, CCSDT_SMALL, [2.0, 3.0, 5.0], density_rs=("3Re",), out_dir=tmp_path, progress=False)
    with pytest.raises(InputError, match="not implemented"):
        run_molecule(lih, CCSDT_SMALL, [2.0, 3.0, 5.0], out_dir=tmp_path, progress=False, multireference=True)
    with pytest.raises(InputError, match="positive distance"):
        reference_point(lih, -1.0, CCSDT_SMALL)
    with pytest.raises(InputError, match="occupations"):
        reference_point(lih, 3.0, Level(method="hf", basis="6-31g", occupations="spherical"))
    with pytest.raises(InputError, match="unknown basis"):
        reference_point(lih, 3.0, Level(method="hf", basis="no-such-basis"))
    assert list(tmp_path.iterdir()) == []     # nothing written


# ----------------------------------------------------------------------------- default level (slow)

@pytest.mark.slow
def test_lif_default_level_curve(tmp_path):
    """CCSD(T)/aug-cc-pVDZ, 12 points: model.md section 6 (ionic branch ~28 mHa above the atoms at 20 bohr,
    fragment branch at the atoms to µHa)."""
    mol = molecule("LiF")
    rec = run_molecule(mol, CCSDT_ADZ, r_grid(mol), density_rs=(20.0,), out_dir=tmp_path, progress=False)
    rows = _rows(tmp_path / "reference.csv")
    last = rows[-1]
    e_atoms = rec["atoms"]["energy_sum_hartree"]
    assert abs(float(last["energy_bs_hartree"]) - e_atoms) < 1e-4
    assert float(last["energy_ionic_hartree"]) - e_atoms == pytest.approx(0.028, abs=0.004)
    ion_pair = atom_energy("Li", CCSDT_ADZ, 1) + atom_energy("F", CCSDT_ADZ, -1) - 1.0 / 20.0
    assert float(last["energy_ionic_hartree"]) == pytest.approx(ion_pair, abs=5e-4)
    assert rec["crossing_bohr"] is not None and 8.0 < rec["crossing_bohr"] < 20.0
    # experimental r_e(LiF) = 2.955 bohr (Huber & Herzberg); aug-cc-pVDZ (no Li core-valence
    # functions) lengthens the bond by a few hundredths of an angstrom
    assert rec["re_bohr"] == pytest.approx(2.955, abs=0.15)
    assert rec["re_spline_bohr"] == pytest.approx(2.955, abs=0.15)
    assert not math.isnan(rec["de_hartree"])


# ----------------------------------------------------------------------------- multireference flag

def test_stretched_hf_rhf_cc_is_flagged_and_not_the_reference():
    """RHF-CCSD(T) of H-F at 3.5 A falls tens of mHa *below* the free atoms (the known (T)
    turnover of a broken closed-shell reference); its doubles amplitudes are O(1). The flag
    makes the fragment UHF-UCCSD(T) branch the reference, which sits at the atoms (a bond
    stretched to 2.5 times Re is bound by ~ a mHa at most)."""
    hf = molecule("HF")
    lv = Level(method="ccsd(t)", basis="6-31g")
    p = reference_point(hf, 6.5, lv)
    atoms = atoms_reference(hf, lv)["sum"]
    assert p["max_t2_ionic"] > 0.3 and p["multireference_branches"] == ["ionic"]
    assert p["max_t2_bs"] < 0.1
    assert p["branch"] == "bs"
    assert abs(p["energy_ref_hartree"] - atoms) < 3e-3
    assert p["energy_ionic_hartree"] < atoms - 0.01          # what picking the lower would have taken
