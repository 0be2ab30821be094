"""Snakemake script: sensitivity of Re, De, q(Re) to the model's [choose] options."""
import os

from ectem_core.benchmarks import sensitivity
from ectem_core.molecules import settings_from_config

sm = globals()["snakemake"]
pot = {"variants": ["pure", "resonance", "thermal"], **sm.config.get("potential", {})}
mols = settings_from_config(sm.config).molecules
refs = {m.name: (*m.symbols, os.path.dirname(p)) for m, p in zip(mols, sm.input.metas)}
sensitivity(sm.input.bundle, refs, sm.output[0], variants=tuple(pot["variants"]))
