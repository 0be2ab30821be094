"""The crystal stage of one element set (results/crystals/{set}/): the relaxed-structure benchmark
under every model, the rock-salt (100) surfaces, and the MD checks, written as

  crystals.json   everything (rows with their EOS points, ordering, experiment with sources, slabs, MD summaries)
  crystals.csv    one row per (formula, structure, model) with the experimental value next to it
  eos.png         E(V) per formula unit of every structure and model, Birch–Murnaghan fits drawn through
  md.png          total / potential energy and charges of the MD runs (a note when md is off)

Written at the end only (an interrupted run leaves earlier results intact)."""
from __future__ import annotations

from pathlib import Path

from ..io import provenance, write_csv, write_json
from .benchmark import run_crystals
from .energy import CrystalEnergy
from .experiment import experimental_crystals
from .settings import CrystalSettings

CSV_COLUMNS = ["formula", "structure", "model", "status", "a0_angstrom", "a0_exp_angstrom", "cohesive_energy_eV",
               "cohesive_exp_eV", "lattice_energy_eV", "lattice_exp_eV", "B_GPa", "B_exp_GPa", "B_prime",
               "nearest_neighbour_angstrom", "energy_above_lowest_eV", "charge_first_atom", "weights", "reason"]


def run_stage(bundle, elements, settings: CrystalSettings, out_dir, progress=print) -> dict:
    """Run the configured crystal benchmark, slabs and MD; write the files of the module docstring."""
    out = Path(out_dir)
    compounds, metals = settings.resolved(elements)
    result = run_crystals(bundle, compounds, metals, settings.models, settings.variant, settings.binary_structures,
                          settings.elemental_structures, progress)
    result["compounds"], result["elements"] = compounds, metals
    best = {(r["formula"], r["model"]): r for r in result["rows"] if r["status"] == "ok" and r["structure"] == "rocksalt"}
    result["slabs"] = []
    if settings.slab and "rocksalt" in settings.binary_structures:
        from .slab import surface_energy

        for m in settings.models:
            ce = CrystalEnergy(bundle, m, settings.variant)
            for f in compounds:
                row = best.get((f, m))
                if row is None:
                    continue
                progress(f"slab {f}(100) {m} at a0 = {row['a0_angstrom']:.4f} A")
                result["slabs"].append(surface_energy(ce, _symbols(row), row["a0_angstrom"]))
    result["md"] = {"crystal": [], "dissociation": []}
    if settings.md:
        from .md import crystal_nve, dissociation

        for f in compounds:
            row = best.get((f, "ectem"))
            if row is None:
                continue
            t_melt = (experimental_crystals().get(f) or {}).get("melting_K") or 1000.0 / 0.9
            for T in (300.0, round(0.9 * t_melt)):
                progress(f"MD {f} 64 atoms NVE at {T:.0f} K, {settings.md_steps} steps of {settings.md_dt_fs} fs")
                run = crystal_nve(bundle, _symbols(row), row["a0_angstrom"], T, settings.md_steps, settings.md_dt_fs,
                                  variant=settings.variant)
                result["md"]["crystal"].append(run)
            progress(f"MD {f} molecule dissociating (2 eV above the bond energy)")
            result["md"]["dissociation"].append(dissociation(bundle, _symbols(row), None, 2.0, variant=settings.variant))
    result["provenance"] = provenance()
    from .plots import plot_eos, plot_md

    write_json(out / "crystals.json", result)
    write_csv(out / "crystals.csv", CSV_COLUMNS, csv_rows(result))
    plot_eos(result, out / "eos.png")
    plot_md(result, out / "md.png")
    return result


def _symbols(row) -> list:
    return list(row["symbols"])


def csv_rows(result) -> list:
    exp = result.get("experiment", {})
    lowest = {(f, m): dict(lst) for f, per in result["ordering"].items() for m, lst in per.items()}
    rows = []
    for r in result["rows"]:
        e = exp.get(r["formula"]) or {}
        same = e.get("structure") == r["structure"]
        ok = r["status"] == "ok"
        rows.append([r["formula"], r["structure"], r["model"], r["status"],
                     r.get("a0_angstrom"), e.get("a0_angstrom") if same else None,
                     r.get("cohesive_energy_eV"), e.get("cohesive_energy_eV") if same else None,
                     r.get("lattice_energy_eV"), e.get("lattice_energy_eV") if same else None,
                     r.get("B_GPa"), e.get("B_GPa") if same else None, r.get("B_prime"),
                     r.get("nearest_neighbour_angstrom"),
                     lowest.get((r["formula"], r["model"]), {}).get(r["structure"]) if ok else None,
                     r["charges"][0] if ok else None,
                     " ".join(f"{k}={v:.4g}" for w in r["weights"] for k, v in w.items()) if ok else "",
                     r.get("reason", "")])
    return rows

