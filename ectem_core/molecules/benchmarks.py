"""Dissociation and charge benchmarks of one diatomic: ECT-EAM variants, plain EAM and QEq
against the molecule's QM reference curve (written by ectem_core.molecules.reference).

Everything here is evaluated from the bundle (atoms only) and compared with the molecular
references; no molecular number flows back into a bundle. Files (results/benchmarks/{mol}/,
units in column names, A = first element of the molecule's name):
  curves.csv         r_bohr, energy_ref_hartree, binding_ref_hartree, binding_<model>_hartree,
                     q_A_<model> at the reference geometries
  curves_fine.csv    the model curves on a fine grid (for constants and plots)
  spectroscopic.csv  model, re_bohr, de_hartree, we_cm1, limit_hartree, q_A_at_re
  weights.csv        r_bohr, model, w_<state_id>... (ensemble weights along the fine grid)
  dipoles.csv        r_bohr, dipole_ref_au, dipole_<model>_au (spherical states: q_B·R)
Models: ectem_<variant> for each configured variant, eam (neutral ground states), qeq
(Rappé–Goddard published parameters).
"""
from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import read_json, write_csv, write_json
from .reference import is_unavailable
from .spectroscopic import constants

SPECTROSCOPIC_COLUMNS = ["model", "re_bohr", "de_hartree", "we_cm1", "limit_hartree", "q_A_at_re"]
CHARGE_COLUMNS = ["r_bohr", "method", "q_A", "q_B"]
UNAVAILABLE_FILE = "unavailable.json"


def model_names(variants) -> list[str]:
    return [f"ectem_{v}" for v in variants] + ["eam", "qeq"]


def evaluate_models(bundle, a: str, b: str, rs, variants=("pure",), background="overlap",
                    proton=False, baselines: bool = True) -> dict:
    """Binding energy (hartree), q_A and weights of every model at the distances rs (bohr);
    baselines=False leaves out plain EAM and QEq (they do not depend on the ECT-EAM options)."""
    from ..potential.cpe import solve
    from ..potential.loader import load_potential
    from ..potential.scan import qeq_for_bundle, weight_columns

    rs = np.asarray(rs, dtype=float)
    out = {}
    base = None
    for variant in variants:
        pot = load_potential(bundle, variant=variant, background=background, proton=proton)
        base = base or pot
        system = pot.system([a, b])
        e, q, w = [], [], []
        for r in rs[::-1]:                      # inward; every point is a global solve anyway
            res = solve(pot, system, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]]))
            e.append(res.evaluation.energy)
            q.append(res.evaluation.charges[0])
            w.append(res.weights)
        out[f"ectem_{variant}"] = {"binding": np.array(e[::-1]), "q_A": np.array(q[::-1]),
                                   "weights": np.array(w[::-1]), "columns": weight_columns(pot, a, b)}
    if not baselines:
        return out
    system = base.system([a, b])
    c0 = base.ground_weights(system)
    out["eam"] = {"binding": np.array([base.evaluate(system, np.array([[0, 0, 0], [0, 0, r]], dtype=float), c0,
                                                     want_forces=False).energy for r in rs]),
                  "q_A": np.zeros(len(rs))}
    qe = [qeq_for_bundle(base, [a, b], np.array([[0, 0, 0], [0, 0, r]], dtype=float), params="published")
          for r in rs]
    out["qeq"] = {"binding": np.array([x[1] for x in qe]), "q_A": np.array([x[0][0] for x in qe])}
    return out


def read_reference(ref_dir) -> dict:
    """reference.csv (+ reference.json) of one molecule as arrays."""
    ref_dir = Path(ref_dir)
    path = ref_dir / "reference.csv"
    if not path.exists():
        raise InputError(f"{path} is missing: run the molecule_reference rule first")
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    cols = {k: np.array([_num(r[k]) for r in rows]) for k in rows[0] if k != "branch"}
    cols["branch"] = [r["branch"] for r in rows]
    meta = read_json(ref_dir / "reference.json", "molecular reference")
    return {"columns": cols, "meta": meta}


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


def dissociation_tables(bundle, mol: str, a: str, b: str, ref: dict, out_dir, variants=("pure",),
                        background="overlap", proton=False, n_fine=120) -> dict:
    """Write curves.csv, curves_fine.csv, spectroscopic.csv, weights.csv and dipoles.csv;
    return the spectroscopic rows."""
    out_dir = Path(out_dir)
    cols = ref["columns"]
    r_ref = cols["r_bohr"]
    names = model_names(variants)
    at_ref = evaluate_models(bundle, a, b, r_ref, variants, background, proton)
    r_fine = np.linspace(max(1.0, 0.6 * r_ref.min()), max(r_ref.max(), 20.0), n_fine)
    fine = evaluate_models(bundle, a, b, r_fine, variants, background, proton)

    header = ["r_bohr", "energy_ref_hartree", "binding_ref_hartree"]
    for extra in ("energy_ionic_hartree", "energy_bs_hartree"):
        if extra in cols:
            header.append(extra)
    header += [f"binding_{m}_hartree" for m in names] + [f"q_A_{m}" for m in names if m != "eam"]
    rows = []
    for k, r in enumerate(r_ref):
        row = [r, cols["energy_ref_hartree"][k], cols["binding_ref_hartree"][k]]
        row += [cols[x][k] for x in ("energy_ionic_hartree", "energy_bs_hartree") if x in cols]
        row += [at_ref[m]["binding"][k] for m in names] + [at_ref[m]["q_A"][k] for m in names if m != "eam"]
        rows.append(row)
    write_csv(out_dir / "curves.csv", header, rows)
    write_csv(out_dir / "curves_fine.csv",
              ["r_bohr"] + [f"binding_{m}_hartree" for m in names] + [f"q_A_{m}" for m in names if m != "eam"],
              [[r] + [fine[m]["binding"][k] for m in names] + [fine[m]["q_A"][k] for m in names if m != "eam"]
               for k, r in enumerate(r_fine)])

    spec = []
    c = constants(r_ref, cols["binding_ref_hartree"], a, b)
    spec.append({"model": "reference", **c, "q_A_at_re": np.nan})
    for m in names:
        c = constants(r_fine, fine[m]["binding"], a, b)
        q_re = float(np.interp(c["re_bohr"], r_fine, fine[m]["q_A"])) if np.isfinite(c["re_bohr"]) else np.nan
        spec.append({"model": m, **c, "q_A_at_re": q_re})
    write_csv(out_dir / "spectroscopic.csv", SPECTROSCOPIC_COLUMNS,
              [[s[k] for k in SPECTROSCOPIC_COLUMNS] for s in spec])

    wrows, wcols = [], None
    for v in variants:
        m = f"ectem_{v}"
        wcols = fine[m]["columns"]
        wrows += [[r, m, *fine[m]["weights"][k]] for k, r in enumerate(r_fine)]
    write_csv(out_dir / "weights.csv", ["r_bohr", "model"] + wcols, wrows)

    if "dipole_ref_au" in cols:
        write_csv(out_dir / "dipoles.csv",
                  ["r_bohr", "dipole_ref_au"] + [f"dipole_{m}_au" for m in names if m != "eam"],
                  [[r, cols["dipole_ref_au"][k]] + [-at_ref[m]["q_A"][k] * r for m in names if m != "eam"]
                   for k, r in enumerate(r_ref)])
    return {"spectroscopic": spec, "at_ref": at_ref, "fine": fine, "r_fine": r_fine}


def write_unavailable_benchmark(out_dir, mol: str, reason: str) -> dict:
    """Header-only benchmark CSVs, unavailable.json with the reason, and a dissociation.png that
    says why: the molecule has no QM reference at the configured level."""
    from ..plotting import pyplot

    out_dir = Path(out_dir)
    for name, cols in (("curves.csv", ["r_bohr", "energy_ref_hartree", "binding_ref_hartree"]),
                       ("spectroscopic.csv", SPECTROSCOPIC_COLUMNS), ("charges.csv", CHARGE_COLUMNS),
                       ("consistency.csv", ["r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit"]),
                       ("weights.csv", ["r_bohr", "model"]), ("dipoles.csv", ["r_bohr", "dipole_ref_au"])):
        write_csv(out_dir / name, cols, [])
    write_json(out_dir / UNAVAILABLE_FILE, {"molecule": mol, "status": "unavailable", "reason": reason})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.4))
    ax.axis("off")
    ax.text(0.01, 0.9, f"{mol}: no QM reference at the configured level", fontsize=12, va="top", weight="bold")
    ax.text(0.01, 0.6, "\n".join(textwrap.wrap(reason, 110)[:6]), fontsize=8, va="top")
    fig.savefig(out_dir / "dissociation.png", dpi=90)
    plt.close(fig)
    return {"status": "unavailable", "reason": reason}


def run_benchmark(bundle, mol_dir, charges_csv, out_dir, mol: str, a: str, b: str,
                  variants=("pure",), background="overlap", proton=False, lam: float = 1e-2,
                  progress=None) -> dict:
    """All benchmark tables of one molecule (see module docstring) plus charges.csv and
    consistency.csv at the reference's density points, and the plots."""
    from .plots import plot_molecule
    from .weights.energy import consistency_from_reference

    say = progress or (lambda msg: None)
    mol_dir, out_dir = Path(mol_dir), Path(out_dir)
    meta = read_json(mol_dir / "reference.json", "molecular reference")
    if is_unavailable(meta):
        say(f"{mol}: no QM reference ({meta.get('reason')}); benchmark files record why")
        return write_unavailable_benchmark(out_dir, mol, meta.get("reason", ""))
    ref = read_reference(mol_dir)
    say(f"{mol}: dissociation curves ({', '.join(model_names(variants))})")
    diss = dissociation_tables(bundle, mol, a, b, ref, out_dir, variants, background, proton)
    e_atoms = float(ref["meta"]["atoms"]["energy_sum_hartree"])
    qm = _read_rows(charges_csv) if charges_csv and Path(charges_csv).exists() else []
    crow, cons = [], []
    points = ref["meta"].get("density_points", [])
    for pt in points:
        r = float(pt["r_bohr"])
        say(f"{mol}: charges and weight consistency at R = {r:.3f} bohr")
        crow += [[r, row["method"], float(row["q_A"]), float(row["q_B"])] for row in qm
                 if abs(float(row["r_bohr"]) - r) < 1e-6]
        at = evaluate_models(bundle, a, b, [r], variants, background, proton)
        for m in model_names(variants):
            if m != "eam":
                crow.append([r, m, at[m]["q_A"][0], -at[m]["q_A"][0]])
        npz = mol_dir / pt["file"]
        with np.load(npz, allow_pickle=False) as z:
            e_ref = float(z["energy_hartree"])
        row = consistency_from_reference(bundle, npz, e_ref - e_atoms, lam=lam, variant=variants[0],
                                         background=background, proton=proton)
        row["disagreement"] = row["disagreement_q"]          # |q_A(density) − q_A(CPE)|, e
        crow.append([r, "density_weights", row["q_A_density"], -row["q_A_density"]])
        cons.append(row)
    write_csv(out_dir / "charges.csv", CHARGE_COLUMNS, crow)
    keys = ["r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit", "disagreement", "fit_residual",
            "condition_number", "regularization", "distance_from_cpe"]
    extra = [k for k in (cons[0] if cons else {}) if k not in keys]
    write_csv(out_dir / "consistency.csv", keys + extra, [[c.get(k) for k in keys + extra] for c in cons])
    plot_molecule(mol, out_dir)
    return {"spectroscopic": diss["spectroscopic"], "consistency": cons}


def _read_rows(path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def sensitivity(bundle, references: dict, out_csv, variants=("pure",), backgrounds=("overlap", "point"),
                protons=(False, True), n_fine=80, basis_bundles: dict | None = None) -> list[list]:
    """How Re, De and q_A(Re) of each molecule move with the [choose] options (variant,
    background density, bare proton) and with the atom-stage basis set (basis_bundles:
    basis -> bundle built at that basis; the main bundle's own basis is listed beside them).
    references: mol -> (a, b, reference dir)."""
    from ..potential.bundle import load_bundle

    rows = []
    levels = {basis: (load_bundle(p).get("levels", {}).get("energy") or {})
              for basis, p in (basis_bundles or {}).items()}
    main_basis = (load_bundle(bundle).get("levels", {}).get("energy") or {}).get("basis", "main")
    for mol, (a, b, ref_dir) in references.items():
        ref = read_reference(ref_dir)
        c = constants(ref["columns"]["r_bohr"], ref["columns"]["binding_ref_hartree"], a, b)
        rows.append(["reference", ref["meta"].get("level", {}).get("basis", ""), mol, c["re_bohr"],
                     c["de_hartree"], np.nan])
        r_fine = np.linspace(max(1.0, 0.6 * ref["columns"]["r_bohr"].min()), 20.0, n_fine)
        for v in variants:
            for bg in backgrounds:
                for pr in protons:
                    ev = evaluate_models(bundle, a, b, r_fine, (v,), bg, pr, baselines=False)[f"ectem_{v}"]
                    c = constants(r_fine, ev["binding"], a, b)
                    q = float(np.interp(c["re_bohr"], r_fine, ev["q_A"])) if np.isfinite(c["re_bohr"]) else np.nan
                    rows.append(["variant/background/proton", f"{v}/{bg}/{'on' if pr else 'off'}", mol,
                                 c["re_bohr"], c["de_hartree"], q])
        for label, path in [(main_basis, bundle)] + [(levels[basis].get("basis", basis), p)
                                                      for basis, p in (basis_bundles or {}).items()]:
            for v in variants:
                ev = evaluate_models(path, a, b, r_fine, (v,), backgrounds[0], protons[0], baselines=False)[f"ectem_{v}"]
                c = constants(r_fine, ev["binding"], a, b)
                q = float(np.interp(c["re_bohr"], r_fine, ev["q_A"])) if np.isfinite(c["re_bohr"]) else np.nan
                rows.append(["basis level (atoms)", f"{label}/{v}", mol, c["re_bohr"], c["de_hartree"], q])
    write_csv(out_csv, ["option", "value", "mol", "re_bohr", "de_hartree", "q_A_at_re"], rows)
    return rows


def reference_charges(ref_dir, out_csv, progress=None) -> list[list]:
    """Charges from every population method at the reference's density points:
    rows r_bohr, method, q_A, q_B (+ charges_diagnostics.json beside out_csv). Free atoms
    for the stockholder methods at the reference's own method (UCCSD for CC levels)."""
    from .charges import charges_from_npz

    ref_dir = Path(ref_dir)
    meta = read_json(ref_dir / "reference.json", "molecular reference")
    if is_unavailable(meta):
        write_csv(out_csv, CHARGE_COLUMNS, [])
        write_json(Path(out_csv).with_name("charges_diagnostics.json"),
                   {"status": "unavailable", "reason": meta.get("reason", ""), "points": []})
        return []
    method = meta["level"]["method"]
    atom_method = "ccsd" if method.startswith("ccsd") else "hf"
    rows, diags = [], []
    for pt in meta.get("density_points", []):
        if progress:
            progress(f"{meta['molecule']}: charges at R = {pt['r_bohr']:.3f} bohr")
        res = charges_from_npz(ref_dir / pt["file"], atom_method=atom_method)
        for m, q in res["charges"].items():
            rows.append([float(pt["r_bohr"]), m, float(q[0]), float(q[1])])
        diags.append({"r_bohr": pt["r_bohr"], **res["diagnostics"]})
    write_csv(out_csv, CHARGE_COLUMNS, rows)
    write_json(Path(out_csv).with_name("charges_diagnostics.json"), {"atom_method": atom_method, "points": diags})
    return rows
