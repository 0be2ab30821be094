"""Rule cluster_reference: one held-out polyatomic cluster at the molecule level (ectem_core.molecules.clusters)."""
import contextlib
import os

from ectem_core.errors import EctemError
from ectem_core.molecules.clusters import run_cluster
from ectem_core.molecules.diatomics import settings_from_config

sm = globals()["snakemake"]
os.environ.setdefault("OMP_NUM_THREADS", str(sm.threads))
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    try:
        level = settings_from_config(sm.config).level
        rec = run_cluster(sm.wildcards.cluster, level, sm.output[0], sm.config["elements"])
        print(f"{rec['name']} at {level.label()}: {rec['status']} "
              f"{rec.get('binding_eV', rec.get('reason', ''))} ({rec['wall_seconds']:.1f} s)", file=log, flush=True)
    except EctemError as exc:
        print(f"ectem: error: {exc}", file=log)
        raise SystemExit(f"cluster_reference {sm.wildcards.cluster}: {exc}") from exc
