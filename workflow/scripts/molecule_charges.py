"""Rule molecule_charges: population charges at one molecule's density points."""
import contextlib
import os

from ectem_core.molecules.benchmarks import reference_charges

sm = globals()["snakemake"]
os.environ.setdefault("OMP_NUM_THREADS", str(sm.threads))
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    reference_charges(os.path.dirname(sm.input.meta), sm.output[0], progress=lambda m: print(m, file=log, flush=True))
