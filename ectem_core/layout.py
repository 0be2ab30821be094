"""Every path of a pipeline run, relative to its working directory: the Snakemake rules, the
bundle assembly, the report and the tests all take their file names from here.

Each function returns a relative path string; pass Snakemake wildcards as "{element}",
"{state}", ... to get a rule pattern, or real values to get a file. `under(workdir, path)`
joins a working directory. State ids are `{El}{charge}[_{label}]` (atoms.states).
"""
from __future__ import annotations

from pathlib import Path

RESULTS = "results"
LOGS = "logs"


def under(workdir, path: str) -> Path:
    """`path` (from this module) inside the run directory `workdir`."""
    return Path(workdir) / path


# ----------------------------------------------------------------------------- stage 1: atoms
def atom_dir(element: str) -> str:
    return f"{RESULTS}/atoms/{element}"


def atom_raw(element: str, state: str) -> str:
    """The state as computed, before derived quantities (JSON)."""
    return f"{atom_dir(element)}/raw/{state}.json"


def atom_record(element: str, state: str) -> str:
    """Raw result + derived energies + status (JSON)."""
    return f"{atom_dir(element)}/{state}.json"


def atom_density(element: str, state: str) -> str:
    """r_bohr, rho, drho_dr, rdf on the radial grid (npz)."""
    return f"{atom_dir(element)}/{state}.npz"


def atom_manifest(element: str) -> str:
    return f"{atom_dir(element)}/manifest.json"


# ----------------------------------------------------------------------------- stage 2: density fits
def fit_record(element: str, state: str) -> str:
    return f"{RESULTS}/fits/{element}/{state}.json"


def fit_figure(element: str) -> str:
    return f"{RESULTS}/fits/{element}/fits.png"


# ----------------------------------------------------------------------------- stage 3: embedding
def embedding_record(element: str, state: str) -> str:
    return f"{RESULTS}/embedding/{element}/{state}.json"


def embedding_figure(element: str) -> str:
    return f"{RESULTS}/embedding/{element}/embedding.png"


# ----------------------------------------------------------------------------- stage 4: bundle
def bundle_json(set_name: str) -> str:
    """The parameter bundle of an element set."""
    return f"{RESULTS}/bundle/{set_name}.json"


def bundle_archive(set_name: str, version: str) -> str:
    """The packed, verified, versioned bundle."""
    return f"{RESULTS}/bundle/{set_name}-{version}.tar.gz"


# ----------------------------------------------------------------------------- stage 5: molecules
def molecule_dir(mol: str) -> str:
    return f"{RESULTS}/molecules/{mol}"


def molecule_reference_csv(mol: str) -> str:
    return f"{molecule_dir(mol)}/reference.csv"


def molecule_reference_json(mol: str) -> str:
    return f"{molecule_dir(mol)}/reference.json"


def molecule_charges(mol: str) -> str:
    return f"{molecule_dir(mol)}/charges.csv"


BENCHMARK_TABLES = ("curves.csv", "spectroscopic.csv", "charges.csv", "consistency.csv", "weights.csv", "dipoles.csv")


def benchmark_dir(mol: str) -> str:
    return f"{RESULTS}/benchmarks/{mol}"


def benchmark_file(mol: str, name: str) -> str:
    """One table or figure of a molecule's benchmark (`BENCHMARK_TABLES`, dissociation.png)."""
    return f"{benchmark_dir(mol)}/{name}"


def sensitivity_csv() -> str:
    return f"{RESULTS}/benchmarks/sensitivity.csv"


def sensitivity_run(basis: str) -> str:
    """Working directory of the nested run that builds the bundle at another atom basis."""
    return f"{RESULTS}/sensitivity/{basis}"


# ----------------------------------------------------------------------------- stage 5b: crystals
CRYSTAL_FILES = ("crystals.json", "crystals.csv", "eos.png")


def crystal_file(set_name: str, name: str) -> str:
    """One output of the crystal stage (`CRYSTAL_FILES`, md.png): results/crystals/{set}/{name}."""
    return f"{RESULTS}/crystals/{set_name}/{name}"


# ----------------------------------------------------------------------------- stage 5c: tune
def cluster_reference_json(name: str) -> str:
    """QM energy of one held-out polyatomic cluster relative to its free atoms (tune validation)."""
    return f"{RESULTS}/clusters/{name}.json"


def tune_json(set_name: str) -> str:
    """Parameters, fit, training and held-out tables of the tuned potential."""
    return f"{RESULTS}/tune/{set_name}.json"


def tune_plot(set_name: str) -> str:
    return f"{RESULTS}/tune/{set_name}.png"


def tuned_name(set_name: str) -> str:
    """The name of a set's tuned bundle (the atoms-only bundle keeps the set's name)."""
    return f"{set_name}-tuned"


# ----------------------------------------------------------------------------- stage 6: report
def report_html(set_name: str) -> str:
    return f"{RESULTS}/report/{set_name}.html"


def report_pdf(set_name: str) -> str:
    return f"{RESULTS}/report/{set_name}.pdf"


def crosscheck_csv(set_name: str) -> str:
    return f"{RESULTS}/crosscheck/{set_name}.csv"


# ----------------------------------------------------------------------------- logs
def log(stage: str, name: str) -> str:
    """Log file of one job: logs/{stage}/{name}.log."""
    return f"{LOGS}/{stage}/{name}.log"


def timing(rule: str, name: str) -> str:
    """Snakemake benchmark record of one job."""
    return f"{LOGS}/timing/{rule}_{name}.tsv" if name else f"{LOGS}/timing/{rule}.tsv"
