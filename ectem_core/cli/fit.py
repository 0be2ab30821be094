"""`ectem fit ATOM_JSON [--json]`: constrained Slater fit of one stage-1 state."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser(
        "fit", help="fit one atomic state's density with constrained Slater shells",
        description="Fit the sphericalized density of a stage-1 result (results/atoms/{El}/{state}.json, "
                    "with its .npz beside it) with Slater shells + an ionization-energy tail, normalization "
                    "and Kato cusp imposed exactly.",
    )
    p.add_argument("atom_json", metavar="ATOM_JSON", help="results/atoms/{El}/{state}.json")
    p.add_argument("--kappa-source", choices=["computed", "experiment"], default="computed",
                   help="ionization energy that sets the tail: stage-1 value or published IP/EA")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the full fit record (JSON)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_fit)


def _cmd_fit(args) -> int:
    from ..density.records import fit_atom_record, load_atom_record
    from ..io import write_json

    rec, npz = load_atom_record(args.atom_json)
    out = fit_atom_record(rec, npz, kappa_source=args.kappa_source)
    if args.out:
        write_json(args.out, out)
    m = out.get("metrics", {})
    summary = {
        "state_id": out["state_id"], "status": out["status"], "reason": out.get("reason", ""),
        "n_electrons": out["n_electrons"], "n_fit": m.get("n_fit"), "cusp_ratio": m.get("cusp_ratio"),
        "rho0": m.get("rho0"), "rho0_qm": m.get("rho0_qm"), "kappa": out.get("kappa"), "beta": out.get("beta"),
        "tail_exponent": m.get("tail_exponent"), "rdf_rel_l2": m.get("rdf_rel_l2"),
        "rdf_residual": m.get("rdf_residual"), "tail_ratio_variation_15_30": m.get("tail_ratio_variation_15_30"),
        "n_terms": m.get("n_terms"), "shells": out["shells"], "tail": out["tail"],
        "ionization_energy_hartree": out.get("ionization_energy_hartree"),
        "ionization_energy_source": out.get("ionization_energy_source"), "wall_s": out["wall_s"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['state_id']}: {summary['status']} {summary['reason']}".rstrip())
    if out["status"] in ("ok", "exact") and out["n_electrons"] > 0:
        print(f"  N = {summary['n_fit']:.12f} (target {summary['n_electrons']}), cusp ratio = {summary['cusp_ratio']:.12f}")
        print(f"  rho(0) = {summary['rho0']:.6f} (QM {summary['rho0_qm']:.6f}), kappa = {summary['kappa']:.6f}, "
              f"tail exponent = {summary['tail_exponent']:.6f}, beta = {summary['beta']:.4f}")
        print(f"  RDF residual = {summary['rdf_residual']:.3e} (relative L2 {summary['rdf_rel_l2']:.3e}), "
              f"{summary['n_terms']} terms, {summary['wall_s']:.2f} s")
        for s in out["shells"]:
            print(f"    n={s['n']:<4} zeta={s['zeta']:<12.6f} c={s['c']:.6e} {s.get('role', '')}")
        if out["tail"]:
            t = out["tail"]
            print(f"    tail: c={t['c']:.6e} b={t['b']:.4f} beta={t['beta']:.4f} kappa={t['kappa']:.6f}")
    return 0
