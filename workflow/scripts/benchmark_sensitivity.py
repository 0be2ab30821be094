"""Snakemake script: sensitivity of Re, De, q(Re) to the model's [choose] options and to the
atom-stage basis set (nested runs in results/sensitivity/{basis}/)."""
import os
import sys

from ectem_core.benchmarks import sensitivity
from ectem_core.molecules import settings_from_config
from ectem_core.nested_run import build_basis_bundle

sm = globals()["snakemake"]
pot = {"variants": ["pure", "resonance", "thermal"], **sm.config.get("potential", {})}
mols = settings_from_config(sm.config).molecules
refs = {m.name: (*m.symbols, os.path.dirname(p)) for m, p in zip(mols, sm.input.metas)}
with open(sm.log[0], "w") as log:
    sys.stderr = log
    extra = {}
    for basis in sm.config.get("molecules", {}).get("sensitivity_bases", []):
        print(f"bundle at basis {basis} (nested run)", file=log, flush=True)
        extra[basis] = build_basis_bundle(sm.config, basis, sm.params.snakefile, f"results/sensitivity/{basis}",
                                          sm.params.set_name, cores=sm.threads, log=log)
    sensitivity(sm.input.bundle, refs, sm.output[0], variants=tuple(pot["variants"]), basis_bundles=extra)
