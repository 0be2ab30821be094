"""build_report: the validation report of one element set, as one self-contained HTML file
(inline CSS, figures as base64 PNG, no network) and a PDF rendered from the same HTML (by the
typst wheel by default, or by headless Chromium; pdf.py). Reads
results/{atoms,fits,embedding,bundle,benchmarks,crystals,tune} under a workdir;
computes the potential's diatomic curves itself. Units: hartree and bohr in tables (eV where
a column says so)."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import yaml

from ... import __version__
from ... import elements as _el
from ...elements import BOHR_ANGSTROM, HARTREE_EV
from ...io import atomic_path, canonical_hash
from . import checks as C
from . import html as H
from .collect import config_with_defaults, curve_models, load_benchmarks, load_results
from .crystals import crystal_checks, crystals_section, load_crystals
from .curves import ScanGrid, heteronuclear_pairs, pair_curves
from .figures import benchmark_curves_figure, consistency_figure, pair_figure, stage_figure
from .pdf import DEFAULT_RENDERER, check_renderer, render_pdf
from .tune import load_tune, tune_checks, tune_section

SECTIONS = [("verdict", "1. Verdict"), ("summary", "2. Run summary and provenance"), ("states", "3. Atomic states"),
            ("fits", "4. Density fits"), ("embedding", "5. Embedding concordance"), ("potential", "6. The potential"),
            ("benchmarks", "7. Dissociation and charge benchmarks"), ("crystals", "8. Crystals"),
            ("tune", "9. Tuned potential")]
NOT_RUN = "not run (no molecules configured)"


def potential_options(config: dict) -> tuple[list[str], dict]:
    """Variants and model options of the report's scans from config['potential']."""
    from ...potential.settings import settings_from_config

    pot = settings_from_config(config)
    return list(pot.variants), pot.options()


# ------------------------------------------------------------------------------ sections

def verdict_section(rows: list[dict]) -> str:
    counts = C.summary(rows)
    badges = "".join(f'<span class="{k.replace(" ", "-")}">{k}: {counts[k]}</span>'
                     for k in ("pass", "warn", "fail", "info", "not run") if k in counts)
    trs = [[r["check"], r["item"], r["value"] if isinstance(r["value"], (int, float)) else H.fmt(r["value"]),
            r["threshold"], H.status_cell(r["status"]), r["note"]] for r in rows]
    return (f'<div class="summary">{badges}</div>'
            + H.table(["check", "item", "value", "threshold", "status", "detail"], trs, "verdict-table", digits=4)
            + H.para("Statuses: pass / warn / fail against the stated threshold; info = shown without a "
                     "threshold; not run = the data do not exist. Energies in hartree unless marked eV."))


def _stage_walls(res) -> list[list]:
    rows = []
    for stage, store in (("atoms (QM)", {el: res.atoms[el] for el in res.elements}),
                         ("fits", {el: list(res.fits[el].values()) for el in res.elements}),
                         ("embedding", {el: list(res.embedding[el].values()) for el in res.elements})):
        walls = [(float(r.get("wall_s") or 0.0), r["state_id"]) for recs in store.values() for r in recs]
        if walls:
            total = sum(w for w, _ in walls)
            worst = max(walls)
            rows.append([stage, len(walls), total, worst[0], worst[1]])
    return rows


def _snakemake_benchmarks(workdir: Path) -> list[list]:
    """Snakemake `benchmark:` files (TSV with a column 's'), if the workflow wrote any."""
    import csv

    rows = []
    for p in sorted((workdir / "benchmarks").rglob("*.tsv")) if (workdir / "benchmarks").is_dir() else []:
        try:
            with open(p) as fh:
                recs = list(csv.DictReader(fh, delimiter="\t"))
            if recs and "s" in recs[0]:
                rows.append([str(p.relative_to(workdir)), float(recs[-1]["s"]),
                             float(recs[-1].get("max_rss") or "nan") if recs[-1].get("max_rss") not in (None, "-") else None])
        except (OSError, ValueError):
            continue
    return rows


def summary_section(res, config: dict, config_hash: str, built_utc: str) -> str:
    b = res.bundle
    lv = b.get("levels") or {}

    def level(d):
        if not d:
            return "—"
        return f"{d.get('method')}/{d.get('basis')}" + (" (frozen core)" if d.get("frozen_core") else "")

    prov = b.get("provenance") or {}
    facts = [["element set", res.set_name], ["elements", ", ".join(res.elements)],
             ["ectem (report)", __version__], ["ectem (bundle)", prov.get("ectem", "—")],
             ["energy level", level(lv.get("energy"))], ["density level", level(lv.get("density"))],
             ["bundle", f"{b.get('name')} version {b.get('version')}"], ["bundle file", str(res.bundle_path)],
             ["parameters_sha256", b.get("parameters_sha256", "—")],
             ["config hash (this config)", config_hash], ["config hash (bundle)", prov.get("config_hash", "—")],
             ["bundle created", f"{prov.get('created_utc', '—')} on {prov.get('host', '—')}"],
             ["report built", built_utc]]
    body = H.table(["item", "value"], facts, "provenance-table")
    body += "<h3>Wall times</h3>" + H.table(["stage", "records", "total wall_s (s)", "slowest (s)", "slowest state"],
                                            _stage_walls(res), "walltime-table", digits=4)
    body += H.para("From the wall_s field of every record (per-job compute time; the Snakemake scheduling "
                   "overhead is not included).")
    bench = _snakemake_benchmarks(res.workdir)
    if bench:
        body += H.table(["Snakemake benchmark file", "s", "max_rss (MB)"], bench, "snakemake-benchmarks")
    body += "<h3>Configuration</h3>" + H.pre(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return body


def states_section(res) -> str:
    body = ""
    for el in res.elements:
        ip_ref = _el.experimental_ip_ev(el)
        ea_ref = _el.experimental_ea_ev(el)
        rows, excluded = [], []
        for r in res.atoms[el]:
            ip = r.get("ionization_energy_hartree")
            ip_ev = ip * HARTREE_EV if ip is not None else None
            ref, what = None, ""
            if r["charge"] == 0 and not r.get("label"):
                ref, what = ip_ref, "IP"
            elif r["charge"] == -1 and not r.get("label"):
                ref, what = ea_ref, "EA"
            exc = r.get("excitation_energy_hartree")
            rows.append([r["state_id"], r.get("role", "state"), r["charge"], r["n_electrons"], r.get("term", ""),
                         r["energy_hartree"], r.get("delta_e_hartree"), r["delta_e_hartree"] * HARTREE_EV
                         if r.get("delta_e_hartree") is not None else None,
                         f"{what} {ip_ev:.4f}" if ip_ev is not None and what else (
                             f"{ip_ev:.4f}" if ip_ev is not None else "—"),
                         ref, (ip_ev - ref) if ref is not None and ip_ev is not None else None,
                         exc * HARTREE_EV if exc is not None else None, r.get("status", "")])
            if r.get("status") == "excluded":
                excluded.append([r["state_id"], r.get("reason", "")])
        body += f"<h3>{H.esc(el)}</h3>" + H.table(
            ["state", "role", "charge", "N", "term", "energy (Ha)", "ΔE (Ha)", "ΔE (eV)",
             "own IP/EA (eV)", "reference (eV)", "Δ vs reference (eV)", "excitation (eV)", "status"],
            rows, f"states-{el}", digits=10)
        if excluded:
            body += H.table(["excluded state", "reason"], excluded, f"excluded-{el}")
        else:
            body += H.para(f"{el}: no state excluded.")
    body += H.para("ΔE = E − E(neutral ground state) at the energy level (exact −Z²/2 for one-electron ions in "
                   "derived energies). Own IP/EA: the state's own first ionization energy (for anions the electron "
                   "affinity of the neutral). References: NIST ASD ionization energies; electron affinities from "
                   "Rienstra-Kiracofe et al., Chem. Rev. 102, 231 (2002). The H reference includes the reduced-mass "
                   "effect (13.5984 eV), the computed value does not (13.6057 eV).")
    return body


def fits_section(res) -> str:
    rows = []
    for el in res.elements:
        for sid, f in res.fits[el].items():
            m = f.get("metrics", {})
            rows.append([sid, f.get("status", ""), m.get("n_terms"), m.get("n_fit"), m.get("n_error"),
                         m.get("cusp_ratio"), m.get("rdf_residual"), m.get("rho0"), m.get("rho0_qm"),
                         m.get("rho0_rel_diff_vs_qm"), f.get("kappa"), f.get("beta"),
                         m.get("tail_ratio_variation_15_30"), m.get("tail_test_passed")])
    body = H.table(["state", "status", "terms", "N_fit", "N error", "cusp ratio", "RDF residual", "ρ(0) fit",
                    "ρ(0) QM", "ρ(0) rel. diff", "κ (bohr⁻¹)", "β", "tail variation 15–30", "tail test"],
                   rows, "fits-table", digits=6)
    body += H.para("Constrained Slater fits (docs/model.md §2): N and the Kato cusp are imposed exactly; RDF residual "
                   "= ∫(D_fit − D)² dr / ∫D² dr with D = 4πr²ρ̄; κ = √(2I) from the state's own ionization energy. "
                   "Gaussian-basis densities have no cusp, so ρ(0) of the fit (cusp imposed) is expected to exceed "
                   "the QM value by a few per cent.")
    for el in res.elements:
        body += H.png_figure(stage_figure("fits", el, res),
                             f"{el}: radial distribution 4πr²ρ̄, QM (thick) vs fit (dashed), and the density tail with "
                             "the imposed asymptote r^{2β}e^{−2κr} (dotted).", f"{el} density fits", f"fig-fits-{el}")
    return body


def embedding_section(res) -> str:
    rows = []
    for el in res.elements:
        for sid, e in res.embedding[el].items():
            w = e.get("window") or {}
            rows.append([sid, e.get("form", ""), e.get("a"), e.get("lambda"), e.get("A_Ec_hartree"), e.get("rho0_bar"),
                         e.get("F_min_hartree"), e.get("parity_rel_rms"), w.get("rho_lo"), w.get("rho_hi"),
                         e.get("form_reason") or e.get("reason", "")])
    body = H.table(["state", "form", "a", "λ", "A·E_c (Ha)", "ρ̄₀ (bohr⁻³)", "F_min (Ha)", "parity residual",
                    "window ρ̄ lo", "window ρ̄ hi", "why this form"], rows, "embedding-table", digits=5)
    body += H.para("Daw (LDA + λ·von Weizsäcker) curve brought into concordance with the Baskes form "
                   "A·E_c(ρ̄/ρ̄₀)ln(ρ̄/ρ̄₀); where the parity residual exceeds the tolerance the state uses a "
                   "spline of the Daw curve and is flagged (docs/embedding.md). F carries no electrostatics.")
    for el in res.elements:
        body += H.png_figure(stage_figure("embedding", el, res),
                             f"{el}: embedding functions (solid), nominal Daw curve (dotted), Baskes fit (dashed), "
                             "bonding-window bars; right: Baskes vs Daw parity at the window points.",
                             f"{el} embedding functions", f"fig-embedding-{el}")
    return body


def potential_section(curves, variants, options, grid: ScanGrid) -> str:
    if not curves:
        return H.para("No heteronuclear pair scanned (the element set has a single element, or no pair was requested).")
    body = H.para(f"Global CPE minimum at every R (potential.cpe.solve; rows as potential.scan.scan) for the "
                  f"variants {', '.join(variants)} (resonance η = {options['eta']:g} Ha; thermal with its default "
                  f"options), plain EAM (neutral ground states only) and QEq (Rappé–Goddard published "
                  f"parameters); background {options['background']}, bare proton "
                  f"{'on' if options['proton'] else 'off'}; R from {grid.r_min:g} to {grid.r_max:g} bohr "
                  f"({grid.n_inner} points up to {grid.r_mid:g} bohr, {grid.n_outer} beyond). Re and De from a "
                  "parabola through the lowest point and its neighbours ('grid end': the lowest point is the first or "
                  "last R of the scan, so the curve has no minimum inside it).")
    rows = []
    for pc in curves:
        for m, sp in pc.spectro.items():
            lim = pc.limit[m]
            re = f"{sp['re_bohr']:.5g} (grid end)" if sp["at_grid_end"] else sp["re_bohr"]
            rows.append([pc.pair, m, re, sp["de_hartree"], sp["de_hartree"] * HARTREE_EV, sp["q_A_at_re"],
                         lim["r_bohr"], lim["binding_hartree"], lim["q_A"],
                         pc.switch_bohr.get(m) if m in pc.switch_bohr else None])
    body += H.table(["pair", "model", "Re (bohr)", "De (Ha)", "De (eV)", "q_A at Re", "R limit (bohr)",
                     "E(R limit) (Ha)", "q_A(R limit)", "switch R (bohr)"], rows, "potential-table", digits=5)
    srows = [[pc.pair, pc.ct_label or "—", pc.gap_hartree, pc.r_c_bohr,
              *[pc.switch_bohr.get(f"ectem_{v}") for v in variants]] for pc in curves]
    body += "<h3>Charge switch vs diabatic crossing</h3>" + H.table(
        ["pair", "CT configuration", "IP_donor − EA_acceptor (Ha)", "R_c = 1/gap (bohr)",
         *[f"switch ectem_{v} (bohr)" for v in variants]], srows, "switch-table", digits=5)
    body += H.para("Switch: the largest R at which |q_A| = 1/2 (bisection with global CPE solves to 0.02 bohr). "
                   "R_c is where the Coulomb attraction −1/R of point ions equals the charge-transfer gap; the "
                   "pure model switches abruptly at about R_c, the coupled variants smoothly.")
    for pc in curves:
        body += f"<h3>{H.esc(pc.pair)}</h3>" + H.png_figure(
            pair_figure(pc),
            f"{pc.pair}. Top: binding energy, charge on {pc.a}, and 'surface hopping without hops': the diabatic "
            f"curves of the vertex configurations (every atom in one state, weights fixed; dashed) with the CPE "
            f"adiabatic curve of each variant on top, coloured by the weight of {pc.ct_label or 'the CT configuration'}. "
            "Dotted vertical line: R_c. Bottom: ensemble weights vs R per variant.",
            f"{pc.pair} potential curves", f"fig-pair-{pc.pair}")
    return body


def _experiment(name: str):
    """The Huber-Herzberg row of a molecule name, or None (unknown name or not tabulated)."""
    from ...errors import InputError
    from ...molecules.diatomics import experiment, parse_name

    try:
        return experiment(*parse_name(name))
    except InputError:
        return None


def benchmarks_section(mols, sensitivity, configured) -> str:
    """Section 7 from the benchmark CSVs; says 'not run' when there are none (never invents numbers)."""
    if not mols and sensitivity is None:
        if configured:
            return H.para(f"not run (molecules configured: {', '.join(configured)}; no benchmark CSVs under "
                          "results/benchmarks/ yet)")
        return H.para(NOT_RUN)
    body = ""
    missing = [m for m in configured if m not in {mb.mol for mb in mols}]
    if missing:
        body += H.para(f"configured but without benchmark CSVs: {', '.join(missing)}")
    unavailable = [[mb.mol, mb.unavailable] for mb in mols if mb.unavailable is not None]
    if unavailable:
        body += "<h3>Molecules without a QM reference</h3>" + H.table(
            ["molecule", "why the reference could not be made at the configured level"], unavailable,
            "unavailable-molecules")
    for mb in mols:
        if mb.unavailable is not None:
            continue
        body += f"<h3>{H.esc(mb.mol)}</h3>"
        t = mb.tables
        if "spectroscopic" in t:
            rows = [[r["model"], r["re_bohr"], r["de_hartree"],
                     r["de_hartree"] * HARTREE_EV if r["de_hartree"] is not None else None,
                     r["we_cm1"], r["limit_hartree"], r["q_A_at_re"]] for r in t["spectroscopic"]]
            exp = _experiment(mb.mol)
            if exp is not None:
                de = exp.de_ev
                rows.append(["experiment (Huber–Herzberg; De = D0 + ωe/2)", exp.re_angstrom / BOHR_ANGSTROM,
                             de / HARTREE_EV if de is not None else None, de, exp.we_cm1, None, None])
            body += H.table(["model", "Re (bohr)", "De (Ha)", "De (eV)", "ωe (cm⁻¹)", "limit (Ha)", "q_A at Re"],
                            rows, f"spectroscopic-{mb.mol}", digits=6)
        if "curves" in t:
            models = curve_models(t["curves"])
            body += H.png_figure(benchmark_curves_figure(mb.mol, t["curves"], models),
                                 f"{mb.mol}: binding energy vs the reference curve, and q_A, for "
                                 f"{', '.join(models) or 'no model'} (from curves.csv).",
                                 f"{mb.mol} dissociation curves", f"fig-bench-{mb.mol}")
            cols = ["r_bohr", "binding_ref_hartree"] + [f"binding_{m}_hartree" for m in models]
            body += H.table(cols, [[r.get(c) for c in cols] for r in t["curves"]], f"curves-{mb.mol}", digits=6)
        if "charges" in t:
            rows = [[r["r_bohr"], r["method"], r["q_A"], r["q_B"]] for r in t["charges"]]
            body += H.table(["R (bohr)", "method", "q_A (e)", "q_B (e)"], rows, f"charges-{mb.mol}", digits=5)
        if "consistency" in t:
            body += H.png_figure(consistency_figure(mb.mol, t["consistency"]),
                                 f"{mb.mol}: charges from density-fitted weights, CPE weights and energy-fitted "
                                 "weights (regularized toward CPE), and their disagreement per geometry.",
                                 f"{mb.mol} consistency", f"fig-consistency-{mb.mol}")
            cols = ["r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit", "disagreement", "fit_residual",
                    "condition_number", "regularization", "distance_from_cpe"]
            body += H.table(cols, [[r.get(c) for c in cols] for r in t["consistency"]], f"consistency-{mb.mol}",
                            digits=5)
    if sensitivity is not None:
        rows = [[r["option"], r["value"], r["mol"], r["re_bohr"], r["de_hartree"],
                 r["de_hartree"] * HARTREE_EV if r["de_hartree"] is not None else None, r["q_A_at_re"]]
                for r in sensitivity]
        body += "<h3>Sensitivity</h3>" + H.table(["option", "value", "molecule", "Re (bohr)", "De (Ha)", "De (eV)",
                                                 "q_A at Re"], rows, "sensitivity-table", digits=6)
    return body


# ------------------------------------------------------------------------------ build

def render_report(workdir, config: dict, grid: ScanGrid | None = None, pairs: list[str] | None = None) -> str:
    """The report's HTML text (no files written)."""
    grid = grid or ScanGrid()
    res = load_results(workdir, config)
    config = config_with_defaults(config)  # as the pipeline hashed it (Snakemake fills schema defaults)
    mols, sensitivity, configured = load_benchmarks(workdir, config)
    variants, options = potential_options(config)
    config_hash = canonical_hash(config)
    pairs = heteronuclear_pairs(res.bundle) if pairs is None else pairs
    curves = [pair_curves(str(res.bundle_path), p, variants, grid, options) for p in pairs]
    crystals = load_crystals(workdir, res.set_name)
    tuned = load_tune(workdir, res.set_name)
    verdict = (C.fit_checks(res) + C.ip_ea_checks(res) + C.embedding_checks(res) + C.limit_checks(curves)
               + C.benchmark_checks(mols, configured) + C.switch_checks(curves) + crystal_checks(crystals) + tune_checks(tuned)
               + C.provenance_checks(res, config_hash))
    built = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    bodies = {"verdict": verdict_section(verdict),
              "summary": summary_section(res, config, config_hash, built),
              "states": states_section(res), "fits": fits_section(res), "embedding": embedding_section(res),
              "potential": potential_section(curves, variants, options, grid),
              "benchmarks": benchmarks_section(mols, sensitivity, configured),
              "crystals": crystals_section(crystals, workdir, res.set_name),
              "tune": tune_section(tuned, workdir, res.set_name)}
    body = "".join(H.section(i, t, bodies[i]) for i, t in SECTIONS)
    lv = (res.bundle.get("levels") or {}).get("energy") or {}
    sub = (f"element set {res.set_name} ({', '.join(res.elements)}); bundle {res.bundle.get('name')} "
           f"{res.bundle.get('version')}; {lv.get('method', '?')}/{lv.get('basis', '?')}; ectem {__version__}; "
           f"built {built}")
    return H.document(f"ectem validation report: {res.set_name}", sub, SECTIONS, body)


def build_report(workdir, config: dict, out_html, out_pdf=None, grid: ScanGrid | None = None,
                 pairs: list[str] | None = None, pdf_renderer: str = DEFAULT_RENDERER) -> None:
    """Write the HTML report and (unless out_pdf is None) its PDF, rendered by pdf_renderer
    (typst, chromium or auto; pdf.render_pdf); both appear together or not at all (temp files +
    rename). InputError for missing/malformed inputs, an unknown renderer, a requested Chromium
    that is not installed (checked before the report is computed) or a failed PDF render."""
    if out_pdf is not None:
        pdf_renderer = check_renderer(pdf_renderer)
    text = render_report(workdir, config, grid=grid, pairs=pairs)
    with atomic_path(out_html) as tmp_html:
        tmp_html.write_text(text, encoding="utf-8")
        if out_pdf is not None:
            with atomic_path(out_pdf) as tmp_pdf:
                render_pdf(tmp_html, tmp_pdf, pdf_renderer, what=f"the PDF report {out_pdf}")
