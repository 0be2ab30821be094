"""`ectem crystal BUNDLE FORMULA [FORMULA ...] [--structures S,..] [--models M,..] [--variant V] [--slab]
[--json] [--out DIR]`: relax crystals of a bundle's elements and fit their equations of state."""
from __future__ import annotations

import json
import sys

from ..errors import InputError


def register(sub) -> None:
    from ..crystals.energy import MODELS
    from ..crystals.structures import BINARY, ELEMENTAL
    from ..potential.model import VARIANTS

    p = sub.add_parser(
        "crystal", help="relaxed crystals and equations of state (rock salt, CsCl, zinc blende; bcc, fcc, hcp)",
        description="Relax each structure of each FORMULA (a 1:1 compound such as LiF, or an element such as Li) under "
                    "ECT-EAM (CPE weights in the periodic cell, Ewald Coulomb), plain EAM and QEq + EAM, and fit a "
                    "third-order Birch-Murnaghan equation of state over +-8 % in volume. Prints the lattice constant "
                    "(A), cohesive and lattice energies per formula unit (eV), bulk modulus (GPa) and charges, with "
                    "the experimental values where tabulated (ectem_core/data/crystals_experiment.csv).")
    p.add_argument("bundle", metavar="BUNDLE", help="bundle JSON (results/bundle/{set}.json) or name@version")
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="LiF, NaCl, LiH, Li, ...")
    p.add_argument("--structures", default=None, metavar="S,..",
                   help=f"structures to try (default: {','.join(BINARY)} for compounds, {','.join(ELEMENTAL)} for elements)")
    p.add_argument("--models", default=",".join(MODELS), metavar="M,..", help=f"models (default {','.join(MODELS)})")
    p.add_argument("--variant", choices=list(VARIANTS), default="pure", help="ECT-EAM variant (docs/model.md section 4)")
    p.add_argument("--slab", action="store_true", help="also the rock-salt (100) surface energy and layer charges")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=_cmd_crystal)


def _split(text, allowed, what):
    items = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if not items or bad:
        raise InputError(f"--{what}: {bad[0] if bad else text!r} is not allowed; use a comma-separated subset of "
                         f"{', '.join(allowed)}")
    return tuple(items)


def _cmd_crystal(args) -> int:
    from ..crystals.benchmark import run_crystals, split_formula
    from ..crystals.energy import MODELS, CrystalEnergy
    from ..crystals.structures import BINARY, ELEMENTAL
    from ..potential import load_potential

    pot = load_potential(args.bundle, variant=args.variant)
    elements = list(pot.index)
    compounds, metals = [], []
    for f in args.formulas:
        (compounds if len(split_formula(f, elements)) == 2 else metals).append(f)
    models = _split(args.models, MODELS, "models")
    binary, elemental = BINARY, ELEMENTAL
    if args.structures:
        chosen = _split(args.structures, BINARY + ELEMENTAL, "structures")
        binary = tuple(s for s in chosen if s in BINARY)
        elemental = tuple(s for s in chosen if s in ELEMENTAL)
        if (compounds and not binary) or (metals and not elemental):
            raise InputError("--structures: give at least one binary structure for a compound and one elemental "
                             f"structure for an element ({', '.join(BINARY)} / {', '.join(ELEMENTAL)})")
    progress = (lambda m: print(m, file=sys.stderr)) if not args.json else (lambda m: None)
    res = run_crystals(args.bundle, compounds, metals, models, args.variant, binary, elemental, progress)
    if args.slab:
        from ..crystals.slab import surface_energy

        res["slabs"] = []
        for r in res["rows"]:
            if r["status"] == "ok" and r["structure"] == "rocksalt":
                res["slabs"].append(surface_energy(CrystalEnergy(args.bundle, r["model"], args.variant), r["symbols"],
                                                   r["a0_angstrom"]))
    if args.json:
        print(json.dumps(res, indent=1, default=float))
        return 0
    print(f"{'formula':8s} {'structure':15s} {'model':6s} {'a0 (A)':>9s} {'E_coh (eV)':>11s} {'E_latt (eV)':>11s} "
          f"{'B (GPa)':>9s} {'q1':>7s}")
    for r in res["rows"]:
        if r["status"] != "ok":
            print(f"{r['formula']:8s} {r['structure']:15s} {r['model']:6s} {r['status']}: {r['reason']}")
            continue
        lat = r["lattice_energy_eV"]
        print(f"{r['formula']:8s} {r['structure']:15s} {r['model']:6s} {r['a0_angstrom']:9.4f} {r['cohesive_energy_eV']:11.4f} "
              f"{lat if lat is not None else float('nan'):11.4f} {r['B_GPa']:9.2f} {r['charges'][0]:+7.3f}")
    for f, e in res["experiment"].items():
        lat = e["lattice_energy_eV"]
        print(f"{f:8s} {e['structure']:15s} {'exp.':6s} {e['a0_angstrom']:9.4f} {e['cohesive_energy_eV']:11.4f} "
              f"{lat if lat is not None else float('nan'):11.4f} {e['B_GPa']:9.2f}  (sources: crystals_experiment.csv)")
    for s in res.get("slabs", []):
        print(f"{s['formula']}(100) {s['model']}: surface energy {s['surface_energy_J_per_m2']:.4f} J/m^2, outer layer "
              + ", ".join(f"{k} {v:+.3f}" for k, v in s["layer_charges"][0].items() if k.startswith("q_")))
    return 0
