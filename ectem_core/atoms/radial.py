"""Radial grids, Lebedev sphericalization of densities, and radial integrals.

Units: r in bohr, densities in electrons/bohr^3.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class RadialGrid:
    """Logarithmic radial grid r_i = r_min * (r_max/r_min)^(i/(n-1)).

    Integrals use composite Simpson in t = ln r (uniform), plus the analytic
    contribution of [0, r_min] taken from rho(0)."""

    r_min: float = 1e-4
    r_max: float = 40.0
    n: int = 1201

    def __post_init__(self):
        if not (0 < self.r_min < self.r_max):
            raise InputError(f"radial grid needs 0 < r_min < r_max (got {self.r_min}, {self.r_max})")
        if self.r_max < 30.0:
            raise InputError(f"radial grid r_max={self.r_max} bohr is too short: use >= 30 bohr")
        if self.n < 101 or self.n % 2 == 0:
            raise InputError(f"radial grid n={self.n}: use an odd number >= 101 (Simpson rule)")

    @property
    def r(self) -> np.ndarray:
        return np.geomspace(self.r_min, self.r_max, self.n)

    def integrate(self, f: np.ndarray, f0: float = 0.0) -> float:
        """∫_0^{r_max} f(r) dr for samples f on the grid; f0 = f(r)/r^2 near 0 (i.e. 4πρ(0)
        for f = 4πr²ρ) adds the [0, r_min] piece."""
        return simpson_log(self.r, f) + f0 * self.r_min**3 / 3.0


def simpson_log(r: np.ndarray, f: np.ndarray) -> float:
    """Composite Simpson of ∫ f dr over a logarithmic grid (odd number of points)."""
    t = np.log(r)
    h = (t[-1] - t[0]) / (len(t) - 1)
    g = f * r
    return float(h / 3.0 * (g[0] + g[-1] + 4.0 * g[1:-1:2].sum() + 2.0 * g[2:-1:2].sum()))


def lebedev(n_points: int = 302) -> tuple[np.ndarray, np.ndarray]:
    """Lebedev unit vectors (n,3) and weights summing to 1."""
    from pyscf.dft import LebedevGrid

    try:
        g = LebedevGrid.MakeAngularGrid(n_points)
    except Exception as exc:  # pyscf raises KeyError/ValueError for unknown sizes
        raise InputError(f"no Lebedev grid with {n_points} points (try 110, 194, 302, 434, 590)") from exc
    return np.ascontiguousarray(g[:, :3]), np.ascontiguousarray(g[:, 3])


@dataclass
class SphericalDensity:
    """Sphericalized density on a radial grid.

    r: bohr; rho: angular average ρ̄(r); drho: dρ̄/dr; rho0: ρ at the nucleus;
    anisotropy: max over r (where ρ̄ > 1e-8 ρ0) of the angular standard deviation / ρ̄
    before averaging (0 for a closed shell); n_integrated: ∫4πr²ρ̄ dr."""

    r: np.ndarray
    rho: np.ndarray
    drho: np.ndarray
    rho0: float
    anisotropy: float
    n_integrated: float

    @property
    def rdf(self) -> np.ndarray:
        return 4.0 * np.pi * self.r**2 * self.rho


def sphericalize(density_and_gradient: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
                 grid: RadialGrid, n_angular: int = 302, chunk: int = 20000) -> SphericalDensity:
    """Average a 3-D density (and its gradient) over Lebedev spheres at each grid radius.

    density_and_gradient(points (m,3)) -> (rho (m,), grad (m,3)). The radial derivative is the
    angular average of ∇ρ·r̂. Exact for Gaussian-basis densities when the Lebedev order
    exceeds twice the highest angular momentum of the basis."""
    u, w = lebedev(n_angular)
    r = grid.r
    pts = (r[:, None, None] * u[None, :, :]).reshape(-1, 3)
    rho = np.empty(len(pts))
    drad = np.empty(len(pts))
    unit = np.tile(u, (len(r), 1))
    for s in range(0, len(pts), chunk):
        d, g = density_and_gradient(pts[s:s + chunk])
        rho[s:s + chunk] = d
        drad[s:s + chunk] = np.einsum("ij,ij->i", g, unit[s:s + chunk])
    rho = rho.reshape(len(r), -1)
    drad = drad.reshape(len(r), -1)
    rho_bar = rho @ w
    drho_bar = drad @ w
    var = ((rho - rho_bar[:, None]) ** 2) @ w
    rho0 = float(density_and_gradient(np.zeros((1, 3)))[0][0])
    significant = rho_bar > 1e-8 * max(rho0, 1e-300)
    aniso = float(np.max(np.sqrt(var[significant]) / rho_bar[significant])) if significant.any() else 0.0
    n_int = grid.integrate(4.0 * np.pi * r**2 * rho_bar, 4.0 * np.pi * rho0)
    return SphericalDensity(r, rho_bar, drho_bar, rho0, aniso, n_int)
