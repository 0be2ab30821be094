"""Rule molecule_reference: the QM reference curve of one diatomic (ectem_core.molecules.reference)."""
import contextlib
import os

from ectem_core.errors import ConvergenceError, EctemError
from ectem_core.molecules.diatomics import r_grid, settings_from_config
from ectem_core.molecules.reference import run_molecule, write_unavailable

sm = globals()["snakemake"]
os.environ.setdefault("OMP_NUM_THREADS", str(sm.threads))
with open(sm.log[0], "w") as log, contextlib.redirect_stderr(log):
    try:
        s = settings_from_config(sm.config)
        mol = s.get(sm.wildcards.mol)
        print(f"{mol.name}: 2S = {mol.spin} ({mol.spin_source}); R grid around {mol.re_guess_bohr:.3f} bohr "
              f"({mol.re_source})", file=log, flush=True)
        run_molecule(mol, s.level, r_grid(mol, s.n_points, s.r_max), s.density_points,
                     os.path.dirname(sm.output.csv), progress=True, multireference=s.multireference)
    except ConvergenceError as exc:
        # the curve cannot be made at this level: recorded, reported, and the pipeline goes on
        print(f"ectem: reference of {sm.wildcards.mol} unavailable: {exc}", file=log, flush=True)
        write_unavailable(mol, s.level, str(exc), os.path.dirname(sm.output.csv))
    except EctemError as exc:
        print(f"ectem: error: {exc}", file=log)
        raise SystemExit(f"molecule_reference {sm.wildcards.mol}: {exc}") from exc
