"""ectem_core: the science library behind the ectem workflow (no Snakemake inside).

Atomic units throughout (hartree, bohr, electrons) unless a name says otherwise.
"""
import hashlib
import os
import sys
from pathlib import Path

__version__ = "0.1.0"
SCHEMA_VERSION = 1


def _numba_cache_by_source() -> None:
    """Point numba's on-disk cache (the kernels' cache=True) at a folder named by a hash of every module
    of this package, under $ECTEM_CACHE_DIR or the user's cache directory. Numba invalidates a cached
    kernel when its own file changes, not when a kernel it calls in another module does: after an update
    such a stale kernel can crash the process (seen: a segfault in the long-range kernel). A user's own
    NUMBA_CACHE_DIR is left alone."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    try:
        from platformdirs import user_cache_dir

        base = Path(os.environ.get("ECTEM_CACHE_DIR") or user_cache_dir("ectem"))
    except ImportError:   # platformdirs is a dependency; without it numba keeps its default
        return
    folder = str(base / "numba" / digest.hexdigest()[:16])
    os.environ["NUMBA_CACHE_DIR"] = folder
    if "numba" in sys.modules:   # imported before us: numba reads its config at import
        sys.modules["numba"].config.CACHE_DIR = folder


_numba_cache_by_source()
