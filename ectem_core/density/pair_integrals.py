"""Pair integrals of two spherical densities (overlap S and the short-range Coulomb energy),
from adaptive Legendre-panel representations of f = r ρ(r) (bohr, electrons, hartree).

S(R) = (2π/R) ∫_0^∞ f_a(r) G_b(r, R) dr, f(r) = r ρ(r), G_b(r, R) = ∫_{|R−r|}^{R+r} f_b(s) ds; every
density is first represented on adaptive panels by degree-19 Legendre series of f and f′
(sampled from `slater.density` / `slater.density_derivative`), and G_b comes from the panel
antiderivatives (prefix or suffix sums, whichever carries no cancellation). The short-range
Coulomb energy (`short_range_coulomb`) uses the same representations: U = q_a q_b/R + Z_a φ_b(R)
+ q_b φ_a(R) − ∫ρ_a(r) φ_b(|r − R|) d³r with φ = N/r − V. Formulas and accuracy: docs/pair_tables_qeq.md.
Public: `overlap`, `overlap_derivatives`, `short_range_coulomb`, `as_density`, `density_rep`,
`density_key`, `density_scales`, `clear_cache`.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import InputError
from . import slater

_FOUR_PI = 4.0 * math.pi
_TWO_PI = 2.0 * math.pi

# ---------------------------------------------------------------------------- Legendre panels
_NG = 20
_GY, _GW = np.polynomial.legendre.leggauss(_NG)
_PV = np.polynomial.legendre.legvander(_GY, _NG - 1)                 # P_j(y_i)
_TRANSFORM = (((2.0 * np.arange(_NG) + 1.0) / 2.0)[:, None] * (_PV.T * _GW[None, :]))  # c = T f
_PANEL_TOL = 1e-13           # accept a panel when its last two Legendre coefficients are this small
_X_END_DECAY = 400.0         # density panels end at alpha_min * X = 400 (f < e^-400 beyond)
_CAP_EFOLDS = 8.0            # outer panels on [0, R] at most 8 / max(alpha_min_a, alpha_min_b) wide


def density_scales(rd) -> tuple[float, float]:
    """(alpha_max, alpha_min): fastest and slowest inverse length scale of a density.

    Shells contribute a = 2 zeta; the tail 2 kappa (decay) and 1/b (inner switch)."""
    fast, slow = [], []
    for z, c in zip(rd.zeta, rd.c):
        if c != 0.0:
            fast.append(2.0 * z)
            slow.append(2.0 * z)
    if rd.has_tail and rd.tail_c > 0:
        fast += [2.0 * rd.tail_kappa, 1.0 / rd.tail_b]
        slow.append(2.0 * rd.tail_kappa)
    if not slow:
        return 1.0, 1.0
    return max(fast), min(slow)


@dataclass(frozen=True, eq=False)
class DensityRep:
    """Panel representation of one density: Legendre series (degree NG-1) on panels of

    f = r rho(r), f' = rho + r rho' and h(r) = r phi(r) = 4 pi int_r^inf t (t - r) rho(t) dt
    (phi = N/r - V the short-range potential), with antiderivatives, panel integrals and
    prefix/suffix sums of f and h."""

    edges: np.ndarray   # (K+1,)
    cf: np.ndarray      # (K, NG)   Legendre coefficients of f on each panel
    cg: np.ndarray      # (K, NG)   ... of f'
    ca: np.ndarray      # (K, NG+1) ... of the antiderivative int_{e_k}^x f (zero at e_k)
    I: np.ndarray       # (K,)      panel integrals of f
    P: np.ndarray       # (K+1,)    prefix sums  sum_{j<k} I_j
    Q: np.ndarray       # (K+1,)    suffix sums  sum_{j>=k} I_j
    ch: np.ndarray      # (K, NG)   Legendre coefficients of h
    cha: np.ndarray     # (K, NG+1) antiderivative of h
    Ih: np.ndarray
    Ph: np.ndarray
    Qh: np.ndarray
    alpha_max: float
    alpha_min: float
    n_electrons: float


def _panel_fit(rd, lo, hi):
    """Legendre coefficients of f and f' on panels [lo_k, hi_k]."""
    h = hi - lo
    s = 0.5 * (lo + hi)[:, None] + 0.5 * h[:, None] * _GY[None, :]
    flat = s.ravel()
    rho = np.asarray(slater.density(rd, flat)).reshape(s.shape)
    drho = np.asarray(slater.density_derivative(rd, flat)).reshape(s.shape)
    f = s * rho
    g = rho + s * drho
    return f @ _TRANSFORM.T, g @ _TRANSFORM.T, f, g


def _antideriv(c, h):
    """Legendre coefficients (K, NG+1) of int_{e_k}^x of the series c (K, NG) on panels of
    width h: int_{-1}^y P_0 = P_0 + P_1, int_{-1}^y P_j = (P_{j+1} - P_{j-1})/(2j+1)."""
    ca = np.zeros((c.shape[0], _NG + 1))
    ca[:, 0] += c[:, 0]
    ca[:, 1] += c[:, 0]
    for j in range(1, _NG):
        t = c[:, j] / (2.0 * j + 1.0)
        ca[:, j + 1] += t
        ca[:, j - 1] -= t
    return ca * (0.5 * h[:, None])


def _sums(c, h):
    I = h * c[:, 0]
    return I, np.concatenate([[0.0], np.cumsum(I)]), np.concatenate([np.cumsum(I[::-1])[::-1], [0.0]])


_PV1 = np.polynomial.legendre.legvander(_GY, _NG)   # P_j(y_i), j <= NG (antiderivative series)


def _build_rep(rd) -> DensityRep:
    amax, amin = density_scales(rd)
    x_end = _X_END_DECAY / amin
    w0 = 0.5 / amax
    wcap = 2.5 / amin
    e = [0.0]
    w = w0
    while e[-1] < x_end:
        e.append(min(e[-1] + w, x_end))
        w = min(2.0 * w, wcap)
    pending = np.array(e)
    lo, hi = pending[:-1], pending[1:]
    acc_lo, acc_hi, acc_cf, acc_cg = [], [], [], []
    for _ in range(60):
        cf, cg, f, g = _panel_fit(rd, lo, hi)
        sf = np.max(np.abs(f), axis=1)
        sg = np.max(np.abs(g), axis=1)
        ok = ((np.abs(cf[:, -1]) + np.abs(cf[:, -2]) <= _PANEL_TOL * sf + 1e-300)
              & (np.abs(cg[:, -1]) + np.abs(cg[:, -2]) <= _PANEL_TOL * sg + 1e-300))
        ok |= (hi - lo) < 1e-10
        acc_lo.append(lo[ok]), acc_hi.append(hi[ok]), acc_cf.append(cf[ok]), acc_cg.append(cg[ok])
        if ok.all():
            break
        blo, bhi = lo[~ok], hi[~ok]
        mid = 0.5 * (blo + bhi)
        lo = np.concatenate([blo, mid])
        hi = np.concatenate([mid, bhi])
    else:  # pragma: no cover - a density that cannot be resolved
        raise InputError("pair_tables: density could not be represented on panels")
    lo = np.concatenate(acc_lo)
    order = np.argsort(lo)
    lo, hi = lo[order], np.concatenate(acc_hi)[order]
    cf, cg = np.concatenate(acc_cf)[order], np.concatenate(acc_cg)[order]
    edges = np.append(lo, hi[-1])
    h = hi - lo
    ca = _antideriv(cf, h)
    I, P, Q = _sums(cf, h)
    # h(s) = 4 pi [M(s) - s T(s)], T = int_s^inf f, M = int_s^inf t f(t) dt, at the panel nodes
    s = 0.5 * (lo + hi)[:, None] + 0.5 * h[:, None] * _GY[None, :]
    u = s * np.asarray(slater.density(rd, s.ravel())).reshape(s.shape) * s
    cu = u @ _TRANSFORM.T
    cua = _antideriv(cu, h)
    Iu, _, Qu = _sums(cu, h)
    T = Q[1:, None] + (I[:, None] - ca @ _PV1.T)
    M = Qu[1:, None] + (Iu[:, None] - cua @ _PV1.T)
    hv = _FOUR_PI * np.maximum(M - s * T, 0.0)
    ch = hv @ _TRANSFORM.T
    cha = _antideriv(ch, h)
    Ih, Ph, Qh = _sums(ch, h)
    c = np.ascontiguousarray
    return DensityRep(c(edges), c(cf), c(cg), c(ca), I, P, Q, c(ch), c(cha), Ih, Ph, Qh,
                       amax, amin, float(rd.n_electrons))


# ---------------------------------------------------------------------------- numba kernels
@numba.njit(cache=True, error_model="numpy")
def locate_interval(edges, x):
    """k with edges[k] <= x < edges[k+1] by bisection (0 below edges[0]); -1 when x >= edges[-1].
    The one knot search of the piecewise tables (also potential.pair_tables.eval_table)."""
    K = edges.size - 1
    if x >= edges[K]:
        return -1
    lo = 0
    hi = K
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if edges[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo


@numba.njit(cache=True, error_model="numpy")
def _leg(c, y):
    """sum_j c_j P_j(y) by the Legendre recurrence."""
    n = c.size
    s = c[0]
    if n == 1:
        return s
    p0 = 1.0
    p1 = y
    s += c[1] * y
    for j in range(1, n - 1):
        p2 = ((2.0 * j + 1.0) * y * p1 - j * p0) / (j + 1.0)
        s += c[j + 1] * p2
        p0 = p1
        p1 = p2
    return s


@numba.njit(cache=True, error_model="numpy")
def _rep_val(edges, coef, x):
    """Panel series value at x >= 0 (0 beyond the last edge)."""
    k = locate_interval(edges, x)
    if k < 0:
        return 0.0
    y = (2.0 * x - edges[k] - edges[k + 1]) / (edges[k + 1] - edges[k])
    return _leg(coef[k], y)


@numba.njit(cache=True, error_model="numpy")
def _rep_G(edges, ca, I, P, Q, x1, x2):
    """int_{x1}^{x2} f (0 <= x1 <= x2) from prefix or suffix sums, whichever is smaller."""
    k1 = locate_interval(edges, x1)
    if k1 < 0:
        return 0.0
    k2 = locate_interval(edges, x2)
    y1 = (2.0 * x1 - edges[k1] - edges[k1 + 1]) / (edges[k1 + 1] - edges[k1])
    A1 = _leg(ca[k1], y1)
    if k2 == k1:
        y2 = (2.0 * x2 - edges[k2] - edges[k2 + 1]) / (edges[k2 + 1] - edges[k2])
        return _leg(ca[k2], y2) - A1
    K = edges.size - 1
    if k2 < 0:
        pre2 = P[K]
        suf2 = 0.0
    else:
        y2 = (2.0 * x2 - edges[k2] - edges[k2 + 1]) / (edges[k2 + 1] - edges[k2])
        A2 = _leg(ca[k2], y2)
        pre2 = P[k2] + A2
        suf2 = Q[k2 + 1] + (I[k2] - A2)
    pre1 = P[k1] + A1
    suf1 = Q[k1 + 1] + (I[k1] - A1)
    if pre2 <= suf1:
        return pre2 - pre1
    return suf1 - suf2


@numba.njit(cache=True, error_model="numpy")
def _outer_edges(R, wa, wb, r_end, cap):
    """Outer panel edges on [0, r_end].  On [0, R]: the union of two graded sequences (widths
    doubling, capped at ``cap``), one from 0 (first width wa, density a's finest scale) and
    one from R downwards (first width wb, density b's cusp at r = R), so every exponential
    component decaying away from either end is resolved.  Beyond R: graded from R (first
    width min(wa, wb)), uncapped (there the integrand decays with both densities)."""
    left = np.empty(2048)
    nl = 0
    if R > 0.0:
        pos = 0.0
        w = wa
        while pos + w < R and nl < 1000:
            pos += w
            left[nl] = pos
            nl += 1
            w = min(2.0 * w, cap)
        pos = R
        w = wb
        while pos - w > 0.0 and nl < 2040:
            pos -= w
            left[nl] = pos
            nl += 1
            w = min(2.0 * w, cap)
    inner = np.sort(left[:nl])
    buf = np.empty(nl + 1200)
    n = 0
    buf[n] = 0.0
    n += 1
    tiny = 1e-3 * min(wa, wb)
    for i in range(nl):
        if inner[i] - buf[n - 1] > tiny and R - inner[i] > tiny:
            buf[n] = inner[i]
            n += 1
    if R > 0.0 and R < r_end:
        buf[n] = R
        n += 1
    w = min(wa, wb)
    x = R + w
    while x < r_end and n < buf.size - 2:
        buf[n] = x
        n += 1
        w *= 2.0
        x = R + w
    if buf[n - 1] < r_end:
        buf[n] = r_end
        n += 1
    return buf[:n]


@numba.njit(cache=True, error_model="numpy")
def _rep_suffix(edges, ca, I, Q, x):
    """int_x^inf f."""
    k = locate_interval(edges, x)
    if k < 0:
        return 0.0
    y = (2.0 * x - edges[k] - edges[k + 1]) / (edges[k + 1] - edges[k])
    return Q[k + 1] + (I[k] - _leg(ca[k], y))


@numba.njit(cache=True, error_model="numpy")
def _pair_kernel(Rs, ea, cfa, eb, cfb, cgb, cab, Ib, Pb, Qb, chb, chab, Ihb, Phb, Qhb, wa, wb, cap, gy, gw):
    """Per R: S, dS/dR, d2S/dR2 and K, dK/dR with K(R) = int rho_a(r) phi_b(|r - R|) d^3r.

    R < 1e-8: S(0) = 4 pi int f_a f_b dr, dS = 0, d2S = K = dK = nan."""
    n = Rs.size
    out = np.zeros((5, n))
    Xa = ea[ea.size - 1]
    Xb = eb[eb.size - 1]
    for i in range(n):
        R = Rs[i]
        if R < 1e-8:
            edges = _outer_edges(0.0, min(wa, wb), min(wa, wb), min(Xa, Xb), cap)
            acc = 0.0
            for p in range(edges.size - 1):
                lo = edges[p]
                h = edges[p + 1] - lo
                for j in range(gy.size):
                    r = lo + 0.5 * h * (gy[j] + 1.0)
                    acc += 0.5 * h * gw[j] * _rep_val(ea, cfa, r) * _rep_val(eb, cfb, r)
            out[0, i] = _FOUR_PI * acc
            out[1, i] = 0.0
            out[2, i] = np.nan
            out[3, i] = np.nan
            out[4, i] = np.nan
            continue
        r_end = min(Xa, R + Xb)
        edges = _outer_edges(R, wa, wb, r_end, cap)
        I0 = 0.0
        I1 = 0.0
        I2 = 0.0
        K0 = 0.0
        K1 = 0.0
        for p in range(edges.size - 1):
            lo = edges[p]
            h = edges[p + 1] - lo
            if h <= 0.0:
                continue
            for j in range(gy.size):
                r = lo + 0.5 * h * (gy[j] + 1.0)
                fa = _rep_val(ea, cfa, r)
                if fa == 0.0:
                    continue
                wfa = 0.5 * h * gw[j] * fa
                x1 = abs(R - r)
                x2 = R + r
                G = _rep_G(eb, cab, Ib, Pb, Qb, x1, x2)
                H = _rep_G(eb, chab, Ihb, Phb, Qhb, x1, x2)
                f2 = _rep_val(eb, cfb, x2)
                f1 = _rep_val(eb, cfb, x1)
                h2 = _rep_val(eb, chb, x2)
                h1 = _rep_val(eb, chb, x1)
                if r > R:
                    f1 = -f1  # odd extension of f_b; d/dR of int_{r-R} flips sign
                    h1 = -h1
                g2 = _rep_val(eb, cgb, x2)
                g1 = _rep_val(eb, cgb, x1)
                I0 += wfa * G
                I1 += wfa * (f2 - f1)
                I2 += wfa * (g2 - g1)
                K0 += wfa * H
                K1 += wfa * (h2 - h1)
        out[0, i] = _TWO_PI * I0 / R
        out[1, i] = _TWO_PI * (I1 / R - I0 / (R * R))
        out[2, i] = _TWO_PI * (I2 / R - 2.0 * I1 / (R * R) + 2.0 * I0 / (R * R * R))
        out[3, i] = _TWO_PI * K0 / R
        out[4, i] = _TWO_PI * (K1 / R - K0 / (R * R))
    return out


@numba.njit(cache=True, error_model="numpy")
def _single_kernel(Rs, e, cf, ca, I, Q, ch):
    """Per R: rho(R) = f/R, h(R) = R phi(R), h'(R) = -4 pi int_R^inf f."""
    n = Rs.size
    out = np.zeros((3, n))
    for i in range(n):
        R = Rs[i]
        out[0, i] = _rep_val(e, cf, R) / R if R > 0.0 else np.nan
        out[1, i] = _rep_val(e, ch, R)
        out[2, i] = -_FOUR_PI * _rep_suffix(e, ca, I, Q, R)
    return out


# ---------------------------------------------------------------------------- density reps (cached)
_REP_CACHE: dict = {}


def clear_cache() -> None:
    """Forget cached density representations."""
    _REP_CACHE.clear()


def density_rep(rd) -> DensityRep | None:
    if rd is None or rd.n_electrons == 0.0:
        return None
    key = density_key(rd)
    rep = _REP_CACHE.get(key)
    if rep is None:
        rep = _build_rep(rd)
        _REP_CACHE[key] = rep
    return rep


def density_key(rd) -> str:
    return hashlib.sha1(json.dumps(rd.to_dict(), sort_keys=True).encode()).hexdigest()


def as_density(x):
    if x is None or isinstance(x, slater.RadialDensity):
        return None if x is None or x.n_electrons == 0.0 else x
    if isinstance(x, dict):
        if not (x.get("shells") or x.get("tail")):
            return None
        rd = slater.RadialDensity.from_dict(x)
        return None if rd.n_electrons == 0.0 else rd
    raise InputError(f"pair_tables: expected a RadialDensity, a density dict or None, got {type(x).__name__}")


def _pair_arrays(ra, rb, flat):
    return _pair_kernel(flat, ra.edges, ra.cf, rb.edges, rb.cf, rb.cg, rb.ca, rb.I, rb.P, rb.Q,
                        rb.ch, rb.cha, rb.Ih, rb.Ph, rb.Qh, 1.0 / ra.alpha_max, 1.0 / rb.alpha_max,
                        _CAP_EFOLDS / max(ra.alpha_min, rb.alpha_min), _GY, _GW)


def _single_arrays(rep, flat):
    if rep is None:
        return np.zeros((3, flat.size))
    return _single_kernel(flat, rep.edges, rep.cf, rep.ca, rep.I, rep.Q, rep.ch)


def short_range_coulomb(Za, rho_a, Zb, rho_b, R):
    """W = R U(R) - q_a q_b and its first two R-derivatives (arrays), from the panel
    representations:  U = q_a q_b / R + Z_a phi_b(R) + q_b phi_a(R) - K(R),
    K(R) = int rho_a(r) phi_b(|r - R|) d^3r, phi = N/r - V; W'' from Poisson's equation,
    W'' = 4 pi R [Z_a rho_b(R) + Z_b rho_a(R) - S(R)].  Agrees with ``slater.state_coulomb``
    to ~1e-12 hartree (tested); used to build the U tables fast."""
    flat = np.ascontiguousarray(np.asarray(R, dtype=np.float64).reshape(-1))
    if not np.all(np.isfinite(flat)) or np.any(flat <= 0):
        raise InputError("short_range_coulomb: R must be finite and > 0 (bohr)")
    ra, rb = density_rep(as_density(rho_a)), density_rep(as_density(rho_b))
    Nb = rb.n_electrons if rb is not None else 0.0
    qb = float(Zb) - Nb
    sa, sb = _single_arrays(ra, flat), _single_arrays(rb, flat)
    W = Za * sb[1] + qb * sa[1]
    dW = Za * sb[2] + qb * sa[2]
    lap = Za * sb[0] + Zb * sa[0]
    if ra is not None and rb is not None:
        S, _, _, K, dK = _pair_arrays(ra, rb, flat)
        W = W - flat * K
        dW = dW - K - flat * dK
        lap = lap - S
    return W, dW, _FOUR_PI * flat * lap


def overlap_derivatives(rho_a, rho_b, R):
    """(S, dS/dR, d2S/dR2) of two spherical densities at centre distances R (bohr).

    ``rho_a``/``rho_b``: ``slater.RadialDensity``, a density dict ({"shells", "tail"}) or
    None (bare nucleus: S = 0).  At R < 1e-8 the value is S(0) = 4 pi int r^2 rho_a rho_b dr,
    dS = 0 and d2S = nan.  Accuracy ~1e-12 relative (see docs/pair_tables_qeq.md).
    """
    R_arr = np.asarray(R, dtype=np.float64)
    flat = np.ascontiguousarray(R_arr.reshape(-1))
    if not np.all(np.isfinite(flat)) or np.any(flat < 0):
        raise InputError("overlap: R must be finite and >= 0 (bohr)")
    ra, rb = density_rep(as_density(rho_a)), density_rep(as_density(rho_b))
    if ra is None or rb is None:
        z = np.zeros(flat.size)
        out = (z, z.copy(), z.copy())
    else:
        out = tuple(_pair_arrays(ra, rb, flat)[:3])
    if R_arr.ndim == 0:
        return tuple(float(v[0]) for v in out)
    return tuple(v.reshape(R_arr.shape) for v in out)


def overlap(rho_a, rho_b, R):
    """Density overlap S_ab(R) = int rho_a(r) rho_b(|r - R|) d^3r (electrons^2/bohr^3)."""
    return overlap_derivatives(rho_a, rho_b, R)[0]


