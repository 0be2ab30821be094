"""Stage 4 on a real bundle (CCSD(T)/aug-cc-pVDZ H/Li/F built by the real pipeline): exact
dissociation limits, global CPE (no hysteresis), forces against finite differences, the
ASE calculator. Expected values are limits and finite differences, not the code's output."""
from __future__ import annotations

import itertools
import subprocess

import numpy as np
import pytest


@pytest.fixture(scope="module")
def bundle_path(small_bundle):
    return small_bundle


@pytest.fixture(scope="module")
def cli_env_module():
    import os
    import sys

    env = dict(os.environ)
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module", params=["pure", "resonance", "thermal"])
def pot(request, bundle_path):
    from ectem_core.potential import load_potential

    return load_potential(bundle_path, variant=request.param)


def test_dissociation_limit_is_neutral_atoms_exactly(pot):
    from ectem_core.potential.cpe import solve

    for a, b in itertools.combinations(["H", "Li", "F"], 2):
        system = pot.system([a, b])
        for R in (40.0, 60.0):
            res = solve(pot, system, np.array([[0, 0, 0], [0, 0, R]], dtype=float))
            assert np.all(np.abs(res.evaluation.charges) < 1e-8), (a, b, R)
            assert abs(res.evaluation.energy) < 1e-8, (a, b, R)


def test_lif_at_20_bohr_started_ionic_ends_neutral(pot):
    from ectem_core.potential.cpe import solve

    system = pot.system(["Li", "F"])
    li, f = pot.elements[pot.index["Li"]], pot.elements[pot.index["F"]]
    ionic = np.zeros(system.offsets[-1])
    ionic[li.cation] = 1.0
    ionic[system.offsets[1] + f.anion] = 1.0
    res = solve(pot, system, np.array([[0, 0, 0], [0, 0, 20.0]]), warm_start=ionic)
    assert np.all(np.abs(res.evaluation.charges) < 1e-8)


def test_inward_and_outward_scans_agree_and_single_atom_is_ground(pot, bundle_path):
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.scan import scan

    variant = pot.options.variant
    inward = scan(bundle_path, "Li-F", 2.0, 30.0, 15, variant=variant, direction="in")
    outward = scan(bundle_path, "Li-F", 2.0, 30.0, 15, variant=variant, direction="out")
    for a, b in zip(inward, outward):
        assert abs(a["energy_hartree"] - b["energy_hartree"]) < 1e-10 and abs(a["q_A"] - b["q_A"]) < 1e-8
    for sym in ("H", "Li", "F"):
        system = pot.system([sym])
        res = solve(pot, system, np.zeros((1, 3)))
        assert res.weights[pot.elements[pot.index[sym]].ground] == 1.0 and res.evaluation.energy == 0.0


def test_weights_obey_sum_rules(pot):
    from ectem_core.potential.cpe import solve

    system = pot.system(["Li", "F"])
    for R in (2.5, 3.0, 6.0, 12.0):
        res = solve(pot, system, np.array([[0, 0, 0], [0, 0, R]], dtype=float))
        c = res.weights
        assert np.all(c >= 0)
        for i in range(2):
            assert abs(c[system.slice(i)].sum() - 1.0) < 1e-12
        assert abs(res.evaluation.charges.sum()) < 1e-12


@pytest.mark.parametrize("variant", ["pure", "thermal"])
def test_forces_match_finite_differences_on_charged_cluster(bundle_path, variant):
    """Random 8-atom H/Li/F cluster whose CPE solution has |q| > 0.1 on some atom; central
    differences of the CPE energy at ±h with the same active set (envelope theorem)."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve

    pot = load_potential(bundle_path, variant=variant)
    syms = ["Li", "F", "H", "Li", "F", "H", "Li", "F"]
    system = pot.system(syms)
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 7, (8, 3))
    res = solve(pot, system, pos)
    assert np.abs(res.evaluation.charges).max() > 0.1
    c, g = res.weights, res.evaluation.grad_r
    h = 1e-5
    for i in range(8):
        for x in range(3):
            pp, pm = pos.copy(), pos.copy()
            pp[i, x] += h
            pm[i, x] -= h
            ep, em = solve(pot, system, pp, warm_start=c), solve(pot, system, pm, warm_start=c)
            assert np.array_equal(ep.weights > 1e-9, c > 1e-9) and np.array_equal(em.weights > 1e-9, c > 1e-9)
            fd = (ep.evaluation.energy - em.evaluation.energy) / (2 * h)
            assert abs(fd - g[i, x]) < 1e-6


def test_ase_calculator_energy_forces_charges_and_mixed_pbc_refused(bundle_path):
    from ase import Atoms
    from ase.units import Bohr

    from ectem_core.ase import ECTEAM
    from ectem_core.errors import InputError

    atoms = Atoms("LiF", positions=[[0, 0, 0], [0, 0, 3.0 * Bohr]])
    atoms.calc = ECTEAM(str(bundle_path))
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    q = atoms.get_charges()
    assert abs(q.sum()) < 1e-12 and np.allclose(f[0], -f[1])
    d = 1e-4
    atoms2 = atoms.copy()
    atoms2.calc = ECTEAM(str(bundle_path))
    atoms2.positions[1, 2] += d
    e2 = atoms2.get_potential_energy()
    atoms2.positions[1, 2] -= 2 * d
    e1 = atoms2.get_potential_energy()
    assert abs(-(e2 - e1) / (2 * d) - f[1, 2]) < 1e-5 * max(1.0, abs(f[1, 2]))
    assert np.isfinite(e)
    periodic = atoms.copy()
    periodic.pbc = True
    periodic.cell = [10, 10, 10]
    periodic.calc = ECTEAM(str(bundle_path))
    assert np.isfinite(periodic.get_potential_energy()) and periodic.get_stress().shape == (6,)
    slab = periodic.copy()
    slab.pbc = [True, True, False]   # a slab is a periodic cell with vacuum (tests/unit/potential/test_periodic.py)
    slab.calc = ECTEAM(str(bundle_path))
    with pytest.raises(InputError, match="mixed periodicity"):
        slab.get_potential_energy()


def test_scan_cli_contract_and_bad_input(bundle_path, cli_env_module):
    import csv
    import io

    from conftest import ectem_cmd

    run = subprocess.run(ectem_cmd() + ["scan", str(bundle_path), "Li-F", "--r-min", "2.5", "--r-max", "40",
                                        "--n", "5", "--csv"], capture_output=True, text=True, env=cli_env_module,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    for col in ("r_bohr", "energy_hartree", "q_A", "q_B", "mu_hartree", "w_Li0", "w_F-1"):
        assert col in rows[0]
    assert abs(float(rows[-1]["q_A"])) < 1e-8 and float(rows[0]["q_A"]) > 0.5   # ionic at 2.5, neutral at 40
    for r in rows:
        assert abs(float(r["q_A"]) + float(r["q_B"])) < 1e-12
    bad = subprocess.run(ectem_cmd() + ["scan", str(bundle_path), "Li-Xx", "--r-min", "2", "--r-max", "4", "--n", "3"],
                         capture_output=True, text=True, env=cli_env_module, timeout=600)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Xx" in bad.stderr


def test_pure_switch_is_abrupt_and_thermal_switch_is_smooth(bundle_path):
    """model.md section 4: the pure model's LiF weights jump from Li+F- to Li0F0 near
    R_c = 1/(IP_Li - EA_F); the thermal variant (gamma = 1.5 > 1, the convexity threshold at R_c)
    makes q(R) continuous, with fractional weights at the crossing."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve

    rs = np.arange(10.0, 18.01, 0.1)
    jumps = {}
    for variant in ("pure", "thermal"):
        pot = load_potential(bundle_path, variant=variant)
        system = pot.system(["Li", "F"])
        q = np.array([solve(pot, system, np.array([[0, 0, 0], [0, 0, r]])).evaluation.charges[0] for r in rs])
        jumps[variant] = np.abs(np.diff(q)).max()
        if variant == "thermal":
            li = pot.elements[pot.index["Li"]]
            rc = 1.0 / pot.ct_gap(pot.index["Li"], pot.index["F"])
            c = solve(pot, system, np.array([[0, 0, 0], [0, 0, rc]])).weights
            assert 0.05 < c[li.cation] < 0.95 and 0.05 < c[li.ground] < 0.95
    assert jumps["pure"] > 0.9          # whole-number charges switch in one step
    assert jumps["thermal"] < 0.1       # the step 0.1 bohr moves q by less than 0.1


def test_nve_energy_is_conserved_with_the_ase_calculator(bundle_path):
    """Velocity Verlet on a charged Li2F2 ring (ionic active set kept throughout): the total
    energy fluctuates at O(dt^2) and does not drift. Drift per step is printed for the record."""
    from ase import Atoms, units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    from ectem_core.ase import ECTEAM

    d = 3.6 * units.Bohr
    atoms = Atoms("LiFLiF", positions=[[0, 0, 0], [d, 0, 0], [d, d, 0.1], [0, d, 0]], pbc=False)
    atoms.calc = ECTEAM(str(bundle_path), variant="pure")
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(3))
    dyn = VelocityVerlet(atoms, timestep=0.5 * units.fs)
    etot, charges = [], []

    def record():
        etot.append(atoms.get_potential_energy() + atoms.get_kinetic_energy())
        charges.append(atoms.get_charges().copy())

    dyn.attach(record, interval=1)
    dyn.run(150)
    etot = np.array(etot)
    drift = np.polyfit(np.arange(len(etot)), etot, 1)[0]
    print(f"NVE Li2F2: {len(etot)} steps of 0.5 fs, drift {drift:.2e} eV/step, "
          f"max |E - E0| {np.abs(etot - etot[0]).max():.2e} eV")
    assert np.all(np.abs(np.array(charges)) > 0.9)          # stayed on the ionic active set
    assert np.abs(etot - etot[0]).max() < 2e-3              # Verlet error at dt = 0.5 fs, ~0.1 eV kinetic
    assert abs(drift) * len(etot) < 5e-4                    # no systematic drift over the run


def test_ase_cutoff_mode_agrees_with_exact_mode(bundle_path):
    """Per-state-pair cut-offs (kernel tolerance 1e-8, r_max 20 bohr) with the Coulomb tail summed
    exactly change the Li2F2 energy and forces only at the tolerance level."""
    from ase import Atoms

    from ectem_core.ase import ECTEAM

    a = Atoms("LiFLiF", positions=[[0, 0, 0], [1.9, 0, 0], [1.9, 1.9, 0], [0, 1.9, 0]])
    a.calc = ECTEAM(str(bundle_path))
    b = a.copy()
    b.calc = ECTEAM(str(bundle_path), cutoff_tol=1e-8, r_max=20.0)
    assert abs(a.get_potential_energy() - b.get_potential_energy()) < 1e-5
    assert np.abs(a.get_forces() - b.get_forces()).max() < 1e-5
    assert np.allclose(a.get_charges(), b.get_charges(), atol=1e-8)


def test_pair_table_disk_cache_gives_identical_energies_and_survives_corruption(bundle_path, tmp_path, monkeypatch):
    from ectem_core.potential import loader as P
    from ectem_core.potential.bundle import load_bundle
    from ectem_core.potential.model import ModelOptions

    monkeypatch.setenv("ECTEM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(P, "_TABLES", {})
    doc = load_bundle(bundle_path)
    fresh = P.Potential(doc, ModelOptions())
    files = list((tmp_path / "pair_tables").glob("*.pkl"))
    assert len(files) == 1
    system = fresh.system(["Li", "F", "H"])
    pos = np.array([[0, 0, 0], [0, 0, 3.1], [2.5, 0, 1.0]])
    c = fresh.ground_weights(system)
    e0 = fresh.evaluate(system, pos, c)
    monkeypatch.setattr(P, "_TABLES", {})
    cached = P.Potential(doc, ModelOptions())
    e1 = cached.evaluate(system, pos, c)
    assert e1.energy == e0.energy and np.array_equal(e1.grad_r, e0.grad_r)
    files[0].write_bytes(b"not a pickle")             # a damaged cache is rebuilt, not trusted
    monkeypatch.setattr(P, "_TABLES", {})
    rebuilt = P.Potential(doc, ModelOptions())
    assert rebuilt.evaluate(system, pos, c).energy == e0.energy
