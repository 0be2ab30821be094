"""Third-order Birch–Murnaghan equation of state, fitted exactly as a linear least-squares problem.

E(V) = E0 + (9 V0 B0 / 16) { [(V0/V)^{2/3} − 1]³ B0' + [(V0/V)^{2/3} − 1]² [6 − 4 (V0/V)^{2/3}] }
is a cubic polynomial in x = V^{−2/3}; fitting that cubic (numpy least squares) and reading V0, E0,
B0 = V E''(V0) and B0' = −1 − V0 E'''(V0)/E''(V0) from it gives the same parameters as a non-linear
fit of the formula, with no starting guess (units are the caller's: E and V in any consistent
units, B0 in E/V)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EctemError, InputError


@dataclass(frozen=True)
class BirchMurnaghan:
    """Fitted E0, V0, B0 (E/V units), B0' (dimensionless) and the rms residual of the fit (E)."""

    e0: float
    v0: float
    b0: float
    b0_prime: float
    rms: float

    def energy(self, v):
        return birch_murnaghan(v, self.e0, self.v0, self.b0, self.b0_prime)


def birch_murnaghan(v, e0, v0, b0, b0_prime):
    """E(V) of the third-order Birch–Murnaghan form."""
    eta = (v0 / np.asarray(v, dtype=float)) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b0 / 16.0 * ((eta - 1.0) ** 3 * b0_prime + (eta - 1.0) ** 2 * (6.0 - 4.0 * eta))


def fit_birch_murnaghan(volumes, energies) -> BirchMurnaghan:
    """Fit E(V) points (at least 5, spanning the minimum) with the third-order form."""
    v = np.asarray(volumes, dtype=float)
    e = np.asarray(energies, dtype=float)
    if v.shape != e.shape or v.size < 5:
        raise InputError(f"equation of state: need at least 5 (V, E) points of equal count (got {v.size}, {e.size})")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(e)) and np.all(v > 0)):
        raise InputError("equation of state: volumes must be positive and energies finite")
    x = v ** (-2.0 / 3.0)
    scale = x.mean()
    p = np.polynomial.Polynomial.fit(x / scale, e, 3, window=[-1, 1])
    p = p.convert()
    dp = p.deriv()
    roots = [r.real for r in dp.roots() if abs(r.imag) < 1e-12 and p.deriv(2)(r.real) > 0]
    inside = [r for r in roots if (x / scale).min() <= r <= (x / scale).max()]
    if not inside:
        raise EctemError(f"equation of state: no minimum inside the volumes {v.min():.4g}–{v.max():.4g}; "
                         "the scan does not bracket the equilibrium")
    xs = inside[0] * scale
    v0 = xs ** (-1.5)
    e0 = float(p(inside[0]))

    def dE(order):   # d^n E / dV^n at V0 by the chain rule through x = V^{-2/3}
        t = xs / scale
        d1, d2, d3 = (float(p.deriv(k)(t)) / scale ** k for k in (1, 2, 3))
        x1 = -2.0 / 3.0 * v0 ** (-5.0 / 3.0)
        x2 = 10.0 / 9.0 * v0 ** (-8.0 / 3.0)
        x3 = -80.0 / 27.0 * v0 ** (-11.0 / 3.0)
        if order == 2:
            return d2 * x1 * x1 + d1 * x2
        return d3 * x1 ** 3 + 3.0 * d2 * x1 * x2 + d1 * x3

    e2, e3 = dE(2), dE(3)
    b0 = v0 * e2
    b0p = -1.0 - v0 * e3 / e2
    rms = float(np.sqrt(np.mean((p(x / scale) - e) ** 2)))
    return BirchMurnaghan(e0, float(v0), float(b0), float(b0p), rms)
