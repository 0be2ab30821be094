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
    root = tmp_path_factory.mktemp("refs")
    out = []
    for name in ("H2", "HF"):
        mol = molecule(name)
        d = root / name
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
