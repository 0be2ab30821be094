"""The crystal stage (ectem_core.crystals) on the real small bundle. Expected values from exact
relations: the Birch–Murnaghan form is a cubic in V^(-2/3), closed-form nearest-neighbour distances
and volumes, zero pressure at the equation-of-state minimum, B = −V dP/dV from the calculator's own
stress, a molecule in a large box under periodic QEq against the cluster QEq, the symmetry of a
symmetric slab, and the second order of velocity Verlet (energy error ∝ dt²)."""
from __future__ import annotations

import numpy as np
import pytest

EV_PER_A3_IN_GPA = 160.21766208


def test_birch_murnaghan_fit_recovers_its_parameters_exactly():
    from ectem_core.crystals.eos import birch_murnaghan, fit_birch_murnaghan
    from ectem_core.errors import EctemError

    v = np.linspace(0.92, 1.08, 9) * 17.3
    e = birch_murnaghan(v, -9.1, 17.3, 0.71, 4.6)
    bm = fit_birch_murnaghan(v, e)
    assert (bm.e0, bm.v0, bm.b0, bm.b0_prime) == pytest.approx((-9.1, 17.3, 0.71, 4.6), rel=1e-9)
    assert bm.rms < 1e-12
    with pytest.raises(EctemError, match="bracket"):
        fit_birch_murnaghan(v, -v)   # monotonic: no minimum inside the scan


@pytest.mark.parametrize("structure, symbols", [("rocksalt", ["Li", "F"]), ("cesiumchloride", ["Li", "F"]),
                                                ("zincblende", ["Li", "F"]), ("bcc", ["Li"]), ("fcc", ["Li"]),
                                                ("hcp", ["Li"])])
def test_structures_have_their_closed_form_distances_and_volumes(structure, symbols):
    from ectem_core.crystals.structures import build, formula_units, lattice_constant, nearest_neighbour, volume_per_unit

    a = 4.1
    at = build(symbols, structure, a)
    d = at.get_all_distances(mic=True)
    sc = at.repeat((2, 2, 2))   # small cells: the shortest distance may be to an image
    d = sc.get_all_distances(mic=True) + 1e9 * np.eye(len(sc))
    assert d.min() == pytest.approx(nearest_neighbour(structure, a), rel=1e-10)
    v = at.get_volume() / formula_units(at, structure)
    assert v == pytest.approx(volume_per_unit(structure, a), rel=1e-12)
    assert lattice_constant(structure, v) == pytest.approx(a, rel=1e-12)


def test_periodic_qeq_of_a_molecule_in_a_large_box_is_the_cluster_qeq():
    """Li–F 3 bohr apart in a 60-bohr box: the images only add a dipole–image field ~ μ/L³."""
    from ectem_core.crystals.energy import periodic_qeq
    from ectem_core.potential.qeq import qeq_charges

    pos = np.array([[10.0, 10.0, 10.0], [13.0, 10.0, 10.0]])
    q_cell, e_cell = periodic_qeq(["Li", "F"], pos, np.eye(3) * 60.0)
    q_free, e_free = qeq_charges(["Li", "F"], pos)
    assert q_cell == pytest.approx(q_free, abs=2e-3)
    assert e_cell == pytest.approx(e_free, abs=2e-3 * abs(e_free))
    assert q_cell.sum() == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def lif(small_bundle):
    from ectem_core.crystals.benchmark import crystal_row, ion_pair_energy
    from ectem_core.crystals.energy import CrystalEnergy
    from ectem_core.potential import load_potential

    ce = CrystalEnergy(small_bundle, "ectem")
    return ce, crystal_row(ce, ["Li", "F"], "rocksalt", ion_pair_energy(load_potential(small_bundle), ["Li", "F"]))


def test_relaxed_rock_salt_has_zero_pressure_and_its_bulk_modulus_from_the_stress(small_bundle, lif):
    """At the fitted a0 the calculator's pressure vanishes (to the fit's accuracy, ≪ B), and
    −V dP/dV from central differences of the stress equals the Birch–Murnaghan B0."""
    from ectem_core.ase import ECTEAM
    from ectem_core.crystals.structures import build

    _, row = lif
    assert row["status"] == "ok" and row["charges"] == pytest.approx([1.0, -1.0], abs=1e-9)
    assert row["weights"] == [{"Li+1": 1.0}, {"F-1": 1.0}]

    def pressure(a):
        at = build(["Li", "F"], "rocksalt", a)
        at.calc = ECTEAM(str(small_bundle))
        return -float(np.mean(at.get_stress()[:3])), at.get_volume()

    a0 = row["a0_angstrom"]
    p0, _ = pressure(a0)
    B = row["B_GPa"] / EV_PER_A3_IN_GPA
    assert abs(p0) < 1e-4 * B
    h = 1e-3
    (pp, vp), (pm, vm) = pressure(a0 * (1 + h)), pressure(a0 * (1 - h))
    _, v0 = pressure(a0)
    assert -v0 * (pp - pm) / (vp - vm) == pytest.approx(B, rel=2e-3)
    assert row["lattice_energy_eV"] == pytest.approx(row["cohesive_energy_eV"] + 5.39 - 3.40, abs=0.3)   # IP(Li) − EA(F)


def test_frechet_cell_filter_relaxation_reaches_the_equation_of_state_minimum(small_bundle, lif):
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    from ectem_core.ase import ECTEAM
    from ectem_core.crystals.structures import build

    _, row = lif
    at = build(["Li", "F"], "rocksalt", 1.04 * row["a0_angstrom"])
    at.rattle(0.02, seed=4)
    at.calc = ECTEAM(str(small_bundle))
    BFGS(FrechetCellFilter(at), logfile=None).run(fmax=1e-4, steps=200)
    a = (at.get_volume() * 4.0) ** (1.0 / 3.0)   # fcc primitive cell: V = a³/4
    assert a == pytest.approx(row["a0_angstrom"], rel=2e-4)
    assert np.allclose(at.get_charges(), [1.0, -1.0], atol=1e-9)


def test_rock_salt_100_slab_is_symmetric_and_costs_energy(small_bundle, lif):
    from ectem_core.crystals.slab import surface_energy

    ce, row = lif
    s = surface_energy(ce, ["Li", "F"], row["a0_angstrom"], cells=2, vacuum=10.0)
    assert s["layers"] == 4 and s["atoms"] == 16
    assert 0.0 < s["surface_energy_J_per_m2"] < 2.0
    q = [(x["q_Li"], x["q_F"]) for x in s["layer_charges"]]
    assert np.allclose(q, q[::-1], atol=1e-8)   # the two faces are equivalent


def test_velocity_verlet_energy_error_is_second_order_in_the_time_step(small_bundle, lif):
    """NVE of the 64-atom LiF cell: halving dt divides the total-energy fluctuation by about 4."""
    from ectem_core.crystals.md import crystal_nve

    _, row = lif
    a = crystal_nve(small_bundle, ["Li", "F"], row["a0_angstrom"], 300.0, steps=40, dt_fs=2.0)
    b = crystal_nve(small_bundle, ["Li", "F"], row["a0_angstrom"], 300.0, steps=80, dt_fs=1.0)
    assert a["q_range"] == pytest.approx([-1.0, 1.0], abs=1e-9)
    assert a["conservation_ratio"] < 0.02
    assert 2.5 < a["e_tot_std_eV_per_atom"] / b["e_tot_std_eV_per_atom"] < 6.0


def test_dissociating_molecule_ends_neutral_with_its_energy_conserved(small_bundle):
    from ectem_core.crystals.md import dissociation

    r = dissociation(small_bundle, ["Li", "F"], None, 2.0, dt_fs=0.25)
    assert 1.4 < r["r0_angstrom"] < 1.7   # the model's LiF minimum (2.93 bohr on the default bundle)
    s = r["series"]
    assert s["q_A"][0] == pytest.approx(1.0, abs=1e-9) and r["q_final"] == 0.0
    assert r["R_final_angstrom"] > 14.0
    assert r["e_tot_range_eV"] < 2e-3 * r["e_kin_initial_eV"]


@pytest.mark.parametrize("section, needle", [
    ({"models": ["ectem", "lj"]}, "crystals.models"),
    ({"binary_structures": ["perovskite"]}, "crystals.binary_structures"),
    ({"compounds": ["NaCl"]}, "not an element of this set"),
    ({"md_steps": 1}, "md_steps"),
    ({"colour": "red"}, "unknown key crystals.colour"),
])
def test_bad_crystal_settings_give_one_clear_error(section, needle):
    from ectem_core.crystals.settings import settings_from_config
    from ectem_core.errors import InputError

    with pytest.raises(InputError, match=needle):
        settings_from_config({"elements": ["H", "Li", "F"], "crystals": section})


def test_default_crystals_of_element_sets():
    from ectem_core.crystals.benchmark import default_crystals

    assert default_crystals(["H", "Li", "F"]) == {"compounds": ["LiH", "LiF"], "elements": ["Li"]}
    assert default_crystals(["Na", "Cl"]) == {"compounds": ["NaCl"], "elements": ["Na"]}
    assert default_crystals(["C", "N", "O"]) == {"compounds": [], "elements": []}


def test_stage_writes_its_files_with_experiment_and_sources(small_bundle, tmp_path):
    import csv
    import json

    from ectem_core.crystals.settings import CrystalSettings
    from ectem_core.crystals.stage import CSV_COLUMNS, run_stage

    st = CrystalSettings(compounds=("LiF",), elements=(), models=("ectem", "eam"), binary_structures=("rocksalt",),
                         md_steps=4)
    run_stage(small_bundle, ["H", "Li", "F"], st, tmp_path, progress=lambda m: None)
    data = json.loads((tmp_path / "crystals.json").read_text())
    assert data["experiment"]["LiF"]["a0_angstrom"] == 4.028 and data["experiment"]["LiF"]["a0_angstrom_source"]
    with open(tmp_path / "crystals.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_COLUMNS and {r["model"] for r in rows} == {"ectem", "eam"}
    for f in ("eos.png", "md.png"):
        assert (tmp_path / f).read_bytes()[:4] == b"\x89PNG"
    assert len(data["md"]["crystal"]) == 2 and len(data["slabs"]) == 2


def test_langevin_md_in_a_periodic_cell_thermalizes_and_keeps_the_ions(small_bundle, lif):
    """ASE Langevin (NVT) on the 8-atom conventional LiF cell: it runs with the periodic calculator,
    the temperature comes out finite and positive and the weights stay on the ionic vertex."""
    from ase import units
    from ase.md.langevin import Langevin

    from ectem_core.ase import ECTEAM
    from ectem_core.crystals.structures import build

    _, row = lif
    at = build(["Li", "F"], "rocksalt", row["a0_angstrom"], cubic=True)
    at.calc = ECTEAM(str(small_bundle))
    dyn = Langevin(at, 1.0 * units.fs, temperature_K=600.0, friction=0.05 / units.fs, rng=np.random.default_rng(2))
    dyn.run(20)
    assert 0.0 < at.get_temperature() < 5000.0
    assert np.allclose(np.abs(at.get_charges()), 1.0, atol=1e-9)
