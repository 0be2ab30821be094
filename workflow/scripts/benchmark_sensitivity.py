"""Rule benchmark_sensitivity: sensitivity of Re, De, q(Re) to the model's [choose] options and
to the atom-stage basis set (bundles of the nested runs, inputs of the rule)."""
import contextlib
import os

from ectem_core.io import read_json
from ectem_core.molecules.benchmarks import sensitivity
from ectem_core.molecules.diatomics import settings_from_config
from ectem_core.molecules.reference import is_unavailable

sm = globals()["snakemake"]
mols = settings_from_config(sm.config).molecules
refs = {m.name: (*m.symbols, os.path.dirname(p)) for m, p in zip(mols, sm.input.metas)
        if not is_unavailable(read_json(p, "molecular reference"))}
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    extra = dict(zip(sm.params.bases, sm.input.basis_bundles))
    print(f"sensitivity of {', '.join(refs)}; basis bundles: {', '.join(extra) or 'none'}", file=log, flush=True)
    sensitivity(sm.input.bundle, refs, sm.output[0], variants=tuple(sm.params.potential.variants), basis_bundles=extra)
