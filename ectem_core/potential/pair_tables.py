"""Tabulated pair functions of two spherical atomic states (for the ECT-EAM potential).

For a state a on nucleus Z_a (density rho_a, N_a electrons, charge q_a = Z_a - N_a) and a
state b on Z_b, this module tabulates on an R grid (bohr):

* the density overlap  S_ab(R) = int rho_a(r) rho_b(|r - R|) d^3r  (electrons^2/bohr^3), the
  building block of the overlap-averaged background density (docs/model.md section 4);
* the state-state Coulomb energy U_ab(R) (hartree) of ``slater.state_coulomb``
  (nucleus + electrons of a with nucleus + electrons of b), -> q_a q_b / R;
* the point-sampled densities rho_a(R) and rho_b(R) (the bare proton's background).

Every table is a piecewise polynomial (quintic Hermite for S and U: C^2; cubic Hermite for
rho: C^1) stored as plain arrays ``(knots, coefs, meta)`` that the numba function
``eval_table`` evaluates (value and dvalue/dR).  What is interpolated:

* S and rho: ln S, ln rho (kind ``LOG``), so the interpolation error is *relative*;
* U: W(R) = R U(R) - q_a q_b (kind ``COULOMB``), smooth and finite down to R = 0; beyond
  the table end U = q_a q_b / R exactly ("plus nothing").

Knots are placed adaptively (bisection of three-point cells, see ``_build_adaptive``) until
the estimated interpolation error is below ``tol`` = 1e-9 (relative for S and rho, hartree
for U); measured errors against direct evaluation (<= 3e-9) and knot counts are in
docs/pair_tables_qeq.md.

The overlap S is computed here (``overlap``) by a 2-D Gauss-Legendre quadrature in the
radial variables (r, s):  S(R) = (2 pi / R) int_0^inf f_a(r) G_b(r, R) dr,
f(r) = r rho(r), G_b(r, R) = int_{|R-r|}^{R+r} f_b(s) ds, where every density is first
represented on adaptive panels by degree-19 Legendre series of f = r rho and f' (sampled from
``slater.density`` / ``slater.density_derivative``, so any density formula of ``slater`` is
used as is) and G_b comes from the panel antiderivatives (prefix or suffix sums, whichever
carries no cancellation).  R-derivatives: dG/dR = f_b(R+r) - f_b^odd(R-r),
d2G/dR2 = f_b'(R+r) - f_b'^even(R-r).

U'' is not evaluated by ``slater``; it follows from Poisson's equation for the two charge
distributions:  U'' + 2U'/R = 4 pi [Z_a rho_b(R) + Z_b rho_a(R) - S_ab(R)]  (R > 0), hence
W'' = 4 pi R [Z_a rho_b(R) + Z_b rho_a(R) - S_ab(R)].

U is evaluated for the tables from the same panel representations (``short_range_coulomb``:
U = q_a q_b/R + Z_a phi_b(R) + q_b phi_a(R) - int rho_a(r) phi_b(|r - R|) d^3r with
phi = N/r - V, ~20x faster than ``slater.state_coulomb`` for densities with tails, agreeing
with it to ~1e-12 Ha); every U table is checked against ``slater.state_coulomb`` at a few
radii between knots when it is built (InputError beyond 1e-8 Ha).

The pair integrals themselves live in ``density.pair_integrals``. Atomic units throughout.
Public API: ``PairTable``,
``eval_table``, ``eval_table_array``, ``build_pair_table_set``, ``build_pair_tables``,
``cutoff_radius``, ``switch``, ``clear_cache``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from ..density import slater
from ..density.pair_integrals import (
    as_density,
    density_key,
    density_rep,
    density_scales,
    locate_interval,
    overlap,
    overlap_derivatives,
    short_range_coulomb,
)
from ..density.pair_integrals import clear_cache as _clear_integral_cache
from ..errors import InputError

__all__ = ["PLAIN", "LOG", "COULOMB", "PairTable", "eval_table", "eval_table_array", "build_pair_table_set",
           "build_pair_tables", "cutoff_radius", "switch", "switch_nb", "clear_cache"]

# table kinds (meta[0])
PLAIN = 0     # value = p(R); beyond R_max 0
LOG = 1       # value = exp(p(R)); beyond R_max log-linear continuation (C^1)
COULOMB = 2   # value = (qq + p(R)) / R; beyond R_max qq / R exactly


# ---------------------------------------------------------------------------- defaults
R_MIN_DEFAULT = 0.2          # bohr, first knot of every table
S_TOL_DEFAULT = 1e-12        # S(R) below this beyond R_max (electrons^2 / bohr^3)
U_TOL_DEFAULT = 1e-12        # |U - qa qb / R| below this beyond R_max (hartree)
RHO_TOL_DEFAULT = 1e-12      # rho(R) below this beyond R_max (electrons / bohr^3)
INTERP_TOL_DEFAULT = 1e-9    # target of the error *estimate* (relative for S, rho; Ha for U)

_TABLE_CACHE: dict = {}


def clear_cache() -> None:
    """Forget cached density representations and pair tables."""
    _clear_integral_cache()
    _TABLE_CACHE.clear()


# ---------------------------------------------------------------------------- tables
@dataclass(frozen=True, eq=False)
class PairTable:
    """One tabulated pair function of R (bohr).

    ``knots`` (K+1,) and ``coefs`` (K, 6): on [knots[k], knots[k+1]] the interpolated
    quantity is p(R) = sum_j coefs[k, j] t^j with t = R - knots[k].  ``kind`` says what p is:
    PLAIN (the function itself), LOG (its logarithm) or COULOMB (R U(R) - qq).
    ``R_min`` = knots[0], ``R_max`` = knots[-1].  Outside: below R_min the first piece is
    extended (see docs); beyond R_max PLAIN gives 0, LOG continues ln f linearly (C^1),
    COULOMB gives qq / R exactly.  ``order`` 5 (quintic Hermite, C^2) or 3 (cubic, C^1);
    ``err_estimate`` the largest estimated interpolation error (relative for LOG, the
    function's unit for PLAIN and COULOMB), ``n_evals`` direct evaluations used.
    """

    knots: np.ndarray
    coefs: np.ndarray
    kind: int
    qq: float = 0.0
    order: int = 5
    err_estimate: float = 0.0
    n_evals: int = 0
    info: dict = field(default_factory=dict)

    @property
    def R_min(self) -> float:
        return float(self.knots[0])

    @property
    def R_max(self) -> float:
        return float(self.knots[-1])

    @property
    def n_knots(self) -> int:
        return int(self.knots.size)

    @property
    def meta(self) -> np.ndarray:
        return np.array([float(self.kind), float(self.qq), self.R_min, self.R_max])

    @property
    def arrays(self):
        """(knots, coefs, meta): the argument of ``eval_table``."""
        return (self.knots, self.coefs, self.meta)

    def __call__(self, R):
        """(value, dvalue/dR) at R (scalar or array)."""
        R_arr = np.asarray(R, dtype=np.float64)
        v, d = eval_table_array(self.arrays, np.ascontiguousarray(R_arr.reshape(-1)))
        if R_arr.ndim == 0:
            return float(v[0]), float(d[0])
        return v.reshape(R_arr.shape), d.reshape(R_arr.shape)


@numba.njit(cache=True, error_model="numpy")
def eval_table(table_arrays, R):
    """(value, dvalue/dR) of a ``PairTable`` given as ``table.arrays`` at one R >= 0 (bohr)."""
    knots, coefs, meta = table_arrays
    kind = int(meta[0])
    qq = meta[1]
    K = knots.size - 1
    if R >= knots[K]:
        if kind == 2:
            return qq / R, -qq / (R * R)
        if kind == 1:
            # log-linear continuation from the end of the last piece
            c = coefs[K - 1]
            t = knots[K] - knots[K - 1]
            p = c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * c[5]))))
            dp = c[1] + t * (2.0 * c[2] + t * (3.0 * c[3] + t * (4.0 * c[4] + t * 5.0 * c[5])))
            v = math.exp(p + dp * (R - knots[K]))
            return v, dp * v
        return 0.0, 0.0
    k = locate_interval(knots, R)
    c = coefs[k]
    t = R - knots[k]
    p = c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * c[5]))))
    dp = c[1] + t * (2.0 * c[2] + t * (3.0 * c[3] + t * (4.0 * c[4] + t * 5.0 * c[5])))
    if kind == 1:
        v = math.exp(p)
        return v, dp * v
    if kind == 2:
        return (qq + p) / R, (dp * R - qq - p) / (R * R)
    return p, dp


@numba.njit(cache=True, error_model="numpy")
def eval_table_array(table_arrays, Rs):
    """``eval_table`` at every element of a 1-D array."""
    v = np.empty(Rs.size)
    d = np.empty(Rs.size)
    for i in range(Rs.size):
        v[i], d[i] = eval_table(table_arrays, Rs[i])
    return v, d


def _hermite(h, f0, d0, s0, f1, d1, s1, order):
    """Power coefficients (..., 6) of the Hermite interpolant in t in [0, h] (arrays)."""
    c = np.zeros(np.shape(h) + (6,))
    if order == 5:
        a0, a1, a2 = f0, d0, 0.5 * s0
        D0 = f1 - (a0 + a1 * h + a2 * h * h)
        D1 = d1 - (a1 + 2.0 * a2 * h)
        D2 = s1 - 2.0 * a2
        c[..., 0], c[..., 1], c[..., 2] = a0, a1, a2
        c[..., 3] = (10.0 * D0 - 4.0 * D1 * h + 0.5 * D2 * h * h) / h ** 3
        c[..., 4] = (-15.0 * D0 + 7.0 * D1 * h - D2 * h * h) / h ** 4
        c[..., 5] = (6.0 * D0 - 3.0 * D1 * h + 0.5 * D2 * h * h) / h ** 5
    else:
        dl = (f1 - f0) / h
        c[..., 0], c[..., 1] = f0, d0
        c[..., 2] = (3.0 * dl - 2.0 * d0 - d1) / h
        c[..., 3] = (d0 + d1 - 2.0 * dl) / (h * h)
    return c


def _poly(c, t):
    return c[..., 0] + t * (c[..., 1] + t * (c[..., 2] + t * (c[..., 3] + t * (c[..., 4] + t * c[..., 5]))))


def _build_adaptive(func, R_lo, R_hi, order, tol, n_init=16, max_rounds=40, min_width=1e-6):
    """Knots by bisection of three-point cells (a, m, b).

    ``func(R) -> (f, f', f'')`` on an array.  The interpolant built on (a, b) alone is compared
    with the data at m: e = max(|dp|, |dp'| h, |dp''| h^2/6) (h = half width; for the Hermite
    error C (t-a)^k (t-b)^k each term estimates the same |C| h^(2k), and taking all three
    guards against a sign change of f^(2k) hiding the error at m).  The final interpolant on
    [a, m] and [m, b] has ~2^-(order+1) of that error (h^(order+1) scaling), so a cell is
    accepted when e / 2^(order+1) <= tol(m); else it is replaced by its two halves (two new
    evaluations).  ``tol(R, f)`` -> absolute tolerance.
    Returns (knots, values, d1, d2, worst estimate, evaluations).
    """
    pts = np.geomspace(R_lo, R_hi, 2 * n_init + 1)
    f, d, s = func(pts)
    store = {float(x): (fv, dv, sv) for x, fv, dv, sv in zip(pts, f, d, s)}
    cells = [(pts[2 * i], pts[2 * i + 1], pts[2 * i + 2]) for i in range(n_init)]
    accepted = []
    worst = 0.0
    ratio = 2.0 ** (order + 1)
    for _ in range(max_rounds):
        if not cells:
            break
        a = np.array([c[0] for c in cells])
        m = np.array([c[1] for c in cells])
        b = np.array([c[2] for c in cells])
        fa, da, sa = (np.array([store[float(x)][k] for x in a]) for k in range(3))
        fm = np.array([store[float(x)][0] for x in m])
        fb, db, sb = (np.array([store[float(x)][k] for x in b]) for k in range(3))
        dm = np.array([store[float(x)][1] for x in m])
        sm = np.array([store[float(x)][2] for x in m])
        coef = _hermite(b - a, fa, da, sa, fb, db, sb, order)
        t = m - a
        hw = 0.5 * (b - a)
        dp = coef[:, 1] + t * (2.0 * coef[:, 2] + t * (3.0 * coef[:, 3] + t * (4.0 * coef[:, 4] + t * 5.0 * coef[:, 5])))
        est = np.maximum(np.abs(_poly(coef, t) - fm), np.abs(dp - dm) * hw)
        if order == 5:
            d2p = 2.0 * coef[:, 2] + t * (6.0 * coef[:, 3] + t * (12.0 * coef[:, 4] + t * 20.0 * coef[:, 5]))
            est = np.maximum(est, np.abs(d2p - sm) * hw * hw / 6.0)
        est = est / ratio
        tl = tol(m, fm)
        ok = (est <= tl) | ((b - a) < min_width)
        for i in np.nonzero(ok)[0]:
            accepted.append(cells[i])
            worst = max(worst, float(est[i] / tl[i]) * 1.0) if tl[i] > 0 else worst
        bad = [cells[i] for i in np.nonzero(~ok)[0]]
        if not bad:
            cells = []
            break
        new = np.array([0.5 * (c[0] + c[1]) for c in bad] + [0.5 * (c[1] + c[2]) for c in bad])
        fn, dn, sn = func(new)
        for x, fv, dv, sv in zip(new, fn, dn, sn):
            store[float(x)] = (fv, dv, sv)
        nb = len(bad)
        cells = [(c[0], new[i], c[1]) for i, c in enumerate(bad)] + \
                [(c[1], new[nb + i], c[2]) for i, c in enumerate(bad)]
    if cells:  # unresolved after max_rounds (not expected: min_width stops the bisection)
        accepted += cells
        worst = math.inf
    knots = np.array(sorted({float(x) for c in accepted for x in c}))
    vals = np.array([store[x] for x in knots])
    return knots, vals[:, 0], vals[:, 1], vals[:, 2], worst, len(store)


def _table_from(knots, f, d, s, kind, qq, order, worst, n_evals, info=None):
    h = np.diff(knots)
    coefs = _hermite(h, f[:-1], d[:-1], s[:-1], f[1:], d[1:], s[1:], order)
    return PairTable(np.ascontiguousarray(knots), np.ascontiguousarray(coefs), kind, float(qq), order,
                     float(worst), int(n_evals), info or {})


def _zero_table(R_min, kind=PLAIN, qq=0.0) -> PairTable:
    """Identically 0 (PLAIN) or exactly qq/R (COULOMB): one piece, R_max = R_min + 1e-9."""
    knots = np.array([R_min, R_min + 1e-9])
    return PairTable(knots, np.zeros((1, 6)), kind, float(qq), 5, 0.0, 0, {})


def _decay_radius(fun, tol, r_start, r_stop, ratio=1.08):
    """Smallest r on a geometric scan beyond which fun(r) <= tol at every later scan point."""
    grid = np.geomspace(r_start, r_stop, int(math.log(r_stop / r_start) / math.log(ratio)) + 2)
    vals = np.abs(np.asarray(fun(grid)))
    above = np.nonzero(vals > tol)[0]
    if above.size == 0:
        return float(grid[0])
    k = above[-1] + 1
    if k >= grid.size:
        return float(grid[-1])
    return float(grid[k])


def _state_U(Za, rd_a, Zb, rd_b, R):
    """U and dU/dR (hartree, hartree/bohr) from slater in one pass."""
    U, dU = slater.state_parts(Za, rd_a, Zb, rd_b, np.ascontiguousarray(R, dtype=np.float64))
    return np.asarray(U), np.asarray(dU)


def _state_info(st):
    if isinstance(st, dict):
        Z = float(st["Z"])
        rd = as_density(st)
        N = float(st.get("n_electrons", rd.n_electrons if rd is not None else 0.0))
    else:
        Z, rd = float(st[0]), as_density(st[1])
        N = rd.n_electrons if rd is not None else 0.0
    if rd is not None and abs(rd.n_electrons - N) > 1e-6 * max(N, 1.0):
        raise InputError(f"pair_tables: density integrates to {rd.n_electrons:.8g} electrons, "
                         f"state says {N:.8g}")
    return Z, rd, N


def _state_key(Z, rd):
    return (float(Z), density_key(rd) if rd is not None else None)


def _build_S(rd_a, rd_b, R_min, s_tol, tol):
    ra, rb = density_rep(rd_a), density_rep(rd_b)
    if ra is None or rb is None:
        return _zero_table(R_min)
    t0 = time.perf_counter()
    r_stop = 200.0 / min(ra.alpha_min, rb.alpha_min) + 10.0
    R_max = _decay_radius(lambda R: overlap(rd_a, rd_b, R), s_tol, max(R_min, 0.5), max(r_stop, 2 * R_min))
    R_max = max(R_max, 2.0 * R_min)

    def func(R):
        S, dS, d2S = overlap_derivatives(rd_a, rd_b, R)
        if np.any(S <= 0):
            raise InputError("pair_tables: overlap not positive inside the table range")
        g = dS / S
        return np.log(S), g, d2S / S - g * g

    knots, f, d, s, worst, nev = _build_adaptive(func, R_min, R_max, 5, lambda R, fv: np.full(R.shape, tol))
    return _table_from(knots, f, d, s, LOG, 0.0, 5, worst * tol, nev,
                       {"build_s": time.perf_counter() - t0, "S_at_R_max": float(np.exp(f[-1]))})


def _build_rho(rd, R_min, rho_tol, tol):
    if rd is None:
        return _zero_table(R_min)
    key = ("rho", density_key(rd), R_min, rho_tol, tol)
    if key in _TABLE_CACHE:
        return _TABLE_CACHE[key]
    _, amin = density_scales(rd)
    R_max = _decay_radius(lambda R: slater.density(rd, R), rho_tol, max(R_min, 0.5), 200.0 / amin + 10.0)
    R_max = max(R_max, 2.0 * R_min)

    def func(R):
        rho = np.asarray(slater.density(rd, R))
        drho = np.asarray(slater.density_derivative(rd, R))
        if np.any(rho <= 0):
            raise InputError("pair_tables: density not positive inside the table range")
        return np.log(rho), drho / rho, np.zeros_like(rho)

    knots, f, d, s, worst, nev = _build_adaptive(func, R_min, R_max, 3, lambda R, fv: np.full(R.shape, tol),
                                                  n_init=32)
    tab = _table_from(knots, f, d, s, LOG, 0.0, 3, worst * tol, nev)
    _TABLE_CACHE[key] = tab
    return tab


def _build_U(Za, rd_a, Zb, rd_b, R_min, u_tol, tol, n_check=4):
    Na = rd_a.n_electrons if rd_a is not None else 0.0
    Nb = rd_b.n_electrons if rd_b is not None else 0.0
    qq = (Za - Na) * (Zb - Nb)
    if rd_a is None and rd_b is None:
        return _zero_table(R_min, COULOMB, qq)
    t0 = time.perf_counter()
    scales = [density_scales(rd)[1] for rd in (rd_a, rd_b) if rd is not None]
    r_stop = 200.0 / min(scales) + 10.0
    R_max = max(_decay_radius(lambda R: short_range_coulomb(Za, rd_a, Zb, rd_b, R)[0] / R, u_tol,
                              max(R_min, 0.5), r_stop), 2.0 * R_min)

    def func(R):
        return short_range_coulomb(Za, rd_a, Zb, rd_b, R)

    knots, f, d, s, worst, nev = _build_adaptive(func, R_min, R_max, 5, lambda R, fv: tol * R)
    tab = _table_from(knots, f, d, s, COULOMB, qq, 5, worst * tol, nev)
    # check against the reference slater.state_coulomb between knots
    Rc = np.geomspace(R_min * 1.03, R_max * 0.97, n_check)
    Uref, _ = _state_U(Za, rd_a, Zb, rd_b, Rc)
    Utab, _ = tab(Rc)
    dev = float(np.max(np.abs(Utab - Uref)))
    if not dev <= max(100.0 * tol, 1e-8):
        raise InputError(f"pair_tables: U table deviates from slater.state_coulomb by {dev:.2e} Ha")
    tab.info.update({"build_s": time.perf_counter() - t0, "U_short_range_at_R_max": float(f[-1] / knots[-1]),
                     "check_vs_slater": dev})
    return tab


def build_pair_table_set(state_a, state_b, *, R_min: float = R_MIN_DEFAULT, s_tol: float = S_TOL_DEFAULT,
                         u_tol: float = U_TOL_DEFAULT, rho_tol: float = RHO_TOL_DEFAULT,
                         tol: float = INTERP_TOL_DEFAULT) -> dict:
    """Tables of one state pair: {"S", "U", "rho_a_at_R", "rho_b_at_R"} (``PairTable`` each).

    A state is a dict with "Z", "n_electrons" and the density ("shells", "tail"), e.g. a
    stage-2 fit record, or a tuple (Z, RadialDensity | None).  Cached by a hash of
    (Z, density) of both states and the options (S and U are symmetric: the reversed pair
    reuses the cache).
    """
    Za, rd_a, _ = _state_info(state_a)
    Zb, rd_b, _ = _state_info(state_b)
    opts = (float(R_min), float(s_tol), float(u_tol), float(rho_tol), float(tol))
    ka, kb = _state_key(Za, rd_a), _state_key(Zb, rd_b)
    key = (min(ka, kb, key=repr), max(ka, kb, key=repr), opts)
    pair = _TABLE_CACHE.get(key)
    if pair is None:
        # build with the canonical order so that the cache entry does not depend on it
        if repr(ka) <= repr(kb):
            pair = {"S": _build_S(rd_a, rd_b, R_min, s_tol, tol), "U": _build_U(Za, rd_a, Zb, rd_b, R_min, u_tol, tol)}
        else:
            pair = {"S": _build_S(rd_b, rd_a, R_min, s_tol, tol), "U": _build_U(Zb, rd_b, Za, rd_a, R_min, u_tol, tol)}
        _TABLE_CACHE[key] = pair
    return {"S": pair["S"], "U": pair["U"],
            "rho_a_at_R": _build_rho(rd_a, R_min, rho_tol, tol),
            "rho_b_at_R": _build_rho(rd_b, R_min, rho_tol, tol)}


def build_pair_tables(states_a, states_b, **options) -> dict:
    """{(ia, ib): build_pair_table_set(states_a[ia], states_b[ib])} for all state pairs.

    ``states_a``/``states_b``: lists of state dicts (the states of element A and of element
    B).  Options as in ``build_pair_table_set``.
    """
    return {(ia, ib): build_pair_table_set(sa, sb, **options)
            for ia, sa in enumerate(states_a) for ib, sb in enumerate(states_b)}


# ---------------------------------------------------------------------------- cutoffs
def cutoff_radius(rd, tol: float = 1e-10) -> float:
    """Radius beyond which rho(r) <= tol * max rho (bohr); 0 for a bare nucleus.

    Found on a geometric scan (4000 radii) from 1e-3 bohr to 200/alpha_min + 10 (alpha_min
    the slowest decay constant, 2 zeta or 2 kappa: the density is below e^-200 of its tail
    prefactor there), then refined by bisection, so the result is where the density *last*
    drops below the threshold.  Use it (or ``switch``) to bound short-range parts; the U and S
    tables choose their own ends (``R_max``)."""
    rd = as_density(rd)
    if rd is None:
        return 0.0
    if not tol > 0:
        raise InputError("cutoff_radius: tol must be > 0")
    _, amin = density_scales(rd)
    r = np.geomspace(1e-3, 200.0 / amin + 10.0, 4000)
    rho = np.asarray(slater.density(rd, r))
    thr = tol * max(float(np.max(rho)), float(slater.density(rd, 0.0)))
    above = np.nonzero(rho > thr)[0]
    if above.size == 0:
        return 0.0
    k = above[-1]
    if k + 1 >= r.size:
        return float(r[-1])
    lo, hi = float(r[k]), float(r[k + 1])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(slater.density(rd, mid)) > thr:
            lo = mid
        else:
            hi = mid
    return hi


@numba.njit(cache=True, error_model="numpy")
def switch_nb(R, R_on, R_off):
    """C^1 switching function (1 below R_on, 0 above R_off, 1 - 3x^2 + 2x^3 between) and its
    derivative, x = (R - R_on)/(R_off - R_on)."""
    if R <= R_on:
        return 1.0, 0.0
    if R >= R_off:
        return 0.0, 0.0
    w = R_off - R_on
    x = (R - R_on) / w
    return 1.0 - x * x * (3.0 - 2.0 * x), -6.0 * x * (1.0 - x) / w


def switch(R, R_on: float, R_off: float):
    """(s, ds/dR) of ``switch_nb`` on a scalar or array R; multiply a short-range part by s."""
    if not R_off > R_on:
        raise InputError("switch: need R_off > R_on")
    R_arr = np.asarray(R, dtype=np.float64)
    flat = R_arr.reshape(-1)
    s = np.empty(flat.size)
    ds = np.empty(flat.size)
    for i, x in enumerate(flat):
        s[i], ds[i] = switch_nb(float(x), float(R_on), float(R_off))
    if R_arr.ndim == 0:
        return float(s[0]), float(ds[0])
    return s.reshape(R_arr.shape), ds.reshape(R_arr.shape)
