"""Rule molecule_reference: the QM reference curve of one diatomic (ectem_core.molecules.reference)."""
import contextlib
import os

from ectem_core.errors import EctemError
from ectem_core.molecules.diatomics import r_grid, settings_from_config
from ectem_core.molecules.reference import run_molecule

sm = globals()["snakemake"]
os.environ.setdefault("OMP_NUM_THREADS", str(sm.threads))
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    try:
        s = settings_from_config(sm.config)
        mol = s.get(sm.wildcards.mol)
        run_molecule(mol, s.level, r_grid(mol, s.n_points, s.r_max), s.density_points,
                     os.path.dirname(sm.output.csv), progress=True, multireference=s.multireference)
    except EctemError as exc:
        print(f"ectem: error: {exc}", file=log)
        raise SystemExit(f"molecule_reference {sm.wildcards.mol}: {exc}") from exc
