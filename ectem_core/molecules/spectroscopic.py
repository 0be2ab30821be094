"""Spectroscopic constants of a diatomic potential-energy curve: Re (bohr), De (hartree),
ωe (cm⁻¹) and the dissociation limit, from a binding-energy curve E(R) − E(atoms).

The curve is interpolated by a cubic spline through the points; Re is the spline minimum,
De = −E_bind(Re), ωe = √(k/μ)/(2πc) with k = E''(Re) (harmonic force constant) and μ the
reduced mass of the most abundant isotopes (ASE's masses, in electron masses).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

HARTREE_TO_CM1 = 219474.6313632      # CODATA 2018
AMU_TO_ME = 1822.888486209           # CODATA 2018


def reduced_mass_me(a: str, b: str) -> float:
    """Reduced mass of the diatomic A–B in electron masses."""
    from ase.data import atomic_masses, atomic_numbers

    ma, mb = atomic_masses[atomic_numbers[a]], atomic_masses[atomic_numbers[b]]
    return ma * mb / (ma + mb) * AMU_TO_ME


def constants(r, e_bind, a: str, b: str) -> dict:
    """Re, De, ωe and the limit (binding energy at the largest R) of one curve. A curve
    whose minimum is at the grid edge, or that never goes below zero, has no bound state:
    Re/ωe are NaN and De is 0 (the model does not bind)."""
    from scipy.interpolate import CubicSpline
    from scipy.optimize import minimize_scalar

    r = np.asarray(r, dtype=float)
    e = np.asarray(e_bind, dtype=float)
    ok = np.isfinite(e)
    r, e = r[ok], e[ok]
    if len(r) < 4:
        raise InputError("a curve needs at least 4 finite points for spectroscopic constants")
    order = np.argsort(r)
    r, e = r[order], e[order]
    limit = float(e[-1])
    k = int(np.argmin(e))
    if e[k] >= 0.0 or k == 0 or k == len(r) - 1:
        return {"re_bohr": np.nan, "de_hartree": 0.0, "we_cm1": np.nan, "limit_hartree": limit}
    spline = CubicSpline(r, e)
    res = minimize_scalar(spline, bounds=(r[k - 1], r[k + 1]), method="bounded",
                          options={"xatol": 1e-8})
    re = float(res.x)
    kf = float(spline(re, 2))
    we = np.sqrt(kf / reduced_mass_me(a, b)) * HARTREE_TO_CM1 if kf > 0 else np.nan
    return {"re_bohr": re, "de_hartree": float(-spline(re)), "we_cm1": float(we), "limit_hartree": limit}
