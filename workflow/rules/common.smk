# Included first by the Snakefile: the config (default, validation against the one schema in
# package data), the element set's name, its state lists, the model options of stage 5 and
# the target helpers every later stage file uses. No other rule file defines globals.
import re
import sys
import yaml

from snakemake.utils import min_version, validate

from ectem_core import layout as L
from ectem_core.atoms import settings_from_config as atoms_settings
from ectem_core.config import check_config, schema_path, set_name
from ectem_core.crystals.settings import settings_from_config as crystal_settings
from ectem_core.embedding import settings_from_config as embedding_settings
from ectem_core.errors import InputError
from ectem_core.molecules.diatomics import settings_from_config as molecule_settings
from ectem_core.potential.settings import settings_from_config as potential_settings
from ectem_core.tune.settings import cluster_names, settings_from_config as tune_settings

min_version("9.0")

# The default config is read only when no --configfile/--config is given, so that a second
# config file replaces it instead of being merged key by key into it.
if not config:

    configfile: "config/config.yaml"


# Our check first: it names the offending key and value in one line; then Snakemake's schema
# validation (the same schema file), which also fills in the defaults.
try:
    check_config(config, source="config")
except InputError as _exc:
    raise WorkflowError(str(_exc)) from None
validate(config, schema_path())

try:
    SET_NAME = set_name(config)
    ATOMS = atoms_settings(config)
    EMBED_SETTINGS = embedding_settings(config)
    MOLECULES = molecule_settings(config)
    POTENTIAL = potential_settings(config)
    CRYSTALS = crystal_settings(config)
    TUNE = tune_settings(config)
except InputError as _exc:  # one line naming the key, not a traceback
    raise WorkflowError(f"config: {_exc}") from None

ELEMENTS = list(config["elements"])
# every state of an element (aux states such as Li+2 only supply energies), and the ensemble
# states that are fitted and embedded
STATES = {el: [s.state_id for s in ATOMS.states(el)] for el in ELEMENTS}
FIT_STATES = {el: [s.state_id for s in ATOMS.states(el) if s.role == "state"] for el in ELEMENTS}
MOL_NAMES = [m.name for m in MOLECULES.molecules]
BUNDLE_VERSION = config.get("bundle", {}).get("version", "0.1.0")
# training molecules of the tune stage (all configured diatomics unless tune.molecules says);
# the stage runs when it is enabled and has at least one
TUNE_MOLECULES = list(TUNE.molecules) if TUNE.molecules is not None else MOL_NAMES
for _m in TUNE_MOLECULES:
    if _m not in MOL_NAMES:
        raise WorkflowError(f"config: tune.molecules: {_m!r} is not a configured molecule "
                            f"(configured: {', '.join(MOL_NAMES) or 'none'}; see molecules.names)")
TUNE_ON = TUNE.enabled and bool(TUNE_MOLECULES)
TUNED_VERSION = TUNE.version or BUNDLE_VERSION
# held-out polyatomic clusters of the tune stage (tune.clusters, default: the registry's clusters
# made only of the set's elements)
try:
    CLUSTER_NAMES = cluster_names(TUNE, ELEMENTS) if TUNE_ON else []
except InputError as _exc:
    raise WorkflowError(f"config: {_exc}") from None
SENSITIVITY_BASES = list(config.get("molecules", {}).get("sensitivity_bases", []))


wildcard_constraints:
    element=r"[A-Z][a-z]?",
    state=r"[A-Z][a-z]?(0|[+-][1-9])(_[A-Za-z0-9]+)?",
    mol=r"[A-Z][a-z]?[0-9]?([A-Z][a-z]?)?",
    basis=r"[A-Za-z0-9_().+-]+",


# ------------------------------------------------------------------ target helpers
def atom_outputs():
    files = [L.atom_manifest(el) for el in ELEMENTS]
    for el, ids in STATES.items():
        files += [L.atom_record(el, sid) for sid in ids]
    return files


def fit_outputs():
    files = [L.fit_figure(el) for el in ELEMENTS]
    for el, ids in FIT_STATES.items():
        files += [L.fit_record(el, sid) for sid in ids]
    return files


def embedding_outputs():
    files = [L.embedding_figure(el) for el in ELEMENTS]
    for el, ids in FIT_STATES.items():
        files += [L.embedding_record(el, sid) for sid in ids]
    return files


def bundle_inputs():
    """Atoms, fits and embedding records of every state: all a bundle is built from."""
    files = atom_outputs()
    for el, ids in FIT_STATES.items():
        files += [L.fit_record(el, sid) for sid in ids] + [L.embedding_record(el, sid) for sid in ids]
    return files


def benchmark_outputs():
    """Stage 5 tables ([] when no molecule is configured)."""
    files = [L.benchmark_file(m, f) for m in MOL_NAMES for f in L.BENCHMARK_TABLES]
    return files + ([L.sensitivity_csv()] if MOL_NAMES else [])


def crystal_outputs():
    """Stage 5b files ([] when crystals.enabled is false)."""
    return [L.crystal_file(SET_NAME, f) for f in L.CRYSTAL_FILES + ("md.png",)] if CRYSTALS.enabled else []


def tune_outputs():
    """Stage 5c files ([] when the tune stage is off or has no training molecule)."""
    if not TUNE_ON:
        return []
    return [L.tune_json(SET_NAME), L.tune_plot(SET_NAME), L.bundle_json(L.tuned_name(SET_NAME))]


def report_inputs():
    return ([L.bundle_json(SET_NAME)] + atom_outputs() + fit_outputs() + embedding_outputs() + benchmark_outputs()
            + crystal_outputs() + tune_outputs())


def final_outputs():
    """What `snakemake` (rule all) builds: everything up to the verified, versioned bundle."""
    return (atom_outputs() + fit_outputs() + embedding_outputs() + [L.bundle_json(SET_NAME)] + benchmark_outputs()
            + crystal_outputs() + tune_outputs() + [L.report_html(SET_NAME), L.report_pdf(SET_NAME),
                                                    L.bundle_archive(SET_NAME, BUNDLE_VERSION)]
            + ([L.bundle_archive(L.tuned_name(SET_NAME), TUNED_VERSION)] if TUNE_ON else []))
