"""Parameter bundle v0: everything the potential needs for one element set, in one JSON
document, built only from isolated-atom results (no molecular data enters it).

Per state: id, element, Z, charge, electron count, ΔE relative to the element's neutral
ground state (hartree), the fitted density (shells + tail) and the embedding function
record; plus excluded states with reasons, the levels used and provenance (input hashes).
"""
from __future__ import annotations

from pathlib import Path

from . import SCHEMA_VERSION, __version__, elements
from .errors import InputError
from .io import canonical_hash, provenance, read_json

BUNDLE_FORMAT = "ectem-bundle"
BUNDLE_SCHEMA_VERSION = 1


def assemble_bundle(name: str, atom_records: list[dict], fit_records: list[dict],
                    embedding_records: list[dict], config: dict | None = None,
                    version: str = "0.1.0") -> dict:
    """The bundle document. Records are matched by state_id; aux states (energy only) and
    excluded states do not enter the ensemble but are listed."""
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
        "parameters_sha256": canonical_hash(body),
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


def bundle_from_results(name: str, results_dir, element_symbols: list[str], config: dict | None = None) -> dict:
    """Assemble a bundle from results/{atoms,fits,embedding}/{El}/*.json."""
    root = Path(results_dir)
    atoms, fits, embs = [], [], []
    for sym in element_symbols:
        elements.atomic_number(sym)
        manifest = read_json(root / "atoms" / sym / "manifest.json", f"manifest of {sym}")
        for entry in manifest["states"]:
            sid = entry["state_id"]
            atoms.append(read_json(root / "atoms" / sym / f"{sid}.json"))
            if entry["role"] == "state":
                fits.append(read_json(root / "fits" / sym / f"{sid}.json"))
                embs.append(read_json(root / "embedding" / sym / f"{sid}.json"))
    return assemble_bundle(name, atoms, fits, embs, config)
