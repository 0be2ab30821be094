"""Numba's on-disk cache is kept per version of the package's source (ectem_core/__init__.py): a
stale cached kernel that calls a changed kernel of another module crashed the process once."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import ectem_core

SHOW = "import os, ectem_core, numba; print(os.environ['NUMBA_CACHE_DIR']); print(numba.config.CACHE_DIR)"


def _run(env):
    run = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_cache_folder_is_named_by_the_source_hash(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["ECTEM_CACHE_DIR"] = str(tmp_path)
    root = Path(ectem_core.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    want = str(tmp_path / "numba" / digest.hexdigest()[:16])
    assert _run(env) == [want, want]


def test_a_users_numba_cache_dir_is_kept(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    assert _run(env) == [str(tmp_path / "mine")] * 2
