"""Shared fixtures. Tests run real PySCF with small basis sets; slow ones are marked."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def ectem_cmd() -> list[str]:
    exe = VENV_BIN / "ectem"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ectem_core.cli"]


def snakemake_cmd() -> list[str]:
    exe = VENV_BIN / "snakemake"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


@pytest.fixture
def cli_env():
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _cli_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="session")
def small_workdir(tmp_path_factory) -> Path:
    """A real pipeline run (tests/data/small.yaml: CCSD(T)/aug-cc-pVDZ H, Li, F) up to the
    bundle, built once per test session and shared by every module that needs a bundle."""
    import subprocess

    # ECTEM_TEST_WORKDIR reuses a directory across sessions while developing (Snakemake
    # still brings it up to date); by default every session starts from an empty directory.
    work = Path(os.environ["ECTEM_TEST_WORKDIR"]) if os.environ.get("ECTEM_TEST_WORKDIR") \
        else tmp_path_factory.mktemp("small_run")
    # the target goes before --configfile, which takes several values
    cmd = snakemake_cmd() + ["results/bundle/small.json", "-s", str(REPO / "Snakefile"), "--directory", str(work),
                             "--cores", "2", "-q", "--configfile", str(REPO / "tests" / "data" / "small.yaml")]
    run = subprocess.run(cmd, capture_output=True, text=True, env=_cli_env(), timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return work


@pytest.fixture(scope="session")
def small_bundle(small_workdir) -> Path:
    """Path of the shared small bundle JSON (see small_workdir)."""
    return small_workdir / "results" / "bundle" / "small.json"
