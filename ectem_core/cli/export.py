"""`ectem export lammps BUNDLE --out FILE [--style alloy|fs] [--background point|overlap] [--nr N]
[--nrho N] [--cutoff BOHR] [--rho-max RHO] [--elements H,Li]`: the plain-EAM limit as a LAMMPS setfl
file (units metal) plus FILE.md describing what it does and does not represent.

With `--fixed-states SPEC` (+ `--variant`, `--proton`, `--cutoff-tol`, `--switch-width`,
`--coul-cutoff`, `--kspace-accuracy`): the ECT-EAM energy at fixed integer states — an eam/fs setfl
whose types are bundle states, FILE.in (LAMMPS input with the Coulomb of the fixed charges) and
FILE.md (docs/lammps.md)."""
from __future__ import annotations

import json

from ..errors import InputError


def register(sub) -> None:
    p = sub.add_parser("export", help="export a bundle to other codes (LAMMPS: plain-EAM limit or fixed states)",
                       description="Export a parameter bundle for use in other codes.")
    targets = p.add_subparsers(dest="target", metavar="TARGET", parser_class=type(p))
    targets.required = True
    q = targets.add_parser(
        "lammps", help="setfl file (eam/alloy or eam/fs) of the neutral-ground-state (plain EAM) limit, or of "
                       "fixed integer states (--fixed-states)",
        description="Write the plain-EAM limit of BUNDLE (every atom in its neutral ground state: no charge "
                    "transfer) as a DYNAMO setfl file for LAMMPS (units metal: eV, Angstrom; rho in bohr^-3) "
                    "and FILE.md stating what is and is not represented and the measured interpolation error. "
                    "point background -> eam/alloy (exact); overlap background -> eam/fs (exact). "
                    "With --fixed-states: the ECT-EAM energy with every atom fixed in one state (e.g. Li+ and F- "
                    "in rock-salt LiF): FILE (eam/fs setfl whose element names are the bundle's state ids, "
                    "embedding F_s + dE_s, switched densities and short-range pair terms of the cutoff mode), "
                    "FILE.in (LAMMPS input: atom_style charge, per-type charges, pair_style hybrid/overlay eam/fs "
                    "coul/long + kspace_style ewald, or coul/cut for clusters) and FILE.md (what is fixed, when it "
                    "stops being valid, errors). See docs/lammps.md.")
    q.add_argument("bundle", metavar="BUNDLE", help="bundle JSON (results/bundle/{set}.json)")
    q.add_argument("--out", required=True, metavar="FILE", help="setfl file to write (FILE.md is written next to it)")
    q.add_argument("--style", choices=["alloy", "fs"], default=None,
                   help="pair_style eam/alloy or eam/fs (default: alloy for --background point, fs for overlap)")
    q.add_argument("--background", choices=["overlap", "point"], default="overlap",
                   help="background density definition (default: overlap, as in ectem)")
    q.add_argument("--nr", type=int, default=None, help="points of the r tables (default 20000)")
    q.add_argument("--nrho", type=int, default=None,
                   help="points of the embedding tables (default 500000; 200000 with --fixed-states)")
    q.add_argument("--cutoff", type=float, default=None, metavar="BOHR",
                   help="cut-off in bohr (default: where every density and r*U is below 1e-12 of its maximum, "
                        "+ 0.5 bohr taper). With --fixed-states: the largest range of any state pair including "
                        "its switch (the fast model's r_max; default 12)")
    q.add_argument("--rho-max", type=float, default=None, metavar="RHO",
                   help="largest tabulated background density, bohr^-3 (default: 12 neighbours at 1 bohr; at 2 bohr "
                        "with --fixed-states)")
    q.add_argument("--elements", default=None, metavar="A,B",
                   help="comma-separated subset of the bundle's elements (default: all, bundle order); with "
                        "'--fixed-states default' the elements whose states become types")
    g = q.add_argument_group("fixed integer states (ECT-EAM with charges, LAMMPS hybrid/overlay eam/fs + Coulomb)")
    g.add_argument("--fixed-states", default=None, metavar="SPEC",
                   help="export the ECT-EAM energy with each LAMMPS atom type fixed in one bundle state. SPEC: "
                        "'default' (for each element its neutral ground state and its +1 and -1 ground ions) or "
                        "comma-separated types in LAMMPS type order, each a state id (Li+1, F-1, Li0_2P) or EL0, "
                        "EL+, EL- (neutral ground state, +1, -1 ground ion), optionally as EL:STATE: "
                        "'Li+,F-' = 'Li:Li+,F:F-' = 'Li+1,F-1'. The file names the types by their state ids")
    g.add_argument("--variant", choices=["pure", "resonance", "thermal"], default="pure",
                   help="the model whose CPE states the file assumes (recorded in FILE.md; the tables are the "
                        "same for every variant: the coupling terms vanish at integer weights)")
    g.add_argument("--proton", action="store_true", help="allow the bare proton H+1 as a type")
    g.add_argument("--cutoff-tol", type=float, default=1e-6, metavar="TOL",
                   help="the fast model's cutoff_tol: each state pair's kernels and short-range Coulomb are "
                        "switched off where they stay below TOL (atomic units; default 1e-6)")
    g.add_argument("--switch-width", type=float, default=2.0, metavar="BOHR",
                   help="width of the C1 switch beyond each state pair's radius (default 2 bohr)")
    g.add_argument("--coul-cutoff", type=float, default=10.0, metavar="ANGSTROM",
                   help="default real-space cut-off of coul/long in FILE.in (variable ectem_rc_long; default 10 A). "
                        "LAMMPS' coul/long erfc is approximate: ~1e-6 relative Coulomb error at 4-10 A, ~3e-8 at "
                        "3 A (more k-space work); the Ewald accuracy is --kspace-accuracy")
    g.add_argument("--kspace-accuracy", type=float, default=1e-10, metavar="ACC",
                   help="default kspace_style ewald accuracy in FILE.in (variable ectem_kspace_accuracy; LAMMPS' "
                        "relative force accuracy; default 1e-10)")
    q.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    q.set_defaults(func=_cmd_lammps)


_FIXED_ONLY = {"variant": "pure", "proton": False, "cutoff_tol": 1e-6, "switch_width": 2.0, "coul_cutoff": 10.0,
               "kspace_accuracy": 1e-10}


def _cmd_lammps(args) -> int:
    from ..potential.lammps.export import DEFAULT_NR, DEFAULT_NRHO, export_lammps

    elements = None
    if args.elements is not None:
        elements = [s.strip() for s in args.elements.split(",") if s.strip()]
        if not elements:
            raise InputError("--elements is empty: give element symbols such as H,Li")
    if args.fixed_states is not None:
        return _cmd_fixed(args, elements)
    changed = [k for k, v in _FIXED_ONLY.items() if getattr(args, k) != v]
    if changed:
        raise InputError(f"--{changed[0].replace('_', '-')} belongs to --fixed-states (the plain-EAM export has "
                         "neutral atoms only)")
    s = export_lammps(args.bundle, args.out, style=args.style, background=args.background,
                      nr=DEFAULT_NR if args.nr is None else args.nr, nrho=DEFAULT_NRHO if args.nrho is None else args.nrho,
                      cutoff_bohr=args.cutoff, rho_max=args.rho_max, elements=elements)
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


def _cmd_fixed(args, elements) -> int:
    from ..potential.lammps import fixed_states as fx

    if args.style == "alloy":
        raise InputError("--fixed-states needs --style fs (or none): the density an atom sees depends on both "
                         "atoms' states")
    items = fx.parse_fixed_states(args.fixed_states)
    s = fx.export_fixed_states(args.bundle, args.out, types=items, elements=elements, variant=args.variant,
                               background=args.background, proton=args.proton, cutoff_tol=args.cutoff_tol,
                               r_max=fx.DEFAULT_R_MAX if args.cutoff is None else args.cutoff,
                               switch_width=args.switch_width, nr=fx.DEFAULT_NR if args.nr is None else args.nr,
                               nrho=fx.DEFAULT_NRHO if args.nrho is None else args.nrho, rho_max=args.rho_max,
                               coul_cutoff=args.coul_cutoff, kspace_accuracy=args.kspace_accuracy)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    types = ", ".join(f"{k + 1} = {t['name']} (q {t['charge']:+d})" if t["charge"] else f"{k + 1} = {t['name']} (q 0)"
                      for k, t in enumerate(s["types"]))
    print(f"wrote {s['setfl']} ({s['bytes'] / 1e6:.1f} MB, eam/fs, background {s['background']}), {s['input']} "
          f"and {s['notes']}")
    print(f"  LAMMPS types: {types}")
    print(f"  cut-off {s['cutoff_bohr']:.4f} bohr = {s['cutoff_angstrom']:.4f} A (cutoff_tol {s['cutoff_tol']:g}, "
          f"switch {s['switch_width_bohr']:g} bohr); Nr {s['nr']}, Nrho {s['nrho']}, rho_max {s['rho_max']:.4g} bohr^-3")
    print(f"  interpolation error (r >= 1 bohr, relative): pair {s['worst_pair_relative']:.1e}, "
          f"density {s['worst_density_relative']:.1e}")
    print(f"  LAMMPS: variable data string YOUR.data; include {s['input']}   (valid only while the CPE states stay "
          "fixed: see the .md)")
    return 0
