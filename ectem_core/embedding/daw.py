"""The Daw (DFT) embedding curve of a frozen spherical state density in a uniform electron gas:
g(ρ) = C_F ρ^{5/3} + ρ ε_xc^{LDA}(ρ), its non-additive local part L(ρ̄) and the von Weizsäcker part
W(ρ̄) on a Gauss–Legendre grid in ln r (hartree, bohr⁻³; docs/embedding.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..density import slater
from ..errors import InputError

C_F = 0.3 * (3.0 * math.pi**2) ** (2.0 / 3.0)   # Thomas–Fermi constant, hartree bohr²
LAMBDA0 = 1.0 / 9.0                              # gradient-expansion von Weizsäcker fraction

XC_CHOICES = ("lda,pw", "lda,vwn5", "lda,")       # PW92 (default), VWN5, exchange only (tests)

_GLX, _GLW = np.polynomial.legendre.leggauss(12)
_TAYLOR_X = 1e-3     # g(M+m) − g(M) by Taylor series about M when m < 1e-3 M
_TAYLOR_X2 = 1e-6    # for the second derivative (first-order series)
XC_LOW = 1e-12       # below this density g_xc continues as ρ^{4/3} (see _xc)

# ------------------------------------------------------------------------------ g(ρ)

def _xc(xc: str, rho: np.ndarray, deriv: int):
    """[g, g', g'', g'''][:deriv+1] of g_xc(ρ) = ρ ε_xc(ρ) from libxc (spin-unpolarized), same shape.

    libxc returns zero below its density threshold (~1e-15 bohr⁻³); below XC_LOW = 1e-12 the
    low-density limit g_xc ∝ ρ^{4/3} (exchange, and correlation ε_c ∝ 1/r_s) is continued
    from the libxc value at XC_LOW, so slowly decaying integrands such as ∫ g'(ρ_s) d³r
    (∝ ∫ρ_s^{1/3}) keep their far tails."""
    from pyscf.dft import libxc

    shape = np.shape(rho)
    flat = np.ascontiguousarray(np.asarray(rho, dtype=float).ravel())
    low = flat < XC_LOW
    ev = np.where(low, XC_LOW, flat)
    exc, vxc, fxc, kxc = libxc.eval_xc(xc, ev, spin=0, deriv=max(deriv, 1))
    out = [ev * exc]
    if deriv >= 1:
        out.append(np.array(vxc[0], dtype=float))
    if deriv >= 2:
        out.append(np.array(fxc[0], dtype=float))
    if deriv >= 3:
        out.append(np.array(kxc[0], dtype=float))
    if low.any():
        gt = XC_LOW * exc[low]
        x = flat[low] / XC_LOW
        with np.errstate(divide="ignore"):
            xs = np.where(x > 0, x, np.inf)
            lows = [gt * x ** (4.0 / 3.0),
                    (4.0 / 3.0) * gt / XC_LOW * x ** (1.0 / 3.0),
                    (4.0 / 9.0) * gt / XC_LOW**2 * xs ** (-2.0 / 3.0),
                    (-8.0 / 27.0) * gt / XC_LOW**3 * xs ** (-5.0 / 3.0)]
        for k in range(deriv + 1):
            out[k][low] = lows[k]
    return [o.reshape(shape) for o in out]


def g_local(rho, xc: str = "lda,pw", deriv: int = 0):
    """g(ρ) = C_F ρ^{5/3} + ρ ε_xc(ρ) and its first `deriv` derivatives (list)."""
    rho = np.asarray(rho, dtype=float)
    xcs = _xc(xc, rho, deriv)
    kin = [C_F * rho ** (5.0 / 3.0), (5.0 / 3.0) * C_F * rho ** (2.0 / 3.0),
           (10.0 / 9.0) * C_F * np.where(rho > 0, rho, np.inf) ** (-1.0 / 3.0),
           (-10.0 / 27.0) * C_F * np.where(rho > 0, rho, np.inf) ** (-4.0 / 3.0)]
    return [kin[k] + xcs[k] for k in range(deriv + 1)]


def _nonadditive(rs, rb, xc: str):
    """D = g(rs+rb) − g(rs) − g(rb), D1 = g'(rs+rb) − g'(rb), D2 = g''(rs+rb) − g''(rb),
    elementwise and without cancellation (rs >= 0, rb > 0 broadcast to one shape)."""
    rb_in = np.asarray(rb, float)
    rs, rb = np.broadcast_arrays(np.asarray(rs, float), rb_in)
    M, m = np.maximum(rs, rb), np.minimum(rs, rb)
    x = np.where(M > 0, m / np.where(M > 0, M, 1.0), 0.0)
    tot = rs + rb
    # kinetic part, exact: C_F M^{5/3} [(1+x)^{5/3} − 1] − C_F m^{5/3}
    kin = C_F * M ** (5.0 / 3.0) * np.expm1((5.0 / 3.0) * np.log1p(x)) - C_F * m ** (5.0 / 3.0)
    # xc part: values at M, m and M+m
    gM, g1M, g2M, g3M = _xc(xc, M, 3)
    gm = _xc(xc, m, 0)[0]
    gT, g1T, g2T = _xc(xc, tot, 2)
    taylor = x < _TAYLOR_X
    xc_diff = np.where(taylor, g1M * m + 0.5 * g2M * m**2 + g3M * m**3 / 6.0, gT - gM) - gm
    D = kin + xc_diff
    # derivatives with respect to rb (the background); rb > 0 here
    gb1, gb2, gb3 = (np.broadcast_to(v, rs.shape) for v in _xc(xc, rb_in, 3)[1:])  # rb_in: one value per row
    y = rs / rb
    k1 = (5.0 / 3.0) * C_F * rb ** (2.0 / 3.0) * np.expm1((2.0 / 3.0) * np.log1p(y))
    k2 = (10.0 / 9.0) * C_F * rb ** (-1.0 / 3.0) * np.expm1(-(1.0 / 3.0) * np.log1p(y))
    small_s = y < _TAYLOR_X                # rs ≪ rb: expand about rb
    D1 = k1 + np.where(small_s, gb2 * rs + 0.5 * gb3 * rs**2, g1T - gb1)
    D2 = k2 + np.where(y < _TAYLOR_X2, gb3 * rs, g2T - gb2)
    return D, D1, D2


# ------------------------------------------------------------------------------ radial grid

@dataclass(frozen=True)
class RadialGrid:
    """Nodes r (bohr) and weights w with Σ w f(r) ≈ ∫ 4π r² f(r) dr, plus ρ_s, ρ_s' there."""

    r: np.ndarray
    w: np.ndarray
    rho: np.ndarray
    drho: np.ndarray


def radial_grid(rd: slater.RadialDensity, n_panels: int = 120, r_min: float = 1e-7,
                tol: float = 1e-22, power: float = 1.0) -> RadialGrid:
    """Gauss–Legendre panels (12 nodes) uniform in t = ln r from r_min to r_max, where r_max
    is the first radius beyond 0.5 bohr with 4π r³ ρ_s^power (1 + r²) < tol (power 1: the
    neglected ∫ρ, ∫|∇ρ|²/ρ and non-additive tails are below ~1e-20; power 1/3 for
    integrands like g'(ρ_s) ∝ ρ_s^{1/3}); at most 800 bohr."""
    probe = np.geomspace(0.5, 800.0, 4000)
    dens = slater.density(rd, probe)
    crit = 4 * np.pi * probe**3 * dens**power * (1.0 + probe**2)
    ok = np.nonzero(crit < tol)[0]
    r_max = float(probe[ok[0]]) if ok.size else 800.0
    r_max = max(r_max, 10.0)
    edges = np.linspace(math.log(r_min), math.log(r_max), n_panels + 1)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    t = (mid[:, None] + half[:, None] * _GLX[None, :]).ravel()
    wt = (half[:, None] * _GLW[None, :]).ravel()
    r = np.exp(t)
    w = 4.0 * np.pi * r**3 * wt
    return RadialGrid(r, w, slater.density(rd, r), slater.density_derivative(rd, r))


# ------------------------------------------------------------------------------ Daw curve

@dataclass
class DawCurves:
    """L, W and their first two ρ̄-derivatives on a ρ̄ array (F_D = a L + λ W)."""

    rho_bar: np.ndarray
    L: np.ndarray
    dL: np.ndarray
    d2L: np.ndarray
    W: np.ndarray
    dW: np.ndarray
    d2W: np.ndarray

    def F(self, a: float, lam: float) -> np.ndarray:
        return a * self.L + lam * self.W

    def dF(self, a: float, lam: float) -> np.ndarray:
        return a * self.dL + lam * self.dW

    def d2F(self, a: float, lam: float) -> np.ndarray:
        return a * self.d2L + lam * self.d2W


def daw_curves(rd: slater.RadialDensity | None, rho_bar, xc: str = "lda,pw",
               grid: RadialGrid | None = None, chunk: int = 64) -> DawCurves:
    """The Daw integrals at background densities rho_bar (>= 0; exactly 0 gives 0).

    A bare nucleus (rd None or no electrons) gives L = W = 0 identically."""
    rb = np.atleast_1d(np.asarray(rho_bar, dtype=float))
    if np.any(~np.isfinite(rb)) or np.any(rb < 0):
        raise InputError("background densities must be finite and >= 0")
    zero = np.zeros_like(rb)
    out = {k: zero.copy() for k in ("L", "dL", "d2L", "W", "dW", "d2W")}
    if rd is None or rd.n_electrons == 0.0:
        return DawCurves(rb, **out)
    g = grid or radial_grid(rd)
    rs, w = g.rho, g.w
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(rs > 0, g.drho**2 / np.where(rs > 0, rs, 1.0), 0.0)   # |∇ρ|²/ρ
    pos = np.nonzero(rb > 0)[0]
    for start in range(0, pos.size, chunk):
        idx = pos[start:start + chunk]
        b = rb[idx][:, None]
        D, D1, D2 = _nonadditive(rs[None, :], b, xc)
        out["L"][idx] = D @ w
        out["dL"][idx] = D1 @ w
        out["d2L"][idx] = D2 @ w
        den = rs[None, :] + b
        out["W"][idx] = -0.125 * (q[None, :] * b / den) @ w
        out["dW"][idx] = -0.125 * (q[None, :] * rs[None, :] / den**2) @ w
        out["d2W"][idx] = 0.25 * (q[None, :] * rs[None, :] / den**3) @ w
    # ρ̄ = 0: F = 0 exactly; the slopes diverge (W ~ −ρ̄ ln³ρ̄, L'' ~ ρ̄^(−2/3)) — reported as
    # the limits used by the evaluator, not computed here.
    return DawCurves(rb, **out)


def daw_slope_local(rd: slater.RadialDensity, xc: str = "lda,pw", grid: RadialGrid | None = None) -> float:
    """lim_{ρ̄→0} L(ρ̄)/ρ̄ = ∫ g'(ρ_s) d³r (g'(0) = 0 for the kinetic and LDA xc parts; the
    integrand decays like ρ_s^{1/3}, so the grid reaches further out than for L itself)."""
    g = grid or radial_grid(rd, n_panels=160, power=1.0 / 3.0)
    return float(g_local(g.rho, xc, 1)[1] @ g.w)


def vw_integral(rd: slater.RadialDensity, grid: RadialGrid | None = None) -> float:
    """∫ |∇ρ_s|²/ρ_s d³r (8 × the von Weizsäcker kinetic energy); W(ρ̄→∞) = −this/8."""
    g = grid or radial_grid(rd)
    return float((np.where(g.rho > 0, g.drho**2 / np.where(g.rho > 0, g.rho, 1.0), 0.0)) @ g.w)


