"""Rule crystals: the crystal stage of the element set (ectem_core.crystals.stage)."""
import contextlib
import os

from ectem_core.crystals.settings import settings_from_config
from ectem_core.crystals.stage import run_stage

sm = globals()["snakemake"]
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    run_stage(sm.input.bundle, sm.config["elements"], settings_from_config(sm.config), os.path.dirname(sm.output.json),
              progress=lambda msg: print(msg, file=log, flush=True))
