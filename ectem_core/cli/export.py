"""`ectem export lammps BUNDLE --out FILE [--style alloy|fs] [--background point|overlap] [--nr N]
[--nrho N] [--cutoff BOHR] [--rho-max RHO] [--elements H,Li]`: the plain-EAM limit as a LAMMPS setfl
file (units metal) plus FILE.md describing what it does and does not represent."""
from __future__ import annotations

import json

from ..errors import InputError


def register(sub) -> None:
    p = sub.add_parser("export", help="export a bundle to other codes (LAMMPS setfl of the plain-EAM limit)",
                       description="Export a parameter bundle for use in other codes.")
    targets = p.add_subparsers(dest="target", metavar="TARGET", parser_class=type(p))
    targets.required = True
    q = targets.add_parser(
        "lammps", help="setfl file (eam/alloy or eam/fs) of the neutral-ground-state (plain EAM) limit",
        description="Write the plain-EAM limit of BUNDLE (every atom in its neutral ground state: no charge "
                    "transfer) as a DYNAMO setfl file for LAMMPS (units metal: eV, Angstrom; rho in bohr^-3) "
                    "and FILE.md stating what is and is not represented and the measured interpolation error. "
                    "point background -> eam/alloy (exact); overlap background -> eam/fs (exact).")
    q.add_argument("bundle", metavar="BUNDLE", help="bundle JSON (results/bundle/{set}.json)")
    q.add_argument("--out", required=True, metavar="FILE", help="setfl file to write (FILE.md is written next to it)")
    q.add_argument("--style", choices=["alloy", "fs"], default=None,
                   help="pair_style eam/alloy or eam/fs (default: alloy for --background point, fs for overlap)")
    q.add_argument("--background", choices=["overlap", "point"], default="overlap",
                   help="background density definition (default: overlap, as in ectem)")
    q.add_argument("--nr", type=int, default=20000, help="points of the r tables (default 20000)")
    q.add_argument("--nrho", type=int, default=500000, help="points of the embedding tables (default 500000)")
    q.add_argument("--cutoff", type=float, default=None, metavar="BOHR",
                   help="cut-off in bohr (default: where every density and r*U is below 1e-12 of its maximum, "
                        "+ 0.5 bohr taper)")
    q.add_argument("--rho-max", type=float, default=None, metavar="RHO",
                   help="largest tabulated background density, bohr^-3 (default: 12 neighbours at 1 bohr)")
    q.add_argument("--elements", default=None, metavar="A,B",
                   help="comma-separated subset of the bundle's elements (default: all, bundle order)")
    q.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    q.set_defaults(func=_cmd_lammps)


def _cmd_lammps(args) -> int:
    from ..potential.lammps.export import export_lammps

    elements = None
    if args.elements is not None:
        elements = [s.strip() for s in args.elements.split(",") if s.strip()]
        if not elements:
            raise InputError("--elements is empty: give element symbols such as H,Li")
    s = export_lammps(args.bundle, args.out, style=args.style, background=args.background, nr=args.nr,
                      nrho=args.nrho, cutoff_bohr=args.cutoff, rho_max=args.rho_max, elements=elements)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"wrote {s['setfl']} ({s['bytes'] / 1e6:.1f} MB, pair_style {s['pair_style']}, background "
          f"{s['background']}, elements {' '.join(s['elements'])}) and {s['notes']}")
    print(f"  cut-off {s['cutoff_bohr']:.4f} bohr = {s['cutoff_angstrom']:.4f} A; Nr {s['nr']}, Nrho {s['nrho']}, "
          f"rho_max {s['rho_max']:.4g} bohr^-3")
    print(f"  interpolation error (r >= 1 bohr, relative): pair {s['worst_pair_relative']:.1e}, "
          f"density {s['worst_density_relative']:.1e}")
    print(f"  LAMMPS: units metal; pair_style {s['pair_style']}; pair_coeff * * {s['setfl']} {' '.join(s['elements'])}")
    return 0
