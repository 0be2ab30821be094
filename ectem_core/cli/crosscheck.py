"""`ectem crosscheck`: run the PySCF and the Psi4 backend on the same states and level and
print the differences (energies, ρ(0), sphericalized densities).

Exit status: 0 if every |ΔE| <= --energy-tol, 1 if some energy differs by more,
2 for bad input or a missing Psi4 (one error line)."""
from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "crosscheck", help="compare the PySCF and Psi4 backends on the same states (needs Psi4)",
        description="Compute each state with both backends (same level, same basis functions) and report "
                    "energy and density differences (psi4 - pyscf). Example: "
                    "ectem crosscheck Ne,F --method ccsd(t) --basis aug-cc-pvdz --states F0,F-1,Ne0 --csv",
    )
    p.add_argument("symbols", metavar="SYMBOL[,SYMBOL...]", help="element symbols, e.g. F or Li,F")
    p.add_argument("--method", required=True, help="hf, ccsd or ccsd(t)")
    p.add_argument("--basis", required=True, help="PySCF basis name (sent to Psi4 as explicit shells)")
    p.add_argument("--states", default=None, metavar="ID,ID",
                   help="state ids, e.g. F0,F-1 (default: every non-exact default state of the elements)")
    p.add_argument("--density-method", default=None,
                   help="density level (default: ccsd for ccsd(t), otherwise the energy method)")
    p.add_argument("--frozen-core", dest="frozen_core", action=argparse.BooleanOptionalAction, default=True,
                   help="freeze core orbitals in coupled cluster (default: on)")
    p.add_argument("--reference", default="auto", choices=["auto", "rhf", "uhf", "rohf"])
    p.add_argument("--threads", type=int, default=None, help="threads per program")
    p.add_argument("--energy-tol", type=float, default=1e-6, metavar="HA",
                   help="exit status 1 if some |E_psi4 - E_pyscf| exceeds this (default 1e-6 Ha)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list of rows")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(func=_cmd_crosscheck)


def _cmd_crosscheck(args) -> int:
    from ..atoms.crosscheck import crosscheck_states, run_crosscheck, to_csv, to_text
    from ..qm.level import Level
    from ..qm.pyscf_backend import default_density_level

    level = Level(method=args.method, basis=args.basis, frozen_core=args.frozen_core, reference=args.reference)
    density = level.with_(method=args.density_method) if args.density_method else default_density_level(level)
    ids = [s.strip() for s in args.states.split(",") if s.strip()] if args.states else None
    states = crosscheck_states(args.symbols.split(","), ids)
    rows = run_crosscheck(states, level, density, threads=args.threads)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif args.csv:
        sys.stdout.write(to_csv(rows))
    else:
        print(to_text(rows))
    worst = max((abs(r["energy_diff"]) for r in rows), default=0.0)
    if worst > args.energy_tol:
        sys.stderr.write(f"ectem: crosscheck: largest |ΔE| = {worst:.2e} Ha exceeds {args.energy_tol:.1e} Ha\n")
        return 1
    return 0
