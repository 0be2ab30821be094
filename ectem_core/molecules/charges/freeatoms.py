"""Spherically averaged free-atom and free-ion densities at a molecule's basis and method.

Each atom of the molecule is computed alone (UHF, or UHF-based UCCSD) with that atom's basis
from the molecule, in its Aufbau/Hund ground-state spin, and its density is averaged over
Lebedev spheres (`ectem_core.atoms.radial.sphericalize`). Radial tables are interpolated as a cubic
spline of ln rho in ln r. Units: r in bohr, rho in electrons/bohr^3.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...atoms.radial import RadialGrid, sphericalize
from ...errors import ConvergenceError, InputError

_SUBSHELLS = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (3, 2), (4, 1), (5, 0), (4, 2), (5, 1)]
ATOM_METHODS = ("hf", "ccsd")


def hund_spin(n_electrons: int) -> int:
    """2S of the Aufbau (Madelung) + Hund ground configuration of n_electrons electrons."""
    if n_electrons < 0:
        raise InputError(f"negative electron count {n_electrons}")
    left, unpaired = n_electrons, 0
    for _, l in _SUBSHELLS:
        cap = 2 * (2 * l + 1)
        k = min(left, cap)
        left -= k
        if k < cap:
            unpaired = k if k <= cap // 2 else cap - k
            break
    if left:
        raise InputError(f"{n_electrons} electrons is beyond the built-in Aufbau table (<= 54)")
    return unpaired


@dataclass
class RadialDensity:
    """rho(r) of one free atom/ion; `n_integrated` = ∫4πr²rho dr on the radial grid."""

    symbol: str
    charge: int
    n_electrons: int
    r: np.ndarray
    rho: np.ndarray
    n_integrated: float
    energy_hartree: float | None = None
    _spline: object = field(default=None, repr=False)

    def __call__(self, dist: np.ndarray) -> np.ndarray:
        """rho at distances `dist` (bohr); exponential extrapolation beyond the table."""
        if self.n_electrons == 0:
            return np.zeros_like(dist, dtype=float)
        if self._spline is None:
            from scipy.interpolate import CubicSpline

            y = np.log(np.maximum(self.rho, 1e-300))
            self._spline = CubicSpline(np.log(self.r), y, extrapolate=True)
        t = np.log(np.clip(dist, self.r[0], None))
        out = np.exp(self._spline(np.minimum(t, np.log(self.r[-1]))))
        far = dist > self.r[-1]
        if far.any():  # log-linear tail from the last two table points
            slope = (np.log(max(self.rho[-1], 1e-300)) - np.log(max(self.rho[-2], 1e-300))) / (self.r[-1] - self.r[-2])
            out[far] = np.exp(np.log(max(self.rho[-1], 1e-300)) + min(slope, 0.0) * (dist[far] - self.r[-1]))
        return out


def atom_basis(mol, symbol: str):
    """The basis the molecule uses for `symbol` (PySCF internal format)."""
    basis = mol._basis.get(symbol)
    if basis is None:
        raise InputError(f"molecule has no basis for {symbol}")
    return basis


def free_atom_density(mol, symbol: str, charge: int = 0, method: str = "hf",
                      grid: RadialGrid | None = None, n_angular: int = 302) -> RadialDensity:
    """Spherically averaged density of the free atom/ion `symbol`^charge at mol's basis."""
    amol, dm, energy = run_free_atom(mol, symbol, charge, method)
    grid = grid or RadialGrid()
    n = int(round(amol.nelectron))
    if n == 0:
        return RadialDensity(symbol, charge, 0, grid.r, np.zeros(grid.n), 0.0, energy)
    dens = sphericalize(_density_and_gradient(amol, dm), grid, n_angular)
    return RadialDensity(symbol, charge, n, dens.r, dens.rho, dens.n_integrated, energy)


class FreeAtoms:
    """Lazy cache of free-atom/ion radial densities {(symbol, charge): RadialDensity}.

    `provided` may pre-fill it (e.g. densities from the atoms stage); anything missing is
    computed with `method` at the molecule's basis on first use."""

    def __init__(self, mol, method: str = "hf", provided: dict | None = None,
                 grid: RadialGrid | None = None, n_angular: int = 302):
        if method not in ATOM_METHODS:
            raise InputError(f"free-atom method {method!r} not supported: use one of {ATOM_METHODS}")
        self.mol, self.method, self.grid, self.n_angular = mol, method, grid, n_angular
        self.cache: dict[tuple[str, int], RadialDensity] = {}
        for key, val in (provided or {}).items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InputError(f"free_atoms keys must be (symbol, charge) tuples, got {key!r}")
            if not isinstance(val, RadialDensity):
                r, rho = (np.asarray(a, dtype=float) for a in val)
                n_int = float(np.trapezoid(4 * np.pi * r**2 * rho, r))
                from pyscf import gto

                val = RadialDensity(key[0], int(key[1]), gto.charge(key[0]) - int(key[1]), r, rho, n_int)
            self.cache[(key[0], int(key[1]))] = val

    def get(self, symbol: str, charge: int) -> RadialDensity:
        key = (symbol, int(charge))
        if key not in self.cache:
            self.cache[key] = free_atom_density(self.mol, symbol, int(charge), self.method,
                                                self.grid, self.n_angular)
        return self.cache[key]


def _density_and_gradient(mol, dm):
    from pyscf.dft import numint

    def f(points):
        ao = mol.eval_gto("GTOval_cart_deriv1" if mol.cart else "GTOval_sph_deriv1", points)
        rho = numint.eval_rho(mol, ao, dm, xctype="GGA")
        return rho[0], np.ascontiguousarray(rho[1:4].T)

    return f


def run_free_atom(mol, symbol: str, charge: int, method: str):
    from pyscf import cc, gto, scf

    if method not in ATOM_METHODS:
        raise InputError(f"free-atom method {method!r} not supported: use one of {ATOM_METHODS}")
    Z = gto.charge(symbol)
    n = Z - charge
    if n < 0:
        raise InputError(f"{symbol} cannot carry charge {charge:+d}")
    amol = gto.M(atom=[[symbol, (0.0, 0.0, 0.0)]], basis={symbol: atom_basis(mol, symbol)},
                 charge=charge, spin=hund_spin(n), cart=mol.cart, unit="Bohr", verbose=0)
    if n == 0:
        return amol, np.zeros((amol.nao, amol.nao)), 0.0
    mf = scf.UHF(amol)
    mf.conv_tol = 1e-10
    mf.max_cycle = 200
    mf.kernel()
    if not mf.converged:
        mf = mf.newton()
        mf.kernel()
    if not mf.converged:
        raise ConvergenceError(f"UHF of free {symbol}{charge:+d} did not converge (basis of the molecule)")
    if method == "hf" or n == 1:
        dm = mf.make_rdm1()
        return amol, dm[0] + dm[1], float(mf.e_tot)
    mycc = cc.UCCSD(mf)
    mycc.conv_tol = 1e-8
    mycc.kernel()
    if not mycc.converged:
        raise ConvergenceError(f"UCCSD of free {symbol}{charge:+d} did not converge")
    dmo = mycc.make_rdm1()
    ca, cb = mf.mo_coeff
    dm = ca @ dmo[0] @ ca.T + cb @ dmo[1] @ cb.T
    return amol, dm, float(mycc.e_tot)
