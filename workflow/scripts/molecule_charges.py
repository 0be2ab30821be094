"""Snakemake script: population charges at one molecule's density points."""
import os
import sys

from ectem_core.benchmarks import reference_charges

sm = globals()["snakemake"]
os.environ.setdefault("OMP_NUM_THREADS", str(sm.threads))
with open(sm.log[0], "w") as log:
    sys.stderr = log
    reference_charges(os.path.dirname(sm.input.meta), sm.output[0], progress=lambda m: print(m, file=log, flush=True))
