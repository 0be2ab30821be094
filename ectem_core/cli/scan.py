"""`ectem scan BUNDLE A-B --r-min X --r-max Y --n N [--model ectem|qeq|eam] [--variant NAME] [--csv]`."""
from __future__ import annotations

import csv
import math
import sys

from ..potential.model import VARIANTS


def register(sub) -> None:
    p = sub.add_parser(
        "scan", help="dissociation scan of a diatomic with the ECT-EAM potential, plain EAM or QEq",
        description="Energy, charges, chemical potential and ensemble weights along R (bohr). Energies are "
                    "totals (sum of the atoms' ground-state energies + the model's binding energy), hartree.",
    )
    p.add_argument("bundle", metavar="BUNDLE", help="bundle JSON (results/bundle/{set}.json) or name@version")
    p.add_argument("pair", metavar="A-B", help="element pair, e.g. Li-F")
    p.add_argument("--r-min", type=float, required=True, help="smallest distance (bohr)")
    p.add_argument("--r-max", type=float, required=True, help="largest distance (bohr)")
    p.add_argument("--n", type=int, required=True, help="number of points")
    p.add_argument("--model", choices=["ectem", "qeq", "eam"], default="ectem")
    p.add_argument("--qeq-params", choices=["published", "bundle"], default="published",
                   help="QEq: Rappé–Goddard Table I, or the bundle's own IP/EA")
    p.add_argument("--variant", choices=list(VARIANTS), default="pure", help="ECT-EAM variant (docs/model.md section 4)")
    p.add_argument("--direction", choices=["in", "out"], default="in", help="scan order (the CPE is global at every point)")
    p.add_argument("--background", choices=["overlap", "point"], default="overlap")
    p.add_argument("--proton", action="store_true", help="include the bare proton H+ in hydrogen's ensemble")
    p.add_argument("--csv", action="store_true", help="CSV instead of an aligned table")
    p.set_defaults(func=_cmd_scan)


def _cmd_scan(args) -> int:
    from ..potential.scan import scan

    rows = scan(args.bundle, args.pair, args.r_min, args.r_max, args.n, model_name=args.model,
                variant=args.variant, direction=args.direction, background=args.background, proton=args.proton,
                qeq_params=args.qeq_params)
    cols = list(rows[0].keys())
    if args.csv:
        w = csv.DictWriter(sys.stdout, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.12g}" if isinstance(v, float) and math.isfinite(v) else v) for k, v in r.items()})
        return 0
    print("  ".join(f"{c:>16s}" for c in cols))
    for r in rows:
        print("  ".join(f"{r[c]:>16.8g}" for c in cols))
    return 0
