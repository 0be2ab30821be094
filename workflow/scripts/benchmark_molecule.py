"""Snakemake script: benchmark tables and plots of one molecule (ectem_core.benchmarks)."""
import os
import sys

from ectem_core.benchmarks import run_benchmark
from ectem_core.molecules import settings_from_config

sm = globals()["snakemake"]
pot = {"variants": ["pure", "resonance", "thermal"], "background": "overlap", "proton": False,
       **sm.config.get("potential", {})}
mol = settings_from_config(sm.config).get(sm.wildcards.mol)
with open(sm.log[0], "w") as log:
    sys.stderr = log
    run_benchmark(sm.input.bundle, os.path.dirname(sm.input.meta), sm.input.charges,
                  os.path.dirname(sm.output.curves), mol.name, *mol.symbols, variants=tuple(pot["variants"]),
                  background=pot["background"], proton=pot["proton"],
                  progress=lambda msg: print(msg, file=log, flush=True))
