"""Report section 9 and its verdict rows: the tuned potential (results/tune/{set}.json) —
parameters next to their atoms-only values, atoms-only vs tuned vs QM on the training molecules,
each molecule left out, the held-out clusters and the dissociation limits. Says 'not run' when
the stage did not run; never invents numbers."""
from __future__ import annotations

from pathlib import Path

from ... import layout as L
from ...io import read_json
from . import html as H
from .checks import graded, row

RE_PASS, RE_WARN = 0.05, 0.10      # relative Re error of a training molecule (issue: Re within 5 %)
DE_PASS, DE_WARN = 0.20, 0.40      # relative De error (issue: De within 20 %)
LIMIT_TOL = 1e-10                  # |E − ΣE_atoms| (hartree) and |q| at 60 bohr


def load_tune(workdir, set_name: str) -> dict | None:
    path = Path(workdir) / L.tune_json(set_name)
    return read_json(path, "tune results") if path.exists() else None


def _rel(x, ref):
    return None if x is None or not ref or x != x else (x - ref) / ref


def tune_checks(result) -> list[dict]:
    if result is None:
        return [row("tuned potential", "—", None, "", "not run", "tune stage not run")]
    out = []
    for t in result["training"]:
        ref, tu = t["reference"], t["tuned"]
        for name, key, lim in (("Re", "re_bohr", (RE_PASS, RE_WARN)), ("De", "de_eV", (DE_PASS, DE_WARN))):
            d = _rel(tu[key], ref[key])
            if d is None:
                out.append(row(f"tuned {name} vs QM (training)", t["mol"], None, "", "fail", "unbound or no reference"))
                continue
            out.append(row(f"tuned {name} vs QM (training)", t["mol"], d, f"|rel| ≤ {lim[0]:g} pass, ≤ {lim[1]:g} warn",
                           graded(abs(d), *lim), f"{tu[key]:.4g} vs {ref[key]:.4g}; atoms-only {t['atoms_only'][key]:.4g}"))
    for lim in result["limits"]["tuned"]:
        worst = max(abs(lim["q_A"]), abs(lim["energy_hartree"]))
        out.append(row("tuned dissociation limit", lim["pair"], worst, f"|q|, |E − ΣE_atoms| ≤ {LIMIT_TOL:g}",
                       graded(worst, LIMIT_TOL), f"at R = {lim['r_bohr']:g} bohr"))
    return out


def _fmt_rel(x, ref):
    d = _rel(x, ref)
    return None if d is None else f"{100 * d:+.1f} %"


def tune_section(result, workdir, set_name: str) -> str:
    if result is None:
        return H.para("not run (tune.enabled is false, the set has no molecule, or the tune stage has not run yet)")
    fit = result["fit"]
    body = H.para("A few physical parameters fitted to the QM binding curves of the training molecules by regularized "
                  "least squares (priors centred on the atoms-only values), then validated on each molecule left out "
                  "of the fit and on cluster references that no fit uses (docs/tune.md, docs/model.md section 5). "
                  f"χ² {fit['chi2']:.4g} (data {fit['chi2_data']:.4g}, prior {fit['chi2_prior']:.4g}) from "
                  f"{fit['n_residuals']} residuals, {fit['n_evaluations']} evaluations, {fit['message']}. Tuned bundle "
                  f"{Path(result['tuned_bundle']).name} (parameters_sha256 {result['tuned_parameters_sha256'][:16]}…); "
                  "the atoms-only bundle is unchanged.")
    body += "<h3>Parameters</h3>" + H.table(
        ["parameter", "meaning", "atoms-only", "tuned", "std. error", "prior σ", "bounds"],
        [[p["name"], p["meaning"], p["atoms_only"], p["value"], p["stderr"], f"{p['prior_sigma']:g} in {p['prior_in']}",
          f"[{p['bounds'][0]:g}, {p['bounds'][1]:g}]"] for p in result["parameters"]], "tune-parameters", digits=4)
    if result.get("correlations"):
        body += H.table(["pair", "correlation"], [[k, v] for k, v in sorted(result["correlations"].items())],
                        "tune-correlations", digits=3)
    if result.get("bond_strengths"):
        body += H.para("Pair bond strengths K_AB: " + ", ".join(f"{k} {v:.4g}" for k, v in result["bond_strengths"].items()))
    rows = []
    for t in result["training"]:
        ref = t["reference"]
        for label, key in (("QM", None), ("atoms-only", "atoms_only"), ("tuned", "tuned")):
            c = ref if key is None else t[key]
            rows.append([t["mol"], label, c["re_bohr"], _fmt_rel(c["re_bohr"], ref["re_bohr"]) if key else "",
                         c["de_eV"], _fmt_rel(c["de_eV"], ref["de_eV"]) if key else "",
                         c.get("rms_well_eV"), c.get("q_A_at_re"), ref["source"] if key is None else ""])
    body += "<h3>Training molecules</h3>" + H.table(
        ["molecule", "curve", "Re (bohr)", "ΔRe", "De (eV)", "ΔDe", "well-weighted RMS (eV)", "q_A at Re", "reference"],
        rows, "tune-training", digits=4)
    if result.get("skipped"):
        body += H.para("Left out of the fit (no QM reference): " + "; ".join(f"{s['mol']}: {s['reason']}"
                                                                               for s in result["skipped"]))
    ref_of = {t["mol"]: t["reference"] for t in result["training"]}
    if result.get("leave_one_out"):
        body += "<h3>Held out: each molecule left out of the fit</h3>" + H.table(
            ["left out", "Re (bohr)", "ΔRe", "De (eV)", "ΔDe", "QM Re", "QM De (eV)", "q_A at Re"],
            [[r["left_out"], r["re_bohr"], _fmt_rel(r["re_bohr"], ref_of[r["left_out"]]["re_bohr"]), r["de_eV"],
              _fmt_rel(r["de_eV"], ref_of[r["left_out"]]["de_eV"]), ref_of[r["left_out"]]["re_bohr"],
              ref_of[r["left_out"]]["de_eV"], r["q_A_at_re"]] for r in result["leave_one_out"]], "tune-loo", digits=4)
    if result.get("clusters"):
        rows = []
        for c in result["clusters"]:
            if c["status"] != "ok":
                rows.append([c["name"], H.status_cell("fail"), None, None, None, None, c.get("reason", "")])
                continue
            rows.append([c["name"], "ok", c["qm_eV"], c["atoms_only_eV"], c["tuned_eV"],
                         _fmt_rel(c["tuned_eV"], c["qm_eV"]),
                         f"{(c.get('level') or {}).get('method', '?')}/{(c.get('level') or {}).get('basis', '?')}"])
        body += "<h3>Held out: cluster references (no fit uses them)</h3>" + H.table(
            ["cluster", "status", "QM E − ΣE_atoms (eV)", "atoms-only (eV)", "tuned (eV)", "tuned vs QM", "level"],
            rows, "tune-clusters", digits=4)
    body += "<h3>Dissociation limits</h3>" + H.table(
        ["pair", "R (bohr)", "q_A atoms-only", "E − ΣE_atoms atoms-only (Ha)", "q_A tuned", "E − ΣE_atoms tuned (Ha)"],
        [[a["pair"], a["r_bohr"], a["q_A"], a["energy_hartree"], t["q_A"], t["energy_hartree"]]
         for a, t in zip(result["limits"]["atoms_only"], result["limits"]["tuned"])], "tune-limits", digits=3)
    p = Path(workdir) / L.tune_plot(set_name)
    if p.exists():
        cap = ("Training molecules: QM points, atoms-only and tuned curves, and the curve predicted with the molecule "
               "left out of the fit")
        body += H.png_figure(p.read_bytes(), cap, "tuned potential", "fig-tune")
    return body
