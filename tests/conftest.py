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
