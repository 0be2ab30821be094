"""The tune stage: fit the tuning parameters to the training molecules' QM curves, validate on
what the fit never saw (each molecule left out in turn; polyatomic cluster references), check
the dissociation limits, and write results/tune/{set}.json, the tuned bundle
results/bundle/{set}-tuned.json and results/tune/{set}.png (docs/tune.md). Energies in eV,
distances in bohr in the JSON unless the key says otherwise."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import read_json, write_json
from .curves import EV, constants_of, model_curve, reference_curve
from .fit import fit, tuned_potential
from .terms import MEANING, atoms_only_values, parameter_set, tuned_bundle

LIMIT_R_BOHR = 60.0
SCHEMA_VERSION = 1


def _fine_grid(curve) -> np.ndarray:
    return np.linspace(max(0.8, 0.75 * curve.r.min()), max(curve.r.max(), 12.0), 90)


def curve_summary(pot, curve) -> dict:
    """Re, De (fine grid), well-weighted RMS error (eV) at the reference points and q_A at Re."""
    rf = _fine_grid(curve)
    ef, qf = model_curve(pot, curve.a, curve.b, rf)
    c = constants_of(rf, ef, curve.a, curve.b)
    e_at, _ = model_curve(pot, curve.a, curve.b, curve.r)
    w = curve.weights
    rms = float(np.sqrt(np.sum((w * (e_at - curve.e_ref)) ** 2)) * EV)
    q_re = float(np.interp(c["re_bohr"], rf, qf)) if np.isfinite(c["re_bohr"]) else float("nan")
    return {"re_bohr": c["re_bohr"], "de_eV": c["de_hartree"] * EV, "rms_well_eV": rms, "q_A_at_re": q_re,
            "fine": {"r_bohr": rf.tolist(), "binding_eV": (ef * EV).tolist(), "q_A": qf.tolist()}}


def reference_summary(curve) -> dict:
    c = constants_of(curve.r, curve.e_ref, curve.a, curve.b)
    return {"re_bohr": c["re_bohr"], "de_eV": c["de_hartree"] * EV, "source": curve.source,
            "points": {"r_bohr": curve.r.tolist(), "binding_eV": (curve.e_ref * EV).tolist()}}


def limits(pot, elements) -> list[dict]:
    """q_A and E − Σ E_atoms (hartree) of every element pair at LIMIT_R_BOHR (must be 0 exactly)."""
    out = []
    for i, a in enumerate(elements):
        for b in elements[i:]:
            e, q = model_curve(pot, a, b, [LIMIT_R_BOHR])
            out.append({"pair": f"{a}-{b}", "r_bohr": LIMIT_R_BOHR, "q_A": float(q[0]), "energy_hartree": float(e[0])})
    return out


def cluster_rows(pots: dict, cluster_files) -> list[dict]:
    """Binding energy (eV, relative to the neutral atoms) of each held-out cluster: QM and each model."""
    from ..potential.cpe import solve

    rows = []
    for path in cluster_files:
        doc = read_json(path, "cluster reference")
        row = {"name": doc.get("name", Path(path).stem), "status": doc.get("status", "ok"),
               "symbols": doc.get("symbols"), "level": doc.get("level")}
        if row["status"] != "ok":
            row["reason"] = doc.get("reason", "")
            rows.append(row)
            continue
        row["qm_eV"] = float(doc["binding_hartree"]) * EV
        pos = np.asarray(doc["positions_bohr"], dtype=float)
        for label, pot in pots.items():
            res = solve(pot, pot.system(list(doc["symbols"])), pos)
            row[f"{label}_eV"] = float(res.evaluation.energy) * EV
            row[f"{label}_charges"] = [float(x) for x in res.evaluation.charges]
        rows.append(row)
    return rows


def run_stage(bundle_path, set_name: str, molecules: list, elements: list, settings, out_json, out_bundle,
              out_png=None, cluster_files=(), progress=print) -> dict:
    """molecules: [(mol, a, b, reference_dir)] of the training set; see the module doc."""
    from ..potential.bundle import load_bundle
    from ..potential.loader import Potential
    from ..potential.model import ModelOptions

    t0 = time.perf_counter()
    bundle = load_bundle(bundle_path)
    if bundle.get("tuning"):
        raise InputError(f"{bundle_path} is already a tuned bundle: tune the atoms-only bundle")
    from ..molecules.benchmarks import read_reference
    from ..molecules.reference import is_unavailable

    curves, skipped = [], []
    for m, a, b, d in molecules:
        meta = read_reference(Path(d))["meta"]
        if is_unavailable(meta):   # recorded, not fitted: the reference could not be made
            skipped.append({"mol": m, "reason": str(meta.get("reason", ""))})
            progress(f"tune: {m} left out of the fit: its QM reference is unavailable")
            continue
        curves.append(reference_curve(m, a, b, d))
    if not curves:
        raise InputError("tune: no training molecule with a QM reference (configure molecules.names or "
                         "tune.molecules, or set tune.enabled: false)")
    # only elements (and, per pair, pairs) that some training molecule contains: the others would
    # be fixed by their priors alone
    present = {x for c in curves for x in (c.a, c.b)}
    params = parameter_set([e for e in bundle["elements"] if e in present], settings.parameters,
                           settings.prior_sigma, settings.combining)
    if settings.combining == "pair":
        pairs = {"-".join(sorted((c.a, c.b), key=list(bundle["elements"]).index)) for c in curves}
        params = [p for p in params if p.kind != "K" or "-" not in p.element or p.element in pairs]
    progress(f"tune: {len(params)} parameters on {len(curves)} curves ({', '.join(c.mol for c in curves)})")
    res = fit(bundle, curves, params, settings.sigma_energy_eV, settings.max_evaluations, progress)
    progress(f"tune: fit {'converged' if res.success else 'stopped'} after {res.n_evaluations} evaluations "
             f"({res.seconds:.0f} s), chi2 {res.chi2:.4g}")
    atoms_only = Potential(bundle, ModelOptions())
    tuned = tuned_potential(bundle, res.values, params)
    training = []
    for c in curves:
        training.append({"mol": c.mol, "reference": reference_summary(c), "atoms_only": curve_summary(atoms_only, c),
                         "tuned": curve_summary(tuned, c)})
    loo = []
    if settings.leave_one_out and len(curves) > 1:
        for k, c in enumerate(curves):
            rest = curves[:k] + curves[k + 1:]
            r = fit(bundle, rest, params, settings.sigma_energy_eV, settings.max_evaluations)
            pot = tuned_potential(bundle, r.values, params)
            loo.append({"left_out": c.mol, "values": r.values, "success": r.success, **curve_summary(pot, c)})
            progress(f"tune: left out {c.mol}: De {loo[-1]['de_eV']:.3f} eV, Re {loo[-1]['re_bohr']:.3f} bohr "
                     f"(reference {training[k]['reference']['de_eV']:.3f} eV, {training[k]['reference']['re_bohr']:.3f})")
    clusters = cluster_rows({"atoms_only": atoms_only, "tuned": tuned}, cluster_files)
    base_values = atoms_only_values(params)
    prov = {"tuned_on": [c.source for c in curves],
            "tune_settings": {"parameters": list(settings.parameters), "combining": settings.combining,
                              "sigma_energy_eV": settings.sigma_energy_eV,
                              "prior_sigma": {p.kind: p.sigma for p in params}}}
    doc = tuned_bundle(bundle, res.values, params, version=settings.version or bundle.get("version"), extra=prov)
    write_json(out_bundle, doc)
    out = {
        "schema_version": SCHEMA_VERSION, "set": set_name, "atoms_only_bundle": str(bundle_path),
        "atoms_only_parameters_sha256": bundle.get("parameters_sha256"),
        "tuned_bundle": str(out_bundle), "tuned_parameters_sha256": doc["parameters_sha256"],
        "parameters": [{"name": p.name, "kind": p.kind, "element": p.element, "meaning": MEANING[p.kind],
                        "atoms_only": base_values[p.name], "value": res.values[p.name], "stderr": res.stderr[p.name],
                        "prior_sigma": p.sigma, "prior_in": "K" if p.kind == "K" else f"ln {p.kind}",
                        "bounds": list(p.bounds)} for p in params],
        "bond_strengths": doc["tuning"]["bond"],
        "correlations": res.correlations,
        "fit": {"chi2": res.chi2, "chi2_data": res.chi2_data, "chi2_prior": res.chi2_prior,
                "n_residuals": res.n_residuals, "n_evaluations": res.n_evaluations, "success": res.success,
                "message": res.message, "seconds": res.seconds, "sigma_energy_eV": settings.sigma_energy_eV},
        "training": training, "skipped": skipped, "leave_one_out": loo, "clusters": clusters,
        "limits": {"atoms_only": limits(atoms_only, list(bundle["elements"])),
                   "tuned": limits(tuned, list(bundle["elements"]))},
        "seconds": time.perf_counter() - t0,
    }
    if out_png:
        from .plots import plot_tune

        plot_tune(out, out_png)
    write_json(out_json, out)
    return out
