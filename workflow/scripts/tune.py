"""Rule tune: fit and validate the tuned potential of the element set (ectem_core.tune.stage)."""
import contextlib
import os

from ectem_core.errors import EctemError
from ectem_core.tune.settings import settings_from_config
from ectem_core.tune.stage import run_stage

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    mols = [(m, a, b, os.path.dirname(ref)) for (m, a, b), ref in zip(sm.params.molecules, sm.input.refs)]
    try:
        run_stage(sm.input.bundle, sm.wildcards.set, mols, sm.config["elements"], settings_from_config(sm.config),
                  sm.output.json, sm.output.bundle, sm.output.png, list(sm.input.clusters),
                  progress=lambda msg: print(msg, file=log, flush=True))
    except EctemError as exc:
        print(f"ectem: error: {exc}", file=log)
        raise SystemExit(f"tune {sm.wildcards.set}: {exc}") from exc
