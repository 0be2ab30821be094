"""The verdict of the validation report: each check with its value, threshold and status
(pass / warn / fail; 'info' for numbers shown without a threshold, 'not run' when the data
do not exist). Thresholds are module constants, quoted verbatim in the report."""
from __future__ import annotations

import math

from ... import elements as _el
from ...elements import HARTREE_EV

N_ERROR_MAX = 1e-8          # |∫ρ_fit − N| (electrons)
CUSP_MAX = 1e-8             # |cusp ratio − 1|
RDF_WARN = 1e-3             # RDF residual ∫(ΔD)²/∫D²
IPEA_PASS_EV = 0.1          # |computed − experiment| (eV)
IPEA_WARN_EV = 0.3
LIMIT_Q_MAX = 1e-8          # |q_A| at the largest scanned R (e)
LIMIT_E_MAX = 1e-8          # |E − E(neutral atoms)| there (hartree)
RE_PASS_BOHR, RE_WARN_BOHR = 0.1, 0.3          # |Re − Re_ref|
DE_PASS_REL, DE_WARN_REL = 0.10, 0.25          # |De − De_ref| / De_ref
CONSISTENCY_PASS, CONSISTENCY_WARN = 0.05, 0.2  # max |disagreement| of charges (e)
IONIC = ("LiF", "LiH", "NaCl", "NaF", "LiCl")   # molecules whose Re/De enter the verdict


def row(check, item, value, threshold, status, note=""):
    return {"check": check, "item": item, "value": value, "threshold": threshold, "status": status, "note": note}


def graded(x: float, pass_max: float, warn_max: float | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "fail"
    if x <= pass_max:
        return "pass"
    if warn_max is not None and x <= warn_max:
        return "warn"
    return "fail"


def _fit_records(res):
    for el in res.elements:
        for sid, rec in res.fits[el].items():
            if rec.get("status") in ("ok", "exact") and rec.get("n_electrons", 0) > 0:
                yield sid, rec


def fit_checks(res) -> list[dict]:
    out = []
    recs = list(_fit_records(res))
    if not recs:
        return [row("density fits", "all states", None, "", "not run", "no fitted state with electrons")]
    for name, key, limit, warn_only in (
            ("density fit: electron count", "n_error", N_ERROR_MAX, False),
            ("density fit: Kato cusp", "cusp", CUSP_MAX, False),
            ("density fit: RDF residual", "rdf_residual", RDF_WARN, True)):
        vals = []
        for sid, rec in recs:
            m = rec.get("metrics", {})
            if key == "cusp":
                v = None if m.get("cusp_ratio") is None else abs(m["cusp_ratio"] - 1.0)
            elif key == "n_error":
                v = abs(m["n_error"]) if m.get("n_error") is not None else None
            else:
                v = m.get(key)
            if v is not None:
                vals.append((float(v), sid))
        worst, sid = max(vals)
        if warn_only:
            status = "pass" if worst <= limit else "warn"
            bad = [s for v, s in vals if v > limit]
            thr = f"warn > {limit:g}"
        else:
            status = graded(worst, limit)
            bad = [s for v, s in vals if v > limit]
            thr = f"≤ {limit:g}"
        label = {"n_error": "|N_fit − N|", "cusp": "|cusp ratio − 1|", "rdf_residual": "∫(ΔD)²/∫D²"}[key]
        note = f"{label}, worst of {len(vals)} states: {sid}" + (f"; above: {', '.join(bad)}" if bad else "")
        out.append(row(name, sid, worst, thr, status, note))
    return out


def ip_ea_checks(res) -> list[dict]:
    """Computed first IP and EA of each neutral atom (eV) against the published values."""
    out = []
    for el in res.elements:
        neutral = next((r for r in res.atoms[el] if r["charge"] == 0 and not r.get("label")), None)
        if neutral is None:
            continue
        thr = f"|Δ| ≤ {IPEA_PASS_EV} eV pass, ≤ {IPEA_WARN_EV} warn"
        ip = neutral.get("ionization_energy_hartree")
        if ip is not None:
            ref = _el.experimental_ip_ev(el)
            d = ip * HARTREE_EV - ref
            out.append(row("ionization energy vs experiment", el, d, thr, graded(abs(d), IPEA_PASS_EV, IPEA_WARN_EV),
                           f"Δ = computed − NIST ASD (eV): {ip * HARTREE_EV:.4f} − {ref:.4f}"))
        ea = neutral.get("electron_affinity_hartree")
        ref = _el.experimental_ea_ev(el)
        if ea is not None and ref is not None:
            d = ea * HARTREE_EV - ref
            out.append(row("electron affinity vs experiment", el, d, thr, graded(abs(d), IPEA_PASS_EV, IPEA_WARN_EV),
                           f"Δ = computed − Rienstra-Kiracofe 2002 (eV): {ea * HARTREE_EV:.4f} − {ref:.4f}"))
    return out


def embedding_checks(res) -> list[dict]:
    recs = [r for el in res.elements for r in res.embedding[el].values() if r.get("status") == "ok"]
    if not recs:
        return [row("embedding: Daw–Baskes parity", "all states", None, "", "not run", "no embedding record")]
    conc = [r for r in recs if r.get("form") == "concordance"]
    spline = [r for r in recs if r.get("form") == "daw_spline"]
    tol = None
    for r in recs:
        tol = (r.get("settings") or {}).get("parity_tolerance", tol)
    worst = max((r["parity_rel_rms"], r["state_id"]) for r in conc) if conc else (None, "")
    status = "fail" if not conc else ("warn" if spline else "pass")
    note = f"concordance for {len(conc)} of {len(recs)} states"
    if spline:
        note += "; Daw-spline fallback (flagged): " + ", ".join(
            f"{r['state_id']} (parity {r['parity_rel_rms']:.3f})" for r in spline)
    return [row("embedding: Daw–Baskes parity", worst[1] or "—", worst[0],
                f"parity ≤ {tol:g} for concordance" if tol is not None else "", status, note)]


def limit_checks(curves: list) -> list[dict]:
    out = []
    for pc in curves:
        ect = [m for m in pc.limit if m.startswith("ectem_") or m == "eam"]
        if not ect:
            continue
        r = pc.limit[ect[0]]["r_bohr"]
        wq = max((abs(pc.limit[m]["q_A"]), m) for m in ect)
        we = max((abs(pc.limit[m]["binding_hartree"]), m) for m in ect)
        out.append(row(f"dissociation limit: |q_{pc.a}| at {r:g} bohr", pc.pair, wq[0], f"≤ {LIMIT_Q_MAX:g} e",
                       graded(wq[0], LIMIT_Q_MAX), f"worst of {', '.join(ect)}: {wq[1]}"))
        out.append(row(f"dissociation limit: |E − E(atoms)| at {r:g} bohr", pc.pair, we[0],
                       f"≤ {LIMIT_E_MAX:g} Ha", graded(we[0], LIMIT_E_MAX), f"worst of {', '.join(ect)}: {we[1]}"))
        if "qeq" in pc.limit:
            out.append(row(f"QEq baseline: q_{pc.a} at {r:g} bohr", pc.pair, pc.limit["qeq"]["q_A"], "(no threshold)",
                           "info", "QEq keeps a charge at infinite separation (Rappé–Goddard 1991); ECT-EAM must not"))
    return out


def switch_checks(curves: list) -> list[dict]:
    out = []
    for pc in curves:
        for m, sw in pc.switch_bohr.items():
            if pc.r_c_bohr is None:
                continue
            val = sw
            note = (f"largest R with |q_{pc.a}| = 1/2 vs R_c = 1/(IP − EA) = {pc.r_c_bohr:.3f} bohr ({pc.ct_label})"
                    if sw is not None else f"charge never exceeds 1/2 on the scan; R_c = {pc.r_c_bohr:.3f} bohr")
            out.append(row(f"charge switch distance ({m})", pc.pair, val, "(no threshold)", "info", note))
    return out


def benchmark_checks(mols, configured) -> list[dict]:
    out = []
    spectro = [mb for mb in mols if "spectroscopic" in mb.tables]
    if not spectro:
        why = "no molecules configured" if not configured and not mols else "no spectroscopic.csv"
        out.append(row("Re/De vs reference", "—", None, "", "not run", why))
    for mb in mols:
        if mb.unavailable is not None:
            out.append(row("Re/De vs reference", mb.mol, None, "", "not run",
                           f"no QM reference at the configured level: {mb.unavailable}"))
    for mb in spectro:
        rows = mb.tables["spectroscopic"]
        ref = next((r for r in rows if r["model"] == "reference"), None)
        if ref is None:
            out.append(row("Re/De vs reference", mb.mol, None, "", "not run", "spectroscopic.csv has no 'reference' row"))
            continue
        for r in rows:
            if r["model"] == "reference":
                continue
            graded_here = mb.mol in IONIC and str(r["model"]).startswith("ectem")
            dre = None if r["re_bohr"] is None or ref["re_bohr"] is None else r["re_bohr"] - ref["re_bohr"]
            dde = (None if r["de_hartree"] is None or not ref["de_hartree"]
                   else (r["de_hartree"] - ref["de_hartree"]) / ref["de_hartree"])
            why = "" if graded_here else ("baseline model" if not str(r["model"]).startswith("ectem")
                                          else "covalent bond: not expected to bind (docs/model.md)")
            out.append(row(f"Re vs reference ({r['model']})", mb.mol, dre,
                           f"|ΔRe| ≤ {RE_PASS_BOHR} bohr pass, ≤ {RE_WARN_BOHR} warn",
                           graded(abs(dre), RE_PASS_BOHR, RE_WARN_BOHR) if graded_here and dre is not None else "info",
                           f"ΔRe (bohr); {why}".rstrip("; ")))
            out.append(row(f"De vs reference ({r['model']})", mb.mol, dde,
                           f"|ΔDe|/De ≤ {DE_PASS_REL:g} pass, ≤ {DE_WARN_REL:g} warn",
                           graded(abs(dde), DE_PASS_REL, DE_WARN_REL) if graded_here and dde is not None else "info",
                           f"relative ΔDe; {why}".rstrip("; ")))
    cons = [mb for mb in mols if "consistency" in mb.tables]
    if not cons:
        why = "no molecules configured" if not configured and not mols else "no consistency.csv"
        out.append(row("density vs energy weights", "—", None, "", "not run", why))
    for mb in cons:
        vals = [(abs(r["disagreement"]), r["r_bohr"]) for r in mb.tables["consistency"] if r["disagreement"] is not None]
        if not vals:
            out.append(row("density vs energy weights", mb.mol, None, "", "not run", "no disagreement values"))
            continue
        worst, at = max(vals)
        out.append(row("density vs energy weights: max |disagreement|", mb.mol, worst,
                       f"≤ {CONSISTENCY_PASS} e pass, ≤ {CONSISTENCY_WARN} e warn",
                       graded(worst, CONSISTENCY_PASS, CONSISTENCY_WARN), f"at R = {at:g} bohr, {len(vals)} geometries"))
    return out


def provenance_checks(res, config_hash: str) -> list[dict]:
    bh = (res.bundle.get("provenance") or {}).get("config_hash")
    same = bh == config_hash
    return [row("bundle built with this config", res.set_name, "same hash" if same else "different hash",
                "config hash equal", "pass" if same else "warn",
                f"bundle {str(bh)[:12]}…, config {config_hash[:12]}…")]


def summary(rows: list[dict]) -> dict:
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts
