"""The background-density window of a state: overlap-averaged ρ̄ with the element set's neutral
ground states at 0.8–1.5 × typical (covalent) bond lengths, weighted toward the wall (bohr⁻³)."""
from __future__ import annotations

import math

import numpy as np

from ..density import slater
from ..elements import BOHR_ANGSTROM, COVALENT_RADIUS_ANGSTROM
from ..errors import EctemError, InputError
from .settings import EmbeddingSettings

_GLX, _GLW = np.polynomial.legendre.leggauss(12)

# Covalent radii (Å) of Cordero et al. (elements.COVALENT_RADIUS_ANGSTROM). A "typical bond
# length" of the pair A–B is r_A + r_B (overridable per pair in the config).

# ------------------------------------------------------------------------------ window

class _Cumulative:
    """G(x) = ∫_0^x s ρ(s) ds of one density: exact cumulative values at knots uniform in
    t = ln s (Gauss–Legendre panels), and for a query x the knot value below it plus a
    Gauss–Legendre integral from that knot to x (no interpolation error); G(x) = G(∞) beyond
    the table (ρ < 1e-22 there), ρ(0) x²/2 below it."""

    def __init__(self, rd: slater.RadialDensity, s_min: float = 1e-7, s_max: float = 400.0, n: int = 1500):
        self.rd = rd
        self.t = np.linspace(math.log(s_min), math.log(s_max), n + 1)
        mid, half = 0.5 * (self.t[1:] + self.t[:-1]), 0.5 * (self.t[1:] - self.t[:-1])
        s = np.exp(mid[:, None] + half[:, None] * _GLX[None, :])
        pan = (half[:, None] * _GLW[None, :] * s**2 * slater.density(rd, s)).sum(axis=1)
        self.rho0 = float(slater.density(rd, 0.0))
        self.G = self.rho0 * s_min**2 / 2.0 + np.concatenate([[0.0], np.cumsum(pan)])
        self.s_min, self.s_max = s_min, s_max

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        out = np.empty_like(x)
        lo, hi = x <= self.s_min, x >= self.s_max
        out[lo] = self.rho0 * x[lo] ** 2 / 2.0
        out[hi] = self.G[-1]
        mid = ~(lo | hi)
        tx = np.log(x[mid])
        h = self.t[1] - self.t[0]
        k = np.clip(((tx - self.t[0]) / h).astype(int), 0, self.t.size - 2)
        a = self.t[k]
        half = 0.5 * (tx - a)
        tt = (a + half)[:, None] + half[:, None] * _GLX[None, :]
        s = np.exp(tt)
        part = (half[:, None] * _GLW[None, :] * s**2 * slater.density(self.rd, s)).sum(axis=1)
        out[mid] = self.G[k] + part
        return out


def overlap(rd_a: slater.RadialDensity | None, rd_b: slater.RadialDensity | None, R,
            n_panels: int = 60) -> np.ndarray:
    """S(R) = ∫ ρ_a(r) ρ_b(|r − R|) d³r (bohr⁻³) for two spherical densities at distance R > 0.

    Delegates to pair_tables.overlap (2-D Gauss–Legendre in (r, s), ~1e-13 relative). An
    earlier 1-D route here, (2π/R)∫ r ρ_a [G_b(r+R) − G_b(|r−R|)] dr, lost accuracy to
    cancellation at large R (2e-7 relative at 6 bohr, 2e-4 at 12 bohr for Li–F densities;
    caught by the cross-check in tests/test_pair_tables.py). n_panels is kept for
    compatibility and ignored."""
    from ..density.pair_integrals import overlap as _pair_overlap

    R = np.atleast_1d(np.asarray(R, dtype=float))
    if np.any(~(R > 0)):
        raise InputError("overlap: distances must be > 0")
    if rd_a is None or rd_b is None or rd_a.n_electrons == 0 or rd_b.n_electrons == 0:
        return np.zeros_like(R)
    return np.array([float(_pair_overlap(rd_a, rd_b, float(Ri))) for Ri in R])


def typical_bond_length(sym_a: str, sym_b: str, overrides: dict | None = None) -> float:
    """Typical A–B bond length (bohr): a config override 'A-B' (either order), else the sum
    of Cordero covalent radii."""
    overrides = overrides or {}
    for key in (f"{sym_a}-{sym_b}", f"{sym_b}-{sym_a}"):
        if key in overrides:
            return float(overrides[key])
    try:
        return (COVALENT_RADIUS_ANGSTROM[sym_a] + COVALENT_RADIUS_ANGSTROM[sym_b]) / BOHR_ANGSTROM
    except KeyError as exc:
        raise InputError(f"no covalent radius for element {exc.args[0]}; set embedding.bond_lengths_bohr") from None


def background_window(rd: slater.RadialDensity, n_electrons: float, symbol: str, partners: dict,
                      settings: EmbeddingSettings) -> dict:
    """Background densities the potential samples for this state near bonding distances.

    partners: {element symbol: RadialDensity of its neutral ground state}. For each partner X
    and R on [f_lo, f_hi] × R_AX (typical bond length), ρ̄(R) = S_{s,X}(R)/N_s (the potential's
    overlap average, docs/model.md section 4). Returns the window [ρ̄_lo, ρ̄_hi] (over all
    partners), the per-partner samples, and the fit grid: n_window points log-spaced in the
    window with weights rising linearly in ln ρ̄ from 1 at ρ̄_lo (long R) to `wall_weight` at
    ρ̄_hi (short R, the repulsive wall), normalized to sum 1."""
    f_lo, f_hi = settings.window_factors
    samples = {}
    lo, hi = math.inf, 0.0
    for sym, rdx in partners.items():
        Rb = typical_bond_length(symbol, sym, settings.bond_lengths_bohr)
        R = np.linspace(f_lo * Rb, f_hi * Rb, 8)
        rbar = overlap(rd, rdx, R) / n_electrons
        samples[sym] = {"bond_length_bohr": Rb, "R_bohr": R.tolist(), "rho_bar": rbar.tolist()}
        lo, hi = min(lo, float(rbar.min())), max(hi, float(rbar.max()))
    if not (hi > lo > 0):
        raise EctemError(f"{symbol}: empty background-density window ({lo}, {hi})")
    grid = np.geomspace(lo, hi, settings.n_window)
    u = np.log(grid / lo) / math.log(hi / lo)
    w = 1.0 + (settings.wall_weight - 1.0) * u
    return {"rho_lo": lo, "rho_hi": hi, "samples": samples, "rho_bar": grid, "weights": w / w.sum()}


