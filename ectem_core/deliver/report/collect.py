"""Read what the pipeline wrote for one element set: atom records and manifests, fit and
embedding records, the bundle, stage figures, and the benchmark CSVs of stage 5
(results/benchmarks/{mol}/*.csv, results/benchmarks/sensitivity.csv). Every missing or
malformed file is an InputError naming it; optional files are simply absent."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ... import layout as L
from ...config import set_name
from ...errors import InputError
from ...io import read_json
from ...potential.bundle import load_bundle

BENCHMARK_MODELS = ("ectem_pure", "ectem_resonance", "ectem_thermal", "qeq", "eam")

# Required columns of each benchmark CSV (model columns of curves.csv are optional per model).
BENCHMARK_COLUMNS = {
    "curves": ("r_bohr", "energy_ref_hartree", "binding_ref_hartree"),
    "spectroscopic": ("model", "re_bohr", "de_hartree", "we_cm1", "limit_hartree", "q_A_at_re"),
    "charges": ("r_bohr", "method", "q_A", "q_B"),
    "consistency": ("r_bohr", "q_A_density", "q_A_cpe", "q_A_energy_fit", "disagreement", "fit_residual",
                    "condition_number", "regularization", "distance_from_cpe"),
}
SENSITIVITY_COLUMNS = ("option", "value", "mol", "re_bohr", "de_hartree", "q_A_at_re")


@dataclass
class Results:
    """Everything the report reads, by element symbol and state id."""

    workdir: Path
    set_name: str
    elements: list
    bundle_path: Path
    bundle: dict
    manifests: dict = field(default_factory=dict)     # El -> manifest dict
    atoms: dict = field(default_factory=dict)         # El -> [atom record, ...] (manifest order)
    fits: dict = field(default_factory=dict)          # El -> {sid: fit record}
    embedding: dict = field(default_factory=dict)     # El -> {sid: embedding record}
    fit_png: dict = field(default_factory=dict)       # El -> Path (when the fit stage wrote it)
    embedding_png: dict = field(default_factory=dict)  # El -> Path


def load_results(workdir, config: dict) -> Results:
    """Records of the configured element set under workdir/results (InputError if a required one is missing)."""
    root = Path(workdir)
    if not isinstance(config, dict) or not config.get("elements"):
        raise InputError("report: the config has no 'elements' list; pass the config the pipeline ran with")
    name = set_name(config)
    bpath = L.under(root, L.bundle_json(name))
    if not bpath.exists():
        raise InputError(f"report: bundle {bpath} does not exist; run the pipeline first "
                         f"(snakemake --cores 2 {L.bundle_json(name)})")
    out = Results(root, name, list(config["elements"]), bpath, load_bundle(bpath))
    for el in out.elements:
        man = read_json(L.under(root, L.atom_manifest(el)), f"state manifest of {el}")
        out.manifests[el] = man
        out.atoms[el] = [read_json(L.under(root, L.atom_record(el, e["state_id"])), "atom record")
                         for e in man["states"]]
        fitted = [e["state_id"] for e in man["states"] if e.get("role", "state") == "state"]
        out.fits[el] = {s: read_json(L.under(root, L.fit_record(el, s)), "fit record") for s in fitted}
        out.embedding[el] = {s: read_json(L.under(root, L.embedding_record(el, s)), "embedding record")
                             for s in fitted}
        for store, path in ((out.fit_png, L.under(root, L.fit_figure(el))),
                            (out.embedding_png, L.under(root, L.embedding_figure(el)))):
            if path.exists() and path.stat().st_size > 0:
                store[el] = path
    return out


def _number(text: str):
    t = text.strip()
    if t == "":
        return None
    try:
        return float(t)
    except ValueError:
        return t


def read_table(path, required) -> list[dict]:
    """Rows of a CSV with numeric cells as floats (empty cells None); InputError naming the file
    and the first missing required column."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise InputError(f"{p} does not exist") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{p} is empty; expected a header with {', '.join(required)}")
    reader = csv.DictReader(lines)
    cols = reader.fieldnames or []
    missing = [c for c in required if c not in cols]
    if missing:
        raise InputError(f"{p} lacks column {missing[0]!r} (has {', '.join(cols)}); "
                         f"the benchmark stage writes {', '.join(required)}")
    rows = []
    for k, row in enumerate(reader, start=2):
        if None in row:
            raise InputError(f"{p} line {k} has more cells than the header")
        rows.append({c: (_number(v) if v is not None else None) for c, v in row.items()})
    for c in required:
        if c in ("model", "method", "option", "mol", "value"):
            continue
        for k, row in enumerate(rows, start=2):
            v = row[c]
            if v is not None and not isinstance(v, float):
                raise InputError(f"{p} line {k}: column {c!r} = {v!r} is not a number")
    return rows


@dataclass
class MoleculeBenchmarks:
    mol: str
    directory: Path
    tables: dict = field(default_factory=dict)   # kind -> rows, for the CSVs present
    unavailable: str | None = None               # why there is no QM reference (unavailable.json)


def load_benchmarks(workdir, config: dict) -> tuple[list[MoleculeBenchmarks], list[dict] | None, list[str]]:
    """(molecules with at least one benchmark CSV, sensitivity rows or None, configured molecule names).
    Molecules come from config['molecules']['names'] plus any results/benchmarks/{mol}/ on disk."""
    base = L.under(workdir, L.benchmark_dir("x")).parent
    from ...molecules.benchmarks import UNAVAILABLE_FILE
    from ...molecules.diatomics import settings_from_config

    try:
        configured = [m.name for m in settings_from_config(config).molecules]
    except InputError:
        configured = list(((config.get("molecules") or {}).get("names")) or [])
    names = list(configured)
    if base.is_dir():
        names += sorted(p.name for p in base.iterdir() if p.is_dir() and p.name not in names)
    mols = []
    for mol in names:
        d = base / mol
        mb = MoleculeBenchmarks(mol, d)
        if (d / UNAVAILABLE_FILE).exists():
            try:
                mb.unavailable = str(json.loads((d / UNAVAILABLE_FILE).read_text()).get("reason", ""))
            except (OSError, ValueError):
                mb.unavailable = f"{UNAVAILABLE_FILE} is unreadable"
            mols.append(mb)
            continue
        for kind, cols in BENCHMARK_COLUMNS.items():
            f = d / f"{kind}.csv"
            if f.exists():
                mb.tables[kind] = read_table(f, cols)
        if mb.tables:
            mols.append(mb)
    sens = L.under(workdir, L.sensitivity_csv())
    sensitivity = read_table(sens, SENSITIVITY_COLUMNS) if sens.exists() else None
    return mols, sensitivity, configured


def curve_models(rows: list[dict]) -> list[str]:
    """Models with a binding_<model>_hartree column in curves.csv, in the format's order."""
    if not rows:
        return []
    cols = rows[0].keys()
    known = [m for m in BENCHMARK_MODELS if f"binding_{m}_hartree" in cols]
    extra = [c[len("binding_"):-len("_hartree")] for c in cols
             if c.startswith("binding_") and c.endswith("_hartree") and c != "binding_ref_hartree"
             and c[len("binding_"):-len("_hartree")] not in known]
    return known + extra


def finite(v) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def config_with_defaults(config: dict) -> dict:
    """A copy of config with the schema's defaults filled in, as Snakemake's
    validate(config, schema) does before the pipeline hashes it into the bundle."""
    import copy

    import jsonschema

    from ...config import schema

    base = jsonschema.Draft202012Validator
    props = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, sch):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from props(validator, properties, instance, sch)

    filled = copy.deepcopy(config)
    validator = jsonschema.validators.extend(base, {"properties": set_defaults})(schema())
    for _ in validator.iter_errors(filled):
        pass
    return filled
