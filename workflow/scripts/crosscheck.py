"""Rule crosscheck: PySCF vs Psi4 on the element set (thin adapter around ectem_core.atoms.crosscheck)."""
import contextlib
import sys
from pathlib import Path

try:
    import ectem_core  # noqa: F401
except ImportError:  # a conda env (--sdm conda) without the project installed: use the checkout
    sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1]))

from ectem_core.atoms import settings_from_config
from ectem_core.atoms.crosscheck import crosscheck_states, run_crosscheck, to_csv, to_text
from ectem_core.io import write_text

settings = settings_from_config(snakemake.config)
states = crosscheck_states(list(snakemake.params.elements), settings=settings)
with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    print(f"crosscheck {settings.energy_level.label()} (density {settings.density_level.method}): "
          f"{', '.join(s.state_id for s in states)}", flush=True)
    rows = run_crosscheck(states, settings.energy_level, settings.density_level, settings.grid,
                          settings.n_angular, snakemake.threads,
                          progress=lambda r: print(f"{r['state_id']}: dE = {r['energy_diff']:.2e} Ha, "
                                                   f"max rel drho = {r['max_rel_density_diff']:.2e}", flush=True))
    print(to_text(rows))
write_text(snakemake.output[0], to_csv(rows))  # atomic: never a half-written table
