"""Stage 1 with real PySCF: energies against exact values and published references,
sphericalization sum rules, exclusions and error handling."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import ectem_cmd

from ectem_core import elements
from ectem_core.atoms import AtomsSettings, derive_element, raw_record, run_state_to_files
from ectem_core.atoms.radial import RadialGrid
from ectem_core.atoms.states import default_states, make_state
from ectem_core.errors import ConvergenceError, InputError
from ectem_core.qm.level import Level
from ectem_core.qm.pyscf_backend import compute_state, hydrogen_n2_density

EV = elements.HARTREE_EV


def test_hydrogen_hf_large_basis_is_exact():
    """H atom HF in a large basis: E -> -1/2 Ha (one electron: HF is exact)."""
    res = compute_state(make_state("H"), Level("hf", "aug-cc-pvqz"))
    assert abs(res.energy_hartree + 0.5) < 1e-4
    assert abs(res.density.n_integrated - 1.0) < 1e-6
    # 1s density at the nucleus is 1/π; a Gaussian basis misses the cusp, but not by 10 %
    assert 0.9 / np.pi < res.density.rho0 < 1.0 / np.pi


@pytest.mark.parametrize("symbol", ["Li", "N", "F", "Ne"])
def test_spherical_lda_matches_nist(symbol):
    """Spherical non-spin-polarized SVWN5 total energies vs NIST (Kotochigova et al. 1997)
    with an even-tempered uncontracted basis: within 0.05 mHa."""
    lv = Level("svwn5", "et:26s20p6d", occupations="spherical", grid_level=7, conv_tol=1e-11)
    res = compute_state(make_state(symbol), lv, grid=RadialGrid(n=801), n_angular=110)
    assert abs(res.energy_hartree - elements.nist_lda_energy(symbol)) < 5e-5
    # a fractional spherical occupation gives a spherical density before averaging
    assert res.density.anisotropy < 1e-8


def test_sphericalization_keeps_electron_count_and_closed_shells_are_isotropic():
    lv = Level("hf", "aug-cc-pvdz")
    for state in (make_state("F", -1), make_state("F"), make_state("Li", 0, "2P")):
        res = compute_state(state, lv)
        assert abs(res.density.n_integrated - state.n_electrons) < 1e-6, state.state_id
    closed = compute_state(make_state("F", -1), lv)
    assert closed.density.anisotropy < 1e-10
    open_p = compute_state(make_state("F"), lv)
    assert open_p.density.anisotropy > 1e-2  # one p hole: the raw UHF density is not spherical


def test_lebedev_average_is_exact_and_derivative_matches_finite_difference():
    """For a Gaussian basis with l <= 3 the angular average is a polynomial of degree <= 6 on
    the sphere, so 110- and 590-point Lebedev grids must agree to round-off; dρ̄/dr (from
    the analytic gradient) must match a finite difference of ρ̄."""
    st, lv = make_state("F"), Level("hf", "aug-cc-pvtz")
    a = compute_state(st, lv, n_angular=110)
    b = compute_state(st, lv, n_angular=590)
    np.testing.assert_allclose(a.density.rho, b.density.rho, rtol=1e-10, atol=1e-14)
    r, rho, drho = b.density.r, b.density.rho, b.density.drho
    fd = np.gradient(rho, r)
    inner = (r > 0.05) & (r < 8.0)
    np.testing.assert_allclose(drho[inner], fd[inner], rtol=2e-3, atol=1e-6)


def test_hydrogen_n2_is_the_exact_ensemble():
    """¼ρ_2s + ¾ρ̄_2p integrates to 1, ρ(0) = ρ_2s(0)/4 = 1/(32π), and E = -1/8 Ha."""
    st = make_state("H", 0, "n2")
    res = compute_state(st, Level("hf", "sto-3g"))
    assert res.energy_hartree == -0.125
    assert abs(res.density.n_integrated - 1.0) < 1e-9
    assert abs(res.density.rho0 - 1.0 / (32 * np.pi)) < 1e-15
    r = np.linspace(0.1, 20, 50)
    rho, drho = hydrogen_n2_density(r)
    h = 1e-5
    fd = (hydrogen_n2_density(r + h)[0] - hydrogen_n2_density(r - h)[0]) / (2 * h)
    np.testing.assert_allclose(drho, fd, rtol=1e-7, atol=1e-12)


def test_bare_proton_needs_no_calculation():
    res = compute_state(make_state("H", 1), Level("ccsd(t)", "aug-cc-pvtz"))
    assert res.energy_hartree == 0.0 and res.density.n_integrated == 0.0 and res.backend == "exact"


def test_li_2p_excitation_by_symmetry_fixed_delta_scf():
    """Li 1s²2s -> 1s²2p by occupations fixed in D2h: experiment 1.848 eV (NIST)."""
    lv = Level("ccsd(t)", "aug-cc-pvdz")
    e0 = compute_state(make_state("Li"), lv).energy_hartree
    e1 = compute_state(make_state("Li", 0, "2P"), lv).energy_hartree
    assert abs((e1 - e0) * EV - 1.848) < 0.1


def _raw(states, lv):
    settings = AtomsSettings(energy_level=lv, density_level=lv, grid=RadialGrid(n=401), n_angular=110)
    return settings, {s.state_id: raw_record(compute_state(s, lv, lv, settings.grid, 110), "x") for s in states}


def test_unbound_anion_is_excluded_with_reason_and_bound_one_kept():
    """Be⁻ is unbound (no stable Be⁻ exists); at CCSD the extra electron only occupies
    diffuse functions, E(Be⁻) > E(Be): excluded with the energy difference as reason."""
    lv = Level("ccsd", "aug-cc-pvdz", frozen_core=True)
    settings, raw = _raw([s for s in default_states("Be")], lv)
    final = derive_element("Be", raw, settings)
    assert final["Be-1"]["status"] == "excluded"
    assert "unbound" in final["Be-1"]["reason"] and "Be-1" in final["Be-1"]["reason"]
    assert final["Be0"]["status"] == "ok" and final["Be+1"]["status"] == "ok"


def test_hydride_bound_at_correlated_level_but_not_at_hf():
    """H⁻ exists (EA 0.754 eV) but HF leaves it unbound: boundness is decided at the
    energy level, not at HF."""
    states = [make_state("H"), make_state("H", 1), make_state("H", -1)]
    hf = Level("hf", "aug-cc-pvtz")
    cc = Level("ccsd", "aug-cc-pvtz")
    s_hf, raw_hf = _raw(states, hf)
    s_cc, raw_cc = _raw(states, cc)
    assert derive_element("H", raw_hf, s_hf)["H-1"]["status"] == "excluded"
    fin = derive_element("H", raw_cc, s_cc)
    assert fin["H-1"]["status"] == "ok"
    assert abs(fin["H0"]["electron_affinity_hartree"] * EV - 0.754) < 0.1


def test_cation_ionization_uses_next_ion_and_all_electron_energies():
    """Li⁺ has no valence electrons under frozen core: its own ionization energy pairs the
    all-electron Li⁺ energy with Li²⁺ = -4.5 Ha (exact); experiment 75.64 eV (NIST)."""
    lv = Level("ccsd(t)", "aug-cc-pvtz")
    settings, raw = _raw(default_states("Li"), lv)
    fin = derive_element("Li", raw, settings)
    assert raw["Li+2"]["extra_energies"]["exact_hydrogenic"] == -4.5
    assert abs(fin["Li+1"]["ionization_energy_hartree"] * EV - 75.64) < 1.0
    assert abs(fin["Li0"]["ionization_energy_hartree"] * EV - 5.392) < 0.15


def test_forced_nonconvergence_gives_clear_error_and_no_files(tmp_path):
    lv = Level("hf", "aug-cc-pvdz", max_cycle=1)
    settings = AtomsSettings(energy_level=lv, density_level=lv)
    with pytest.raises(ConvergenceError, match=r"F0 at hf/aug-cc-pvdz did not converge"):
        run_state_to_files(make_state("F"), settings, tmp_path / "raw" / "F0.json", tmp_path / "F0.npz")
    assert not any(tmp_path.rglob("*"))


def test_files_are_written_and_identical_single_threaded(tmp_path):
    """Two runs with 1 thread give identical arrays (2-thread PySCF can differ in the 14th digit)."""
    lv = Level("hf", "cc-pvdz")
    settings = AtomsSettings(energy_level=lv, density_level=lv, threads=1, grid=RadialGrid(n=401), n_angular=110)
    recs = []
    for k in range(2):
        recs.append(run_state_to_files(make_state("Li"), settings, tmp_path / f"{k}.json", tmp_path / f"{k}.npz"))
    a, b = np.load(tmp_path / "0.npz"), np.load(tmp_path / "1.npz")
    for key in ("r_bohr", "rho", "drho_dr", "rdf"):
        assert np.array_equal(a[key], b[key])
    assert recs[0]["energy_hartree"] == recs[1]["energy_hartree"]
    assert recs[0]["input_hash"] == recs[1]["input_hash"]
    rec = json.loads((tmp_path / "0.json").read_text())
    for key in ("schema_version", "state_id", "energy_hartree", "energy_components", "level_energy",
                "level_density", "convergence", "wall_s", "versions", "input_hash"):
        assert key in rec


def test_energy_and_density_levels_can_differ():
    e_lv, d_lv = Level("ccsd(t)", "aug-cc-pvdz"), Level("hf", "cc-pvdz")
    res = compute_state(make_state("F", -1), e_lv, d_lv)
    assert res.energy_level["method"] == "ccsd(t)" and res.density_level["basis"] == "cc-pvdz"
    assert abs(res.density.n_integrated - 10) < 1e-6
    assert res.components["triples"] < 0 and res.components["ccsd_correlation"] < 0


def test_cli_atom_json_contract(cli_env):
    out = subprocess.run(ectem_cmd() + ["atom", "H", "--method", "hf", "--basis", "aug-cc-pvtz", "--json"],
                         capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for key in ("state_id", "energy_hartree", "n_electrons", "method", "basis", "rho0", "wall_s"):
        assert key in d
    assert d["state_id"] == "H0" and d["n_electrons"] == 1 and abs(d["energy_hartree"] + 0.5) < 1e-3


@pytest.mark.parametrize("args, words", [
    (["atom", "Xx", "--method", "hf", "--basis", "sto-3g"], "unknown element symbol 'Xx'"),
    (["atom", "Li", "--method", "mp9", "--basis", "sto-3g"], "unknown method 'mp9'"),
    (["atom", "Li", "--method", "hf", "--basis", "nonsense-basis"], "unknown basis 'nonsense-basis'"),
    (["atom", "Li", "--charge", "5", "--method", "hf", "--basis", "sto-3g"], "impossible"),
    (["atom", "F", "--method", "hf", "--basis", "aug-cc-pvdz", "--max-cycle", "1"], "did not converge"),
])
def test_cli_bad_input_one_line_exit_2(cli_env, args, words):
    out = subprocess.run(ectem_cmd() + args, capture_output=True, text=True, env=cli_env, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in out.stderr


def test_unknown_excited_label_is_input_error():
    with pytest.raises(InputError, match="unknown state label"):
        make_state("Li", 0, "3D")
