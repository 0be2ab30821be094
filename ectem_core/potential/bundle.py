"""Parameter bundle v0: everything the potential needs for one element set, in one JSON
document, built only from isolated-atom results (no molecular data enters it).

Per state: id, element, Z, charge, electron count, ΔE relative to the element's neutral
ground state (hartree), the fitted density (shells + tail) and the embedding function
record; plus excluded states with reasons, the levels used and provenance (input hashes).
`parameters_sha256` is `parameters_digest` of the body (elements, states, excluded): floats
rounded to `significant_digits` significant digits, provenance keys left out (docs/bundles.md).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np

from .. import SCHEMA_VERSION, __version__, elements
from ..errors import InputError
from ..io import canonical_hash, provenance, read_json

BUNDLE_FORMAT = "ectem-bundle"
BUNDLE_SCHEMA_VERSION = 1
BODY_KEYS = ("elements", "states", "excluded")
DEFAULT_VERSION = "0.1.0"
DEFAULT_SIGNIFICANT_DIGITS = 10
# keys (at any depth) that say how, when or where a value was computed, and the plot/comparison
# arrays of the embedding records: not parameters, so not in the parameter digest (bundle.json
# as a file is still covered byte for byte by the manifest of a packed bundle)
DIGEST_EXCLUDED_KEYS = frozenset({"wall_s", "host", "created_utc", "versions", "source", "curve", "window"})
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")


def check_version(version, what: str = "bundle version") -> str:
    """A semantic version X.Y.Z (digits, no leading zeros); InputError otherwise."""
    if not isinstance(version, str) or not SEMVER.match(version):
        raise InputError(f"{what} {version!r} is not a semantic version X.Y.Z (e.g. 0.1.0)")
    return version


def check_significant_digits(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 4 <= n <= 17:
        raise InputError(f"bundle.significant_digits {n!r} must be an integer from 4 to 17")
    return n


def canonical_float(x: float, significant_digits: int) -> str:
    """x rounded to N significant digits, written as C's %.{N-1}e (round-half-even of the exact
    binary value); -0.0 is written as 0.0."""
    if not math.isfinite(x):
        raise InputError(f"parameter value {x!r} is not finite: a bundle holds finite numbers only")
    text = f"{x:.{significant_digits - 1}e}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def _canonical_json(obj, n: int, path: str) -> str:
    if isinstance(obj, dict):
        items = sorted((str(k), v) for k, v in obj.items() if k not in DIGEST_EXCLUDED_KEYS)
        return "{" + ",".join(json.dumps(k) + ":" + _canonical_json(v, n, f"{path}/{k}") for k, v in items) + "}"
    if isinstance(obj, (list, tuple, np.ndarray)):
        return "[" + ",".join(_canonical_json(v, n, f"{path}[{i}]") for i, v in enumerate(obj)) + "]"
    if obj is None or isinstance(obj, (bool, np.bool_)):
        return json.dumps(None if obj is None else bool(obj))
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        try:
            return canonical_float(float(obj), n)
        except InputError as exc:
            raise InputError(f"bundle parameters at {path or '/'}: {exc}") from None
    if isinstance(obj, str):
        return json.dumps(obj)
    raise InputError(f"bundle parameters at {path or '/'}: {type(obj).__name__} is not a JSON value")


def parameters_digest(body: dict, significant_digits: int = DEFAULT_SIGNIFICANT_DIGITS) -> str:
    """sha256 (hex) of the canonical JSON of `body` (the bundle's elements, states, excluded):
    keys sorted, no whitespace, keys in DIGEST_EXCLUDED_KEYS dropped at every depth, every
    float written as its rounding to `significant_digits` significant digits (canonical_float),
    integers, strings, booleans and null as in JSON. Reproducible runs whose values differ by
    less than the rounding give the same digest (unless a value sits on a rounding boundary)."""
    check_significant_digits(significant_digits)
    return _sha256_text(_canonical_json(body, significant_digits, ""))


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def bundle_parameters_digest(doc: dict) -> str:
    """parameters_digest of a bundle document with its own significant_digits (10 if absent); a
    tuned bundle's `tuning` section is part of its body (an atoms-only bundle has none, so its
    digest is what it always was)."""
    keys = BODY_KEYS + (("tuning",) if doc.get("tuning") else ())
    return parameters_digest({k: doc.get(k) for k in keys},
                             doc.get("significant_digits", DEFAULT_SIGNIFICANT_DIGITS))


def _bundle_settings(config: dict | None, version: str | None) -> tuple[str, int]:
    section = (config or {}).get("bundle") or {}
    if version is None:
        version = section.get("version", DEFAULT_VERSION)
    return (check_version(version, "bundle.version"),
            check_significant_digits(section.get("significant_digits", DEFAULT_SIGNIFICANT_DIGITS)))


def assemble_bundle(name: str, atom_records: list[dict], fit_records: list[dict],
                    embedding_records: list[dict], config: dict | None = None,
                    version: str | None = None) -> dict:
    """The bundle document. Records are matched by state_id; aux states (energy only) and
    excluded states do not enter the ensemble but are listed. version: X.Y.Z (default: config
    bundle.version, else 0.1.0); the digest precision is config bundle.significant_digits (10)."""
    version, digits = _bundle_settings(config, version)
    fits = {r["state_id"]: r for r in fit_records}
    embs = {r["state_id"]: r for r in embedding_records}
    states, excluded, elements_doc = [], [], {}
    for rec in atom_records:
        sid = rec["state_id"]
        sym = rec["symbol"]
        el = elements_doc.setdefault(sym, {"Z": rec["Z"], "states": []})
        if rec.get("label") == "" and rec["charge"] == 0:
            el["ground_state"] = sid
            el["energy_ground_hartree"] = rec.get("energy_used_hartree", rec["energy_hartree"])
        if rec.get("role", "state") != "state":
            continue
        if rec.get("status") == "excluded":
            excluded.append({"state_id": sid, "reason": rec.get("reason", "")})
            continue
        fit, emb = fits.get(sid), embs.get(sid)
        if fit is None or emb is None:
            raise InputError(f"bundle {name}: state {sid} has no {'fit' if fit is None else 'embedding'} record")
        if fit.get("status") == "excluded" or emb.get("status") == "excluded":
            excluded.append({"state_id": sid, "reason": fit.get("reason") or emb.get("reason", "")})
            continue
        states.append({
            "state_id": sid, "symbol": sym, "Z": rec["Z"], "charge": rec["charge"],
            "n_electrons": rec["n_electrons"], "kind": rec.get("kind"), "label": rec.get("label", ""),
            "delta_e_hartree": rec["delta_e_hartree"],
            "ionization_energy_hartree": rec.get("ionization_energy_hartree"),
            "density": {"shells": fit["shells"], "tail": fit["tail"]},
            "density_metrics": {k: fit.get("metrics", {}).get(k) for k in
                                ("rdf_residual", "cusp_ratio", "n_fit", "kappa", "tail_exponent")},
            "embedding": emb,
        })
        el["states"].append(sid)
    for sym, el in elements_doc.items():
        if "ground_state" not in el:
            raise InputError(f"bundle {name}: element {sym} has no neutral ground state")
    body = {"elements": elements_doc, "states": states, "excluded": excluded}
    levels = {}
    if atom_records:
        levels = {"energy": atom_records[0].get("level_energy"), "density": atom_records[0].get("level_density")}
    return {
        "format": BUNDLE_FORMAT, "schema_version": BUNDLE_SCHEMA_VERSION, "name": name, "version": version,
        **body, "levels": levels,
        "provenance": {"ectem": __version__, "record_schema_version": SCHEMA_VERSION,
                       "config_hash": canonical_hash(config or {}),
                       "inputs": {r["state_id"]: r.get("input_hash") for r in atom_records},
                       **provenance()},
        "significant_digits": digits,
        "parameters_sha256": parameters_digest(body, digits),
    }


def load_bundle(path) -> dict:
    """Read and check a bundle document (InputError naming the file when it is not one)."""
    doc = read_json(path, "bundle")
    if doc.get("format") != BUNDLE_FORMAT:
        raise InputError(f"{path} is not an ectem bundle (format {doc.get('format')!r})")
    if doc.get("schema_version") != BUNDLE_SCHEMA_VERSION:
        raise InputError(f"{path}: bundle schema_version {doc.get('schema_version')} is not supported "
                         f"(this ectem reads {BUNDLE_SCHEMA_VERSION})")
    for key in ("elements", "states"):
        if key not in doc:
            raise InputError(f"{path}: bundle lacks '{key}'")
    return doc


def bundle_from_results(name: str, workdir, element_symbols: list[str], config: dict | None = None) -> dict:
    """Assemble a bundle from results/{atoms,fits,embedding}/{El}/*.json."""
    from .. import layout as L

    root = Path(workdir)
    atoms, fits, embs = [], [], []
    for sym in element_symbols:
        elements.atomic_number(sym)
        manifest = read_json(L.under(root, L.atom_manifest(sym)), f"manifest of {sym}")
        for entry in manifest["states"]:
            sid = entry["state_id"]
            atoms.append(read_json(L.under(root, L.atom_record(sym, sid))))
            if entry["role"] == "state":
                fits.append(read_json(L.under(root, L.fit_record(sym, sid))))
                embs.append(read_json(L.under(root, L.embedding_record(sym, sid))))
    return assemble_bundle(name, atoms, fits, embs, config)
