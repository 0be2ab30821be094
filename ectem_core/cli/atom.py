"""`ectem atom`: compute one isolated-atom state (energy + sphericalized density)."""
from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    p = sub.add_parser(
        "atom", help="compute one isolated-atom state (energy + sphericalized density)",
        description="Compute one atomic state with PySCF (or Psi4) and print a summary. "
                    "Example: ectem atom Li --state 2P --method ccsd(t) --basis aug-cc-pvtz --json",
    )
    p.add_argument("symbol", help="element symbol, e.g. Li")
    p.add_argument("--charge", type=int, default=0, help="net charge (0 neutral, 1 cation, -1 anion)")
    p.add_argument("--state", default="", metavar="LABEL",
                   help="excited-state label (built in: H 'n2', Li '2P'); empty = ground state of that charge")
    p.add_argument("--configuration", default=None,
                   help="occupations for --state, e.g. '1s2 2p1' (fixed by D2h symmetry, Delta-SCF)")
    p.add_argument("--method", required=True, help="hf, ccsd, ccsd(t), or a libxc functional (svwn5, pbe0)")
    p.add_argument("--basis", required=True, help="PySCF basis name, unc-<name>, or et:<k>s<m>p<n>d")
    p.add_argument("--density-method", default=None,
                   help="level of the density (default: ccsd for ccsd(t), otherwise the energy method)")
    p.add_argument("--frozen-core", dest="frozen_core", action=argparse.BooleanOptionalAction, default=True,
                   help="freeze core orbitals in coupled cluster (default: on)")
    p.add_argument("--reference", default="auto", choices=["auto", "rhf", "uhf", "rohf"])
    p.add_argument("--occupations", default="integer", choices=["integer", "spherical"],
                   help="'spherical': non-spin-polarized fractional occupations (NIST LDA convention)")
    p.add_argument("--backend", default="pyscf", choices=["pyscf", "psi4"])
    p.add_argument("--threads", type=int, default=None, help="OpenMP threads (1 = reproducible to the last digit)")
    p.add_argument("--max-cycle", type=int, default=200, help="SCF iterations per attempt")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="also write DIR/{state}.json and DIR/{state}.npz")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    p.set_defaults(func=_cmd_atom)


def _cmd_atom(args) -> int:
    from pathlib import Path

    from ..atoms.compute import AtomsSettings, raw_record, run_state_to_files
    from ..atoms.states import excited_state, make_state
    from ..qm.level import Level
    from ..qm.pyscf_backend import default_density_level

    if args.state and args.configuration:
        state = excited_state(args.symbol, {"label": args.state, "charge": args.charge,
                                            "configuration": args.configuration})
    else:
        state = make_state(args.symbol, args.charge, args.state)
    energy = Level(method=args.method, basis=args.basis, frozen_core=args.frozen_core,
                   reference=args.reference, occupations=args.occupations, max_cycle=args.max_cycle)
    density = energy.with_(method=args.density_method) if args.density_method else default_density_level(energy)
    settings = AtomsSettings(energy_level=energy, density_level=density, backend=args.backend,
                             threads=args.threads)
    if args.out:
        rec = run_state_to_files(state, settings, Path(args.out) / f"{state.state_id}.json",
                                 Path(args.out) / f"{state.state_id}.npz")
    else:
        from ..atoms.compute import compute

        rec = raw_record(compute(state, settings), settings.input_hash(state))
    out = {"state_id": rec["state_id"], "energy_hartree": rec["energy_hartree"],
           "n_electrons": rec["n_electrons"], "method": energy.method, "basis": energy.basis,
           "density_method": density.method, "rho0": rec["rho0"], "n_integrated": rec["n_integrated"],
           "anisotropy": rec["anisotropy"], "multiplicity": rec["multiplicity"], "term": rec["term"],
           "charge": rec["charge"], "energy_components": rec["energy_components"],
           "extra_energies": rec["extra_energies"], "backend": rec["backend"],
           "wall_s": rec["wall_s"], "input_hash": rec["input_hash"]}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['state_id']} ({out['term']}, {out['n_electrons']} electrons) at "
              f"{energy.label()} [density: {density.method}]")
        print(f"  E      = {out['energy_hartree']:.10f} Ha")
        for k, v in out["energy_components"].items():
            print(f"    {k:<24s} {v: .10f}")
        for k, v in out["extra_energies"].items():
            print(f"  E[{k}] = {v:.10f} Ha")
        print(f"  rho(0) = {out['rho0']:.6f} bohr^-3   ∫4πr²ρ̄ = {out['n_integrated']:.8f}   "
              f"anisotropy = {out['anisotropy']:.2e}")
        print(f"  wall   = {out['wall_s']:.2f} s")
    return 0
