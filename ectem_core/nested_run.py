"""Bundles of the same element set at other atom-stage basis sets, for the basis-level rows of
the sensitivity table: a nested Snakemake run per basis in results/sensitivity/{basis}/ with
the main config, that basis for the atom energies (and densities), and no molecules."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

from .errors import EctemError
from .io import write_text


def basis_config(config: dict, basis: str) -> dict:
    """The main config with the atom stage at `basis`, stage 5 and nested sensitivity off."""
    sub = copy.deepcopy(config)
    sub["levels"]["energy"]["basis"] = basis
    if isinstance(sub["levels"].get("density"), dict) and "basis" in sub["levels"]["density"]:
        sub["levels"]["density"]["basis"] = basis
    sub["molecules"] = {"names": []}
    return sub


def build_basis_bundle(config: dict, basis: str, snakefile, workdir, set_name: str, cores: int = 1,
                       log=None) -> Path:
    """Run the pipeline up to the bundle at `basis` in `workdir` (reused if up to date)."""
    import yaml

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "config.yaml"
    write_text(cfg, yaml.safe_dump(basis_config(config, basis), sort_keys=False))
    target = f"results/bundle/{set_name}.json"
    cmd = [sys.executable, "-m", "snakemake", target, "-s", str(snakefile), "--directory", str(workdir),
           "--cores", str(cores), "-q", "--configfile", str(cfg)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if log is not None:
        log.write(run.stdout + run.stderr)
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise EctemError(f"nested run at basis {basis} failed (see {workdir}): {' | '.join(tail)}")
    return workdir / target
