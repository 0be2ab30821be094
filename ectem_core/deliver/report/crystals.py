"""Report section 8 and its verdict rows: the crystal stage (results/crystals/{set}/crystals.json),
model against experiment with the source of each number, structure ordering, (100) surfaces and MD.
Says 'not run' when the stage did not run; never invents numbers."""
from __future__ import annotations

from pathlib import Path

from ... import layout as L
from ...io import read_json
from . import html as H
from .checks import graded, row

A0_PASS, A0_WARN = 0.03, 0.06          # relative lattice-constant error
ECOH_PASS, ECOH_WARN = 0.05, 0.10      # relative cohesive-energy error
B_PASS, B_WARN = 0.20, 0.50            # relative bulk-modulus error
MD_PASS, MD_WARN = 0.01, 0.05          # std(E_tot) / std(E_kin) of NVE
_SOURCES = {
    "kittel-ah": "Kittel, Introduction to Solid State Physics, 8th ed., alkali-halide table",
    "kittel-el": "Kittel, 8th ed., tables of the elements (ch. 1, 3)",
    "janaf": "standard enthalpies of formation, CODATA / NIST-JANAF (298 K)",
    "born-haber": "Born–Haber: cohesive energy + IP − EA",
    "loubeyre98": "Loubeyre et al., Phys. Rev. B 57, 10403 (1998)",
    "crc": "CRC Handbook of Chemistry and Physics",
}


def load_crystals(workdir, set_name: str) -> dict | None:
    path = Path(workdir) / L.crystal_file(set_name, "crystals.json")
    return read_json(path, "crystal results") if path.exists() else None


def _rel(x, ref):
    return None if x is None or not ref else (x - ref) / ref


def crystal_checks(result) -> list[dict]:
    if result is None:
        return [row("crystals vs experiment", "—", None, "", "not run", "crystal stage not run")]
    out = []
    exp = result.get("experiment", {})
    for r in result["rows"]:
        e = exp.get(r["formula"])
        if r["model"] != "ectem" or not e or e["structure"] != r["structure"]:
            continue
        if r["status"] != "ok":
            out.append(row("crystal a0 vs experiment", f"{r['formula']} {r['structure']}", None, "", "fail", r["reason"]))
            continue
        for name, key, lim in (("a0", "a0_angstrom", (A0_PASS, A0_WARN)), ("E_coh", "cohesive_energy_eV", (ECOH_PASS, ECOH_WARN)),
                               ("B", "B_GPa", (B_PASS, B_WARN))):
            d = _rel(r.get(key), e.get(key))
            if d is None:
                continue
            out.append(row(f"crystal {name} vs experiment (ectem)", f"{r['formula']} {r['structure']}", d,
                           f"|rel| ≤ {lim[0]:g} pass, ≤ {lim[1]:g} warn", graded(abs(d), *lim),
                           f"{r[key]:.4g} vs {e[key]:.4g} ({e[key + '_source']})"))
    for run in (result.get("md") or {}).get("crystal", []):
        out.append(row("NVE energy conservation", f"{run['formula']} {run['atoms']} atoms {run['temperature_target_K']:.0f} K",
                       run["conservation_ratio"], f"std(E_tot)/std(E_kin) ≤ {MD_PASS} pass, ≤ {MD_WARN} warn",
                       graded(run["conservation_ratio"], MD_PASS, MD_WARN),
                       f"{run['steps']} steps of {run['dt_fs']} fs; drift {run['e_tot_drift_eV_per_atom']:.2e} eV/atom"))
    for run in (result.get("md") or {}).get("dissociation", []):
        out.append(row("dissociation MD: q → 0", run["molecule"], run["q_final"], "|q| ≤ 1e-6 pass",
                       graded(abs(run["q_final"]), 1e-6), f"at R = {run['R_final_angstrom']:.2f} Å; E_tot range "
                       f"{run['e_tot_range_eV']:.2e} eV with E_kin(0) = {run['e_kin_initial_eV']:.2f} eV"))
    if not out:
        out.append(row("crystals vs experiment", "—", None, "", "info", "no tabulated crystal in this set"))
    return out


def crystals_section(result, workdir, set_name: str) -> str:
    if result is None:
        return H.para("not run (crystals.enabled is false, or the crystal stage has not run yet)")
    if not result["rows"]:
        return H.para("no crystal of this element set: no alkali/alkaline-earth compound with H, a halogen or a "
                      "chalcogen, and no metal (set crystals.compounds / crystals.elements to choose)")
    body = H.para(f"Every structure relaxed (cubic: E(a) minimized; hcp at the ideal c/a) under ECT-EAM ({result['variant']}), "
                  "plain EAM (all atoms neutral) and QEq + EAM (Rappé–Goddard QEq charges on top of the plain-EAM "
                  "repulsion), then a third-order Birch–Murnaghan fit over ±8 % in volume. Energies per formula unit, "
                  "against the neutral atoms (cohesive) and the free ions with the bundle's own IP and EA (lattice). "
                  "Periodic Coulomb by Ewald summation (docs/periodic.md).")
    exp = result.get("experiment", {})
    rows = []
    for r in result["rows"]:
        if r["status"] != "ok":
            rows.append([r["formula"], r["structure"], r["model"], H.status_cell("fail"), None, None, None, None, None, None,
                         r.get("reason", "")])
            continue
        w = "; ".join(", ".join(f"{k} {v:.3g}" for k, v in a.items()) for a in r["weights"])
        note = w + ("; " + r["note"] if r.get("note") else "")
        rows.append([r["formula"], r["structure"], r["model"], "ok", r["a0_angstrom"], r["cohesive_energy_eV"],
                     r.get("lattice_energy_eV"), r["B_GPa"], r["B_prime"], r["charges"][0], note])
    keys = ("a0_angstrom", "B_GPa", "cohesive_energy_eV", "lattice_energy_eV")
    for f, e in exp.items():
        sources = "; ".join(sorted({_SOURCES.get(e[k + "_source"], e[k + "_source"]) for k in keys if e.get(k + "_source")}))
        rows.append([f, e["structure"], "experiment", "", e["a0_angstrom"], e["cohesive_energy_eV"], e.get("lattice_energy_eV"),
                     e["B_GPa"], None, None, sources])
    body += H.table(["formula", "structure", "model", "status", "a0 (Å)", "E_coh (eV)", "lattice energy (eV)", "B (GPa)",
                     "B′", "q (first atom)", "weights / notes"], rows, "crystals-table", digits=4)
    order = [[f, m, ", ".join(f"{s} {d:+.3f}" for s, d in lst)]
             for f, per in result["ordering"].items() for m, lst in per.items()]
    body += "<h3>Structure ordering</h3>" + H.table(["formula", "model", "structures, E − E_lowest (eV per formula unit)"],
                                                    order, "crystal-ordering")
    d = Path(workdir)
    for name, cap in (("eos.png", "Equations of state: E(V) per formula unit, points and Birch–Murnaghan fits; grey line: "
                                  "experimental volume"),
                      ("md.png", "NVE energies per atom of the 64-atom rock-salt cells, and the dissociating molecule's "
                                 "charge and total energy against the bond length")):
        p = d / L.crystal_file(set_name, name)
        if p.exists():
            body += H.png_figure(p.read_bytes(), cap, cap.split(":")[0], f"fig-crystal-{name[:-4]}")
    if result.get("slabs"):
        def charges(d):
            return ", ".join(f"{k} {v:+.4f}" for k, v in d.items() if k.startswith("q_") or len(k) <= 2)

        body += "<h3>(100) surfaces</h3>" + H.table(
            ["formula", "model", "a0 (Å)", "layers", "atoms", "γ (J/m²)", "γ (eV/Å²)", "outer-layer charges", "bulk charges"],
            [[s["formula"], s["model"], s["a0_angstrom"], s["layers"], s["atoms"], s["surface_energy_J_per_m2"],
              s["surface_energy_eV_per_A2"], charges(s["layer_charges"][0]), charges(s["bulk_charges"])]
             for s in result["slabs"]], "crystal-slabs", digits=4)
    md = result.get("md") or {}
    if md.get("crystal"):
        body += "<h3>Molecular dynamics (NVE)</h3>" + H.table(
            ["formula", "atoms", "T target (K)", "⟨T⟩ (K)", "steps × dt (fs)", "std E_tot (eV/atom)", "drift (eV/atom)",
             "std E_kin (eV/atom)", "ratio", "q range", "s per step"],
            [[r["formula"], r["atoms"], r["temperature_target_K"], r["temperature_mean_K"], f"{r['steps']} × {r['dt_fs']}",
              r["e_tot_std_eV_per_atom"], r["e_tot_drift_eV_per_atom"], r["e_kin_std_eV_per_atom"], r["conservation_ratio"],
              f"{r['q_range'][0]:+.3f} … {r['q_range'][1]:+.3f}", r["seconds_per_step"]] for r in md["crystal"]],
            "crystal-md", digits=4)
    if md.get("dissociation"):
        body += H.table(["molecule", "variant", "E_kin(0) (eV)", "E_tot range (eV)", "final R (Å)", "final q", "dt (fs)"],
                        [[r["molecule"], r["variant"], r["e_kin_initial_eV"], r["e_tot_range_eV"], r["R_final_angstrom"],
                          r["q_final"], r["dt_fs"]] for r in md["dissociation"]], "crystal-dissociation", digits=4)
    return body
