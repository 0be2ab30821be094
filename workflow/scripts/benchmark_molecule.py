"""Rule benchmark_molecule: benchmark tables and plots of one molecule (ectem_core.molecules.benchmarks)."""
import contextlib
import os

from ectem_core.molecules.benchmarks import run_benchmark
from ectem_core.molecules.diatomics import settings_from_config

sm = globals()["snakemake"]
pot = sm.params.potential
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    mol = settings_from_config(sm.config).get(sm.wildcards.mol)
    run_benchmark(sm.input.bundle, os.path.dirname(sm.input.meta), sm.input.charges,
                  os.path.dirname(sm.output.curves), mol.name, *mol.symbols, variants=tuple(pot.variants),
                  background=pot.background, proton=pot.proton,
                  progress=lambda msg: print(msg, file=log, flush=True))
