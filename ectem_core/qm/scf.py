"""The one SCF retry ladder of ectem (atoms and molecules alike).

Rungs, tried in order until one converges:
  diis                plain DIIS from the given guess;
  damped_level_shift  damping 0.5 for the first 8 cycles (DIIS after) and a level shift of 0.4 Ha;
  atomic_guess        superposition-of-atoms guess (any given guess is dropped) with a 0.2 Ha shift;
  second_order        Newton (second-order) SCF.
"""
from __future__ import annotations

import warnings

from ..errors import ConvergenceError

ATTEMPTS = ("diis", "damped_level_shift", "atomic_guess", "second_order")
# For a caller whose guess selects the state (a molecule's ionic or broken-symmetry branch):
# the superposition-of-atoms guess would throw the branch away and land on another one.
GUIDED_ATTEMPTS = ("diis", "damped_level_shift", "second_order")
DAMP = 0.5
DIIS_START_CYCLE = 8
LEVEL_SHIFT = 0.4           # hartree
GUESS_LEVEL_SHIFT = 0.2     # hartree


def apply_attempt(mf, attempt: str, max_cycle: int):
    """Configure a PySCF mean-field object for one rung; returns it (Newton-wrapped for
    'second_order')."""
    if attempt == "damped_level_shift":
        mf.damp = DAMP
        mf.diis_start_cycle = DIIS_START_CYCLE
        mf.level_shift = LEVEL_SHIFT
    elif attempt == "atomic_guess":
        mf.init_guess = "atom"
        mf.level_shift = GUESS_LEVEL_SHIFT
    elif attempt == "second_order":
        mf = mf.newton()
        mf.max_cycle = max_cycle
    elif attempt != "diis":
        raise ValueError(f"unknown SCF attempt {attempt!r}")
    return mf


def converge(make, what: str, dm0=None, attempts=ATTEMPTS, hint: str = ""):
    """Run `make(attempt)` -> mean-field object for each rung until one converges.

    Returns (mf, attempt, failed_attempts). ConvergenceError '`what` did not converge ...', every failed rung
    (with the exception of a rung that raised) and `hint` when all fail."""
    tried = []
    for attempt in attempts:
        mf = make(attempt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                mf.kernel(dm0=None if attempt == "atomic_guess" else dm0)
            except Exception as exc:  # a failing rung is reported in the final error
                tried.append(f"{attempt} ({type(exc).__name__}: {exc})")
                continue
        if mf.converged:
            return mf, attempt, tried
        tried.append(attempt)
    raise ConvergenceError(f"{what} did not converge after {len(tried)} attempts ({', '.join(tried)})"
                           + (f"; {hint}" if hint else ""))
