"""Stage 3: state embedding functions from the Daw–Baskes concordance (docs/embedding.md).

For a frozen spherical state density ρ_s (a `slater.RadialDensity`) embedded in a uniform,
neutral electron gas of density ρ̄ (atomic units: ρ in bohr⁻³, energies in hartree):

Daw (DFT, non-additive parts only)
    F_D(ρ̄; a, λ) = a L(ρ̄) + λ W(ρ̄)
    L(ρ̄) = ∫ [g(ρ_s+ρ̄) − g(ρ_s) − g(ρ̄)] d³r,   g(ρ) = C_F ρ^{5/3} + ρ ε_xc^{LDA}(ρ)
    W(ρ̄) = (1/8) ∫ |∇ρ_s|² [1/(ρ_s+ρ̄) − 1/ρ_s] d³r = −(ρ̄/8) ∫ (ρ_s'²/ρ_s) / (ρ_s+ρ̄) d³r
  ε_xc from libxc through PySCF ('lda,pw': Slater exchange + Perdew–Wang 92 correlation,
  spin-unpolarized). Radial integrals on a Gauss–Legendre grid in ln r; differences such
  as g(ρ_s+ρ̄) − g(ρ_s) are Taylor-expanded about the larger density where the smaller one
  is below 1e-3 of it (no cancellation where ρ_s → 0 or ρ̄ → 0). F_D(0) = 0 exactly.
  Small-ρ̄ behaviour: L(ρ̄) = ρ̄ ∫ g'(ρ_s) d³r + O(ρ̄^{4/3} ln³ρ̄); W(ρ̄) diverges in slope like
  −ρ̄ ln³(1/ρ̄) (π/(12κ)) since (∇ ln ρ_s)² → 4κ² in the tail — a ρ̄ ln ρ̄-type onset, as Baskes'.

Baskes (MEAM)
    F_B(ρ̄; E, ρ̄₀) = E (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀),   E = A·E_c;  minimum −E/e at ρ̄₀/e.

Concordance: (a, λ, E, ρ̄₀) minimize
    Σ_k w_k (F_D − F_B)²/σ_F² + ((a−1)/σ_a)² + ((λ−λ₀)/σ_λ)² + (ln(E/E_p)/σ_lnE)²
over a window of background densities the potential samples near bonding distances
(overlap-averaged ρ̄ of this state with the neutral ground states of the element set at
0.8–1.5 × typical bond lengths), weighted toward the repulsive wall. Where F_D has no
minimum or the parity residual exceeds a fraction of |F_min|, the embedding function is
a spline of F_D(a=1, λ=λ₀) instead (form 'daw_spline').

No electrostatics enters F for any state (the gas and its background are neutral); the
gas's screening response to a charged state is omitted (docs/embedding.md).

Evaluator: `embedding_function(record)` → vectorized F(ρ̄) returning (F, dF/dρ̄, d²F/dρ̄²);
the numba kernels `eval_baskes` and `eval_table` can be called from other njit code.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numba
import numpy as np

from . import slater
from .elements import BOHR_ANGSTROM
from .errors import EctemError, InputError

C_F = 0.3 * (3.0 * math.pi**2) ** (2.0 / 3.0)   # Thomas–Fermi constant, hartree bohr²
LAMBDA0 = 1.0 / 9.0                              # gradient-expansion von Weizsäcker fraction
FORMS = ("concordance", "daw_spline", "zero")
XC_CHOICES = ("lda,pw", "lda,vwn5", "lda,")       # PW92 (default), VWN5, exchange only (tests)

# Covalent radii (Å) of Cordero et al., Dalton Trans. 2008, 2832 (C: sp3). A "typical bond
# length" of the pair A–B is r_A + r_B (overridable per pair in the config).
COVALENT_RADIUS_ANGSTROM = {
    "H": 0.31, "He": 0.28, "Li": 1.28, "Be": 0.96, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66,
    "F": 0.57, "Ne": 0.58, "Na": 1.66, "Mg": 1.41, "Al": 1.21, "Si": 1.11, "P": 1.07, "S": 1.05,
    "Cl": 1.02, "Ar": 1.06,
}

_GLX, _GLW = np.polynomial.legendre.leggauss(12)
_TAYLOR_X = 1e-3     # g(M+m) − g(M) by Taylor series about M when m < 1e-3 M
_TAYLOR_X2 = 1e-6    # for the second derivative (first-order series)
XC_LOW = 1e-12       # below this density g_xc continues as ρ^{4/3} (see _xc)


# ------------------------------------------------------------------------------ settings

@dataclass(frozen=True)
class EmbeddingSettings:
    """Stage-3 options (config section `embedding:`, docs/embedding.md)."""

    xc: str = "lda,pw"
    lambda0: float = LAMBDA0
    sigma_a: float = 0.1
    sigma_lambda: float = 0.03
    sigma_ln_aec: float = 0.7            # log-normal prior width on A·E_c (factor 2)
    sigma_rel: float = 0.05              # data scale: relative misfit (F_D − F_B)/max(|F_D⁰|, |F_min⁰|)
    parity_tolerance: float = 0.2        # fallback when the parity measure exceeds this
    parity_measure: str = "relative"     # 'relative': rms of (F_D − F_B)/max(|F_D⁰|, |F_min⁰|);
                                         # 'well_depth': rms(F_D − F_B)/|F_min⁰|
    window_factors: tuple = (0.8, 1.5)   # × typical bond length
    bond_lengths_bohr: dict = field(default_factory=dict)   # {"Li-F": 2.955, ...} overrides
    wall_weight: float = 4.0             # weight at the short-distance (wall) end / weight at the long end
    n_window: int = 41
    min_depth_hartree: float = 3.7e-5    # a nominal Daw minimum shallower than 1 meV counts as none
    rho_table_min: float = 1e-10
    rho_table_max: float = 1e3
    n_table: int = 241

    def __post_init__(self):
        if self.parity_measure not in ("relative", "well_depth"):
            raise InputError(f"embedding.parity_measure = {self.parity_measure!r}: use 'relative' or 'well_depth'")
        if self.xc not in XC_CHOICES:
            raise InputError(f"embedding.xc = {self.xc!r}: use one of {', '.join(XC_CHOICES)}")
        lo, hi = self.window_factors
        if not 0 < lo < hi:
            raise InputError(f"embedding.window_factors = {list(self.window_factors)}: need 0 < low < high")
        for name in ("sigma_a", "sigma_ln_aec", "sigma_rel", "parity_tolerance", "wall_weight",
                     "rho_table_min", "lambda0"):
            if not getattr(self, name) > 0:
                raise InputError(f"embedding.{name} must be > 0")
        if not self.sigma_lambda >= 0:
            raise InputError("embedding.sigma_lambda must be >= 0 (0: λ fixed at lambda0)")
        if self.min_depth_hartree < 0:
            raise InputError("embedding.min_depth_hartree must be >= 0")
        if not self.rho_table_max > self.rho_table_min:
            raise InputError("embedding.rho_table_max must exceed rho_table_min")
        if self.n_window < 5 or self.n_table < 20:
            raise InputError("embedding.n_window >= 5 and embedding.n_table >= 20 required")


def settings_from_config(config: dict | None) -> EmbeddingSettings:
    """EmbeddingSettings from the `embedding` section of a run config (defaults if absent)."""
    from .config import settings_section

    return settings_section(EmbeddingSettings, "embedding", (config or {}).get("embedding"),
                            {"window_factors": tuple, "bond_lengths_bohr": dict})


def settings_dict(settings: EmbeddingSettings) -> dict:
    d = asdict(settings)
    d["window_factors"] = list(d["window_factors"])
    return d


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
    from .pair_tables import overlap as _pair_overlap

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


# ------------------------------------------------------------------------------ evaluators
# An embedding function is packed into one float64 array (usable from numba):
#   [0]                      zero form: F ≡ 0
#   [1, E, ρ̄₀]               Baskes form F = E (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀)
#   [2, t0, Δt, n, h[n], h_t[n], h_tt[n]]
#                            table: F = ρ̄ h(t), t = ln ρ̄, h a quintic Hermite spline on the
#                            uniform knots t0 + kΔt with exact h, dh/dt, d²h/dt² at the knots.
# Below the first knot h continues linearly in t (F ~ ρ̄ ln ρ̄, the Baskes/von Weizsäcker
# onset; F(0) = 0 exactly); above the last knot F continues as the power law c ρ̄^p matching
# F and F' there (p = ρ̄F'/F; when F or F' is not positive there, h continues linearly in t).
# ρ̄ <= 0 gives F = 0; derivatives at ρ̄ < RHO_FLOOR are those at RHO_FLOOR (the slope of a
# ρ̄ ln ρ̄ curve diverges at 0; it always multiplies dρ̄/dR → 0 there).
RHO_FLOOR = 1e-200


@numba.njit(cache=True, error_model="numpy")
def _eval_one(rho, packed):
    code = int(packed[0])
    if code == 0:
        return 0.0, 0.0, 0.0
    x = rho if rho > RHO_FLOOR else RHO_FLOOR
    if code == 1:
        E, r0 = packed[1], packed[2]
        lg = math.log(x / r0)
        F = E * (rho / r0) * math.log(rho / r0) if rho > 0.0 else 0.0
        return F, E / r0 * (lg + 1.0), E / (r0 * x)
    t0, dt, n = packed[1], packed[2], int(packed[3])
    h, ht, htt = packed[4:4 + n], packed[4 + n:4 + 2 * n], packed[4 + 2 * n:4 + 3 * n]
    t = math.log(x)
    tn = t0 + (n - 1) * dt
    if t <= t0:
        hv = h[0] + ht[0] * (t - t0)
        F = rho * hv if rho > 0.0 else 0.0
        return F, hv + ht[0], ht[0] / x
    if t >= tn:
        rn = math.exp(tn)
        Fn = rn * h[n - 1]
        dFn = h[n - 1] + ht[n - 1]
        if Fn > 0.0 and dFn > 0.0:
            p = rn * dFn / Fn
            F = Fn * (x / rn) ** p
            return F, p * F / x, p * (p - 1.0) * F / (x * x)
        hv = h[n - 1] + ht[n - 1] * (t - tn)
        return x * hv, hv + ht[n - 1], ht[n - 1] / x
    k = int((t - t0) / dt)
    if k > n - 2:
        k = n - 2
    u = (t - (t0 + k * dt)) / dt
    c0, c1, c2 = h[k], dt * ht[k], 0.5 * dt * dt * htt[k]
    A = h[k + 1] - (c0 + c1 + c2)
    B = dt * ht[k + 1] - (c1 + 2.0 * c2)
    C = dt * dt * htt[k + 1] - 2.0 * c2
    c3 = 10.0 * A - 4.0 * B + 0.5 * C
    c4 = -15.0 * A + 7.0 * B - C
    c5 = 6.0 * A - 3.0 * B + 0.5 * C
    hv = c0 + u * (c1 + u * (c2 + u * (c3 + u * (c4 + u * c5))))
    dh = (c1 + u * (2.0 * c2 + u * (3.0 * c3 + u * (4.0 * c4 + u * 5.0 * c5)))) / dt
    d2h = (2.0 * c2 + u * (6.0 * c3 + u * (12.0 * c4 + u * 20.0 * c5))) / (dt * dt)
    return x * hv, hv + dh, (dh + d2h) / x


@numba.njit(cache=True, error_model="numpy")
def eval_packed(rho, packed):
    """(F, dF/dρ̄, d²F/dρ̄²) of a packed embedding function at the 1-D array rho."""
    m = rho.size
    F, dF, d2F = np.empty(m), np.empty(m), np.empty(m)
    for i in range(m):
        F[i], dF[i], d2F[i] = _eval_one(rho[i], packed)
    return F, dF, d2F


def pack_baskes(A_Ec: float, rho0: float) -> np.ndarray:
    if not (A_Ec >= 0 and rho0 > 0):
        raise InputError(f"Baskes form needs A·E_c >= 0 and rho0 > 0 (got {A_Ec}, {rho0})")
    return np.array([1.0, float(A_Ec), float(rho0)])


def pack_table(t0: float, dt: float, h, ht, htt) -> np.ndarray:
    h, ht, htt = (np.asarray(v, dtype=float) for v in (h, ht, htt))
    if not (h.size == ht.size == htt.size >= 2) or not dt > 0:
        raise InputError("embedding table: need >= 2 knots with h, h_t, h_tt of equal length and dt > 0")
    return np.concatenate([[2.0, float(t0), float(dt), float(h.size)], h, ht, htt])


def table_from_daw(curves: DawCurves, a: float, lam: float) -> dict:
    """Table {t0, dt, h, h_t, h_tt} of F_D(a, λ) from Daw curves on uniform-in-ln ρ̄ knots."""
    rb = curves.rho_bar
    t = np.log(rb)
    dt = float(np.diff(t).mean())
    if not np.allclose(np.diff(t), dt, rtol=1e-9, atol=1e-12):
        raise InputError("embedding table: knots must be uniform in ln rho_bar")
    F, dF, d2F = curves.F(a, lam), curves.dF(a, lam), curves.d2F(a, lam)
    h = F / rb
    ht = dF - h
    htt = rb * d2F - ht
    return {"t0": float(t[0]), "dt": dt, "h": h.tolist(), "h_t": ht.tolist(), "h_tt": htt.tolist()}


def packed_from_record(rec: dict) -> np.ndarray:
    """The packed evaluator array of a stage-3 record (form zero / concordance / daw_spline)."""
    form = rec.get("form")
    if form == "zero":
        return np.array([0.0])
    if form == "concordance":
        return pack_baskes(rec["A_Ec_hartree"], rec["rho0_bar"])
    if form == "daw_spline":
        tb = rec["table"]
        return pack_table(tb["t0"], tb["dt"], tb["h"], tb["h_t"], tb["h_tt"])
    if rec.get("status") == "excluded":
        raise InputError(f"state {rec.get('state_id')} is excluded ({rec.get('reason', '')}): "
                         "it has no embedding function")
    raise InputError(f"embedding record {rec.get('state_id')}: unknown form {form!r} (use one of {', '.join(FORMS)})")


def embedding_function(record: dict):
    """Vectorized F(ρ̄) → (F, dF/dρ̄, d²F/dρ̄²) for a stage-3 record; scalars in, floats out."""
    packed = packed_from_record(record)

    def F(rho_bar):
        arr = np.asarray(rho_bar, dtype=float)
        if np.any(~np.isfinite(arr)):
            raise InputError("embedding function: background density must be finite")
        f, df, d2f = eval_packed(np.ascontiguousarray(np.maximum(arr, 0.0).ravel()), packed)
        if arr.ndim == 0:
            return float(f[0]), float(df[0]), float(d2f[0])
        return f.reshape(arr.shape), df.reshape(arr.shape), d2f.reshape(arr.shape)

    F.packed = packed
    F.form = record.get("form")
    return F


def baskes(rho_bar, A_Ec: float, rho0: float):
    """F_B = A·E_c (ρ̄/ρ̄₀) ln(ρ̄/ρ̄₀) and its first two derivatives (arrays)."""
    return embedding_function({"form": "concordance", "A_Ec_hartree": A_Ec, "rho0_bar": rho0})(rho_bar)


# ------------------------------------------------------------------------------ concordance

@dataclass(frozen=True)
class Priors:
    """Gaussian priors on a and λ, log-normal prior on A·E_c (sigma_lambda = 0: λ fixed)."""

    aec0: float
    a0: float = 1.0
    sigma_a: float = 0.1
    lambda0: float = LAMBDA0
    sigma_lambda: float = 0.03
    sigma_ln_aec: float = 0.7


def concordance_fit(curves: DawCurves, weights, scale, priors: Priors | None, sigma_rel: float = 0.05,
                    lambda_start: float = LAMBDA0, aec_start: float | None = None, n_starts: int = 12) -> dict:
    """Fit (a, λ, A·E_c, ρ̄₀) so that F_D(a, λ) ≈ F_B(A·E_c, ρ̄₀) on the window in `curves`.

    Residuals: sqrt(w_k) (F_D − F_B)/(scale_k σ_rel) plus, with priors, (a−a0)/σ_a,
    (λ−λ₀)/σ_λ and ln(A·E_c/aec0)/σ_lnE. Bounds: 0 <= a <= 3, 0 <= λ <= 1,
    1e-30 <= A·E_c <= 10 Ha, ρ̄₀ within 1e-4 ρ̄_lo ... 1e4 ρ̄_hi. Without priors the
    problem is solved exactly by the zero solution a = λ = A·E_c → 0 (both forms are linear in
    their scales); the priors are what keeps the fit away from it. Multi-start in ln ρ̄₀."""
    from scipy.optimize import least_squares

    x = curves.rho_bar
    w = np.asarray(weights, dtype=float)
    s = np.asarray(scale, dtype=float)
    sw = np.sqrt(w) / (s * sigma_rel)
    fix_lambda = priors is not None and priors.sigma_lambda == 0
    lam_fixed = priors.lambda0 if fix_lambda else None
    E0 = priors.aec0 if priors is not None else (aec_start or float(np.max(np.abs(curves.F(1.0, lambda_start)))))
    lr_lo, lr_hi = math.log(x[0] * 1e-4), math.log(x[-1] * 1e4)

    def unpack(p):
        if fix_lambda:
            return p[0], lam_fixed, math.exp(p[1]), math.exp(p[2])
        return p[0], p[1], math.exp(p[2]), math.exp(p[3])

    def residuals(p):
        a, lam, E, r0 = unpack(p)
        FB = E * (x / r0) * np.log(x / r0)
        r = sw * (curves.F(a, lam) - FB)
        if priors is None:
            return r
        extra = [(a - priors.a0) / priors.sigma_a, math.log(E / priors.aec0) / priors.sigma_ln_aec]
        if not fix_lambda:
            extra.append((lam - priors.lambda0) / priors.sigma_lambda)
        return np.concatenate([r, extra])

    lb = [0.0] + ([] if fix_lambda else [0.0]) + [math.log(1e-30), lr_lo]
    ub = [3.0] + ([] if fix_lambda else [1.0]) + [math.log(10.0), lr_hi]
    best = None
    for lr in np.linspace(math.log(x[0] / 100.0), math.log(x[-1] * 10.0), n_starts):
        p0 = [1.0] + ([] if fix_lambda else [lambda_start]) + [math.log(max(E0, 1e-29)), lr]
        sol = least_squares(residuals, p0, bounds=(lb, ub), x_scale="jac", max_nfev=2000)
        if best is None or sol.cost < best.cost:
            best = sol
    a, lam, E, r0 = unpack(best.x)
    FD, FB = curves.F(a, lam), E * (x / r0) * np.log(x / r0)
    diff = FD - FB
    out = {
        "a": float(a), "lambda": float(lam), "A_Ec_hartree": float(E), "rho0_bar": float(r0),
        "parity_rms_hartree": float(math.sqrt(np.sum(w * diff**2) / np.sum(w))),
        "parity_rel_rms": float(math.sqrt(np.sum(w * (diff / s) ** 2) / np.sum(w))),
        "cost": float(best.cost), "nfev": int(best.nfev), "optimizer_status": int(best.status),
        "lambda_fixed": bool(fix_lambda), "priors": None if priors is None else asdict(priors),
    }
    if priors is not None:
        out["prior_pulls_sigma"] = {"a": (a - priors.a0) / priors.sigma_a,
                                    "lambda": None if fix_lambda else (lam - priors.lambda0) / priors.sigma_lambda,
                                    "ln_A_Ec": math.log(E / priors.aec0) / priors.sigma_ln_aec}
    return out


def _table_minimum(packed: np.ndarray, rho_knots: np.ndarray) -> tuple[float, float, bool]:
    """(F_min, ρ̄ at min, interior) of a packed function: smallest knot value refined by the
    root of F' (Brent) between its neighbours; interior False when the smallest value is at
    an end knot."""
    from scipy.optimize import brentq

    F, dF, _ = eval_packed(rho_knots, packed)
    k = int(np.argmin(F))
    if k == 0 or k == rho_knots.size - 1:
        return float(F[k]), float(rho_knots[k]), False
    f1 = lambda r: eval_packed(np.array([r]), packed)[1][0]  # noqa: E731
    lo, hi = rho_knots[k - 1], rho_knots[k + 1]
    if f1(lo) < 0 < f1(hi):
        r = brentq(f1, lo, hi, xtol=1e-14 * hi, rtol=1e-12)
    else:
        r = rho_knots[k]
    return float(eval_packed(np.array([r]), packed)[0][0]), float(r), True


def embed_state(rd: slater.RadialDensity | None, n_electrons: float, symbol: str, partners: dict,
                settings: EmbeddingSettings | None = None) -> dict:
    """Everything stage 3 computes for one state (the record body, see embedding_records).

    partners: {element: RadialDensity of its neutral ground state} for the window."""
    settings = settings or EmbeddingSettings()
    if rd is None or n_electrons == 0 or rd.n_electrons == 0:
        return {"form": "zero", "reason": "bare nucleus: no electrons, F ≡ 0 exactly",
                "a": None, "lambda": None, "A_Ec_hartree": None, "rho0_bar": None,
                "parity_rms_hartree": None, "parity_rel_rms": None, "parity_rms_over_fmin": None,
                "F_min_hartree": 0.0, "rho_at_min": None, "table": None}
    lam0 = settings.lambda0
    grid = radial_grid(rd)
    knots = np.exp(np.linspace(math.log(settings.rho_table_min), math.log(settings.rho_table_max), settings.n_table))
    tab_curves = daw_curves(rd, knots, settings.xc, grid)
    nominal_tab = table_from_daw(tab_curves, 1.0, lam0)
    nominal_packed = pack_table(nominal_tab["t0"], nominal_tab["dt"], nominal_tab["h"], nominal_tab["h_t"],
                                nominal_tab["h_tt"])
    d_min, d_rho, interior = _table_minimum(nominal_packed, knots)
    has_min = interior and d_min < -settings.min_depth_hartree
    win = background_window(rd, n_electrons, symbol, partners, settings)
    wcurves = daw_curves(rd, win["rho_bar"], settings.xc, grid)
    F0w = wcurves.F(1.0, lam0)
    body = {
        "daw_nominal": {"a": 1.0, "lambda": lam0, "F_min_hartree": d_min, "rho_at_min": d_rho,
                        "has_minimum": bool(has_min), "slope_local_at_0": daw_slope_local(rd, settings.xc),
                        "vw_integral": vw_integral(rd, grid)},
        "window": {"rho_lo": win["rho_lo"], "rho_hi": win["rho_hi"], "partners": win["samples"],
                   "rho_bar": win["rho_bar"].tolist(), "weights": win["weights"].tolist(),
                   "F_daw_nominal": F0w.tolist()},
    }
    fit = None
    if has_min:
        scale = np.maximum(np.abs(F0w), abs(d_min))
        priors = Priors(aec0=math.e * abs(d_min), sigma_a=settings.sigma_a, lambda0=lam0,
                        sigma_lambda=settings.sigma_lambda, sigma_ln_aec=settings.sigma_ln_aec)
        fit = concordance_fit(wcurves, win["weights"], scale, priors, settings.sigma_rel, lambda_start=lam0)
        body["window"]["scale"] = scale.tolist()
        body["window"]["F_daw_fit"] = wcurves.F(fit["a"], fit["lambda"]).tolist()
        x = win["rho_bar"]
        fb = fit["A_Ec_hartree"] * (x / fit["rho0_bar"]) * np.log(x / fit["rho0_bar"])
        body["window"]["F_baskes_fit"] = fb.tolist()
    body["concordance_fit"] = fit
    if not has_min:
        form = "daw_spline"
        reason = (f"the nominal Daw curve (a = 1, λ = {lam0:.4g}) has no minimum deeper than "
                  f"{settings.min_depth_hartree:g} Ha: no Baskes well fits it")
    else:
        fit["parity_rms_over_fmin"] = fit["parity_rms_hartree"] / abs(d_min)
        measure = fit["parity_rel_rms"] if settings.parity_measure == "relative" else fit["parity_rms_over_fmin"]
        what = ("weighted rms of (F_D − F_B)/max(|F_D|, |F_min|)" if settings.parity_measure == "relative"
                else "weighted rms of (F_D − F_B) / |F_min|")
        if measure > settings.parity_tolerance:
            form = "daw_spline"
            reason = f"parity residual {measure:.3f} ({what}) exceeds the tolerance {settings.parity_tolerance:g}"
        else:
            form = "concordance"
            reason = (f"Daw and Baskes agree: parity residual {measure:.3f} ({what}) within the tolerance "
                      f"{settings.parity_tolerance:g}")
    curve_sel = (knots >= 1e-7 * (1 - 1e-9)) & (knots <= 10.0 * (1 + 1e-9))
    ck = knots[curve_sel]
    curve = {"rho_bar": ck.tolist(), "F_daw_nominal": tab_curves.F(1.0, lam0)[curve_sel].tolist()}
    if fit is not None:
        curve["F_daw_fit"] = tab_curves.F(fit["a"], fit["lambda"])[curve_sel].tolist()
        curve["F_baskes_fit"] = (fit["A_Ec_hartree"] * (ck / fit["rho0_bar"]) * np.log(ck / fit["rho0_bar"])).tolist()
    if form == "concordance":
        packed = pack_baskes(fit["A_Ec_hartree"], fit["rho0_bar"])
        top = {"a": fit["a"], "lambda": fit["lambda"], "A_Ec_hartree": fit["A_Ec_hartree"], "rho0_bar": fit["rho0_bar"],
               "F_min_hartree": -fit["A_Ec_hartree"] / math.e, "rho_at_min": fit["rho0_bar"] / math.e, "table": None}
    else:
        packed = nominal_packed
        top = {"a": 1.0, "lambda": lam0, "A_Ec_hartree": None, "rho0_bar": None,
               "F_min_hartree": d_min, "rho_at_min": d_rho, "table": nominal_tab}
    F, dF, d2F = eval_packed(ck, packed)
    curve.update({"F": F.tolist(), "dF": dF.tolist(), "d2F": d2F.tolist()})
    return {"form": form, "reason": reason, **top,
            "parity_rms_hartree": fit["parity_rms_hartree"] if fit else None,
            "parity_rel_rms": fit["parity_rel_rms"] if fit else None,
            "parity_rms_over_fmin": fit["parity_rms_over_fmin"] if fit else None,
            "curve": curve, **body}
