"""`ectem embed FIT_JSON [--json]`: embedding function of one fitted state (stage 3)."""
from __future__ import annotations

import json

SUMMARY_KEYS = ("state_id", "status", "form", "a", "lambda", "A_Ec_hartree", "rho0_bar", "parity_rms_hartree",
                "parity_rel_rms", "parity_rms_over_fmin", "F_min_hartree", "rho_at_min")


def register(sub) -> None:
    p = sub.add_parser(
        "embed", help="embedding function of one fitted state (Daw–Baskes concordance)",
        description="Compute the Daw (LDA + von Weizsäcker) embedding curve of a stage-2 fitted density "
                    "(results/fits/{El}/{state}.json), fit the Baskes form to it over the background densities "
                    "the potential samples near bonding distances, and report the embedding function: the "
                    "concordance (Baskes) curve, or a spline of the Daw curve where the two do not agree. "
                    "The window uses the neutral ground-state fits beside FIT_JSON (results/fits/*/{El}0.json) "
                    "unless --partner is given.",
    )
    p.add_argument("fit_json", metavar="FIT_JSON", help="results/fits/{El}/{state}.json")
    p.add_argument("--partner", action="append", default=None, metavar="FIT_JSON",
                   help="neutral ground-state fit defining the window (repeatable; default: all beside FIT_JSON)")
    p.add_argument("--config", default=None, metavar="YAML", help="run config whose `embedding:` section to use")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the full stage-3 record (JSON)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_embed)


def _cmd_embed(args) -> int:
    from ..embedding.records import default_partner_paths, embed_from_files, load_fit_record
    from ..embedding.settings import settings_from_config
    from ..io import write_json

    config = None
    if args.config:
        import yaml

        from ..errors import InputError

        try:
            with open(args.config) as fh:
                config = yaml.safe_load(fh) or {}
        except OSError as exc:
            raise InputError(f"config file {args.config}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise InputError(f"config file {args.config} is not valid YAML: {exc}") from None
        if not isinstance(config, dict):
            raise InputError(f"config file {args.config} must hold a mapping")
    settings = settings_from_config(config)
    load_fit_record(args.fit_json)  # a clear error for a missing or wrong file before anything else
    partners = args.partner or default_partner_paths(args.fit_json)
    rec = embed_from_files(args.fit_json, partners, settings)
    if args.out:
        write_json(args.out, rec)
    summary = {k: rec.get(k) for k in SUMMARY_KEYS}
    summary.update({"reason": rec.get("reason") or rec.get("form_reason", ""),
                    "window_rho_bar": [rec["window"]["rho_lo"], rec["window"]["rho_hi"]] if rec.get("window") else None,
                    "partners": [str(p) for p in partners], "wall_s": rec["wall_s"]})
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['state_id']}: {summary['status']}, form {summary['form']}")
    if summary["reason"]:
        print(f"  {summary['reason']}")

    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    if rec["status"] == "ok":
        print(f"  a = {f(summary['a'], '.4f')}  lambda = {f(summary['lambda'], '.4f')}  "
              f"A*Ec = {f(summary['A_Ec_hartree'], '.4e')} Ha  rho0_bar = {f(summary['rho0_bar'], '.4e')} bohr^-3")
        print(f"  parity rms = {f(summary['parity_rms_hartree'], '.3e')} Ha "
              f"(relative {f(summary['parity_rel_rms'], '.3f')})"
              f"  window rho_bar = {summary['window_rho_bar'][0]:.3e} .. {summary['window_rho_bar'][1]:.3e}")
        print(f"  F_min = {f(summary['F_min_hartree'], '.4e')} Ha at rho_bar = {f(summary['rho_at_min'], '.4e')}  "
              f"({summary['wall_s']:.2f} s)")
    return 0
