"""Stage 3 records: the embedding function of one fitted state (results/embedding/{El}/{state}.json).

The record carries the form used ('concordance': Baskes curve with the concordance
parameters; 'daw_spline': tabulated Daw curve at a = 1, λ = λ₀; 'zero': bare nucleus),
the parameters and parity residual of the concordance fit, the curves on a grid, the
background-density window and everything `embedding.embedding_function(record)` needs.
Status: 'ok' (computed), 'exact' (bare nucleus, F ≡ 0), 'excluded' (carried over from
stage 2 with its reason).
"""
from __future__ import annotations

import time
from pathlib import Path

from .. import __version__
from ..atoms.records import state_header
from ..density.slater import RadialDensity
from ..errors import InputError
from ..io import canonical_hash, file_sha256, provenance, read_record
from .concordance import embed_state
from .settings import EmbeddingSettings, settings_dict

REQUIRED_FIT_KEYS = ("state_id", "Z", "charge", "n_electrons", "status", "shells", "tail")

ELECTROSTATICS_NOTE = ("none: the uniform gas and its background are neutral everywhere, so F carries no "
                       "electrostatic term for any state; all Coulomb energy is in the potential's U term. "
                       "The gas's screening response to a charged state is omitted (no screening term).")


def load_fit_record(path) -> dict:
    """A stage-2 record; InputError naming the file when it is not one."""
    p = Path(path)
    rec = read_record(p, "stage-2 fit result", REQUIRED_FIT_KEYS, "pass results/fits/{El}/{state}.json")
    if rec["status"] not in ("ok", "exact", "excluded"):
        raise InputError(f"{p}: unknown fit status {rec['status']!r}")
    return rec


def _symbol(rec: dict) -> str:
    sym = rec.get("symbol")
    if sym:
        return sym
    from .. import elements

    return elements.SYMBOLS[int(rec["Z"]) - 1]


def partner_densities(partner_records: list[dict]) -> dict:
    """{symbol: RadialDensity} of usable neutral ground-state fits (excluded ones skipped)."""
    out = {}
    for rec in partner_records:
        if rec.get("status") == "excluded" or rec.get("n_electrons", 0) == 0:
            continue
        if rec.get("charge") != 0:
            raise InputError(f"partner {rec.get('state_id')} is not a neutral state (charge {rec.get('charge')})")
        out[_symbol(rec)] = RadialDensity.from_dict(rec)
    if not out:
        raise InputError("no usable neutral ground-state fit to define the background-density window")
    return out


def embedding_record(fit: dict, partner_records: list[dict], settings: EmbeddingSettings | None = None,
                     source: dict | None = None) -> dict:
    """The stage-3 record of one state from its stage-2 record and the partners' records."""
    t0 = time.perf_counter()
    settings = settings or EmbeddingSettings()
    base = state_header(fit)
    if fit["status"] == "excluded":
        body = {"status": "excluded", "reason": fit.get("reason", ""), "form": None}
    else:
        rd = RadialDensity.from_dict(fit) if fit["n_electrons"] > 0 else None
        partners = partner_densities(partner_records) if rd is not None else {}
        res = embed_state(rd, fit["n_electrons"], fit.get("symbol") or _symbol(fit), partners, settings)
        reason = res.pop("reason")
        body = {"status": "exact" if res["form"] == "zero" else "ok", "reason": "", "form_reason": reason, **res}
    body["electrostatics"] = ELECTROSTATICS_NOTE
    sd = settings_dict(settings)
    return {**base, **body, "settings": sd, "settings_hash": canonical_hash(sd),
            "source": source or {}, "versions": {"ectem": __version__},
            "wall_s": time.perf_counter() - t0, **provenance()}


def embed_from_files(fit_json, partner_jsons, settings: EmbeddingSettings | None = None) -> dict:
    """embedding_record from files (provenance: sha256 of every input)."""
    fit = load_fit_record(fit_json)
    partners = [load_fit_record(p) for p in partner_jsons]
    source = {"fit": str(fit_json), "fit_sha256": file_sha256(fit_json),
              "partners": {str(p): file_sha256(p) for p in partner_jsons}}
    return embedding_record(fit, partners, settings, source)


def default_partner_paths(fit_json) -> list[Path]:
    """Neutral ground-state fits beside FIT_JSON: results/fits/*/{El}0.json of every element
    directory next to the state's own (the element set of that run)."""
    p = Path(fit_json).resolve()
    root = p.parent.parent
    found = sorted(q for q in root.glob("*/*.json") if q.stem == f"{q.parent.name}0")
    if not found:
        own = p.parent / f"{p.parent.name}0.json"
        if own.exists():
            found = [own]
    if not found:
        raise InputError(f"no neutral ground-state fits ({{El}}0.json) found beside {fit_json}; "
                         "pass them with --partner")
    return found
