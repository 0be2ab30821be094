"""The tuning fit (ectem_core.tune.fit, .stage) on the real small bundle: identifiability (curves
made by the model itself with known parameters are fitted back to those parameters), and a fit to
real PySCF reference curves (H2, HF at CCSD(T)/aug-cc-pVDZ, as the default run) that must bind both
with De within 20 % and Re within 5 % of the reference, with exact dissociation limits."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ectem_core.errors import InputError


@pytest.fixture(scope="module")
def bundle(small_bundle):
    return json.loads(small_bundle.read_text())


def test_fit_recovers_the_parameters_of_model_made_curves(bundle):
    from ectem_core.tune.curves import Curve, model_curve, well_weights
    from ectem_core.tune.fit import fit, tuned_potential
    from ectem_core.tune.terms import parameter_set

    params = parameter_set(["H", "F"], ("beta0", "K"), sigma={"beta0": 100.0, "K": 100.0})  # priors ~ off
    truth = {"beta0_H": 0.45, "K_H": 0.35, "beta0_F": 0.6, "K_F": 0.5}
    pot = tuned_potential(bundle, truth, params)
    curves = []
    for mol, a, b in (("H2", "H", "H"), ("HF", "H", "F"), ("F2", "F", "F")):
        r = np.linspace(1.2, 7.0, 14)
        e, _ = model_curve(pot, a, b, r)
        curves.append(Curve(mol, a, b, r, e, well_weights(e), "model-made"))
    res = fit(bundle, curves, params)
    assert res.success
    for name, v in truth.items():
        assert res.values[name] == pytest.approx(v, rel=2e-3), name
    assert res.chi2_data < 1e-6
    assert all(res.stderr[name] is not None for name in truth)


@pytest.fixture(scope="module")
def h2_hf_references(tmp_path_factory):
    from pyscf import lib

    from ectem_core.molecules.diatomics import molecule, r_grid
    from ectem_core.molecules.reference import run_molecule
    from ectem_core.qm.level import Level

    lib.num_threads(1)
    level = Level(method="ccsd(t)", basis="aug-cc-pvdz", frozen_core=True)
    root = tmp_path_factory.mktemp("refs")      # laid out as a run's results/ (molecules/{mol}/)
    out = []
    for name in ("H2", "HF"):
        mol = molecule(name)
        d = root / "molecules" / name
        run_molecule(mol, level, r_grid(mol, 8), density_rs=(20.0,), out_dir=d, progress=False)
        out.append((name, *mol.symbols, str(d)))
    return out


def test_tuning_to_real_pyscf_references_binds_h2_and_hf(small_bundle, h2_hf_references, tmp_path):
    from ectem_core.potential import load_potential
    from ectem_core.tune.settings import settings_from_config
    from ectem_core.tune.stage import run_stage

    out = run_stage(small_bundle, "small", h2_hf_references, ["H", "Li", "F"],
                    settings_from_config({"tune": {"leave_one_out": True}}), tmp_path / "small.json",
                    tmp_path / "small-tuned.json", tmp_path / "small.png", progress=lambda m: None)
    by = {t["mol"]: t for t in out["training"]}
    for mol in ("H2", "HF"):
        ref, tuned, atoms = by[mol]["reference"], by[mol]["tuned"], by[mol]["atoms_only"]
        assert atoms["de_eV"] < 0.2 * ref["de_eV"]            # the atoms-only model does not bind them
        assert tuned["de_eV"] == pytest.approx(ref["de_eV"], rel=0.20), mol
        assert tuned["re_bohr"] == pytest.approx(ref["re_bohr"], rel=0.05), mol
    # only the elements of the training molecules are tuned; every parameter inside its bounds
    assert {p["element"] for p in out["parameters"]} == {"H", "F"}
    assert all(p["bounds"][0] <= p["value"] <= p["bounds"][1] for p in out["parameters"])
    assert {x["left_out"] for x in out["leave_one_out"]} == {"H2", "HF"}
    for lim in out["limits"]["tuned"]:
        assert lim["q_A"] == 0.0 and abs(lim["energy_hartree"]) < 1e-12
    # report section 9 shows these numbers next to the QM ones, and its verdict rows grade them
    from ectem_core.deliver.report.html import fmt
    from ectem_core.deliver.report.tune import tune_checks, tune_section

    html = tune_section(out, tmp_path, "small")
    for mol in ("H2", "HF"):
        for key in ("re_bohr", "de_eV"):
            for curve in ("reference", "tuned", "atoms_only"):
                assert f">{fmt(by[mol][curve][key], 4)}<" in html, (mol, key, curve)
    for p in out["parameters"]:
        assert f">{p['name']}<" in html and f">{fmt(p['value'], 4)}<" in html
    rows = [r for r in tune_checks(out) if r["check"].startswith("tuned")]
    assert {r["status"] for r in rows if "training" in r["check"]} == {"pass"}
    assert {r["status"] for r in rows if "limit" in r["check"]} == {"pass"}
    # the tuned bundle is a bundle: it loads, names what it was fitted to, keeps its own digest
    doc = json.loads((tmp_path / "small-tuned.json").read_text())
    assert doc["name"] == "small-tuned" and len(doc["provenance"]["tuned_on"]) == 2
    assert doc["provenance"]["atoms_only_parameters_sha256"] == json.loads(small_bundle.read_text())["parameters_sha256"]
    pot = load_potential(tmp_path / "small-tuned.json")
    assert pot.tuning["bond"]
    assert (tmp_path / "small.png").stat().st_size > 10_000


def test_stage_refuses_a_tuned_bundle_and_empty_input(small_bundle, tmp_path, h2_hf_references):
    from ectem_core.tune.fit import fit
    from ectem_core.tune.settings import settings_from_config
    from ectem_core.tune.stage import run_stage
    from ectem_core.tune.terms import parameter_set, tuned_bundle

    b = json.loads(small_bundle.read_text())
    tuned = tmp_path / "t.json"
    tuned.write_text(json.dumps(tuned_bundle(b, {"K_H": 0.2}, parameter_set(["H"], ("K",)))))
    s = settings_from_config({"tune": {"leave_one_out": False}})
    with pytest.raises(InputError, match="already a tuned bundle"):
        run_stage(tuned, "x", h2_hf_references, ["H", "Li", "F"], s, tmp_path / "a.json", tmp_path / "b.json")
    with pytest.raises(InputError, match="no training molecule"):
        run_stage(small_bundle, "x", [], ["H", "Li", "F"], s, tmp_path / "a.json", tmp_path / "b.json")
    with pytest.raises(InputError, match="at least one reference curve"):
        fit(b, [], parameter_set(["H"], ("K",)))
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "b.json").exists()


def test_cli_tune_writes_a_tuned_bundle_that_scan_and_ase_load(small_bundle, h2_hf_references, tmp_path):
    """`ectem tune` as a user runs it on a run's results, then the tuned bundle in `ectem scan` and
    ECTEAM: H2 binds with the tuned bundle and dissociates to the free atoms exactly."""
    import csv
    import io
    import subprocess
    from pathlib import Path

    from ase import Atoms
    from conftest import _cli_env, ectem_cmd

    from ectem_core.ase import ECTEAM

    results = Path(h2_hf_references[0][3]).parents[1]

    def run(*args):
        return subprocess.run(ectem_cmd() + list(args), capture_output=True, text=True, env=_cli_env(), timeout=600)

    out = tmp_path / "tune"
    ok = run("tune", str(small_bundle), "--molecules", "H2,HF", "--results", str(results), "--no-leave-one-out",
             "--out", str(out))
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "tuned bundle" in ok.stdout and "H2" in ok.stdout
    tuned = out / "small-tuned.json"
    doc = json.loads(tuned.read_text())
    assert doc["name"] == "small-tuned" and doc["tuning"]["bond"]
    # the provenance names every reference the fit used, and the atoms-only bundle it started from
    assert len(doc["provenance"]["tuned_on"]) == 2 and all("ccsd(t)" in s.lower() for s in doc["provenance"]["tuned_on"])
    assert doc["provenance"]["atoms_only_parameters_sha256"] == json.loads(small_bundle.read_text())["parameters_sha256"]
    res = json.loads((out / "small.json").read_text())
    assert res["leave_one_out"] == [] and (out / "small.png").stat().st_size > 0
    # the atoms-only bundle is not touched
    assert "tuning" not in json.loads(small_bundle.read_text())
    scan = run("scan", str(tuned), "H-H", "--r-min", "1.0", "--r-max", "60", "--n", "60", "--csv")
    assert scan.returncode == 0, scan.stderr
    rows = list(csv.DictReader(io.StringIO(scan.stdout)))
    e = [float(r["energy_hartree"]) for r in rows]
    e_inf = e[-1]
    de_ev = (e_inf - min(e)) * 27.211386245988
    ref = {t["mol"]: t for t in res["training"]}["H2"]["reference"]["de_eV"]
    assert de_ev == pytest.approx(ref, rel=0.25)          # coarse 60-point grid; the fit's own check is 20 %
    atoms = Atoms("H2", positions=[[0, 0, 0], [0, 0, 60 * 0.529177210903]])
    atoms.calc = ECTEAM(str(tuned))
    far = atoms.get_potential_energy()
    atoms.calc = ECTEAM(str(small_bundle))
    assert far == pytest.approx(atoms.get_potential_energy(), abs=1e-9)   # both at the free atoms


def test_cli_tune_bad_inputs_are_one_line(small_bundle, h2_hf_references, tmp_path):
    import subprocess
    from pathlib import Path

    from conftest import _cli_env, ectem_cmd

    results = Path(h2_hf_references[0][3]).parents[1]

    def run(*args):
        return subprocess.run(ectem_cmd() + list(args), capture_output=True, text=True, env=_cli_env(), timeout=600)

    cases = [
        (["--molecules", "LiF", "--results", str(results)], "no QM reference"),
        (["--molecules", "H2", "--results", str(results), "--parameters", "alpha"], "tune.parameters"),
        (["--molecules", "H2", "--results", str(results), "--clusters", str(tmp_path / "none.json")], "does not exist"),
    ]
    for extra, words in cases:
        r = run("tune", str(small_bundle), *extra, "--out", str(tmp_path / "out"))
        assert r.returncode == 2, (extra, r.stderr)
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "out").exists()
