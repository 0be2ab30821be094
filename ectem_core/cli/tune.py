"""`ectem tune BUNDLE --molecules M,.. [--results DIR] [--parameters K,..] [--combining C] [--clusters F ..]
[--no-leave-one-out] [--out DIR] [--json]`: fit the tuning parameters of an atoms-only bundle to QM
reference curves and write the tuned bundle (the workflow's tune stage, docs/tune.md)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError


def register(sub) -> None:
    from ..tune.terms import COMBINING, KINDS

    p = sub.add_parser(
        "tune", help="fit a few physical parameters to QM binding curves; write a tuned bundle",
        description="Fit the neutral ground states' background scales and the bond strengths of the neutral-overlap "
                    "bond term (docs/model.md section 5) of an atoms-only BUNDLE to the QM reference curves of "
                    "--molecules (results/molecules/{mol}/ under --results, made by the workflow's molecule_reference "
                    "rule), by regularized least squares under priors centred on the atoms-only values; refit with "
                    "each molecule left out; evaluate held-out cluster references. Writes {out}/{set}.json, "
                    "{out}/{set}.png and the tuned bundle {out}/{set}-tuned.json; prints a summary (or --json).")
    p.add_argument("bundle", metavar="BUNDLE", help="atoms-only bundle JSON (results/bundle/{set}.json)")
    p.add_argument("--molecules", required=True, metavar="M,..", help="training diatomics, e.g. H2,HF,LiF")
    p.add_argument("--results", default="results", metavar="DIR", help="the run's results directory (default results)")
    p.add_argument("--parameters", default="beta0,K", metavar="K,..",
                   help=f"parameter kinds, a subset of {','.join(KINDS)} (default beta0,K)")
    p.add_argument("--combining", choices=list(COMBINING), default="geometric",
                   help="bond strength per element combined as sqrt(K_A K_B) (default), or one per element pair")
    p.add_argument("--clusters", nargs="*", default=[], metavar="FILE",
                   help="held-out cluster references (results/clusters/{name}.json)")
    p.add_argument("--no-leave-one-out", action="store_true", help="skip the leave-one-molecule-out refits")
    p.add_argument("--out", default="results/tune", metavar="DIR", help="output directory (default results/tune)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=_cmd_tune)


def _cmd_tune(args) -> int:
    from ..molecules.diatomics import parse_name
    from ..potential.bundle import load_bundle
    from ..tune.settings import settings_from_config
    from ..tune.stage import run_stage

    names = [m.strip() for m in args.molecules.split(",") if m.strip()]
    if not names:
        raise InputError("--molecules: give at least one training molecule, e.g. H2,HF")
    mols = []
    for m in names:
        a, b = parse_name(m)
        d = Path(args.results) / "molecules" / m
        if not (d / "reference.json").is_file():
            raise InputError(f"--molecules {m}: no QM reference at {d}/reference.json (run the workflow's "
                             f"molecule_reference rule for {m}, or point --results at the run's results)")
        mols.append((m, a, b, str(d)))
    for f in args.clusters:
        if not Path(f).is_file():
            raise InputError(f"--clusters: {f} does not exist")
    bundle = load_bundle(args.bundle)
    settings = settings_from_config({"tune": {"parameters": [k.strip() for k in args.parameters.split(",") if k.strip()],
                                              "combining": args.combining,
                                              "leave_one_out": not args.no_leave_one_out}})
    set_name = str(bundle["name"])
    out = Path(args.out)
    progress = (lambda m: print(m, file=sys.stderr)) if not args.json else (lambda m: None)
    res = run_stage(args.bundle, set_name, mols, list(bundle["elements"]), settings, out / f"{set_name}.json",
                    out / f"{set_name}-tuned.json", out / f"{set_name}.png", args.clusters, progress=progress)
    if args.json:
        print(json.dumps(res, indent=1, default=float))
        return 0
    print(f"tuned bundle {out / (set_name + '-tuned.json')} (parameters_sha256 {res['tuned_parameters_sha256'][:16]}…)")
    print(f"{'parameter':12s} {'atoms-only':>10s} {'tuned':>10s} {'stderr':>10s}")
    for p in res["parameters"]:
        se = "—" if p["stderr"] is None else f"{p['stderr']:.3g}"
        print(f"{p['name']:12s} {p['atoms_only']:10.4g} {p['value']:10.4g} {se:>10s}")
    print(f"{'molecule':8s} {'Re ref':>7s} {'Re tuned':>8s} {'De ref':>7s} {'De tuned':>8s} {'De atoms':>8s}  (bohr, eV)")
    for t in res["training"]:
        print(f"{t['mol']:8s} {t['reference']['re_bohr']:7.3f} {t['tuned']['re_bohr']:8.3f} "
              f"{t['reference']['de_eV']:7.3f} {t['tuned']['de_eV']:8.3f} {t['atoms_only']['de_eV']:8.3f}")
    return 0
