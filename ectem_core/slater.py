"""Analytic spherical radial-density model and its electrostatics.

A spherical atomic-state electron density (electrons / bohr^3) is a sum of Slater-type
"shell" terms plus at most one tail term::

    rho(r) = sum_k c_k r^(2(n_k-1)) exp(-2 zeta_k r)                    (shells)
           + c_t r^(2 beta) (1 - exp(-r^2/b^2))^q exp(-2 kappa r)         (tail, q = max(1-beta, 0))

Shell n is an integer or half-integer (the power m = 2(n-1) of r is any integer >= 0, so
n = 1.5 is a bare r^1 term) and shell coefficients may be negative as long as the total
density is non-negative (checked on construction).  The tail behaves like c_t b^(2beta-2) r^2
at the nucleus (beta < 1) and like c_t r^(2beta) e^(-2 kappa r) far out.

Atomic units throughout: r, R in bohr, energies in hartree, potentials in hartree per
unit charge.  ``potential`` is the potential *of the electron density alone* taken as a
positive quantity, V(r) = int rho(r')/|r - r'| d^3r', so a nucleus of charge Z at r feels
the energy -Z V(r).

Shell terms use closed forms (integer-order incomplete gamma functions, finite sums and
one confluent-hypergeometric "overlap" integral evaluated by a positive series); the
tail term uses composite Gauss-Legendre quadrature.  All evaluation kernels are numba
``njit`` functions; the public functions below are thin wrappers.  The formulas and the
stable-evaluation strategy are documented in ``docs/slater.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np

from .errors import InputError

__all__ = [
    "RadialDensity",
    "density",
    "density_derivative",
    "rdf",
    "moment",
    "electron_count",
    "rho0",
    "cusp_ratio",
    "potential",
    "potential_derivative",
    "nuclear_attraction",
    "coulomb",
    "coulomb_derivative",
    "state_coulomb",
    "state_coulomb_derivative",
]

_PI = math.pi
_FOUR_PI = 4.0 * math.pi
_TWO_PI = 2.0 * math.pi

# Shell n is limited to 1.._NMAX (powers m = 2(n-1) <= 18): the K-function series then
# stays below e^700 (no overflow).
_NMAX = 10
_FACT = np.array([float(math.factorial(i)) for i in range(171)])
_BINOM = np.array([[float(math.comb(i, j)) for j in range(2 * _NMAX + 8)]
                   for i in range(2 * _NMAX + 8)])
_INV = np.array([0.0] + [1.0 / i for i in range(1, 4096)])  # reciprocal table for series loops
_GX, _GW = np.polynomial.legendre.leggauss(20)  # panel rule for the tail quadratures

# Below R * (sum of the pair's inverse length scales) < _TAYLOR_X the pair Coulomb
# integral is evaluated from its Taylor series J0 + c2 R^2 + c4 R^4 (the closed form
# carries a 1/R that cancels there).
_TAYLOR_X = 0.02
# Beyond a*R > _EXP_CUT every exp(-a R) short-range remainder is below 1e-300.
_EXP_CUT = 700.0
# Tail grid: extends to 2*kappa*r = _TAIL_EXTENT (density < e^-600 beyond).
_TAIL_EXTENT = 600.0
# Tails with beta >= 1 and 2 beta not an integer have an r^(2 beta) branch point at r = 0:
# their panels are graded geometrically (width <= r/2) down to r = _TAIL_GRADE / kappa.
_TAIL_GRADE = 0.005
# Non-negativity check of densities with negative shell coefficients: rho >= -_NEG_TOL max rho
# on _CHECK_R (bohr), plus the sign of the asymptotically leading term.
_NEG_TOL = 1e-14
_CHECK_R = np.geomspace(1e-6, 100.0, 2000)


# ----------------------------------------------------------------------------------------
# the data class
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RadialDensity:
    """Spherical density model: Slater shells (n, zeta, c) plus an optional tail.

    ``n`` (float64: 1, 1.5, 2, ..., 10, i.e. the power of r, m = 2(n - 1), is an integer),
    ``zeta`` (> 0, 1/bohr) and ``c`` (finite, electrons/bohr^(2n+1), may be negative) are
    equal-length arrays; the tail is present when ``tail_c`` is not None and then needs
    ``tail_c`` >= 0, ``tail_b`` > 0 (bohr), ``tail_kappa`` > 0 (1/bohr) and a finite
    ``tail_beta``.  When any shell coefficient is negative the total density must still be
    non-negative: rho(r) >= -1e-14 max(rho) on 2000 log-spaced radii in [1e-6, 100] bohr and
    the asymptotically leading term positive, else ``InputError``.
    Instances are immutable (arrays are read-only) and hashable.
    """

    n: np.ndarray
    zeta: np.ndarray
    c: np.ndarray
    tail_c: float | None = None
    tail_b: float | None = None
    tail_beta: float | None = None
    tail_kappa: float | None = None

    def __post_init__(self):
        try:
            n = np.atleast_1d(np.asarray(self.n, dtype=np.float64)).copy()
        except (TypeError, ValueError):
            raise InputError("RadialDensity: shell n must be numbers") from None
        zeta = np.atleast_1d(np.asarray(self.zeta, dtype=np.float64)).copy()
        c = np.atleast_1d(np.asarray(self.c, dtype=np.float64)).copy()
        if not (n.ndim == zeta.ndim == c.ndim == 1 and n.size == zeta.size == c.size):
            raise InputError("RadialDensity: n, zeta and c must be 1-D arrays of equal length")
        if np.any(~np.isfinite(n)) or np.any(2.0 * n != np.round(2.0 * n)) \
                or np.any(n < 1) or np.any(n > _NMAX):
            raise InputError(f"RadialDensity: shell n must be integers or half-integers in 1..{_NMAX}")
        if np.any(~np.isfinite(zeta)) or np.any(zeta <= 0):
            raise InputError("RadialDensity: shell exponents zeta must be finite and > 0")
        if np.any(~np.isfinite(c)):
            raise InputError("RadialDensity: shell coefficients c must be finite")
        tail = (self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa)
        if any(t is not None for t in tail):
            if any(t is None for t in tail):
                raise InputError("RadialDensity: give all four tail parameters (c, b, beta, kappa) or none")
            tc, tb, tbeta, tk = (float(t) for t in tail)
            if not all(math.isfinite(t) for t in (tc, tb, tbeta, tk)):
                raise InputError("RadialDensity: tail parameters must be finite")
            if tc < 0 or tb <= 0 or tk <= 0:
                raise InputError("RadialDensity: tail needs c >= 0, b > 0 and kappa > 0")
            if not math.isfinite(_tail_vec(tc, tb, tbeta, tk)[5]):
                raise InputError("RadialDensity: tail prefactor c b^(2 beta - 2) overflows")
            for name, v in zip(("tail_c", "tail_b", "tail_beta", "tail_kappa"), (tc, tb, tbeta, tk)):
                object.__setattr__(self, name, v)
        for arr in (n, zeta, c):
            arr.flags.writeable = False
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "zeta", zeta)
        object.__setattr__(self, "c", c)
        if np.any(c < 0):
            self._check_nonnegative()

    def _check_nonnegative(self):
        """InputError unless the total density (shells with signed c, plus tail) is >= 0."""
        rho, _ = _density_kernel(_CHECK_R, self._m, self._a, self.c, self._tail_on, self._tail_params, False)
        top = float(np.max(np.abs(rho)))
        worst = int(np.argmin(rho))
        if rho[worst] < -_NEG_TOL * top:
            raise InputError(f"RadialDensity: density is negative at r = {_CHECK_R[worst]:.4g} bohr "
                             f"(rho = {rho[worst]:.3e}, max {top:.3e}); negative shell coefficients "
                             "must leave the total density >= 0")
        # far out the term with the smallest exponent (then the highest power) dominates
        terms = {}
        for m, a, ci in zip(self._m.tolist(), self._a.tolist(), self.c.tolist()):
            terms[(a, float(m))] = terms.get((a, float(m)), 0.0) + ci
        if self._tail_on:
            key = (2.0 * self.tail_kappa, 2.0 * self.tail_beta)
            terms[key] = terms.get(key, 0.0) + self.tail_c
        live = [(a, -pw, ci) for (a, pw), ci in terms.items() if ci != 0.0]
        if live and min(live)[2] < 0:
            raise InputError("RadialDensity: density is negative at large r (the slowest-decaying "
                             "term has a negative coefficient)")

    # -- serialization ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "RadialDensity":
        """Build from ``{"shells": [{"n", "zeta", "c"}, ...], "tail": {...} | None}``."""
        try:
            shells = d.get("shells") or []
            n = np.array([float(s["n"]) for s in shells])  # 2n integral: checked in __post_init__
            zeta = [float(s["zeta"]) for s in shells]
            c = [float(s["c"]) for s in shells]
            tail = d.get("tail")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"RadialDensity.from_dict: malformed density dict ({exc})") from None
        if tail is None:
            return cls(n, zeta, c)
        try:
            return cls(n, zeta, c, tail_c=tail["c"], tail_b=tail["b"],
                       tail_beta=tail["beta"], tail_kappa=tail["kappa"])
        except (KeyError, TypeError) as exc:
            raise InputError(f"RadialDensity.from_dict: malformed tail ({exc})") from None

    def to_dict(self) -> dict:
        """Plain JSON-able dict (inverse of ``from_dict``)."""
        shells = [{"n": int(n) if float(n).is_integer() else float(n), "zeta": float(z), "c": float(c)}
                  for n, z, c in zip(self.n, self.zeta, self.c)]
        tail = None
        if self.has_tail:
            tail = {"c": self.tail_c, "b": self.tail_b, "beta": self.tail_beta, "kappa": self.tail_kappa}
        return {"shells": shells, "tail": tail}

    def __eq__(self, other):
        if not isinstance(other, RadialDensity):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((tuple(self.n.tolist()), tuple(self.zeta.tolist()), tuple(self.c.tolist()),
                     self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa))

    # -- derived quantities (cached) ----------------------------------------------------
    @property
    def has_tail(self) -> bool:
        """True when a tail term is present (even with c_t = 0)."""
        return self.tail_c is not None

    @cached_property
    def _m(self) -> np.ndarray:
        """Power of r in each shell term, m = 2(n - 1) (an integer 0..18)."""
        return np.round(2.0 * (self.n - 1.0)).astype(np.int64)

    @cached_property
    def _a(self) -> np.ndarray:
        """Exponent of each shell term, a = 2 zeta (1/bohr)."""
        return 2.0 * self.zeta

    @cached_property
    def _tail_on(self) -> bool:
        return self.has_tail and self.tail_c > 0

    @cached_property
    def _tail_params(self) -> np.ndarray:
        """Kernel parameter vector of the tail (see ``_tail_vec``)."""
        if not self.has_tail:
            return _tail_vec(0.0, 1.0, 1.0, 1.0)
        return _tail_vec(self.tail_c, self.tail_b, self.tail_beta, self.tail_kappa)

    @cached_property
    def _tail_table(self):
        """Panel edges and cumulative integrals of the tail (see ``_build_tail_table``)."""
        if not self._tail_on:
            z = np.zeros(2)
            return (np.array([0.0, 1.0]), z, z, z, z)
        return _build_tail_table(self._tail_params)

    @cached_property
    def _shell_counts(self) -> np.ndarray:
        """Electrons in each shell term: 4 pi c (m+2)! / a^(m+3) (signed with c)."""
        m, a, c = self._m, self._a, self.c
        return np.array([_FOUR_PI * ci * _FACT[mi + 2] / ai ** (mi + 3) for mi, ai, ci in zip(m, a, c)])

    @cached_property
    def _tail_count(self) -> float:
        return float(self._tail_table[1][-1]) if self._tail_on else 0.0

    @cached_property
    def n_electrons(self) -> float:
        """Total electron count N = int 4 pi r^2 rho dr."""
        return float(np.sum(self._shell_counts)) + self._tail_count


def _tail_vec(tc, tb, tbeta, tk) -> np.ndarray:
    """Tail parameters as used by the kernels: [c, b, beta, kappa, q, pref, p, graded].

    q = max(1 - beta, 0); near the nucleus (r <= b) the tail is evaluated as
    pref r^p g(r^2/b^2)^q e^{-2 kappa r} with g(y) = (1 - e^{-y})/y, i.e. pref = c b^(2beta-2),
    p = 2 for q > 0 and pref = c, p = 2 beta for q = 0.  graded = 1 when the panels must be
    graded towards r = 0 (q = 0 and 2 beta not an integer: r^(2 beta) branch point).
    """
    tc, tb, tbeta, tk = float(tc), float(tb), float(tbeta), float(tk)
    q = max(1.0 - tbeta, 0.0)
    if q > 0.0:
        with np.errstate(over="ignore"):
            pref, p = tc * tb ** (2.0 * tbeta - 2.0) if tc != 0.0 else 0.0, 2.0
    else:
        pref, p = tc, 2.0 * tbeta
    graded = 1.0 if (q == 0.0 and 2.0 * tbeta != round(2.0 * tbeta)) else 0.0
    return np.array([tc, tb, tbeta, tk, q, pref, p, graded])


def _tail_scale(tp) -> float:
    """Inverse length scale of a tail term: 2 kappa, or max(2 kappa, 1/b) when q > 0."""
    return max(2.0 * tp[3], 1.0 / tp[1]) if tp[4] > 0.0 else 2.0 * tp[3]


def _as_rd(rd):
    """None for a bare nucleus (rd None or no electrons), else the RadialDensity."""
    if rd is None:
        return None
    if not isinstance(rd, RadialDensity):
        raise InputError(f"expected a RadialDensity or None, got {type(rd).__name__}")
    if rd.n_electrons == 0.0:
        return None
    return rd


def _as_radii(r, what="r"):
    arr = np.asarray(r, dtype=np.float64)
    flat = np.ascontiguousarray(arr.reshape(-1))
    if not np.all(np.isfinite(flat)) or np.any(flat < 0):
        raise InputError(f"{what} must be finite and >= 0 (bohr)")
    return arr, flat


def _shape_out(arr_in, flat_out):
    out = flat_out.reshape(arr_in.shape)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------
# numba building blocks
# ----------------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def _ipow(x, n):
    """x^n for a small integer n >= 0 by repeated multiplication."""
    v = 1.0
    for _ in range(n):
        v *= x
    return v


@numba.njit(cache=True, error_model="numpy")
def _exp_sum(x, n):
    """e_n(x) = sum_{k=0}^n x^k / k!  (all terms positive)."""
    s = 1.0
    t = 1.0
    for k in range(1, n + 1):
        t *= x / k
        s += t
    return s


@numba.njit(cache=True, error_model="numpy")
def _ex_sum(x, n, ex):
    """e^-x e_n(x) given ex = e^-x (0 once e^-x underflows, avoiding inf * 0)."""
    return ex * _exp_sum(x, n) if ex > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def _lower_gamma(p, x, ex):
    """gamma(p, x) for integer p >= 1, x >= 0; ex = exp(-x).

    Positive series x^p e^-x sum_j x^j / (p (p+1) ... (p+j)) for x < p, else
    (p-1)! (1 - e^-x e_{p-1}(x)) (the subtracted term is < ~0.6 there).
    """
    if x < p:
        t = 1.0 / p
        s = t
        j = 0
        while True:
            j += 1
            t *= x / (p + j)
            s += t
            if t < 1e-17 * s:
                break
        return _ipow(x, p) * ex * s
    return _FACT[p - 1] * (1.0 - _ex_sum(x, p - 1, ex))


@numba.njit(cache=True, error_model="numpy")
def _slater_rho(r, m, a, c):
    """rho and drho/dr of one shell term c r^m e^{-a r}."""
    e = c * math.exp(-a * r)
    if m == 0:
        return e, -a * e
    rm1 = _ipow(r, m - 1)
    return e * rm1 * r, e * rm1 * (m - a * r)


@numba.njit(cache=True, error_model="numpy")
def _tail_gh(y):
    """g(y) = (1 - e^{-y})/y and h(y) = d ln g/dy = 1/(e^y - 1) - 1/y for 0 <= y <= 1.

    h from its Bernoulli series -1/2 + y/12 - y^3/720 + y^5/30240 - y^7/1209600 for y < 0.1
    (truncation < 1e-17), else directly (at most ~1 digit of cancellation there).
    """
    if y < 0.1:
        y2 = y * y
        h = -0.5 + y * (1.0 / 12.0 + y2 * (-1.0 / 720.0 + y2 * (1.0 / 30240.0 - y2 / 1209600.0)))
        g = -math.expm1(-y) / y if y > 0.0 else 1.0
        return g, h
    return -math.expm1(-y) / y, 1.0 / math.expm1(y) - 1.0 / y


@numba.njit(cache=True, error_model="numpy")
def _tail_rho(r, tp):
    """rho and drho/dr of the tail c r^(2beta) (1 - e^{-r^2/b^2})^q e^{-2 kappa r} (tp: ``_tail_vec``).

    q > 0, y = r^2/b^2 <= 1:  T = pref r^2 g(y)^q e^{-2 kappa r}, T' = T (2 - 2 kappa r + 2 q y h(y))/r;
    q > 0, y > 1:             T = c r^(2beta) x^q e^{-2 kappa r}, x = -expm1(-y),
                              T' = T (2beta - 2 kappa r + 2 q y e^{-y}/x)/r;
    q = 0:                    T = c r^(2beta) e^{-2 kappa r}, T' = T (2beta - 2 kappa r)/r.
    Both values are formed as base * r and base * (...) so r = 0 needs no special case.
    """
    tk = tp[3]
    e = math.exp(-2.0 * tk * r)
    if e == 0.0 or tp[0] == 0.0:
        return 0.0, 0.0
    q = tp[4]
    if q > 0.0:
        tb = tp[1]
        y = (r / tb) * (r / tb)
        if y <= 1.0:
            g, h = _tail_gh(y)
            base = tp[5] * r * g ** q * e
            return base * r, base * (2.0 - 2.0 * tk * r + 2.0 * q * y * h)
        x = -math.expm1(-y)
        tbeta = tp[2]
        base = tp[0] * r ** (2.0 * tbeta - 1.0) * x ** q * e
        return base * r, base * (2.0 * tbeta - 2.0 * tk * r + 2.0 * q * y * math.exp(-y) / x)
    pw = tp[6]
    base = tp[0] * r ** (pw - 1.0) * e
    return base * r, base * (pw - 2.0 * tk * r)


@numba.njit(cache=True, error_model="numpy")
def _tail_rho_arr(u, tp):
    """Tail density at every point of a 1-D array."""
    out = np.zeros(u.size)
    for i in range(u.size):
        out[i], _ = _tail_rho(u[i], tp)
    return out


@numba.njit(cache=True, error_model="numpy")
def _tail_width(d, tp, graded):
    """Panel width for the tail term at distance d from its centre (<= 4/kappa).

    q > 0: the nearest singularities of (1 - e^{-r^2/b^2})^q, at r^2 = 2 pi i k b^2 (k != 0),
    are at least D = max(0.65 d, 1.77 b) from the real point d: width <= 0.8 D, so the 20-point
    rule converges like rho^-40 with a Bernstein-ellipse parameter rho >= 4.8.  q = 0 with
    2 beta not an integer and ``graded``: geometric grading (width <= d/2, rho ~ 10) towards
    the r^(2beta) branch point at 0, down to d = _TAIL_GRADE/kappa.
    """
    w = 4.0 / tp[3]
    if tp[4] > 0.0:
        w = min(w, 0.8 * max(0.65 * d, 1.77 * tp[1]))
    elif graded and tp[7] > 0.0:
        w = min(w, 0.5 * max(d, _TAIL_GRADE / tp[3]))
    return w


@numba.njit(cache=True, error_model="numpy")
def _slater_pot(r, m, a, c):
    """V, dV/dr, phi, dphi/dr of one shell term c r^m e^{-a r} at r (bohr).

    V = Q(r)/r + O(r) with Q = 4 pi c gamma(m+3, ar)/a^(m+3), O = 4 pi c Gamma(m+2, ar)/a^(m+2);
    dV/dr = -Q/r^2.  phi = N/r - V = (4 pi c (m+1)!/(a^(m+3) r)) e^{-ar} sum_k (m+2-k)(ar)^k/k!
    (positive sum, no cancellation); dphi/dr = -Qout/r^2 with Qout = N - Q.
    """
    x = a * r
    ex = math.exp(-x)
    pref = _FOUR_PI * c
    ia = 1.0 / a
    ia_m2 = 1.0 / _ipow(a, m + 2)
    O = pref * _FACT[m + 1] * _ex_sum(x, m + 1, ex) * ia_m2
    if r <= 0.0:
        return O, 0.0, math.inf, -math.inf
    Q = pref * _lower_gamma(m + 3, x, ex) * ia_m2 * ia
    Qout = pref * _FACT[m + 2] * _ex_sum(x, m + 2, ex) * ia_m2 * ia
    s = 0.0
    t = 1.0
    for k in range(m + 2):
        s += (m + 2 - k) * t
        t *= x / (k + 1)
    phi = pref * _FACT[m + 1] * ia_m2 * ia * ex * s / r if ex > 0.0 else 0.0
    Qr = Q / r
    return Qr + O, -Qr / r, phi, -(Qout / r) / r


@numba.njit(cache=True, error_model="numpy")
def _slater_v(r, m, a, c):
    """V and dV/dr of one shell term (the first two results of ``_slater_pot``)."""
    x = a * r
    ex = math.exp(-x)
    ko = _FOUR_PI * c / _ipow(a, m + 2)
    O = ko * _FACT[m + 1] * _ex_sum(x, m + 1, ex)
    if r <= 0.0:
        return O, 0.0
    Q = ko / a * _lower_gamma(m + 3, x, ex)
    Qr = Q / r
    return Qr + O, -Qr / r


@numba.njit(cache=True, error_model="numpy")
def _slater_pi_psi(s, l, b, d):
    """Pi(s) = int_s^inf t phi(t) dt and psi(s) = s phi(s) of one shell term d r^l e^{-b r}.

    Pi = e^{-bs} sum_k pi_k s^k, pi_k = 2 pi d C(l+1,k) (l+3-k)!/b^(l+4-k);
    psi = e^{-bs} sum_k g_k s^k, g_k = 4 pi d C(l+1,k) (l+2-k)!/b^(l+3-k)  (all of the sign of d).
    """
    eb = math.exp(-b * s)
    if eb == 0.0:
        return 0.0, 0.0
    ib = 1.0 / b
    P = 0.0
    G = 0.0
    sk = 1.0
    for k in range(l + 2):
        bk = _BINOM[l + 1, k] * sk * _ipow(ib, l + 3 - k)
        P += bk * _FACT[l + 3 - k] * ib
        G += bk * _FACT[l + 2 - k]
        sk *= s
    return _TWO_PI * d * eb * P, _FOUR_PI * d * eb * G


@numba.njit(cache=True, inline="always", error_model="numpy")
def _kint(k, p, x, ex):
    """K(k, p, x) = int_0^1 u^k (1-u)^p e^{-x u} du for integers k, p >= 0, x >= 0; ex = e^-x.

    Where x >= 1.4 p (k+1) the exact finite expansion
        sum_j C(p,j) (-1)^j (k+j)!/x^(k+j+1)  -  (-1)^p e^-x sum_n n! C(k,n-p)/x^(n+1)
    is used if its terms sum in absolute value to at most 4x the result (<= 2 bits lost).
    Otherwise the Kummer-transformed series K = e^-x sum_n x^n/n! B(k+1, p+n+1)
    (positive terms, smooth in x: equal exponents, x = 0, are not special).
    """
    if x > 0.0 and x >= 1.4 * p * (k + 1):
        xi = 1.0 / x
        s = 0.0
        sa = 0.0
        sign = 1.0
        xp = _ipow(xi, k + 1)
        for j in range(p + 1):
            t = _BINOM[p, j] * _FACT[k + j] * xp
            s += sign * t
            sa += t
            sign = -sign
            xp *= xi
        if ex > 0.0:
            e = 0.0
            xp = _ipow(xi, p + 1)
            for nn in range(p, p + k + 1):
                e += _FACT[nn] * _BINOM[k, nn - p] * xp
                xp *= xi
            e *= ex
            sa += e
            if p % 2 == 0:
                s -= e
            else:
                s += e
        if sa <= 4.0 * s:
            return s
    t = _FACT[k] * _FACT[p] / _FACT[k + p + 1]
    s = t
    n = 0
    nlim = _INV.size - k - p - 3
    while n < nlim:
        t *= x * _INV[n + 1] * (p + n + 1) * _INV[k + p + n + 2]
        n += 1
        s += t
        if t < 1e-17 * s and n > x:
            break
    return ex * s


@numba.njit(cache=True, error_model="numpy")
def _ss_taylor(m, a, c, l, b, d):
    """J0, c2, c4 of J(R) = J0 + c2 R^2 + c4 R^4 + O(R^6) for two shell terms.

    J0 = int int dQa dQb / max(r, s) (positive finite sums), c2 = -(2pi/3) int rho_a rho_b d^3r,
    c4 = (pi/30) int grad rho_a . grad rho_b d^3r.
    """
    s = a + b
    x_ab = 0.0
    for j in range(l + 2):
        x_ab += b ** j / _FACT[j] * _FACT[m + 2 + j] / s ** (m + 3 + j)
    x_ab *= _FACT[l + 1] / b ** (l + 2)
    x_ba = 0.0
    for j in range(m + 2):
        x_ba += a ** j / _FACT[j] * _FACT[l + 2 + j] / s ** (l + 3 + j)
    x_ba *= _FACT[m + 1] / a ** (m + 2)
    pref = _FOUR_PI * c * d
    J0 = _FOUR_PI * pref * (x_ab + x_ba)
    ml = m + l
    o0 = pref * _FACT[ml + 2] / s ** (ml + 3)
    g = pref * (m * l * _FACT[ml] / s ** (ml + 1) - (m * b + l * a) * _FACT[ml + 1] / s ** (ml + 2)
                + a * b * _FACT[ml + 2] / s ** (ml + 3))
    return J0, -(_TWO_PI / 3.0) * o0, (_PI / 30.0) * g


@numba.njit(cache=True, error_model="numpy")
def _ss_setup(ma, aa, ca, mb, ab, cb):
    """R-independent tables for every shell pair (i of A, j of B) with c != 0.

    Each pair is oriented so that the outer term (c r^m e^{-ar}, integrated over r) has the
    smaller exponent, a <= b; the inner term (d r^l e^{-br}) enters through
        Pi(s) = int_s^inf t phi(t) dt = e^{-bs} sum_k pi_k s^k,   psi(s) = s phi(s) = e^{-bs} sum_k g_k s^k,
    pi_k = 2 pi d C(l+1,k)(l+3-k)!/b^(l+4-k), g_k = 4 pi d C(l+1,k)(l+2-k)!/b^(l+3-k).
    With p = m+1 the short-range part is dJ = Ni phi_o(R) + (2 pi/R) S(R),
        S  = sum_k c pi_k (I1_k + I2_k - I3_k),   S' = sum_k c g_k (I2_k + I3_k - I1_k),
        I1_k = int_0^R r^p e^{-ar} (R-r)^k e^{-b(R-r)} dr = e^{-aR} R^(p+k+1) K(k, p, (b-a)R),
        I2_k = int_R^inf r^p e^{-ar} (r-R)^k e^{-b(r-R)} dr = e^{-aR} sum_i C(p,i) R^(p-i) (k+i)!/(a+b)^(k+i+1),
        I3_k = int_0^inf r^p e^{-ar} (R+r)^k e^{-b(R+r)} dr = e^{-bR} sum_i C(k,i) R^(k-i) (p+i)!/(a+b)^(p+i+1);
    the I2 and I3 sums are stored as polynomials in R whose coefficients all have the sign of c d
    (so each pair is as well conditioned as for positive coefficients; any integer m, l >= 0).
    Returns ipar[pair] = (outer is A, outer index, p, l, inner index), fpar[pair] = (a, b, Ni, No*Ni, J0, c2, c4),
    and the coefficient tables wk, wgk (c pi_k, c g_k), P2, P2g (degree p), P3, P3g (degree l+1).
    """
    npair = 0
    kmax = 1
    pmax = 1
    for i in range(ma.size):
        for j in range(mb.size):
            if ca[i] != 0.0 and cb[j] != 0.0:
                npair += 1
    for i in range(ma.size):
        kmax = max(kmax, ma[i] + 2)
        pmax = max(pmax, ma[i] + 2)
    for j in range(mb.size):
        kmax = max(kmax, mb[j] + 2)
        pmax = max(pmax, mb[j] + 2)
    ipar = np.zeros((npair, 5), dtype=np.int64)
    fpar = np.zeros((npair, 7))
    wk = np.zeros((npair, kmax))
    wgk = np.zeros((npair, kmax))
    P2 = np.zeros((npair, pmax))
    P2g = np.zeros((npair, pmax))
    P3 = np.zeros((npair, kmax))
    P3g = np.zeros((npair, kmax))
    q = 0
    for i in range(ma.size):
        for j in range(mb.size):
            if ca[i] == 0.0 or cb[j] == 0.0:
                continue
            if aa[i] <= ab[j]:
                ipar[q, 0], ipar[q, 1], ipar[q, 4] = 1, i, j
                m, a, c, l, b, d = ma[i], aa[i], ca[i], mb[j], ab[j], cb[j]
            else:
                ipar[q, 0], ipar[q, 1], ipar[q, 4] = 0, j, i
                m, a, c, l, b, d = mb[j], ab[j], cb[j], ma[i], aa[i], ca[i]
            p = m + 1
            ipar[q, 2], ipar[q, 3] = p, l
            s = a + b
            No = _FOUR_PI * c * _FACT[m + 2] / a ** (m + 3)
            Ni = _FOUR_PI * d * _FACT[l + 2] / b ** (l + 3)
            J0, c2, c4 = _ss_taylor(m, a, c, l, b, d)
            fpar[q, 0], fpar[q, 1], fpar[q, 2], fpar[q, 3] = a, b, Ni, No * Ni
            fpar[q, 4], fpar[q, 5], fpar[q, 6] = J0, c2, c4
            for k in range(l + 2):
                wk[q, k] = c * _TWO_PI * d * _BINOM[l + 1, k] * _FACT[l + 3 - k] / b ** (l + 4 - k)
                wgk[q, k] = c * _FOUR_PI * d * _BINOM[l + 1, k] * _FACT[l + 2 - k] / b ** (l + 3 - k)
            for k in range(l + 2):
                for jj in range(p + 1):  # R^jj from I2_k (i = p - jj)
                    f = _BINOM[p, jj] * _FACT[k + p - jj] / s ** (k + p - jj + 1)
                    P2[q, jj] += wk[q, k] * f
                    P2g[q, jj] += wgk[q, k] * f
                for jj in range(k + 1):  # R^jj from I3_k (i = k - jj)
                    f = _BINOM[k, jj] * _FACT[p + k - jj] / s ** (p + k - jj + 1)
                    P3[q, jj] += wk[q, k] * f
                    P3g[q, jj] += wgk[q, k] * f
            q += 1
    return ipar, fpar, wk, wgk, P2, P2g, P3, P3g


@numba.njit(cache=True, inline="always", error_model="numpy")
def _ss_pair(R, q, ipar, fpar, wk, wgk, P2, P2g, P3, P3g, Rpow, ea, eb, V, dV, phi, dphi):
    """(dJ, J, d dJ/dR, dJ/dR) of shell pair q at R.

    Rpow[j] = R^j; ea, eb = e^{-aR}, e^{-bR} of the outer/inner term; V..dphi: the outer
    term's potential data at R.  dJ = No Ni/R - J is the short-range remainder (it has the
    sign of c d): dJ = Ni phi_o + T, J = Ni V_o - T, T = 2 pi S / R (see ``_ss_setup``).
    Taylor series where R (a+b) < _TAYLOR_X.
    """
    a, b, Ni, NN = fpar[q, 0], fpar[q, 1], fpar[q, 2], fpar[q, 3]
    if R * (a + b) < _TAYLOR_X:
        R2 = R * R
        J = fpar[q, 4] + R2 * (fpar[q, 5] + fpar[q, 6] * R2)
        dJ = R * (2.0 * fpar[q, 5] + 4.0 * fpar[q, 6] * R2)
        if R > 0.0:
            return NN / R - J, J, -NN / R2 - dJ, dJ
        return math.inf, J, -math.inf, dJ
    if a * R > _EXP_CUT:
        return 0.0, NN / R, 0.0, -NN / (R * R)
    p, l = ipar[q, 2], ipar[q, 3]
    x = (b - a) * R
    ex = math.exp(-x) if x < _EXP_CUT else 0.0
    S1 = 0.0
    S1g = 0.0
    for k in range(l + 2):
        I1 = Rpow[p + k + 1] * _kint(k, p, x, ex)
        S1 += wk[q, k] * I1
        S1g += wgk[q, k] * I1
    S2 = 0.0
    S2g = 0.0
    for j in range(p + 1):
        S2 += P2[q, j] * Rpow[j]
        S2g += P2g[q, j] * Rpow[j]
    S3 = 0.0
    S3g = 0.0
    for j in range(l + 2):
        S3 += P3[q, j] * Rpow[j]
        S3g += P3g[q, j] * Rpow[j]
    S = ea * (S1 + S2) - eb * S3
    Sd = ea * (S2g - S1g) + eb * S3g
    T = _TWO_PI * S / R
    Td = _TWO_PI * (Sd - S / R) / R
    return Ni * phi + T, Ni * V - T, Ni * dphi + Td, Ni * dV - Td


# ----------------------------------------------------------------------------------------
# tail term: table of cumulative integrals and queries
# ----------------------------------------------------------------------------------------
def _tail_edges(tp, rmax):
    """Panel edges on [0, rmax] with widths from ``_tail_width`` (graded at the origin)."""
    edges = [0.0]
    r = 0.0
    while r < rmax:
        r = min(r + _tail_width(r, tp, True), rmax)
        edges.append(r)
    return np.array(edges)


def _tail_panel_rho(tp, rmax):
    """Gauss-Legendre nodes u (panel x node), half-widths h and tail density on [0, rmax]."""
    edges = _tail_edges(tp, rmax)
    t0, t1 = edges[:-1], edges[1:]
    h = 0.5 * (t1 - t0)
    u = (0.5 * (t0 + t1))[:, None] + h[:, None] * _GX[None, :]
    rho = _tail_rho_arr(u.reshape(-1), tp).reshape(u.shape)
    return edges, h, u, rho


def _build_tail_table(tp):
    """Edges t_i and, at each edge, Q(t) = int_0^t 4 pi u^2 rho and A_j(t) = int_t^inf u (u-t)^j rho du.

    The A_j are accumulated from the outside in with binomially shifted (positive) sums,
    so every later query is a sum of positive terms.
    """
    edges, h, u, rho = _tail_panel_rho(tp, _TAIL_EXTENT / (2.0 * tp[3]))
    t0, t1 = edges[:-1], edges[1:]
    w = h[:, None] * _GW[None, :]
    q = _FOUR_PI * np.sum(w * u * u * rho, axis=1)
    du = u - t0[:, None]
    a0 = np.sum(w * u * rho, axis=1)
    a1 = np.sum(w * u * du * rho, axis=1)
    a2 = np.sum(w * u * du * du * rho, axis=1)
    M = edges.size - 1
    Qc = np.zeros(M + 1)
    Qc[1:] = np.cumsum(q)
    A0 = np.zeros(M + 1)
    A1 = np.zeros(M + 1)
    A2 = np.zeros(M + 1)
    for i in range(M - 1, -1, -1):
        H = t1[i] - t0[i]
        A0[i] = a0[i] + A0[i + 1]
        A1[i] = a1[i] + A1[i + 1] + H * A0[i + 1]
        A2[i] = a2[i] + A2[i + 1] + 2.0 * H * A1[i + 1] + H * H * A0[i + 1]
    return edges, Qc, A0, A1, A2


@numba.njit(cache=True, error_model="numpy")
def _tail_query(s, tp, edges, Qc, A0, A1, A2, need_left):
    """Q(s) and R_j(s) = int_s^inf u (u-s)^j rho_tail(u) du, j = 0, 1, 2, at s >= 0.

    From the table plus one Gauss-Legendre panel on each side of s (all terms positive).
    Then V = Q/s + 4 pi R0, phi = 4 pi R1/s, Qout = 4 pi (R1 + s R0), Pi = 2 pi R2, psi = 4 pi R1.
    """
    M = edges.size - 1
    if s >= edges[M]:
        return Qc[M], 0.0, 0.0, 0.0
    i = np.searchsorted(edges, s, side="right") - 1
    t0 = edges[i]
    t1 = edges[i + 1]
    Q = Qc[i]
    if need_left and s > t0:
        h = 0.5 * (s - t0)
        mid = 0.5 * (s + t0)
        acc = 0.0
        for j in range(_GX.size):
            u = mid + h * _GX[j]
            rho, _ = _tail_rho(u, tp)
            acc += _GW[j] * u * u * rho
        Q += _FOUR_PI * h * acc
    h = 0.5 * (t1 - s)
    mid = 0.5 * (t1 + s)
    r0 = 0.0
    r1 = 0.0
    r2 = 0.0
    for j in range(_GX.size):
        u = mid + h * _GX[j]
        rho, _ = _tail_rho(u, tp)
        w = _GW[j] * u * rho
        du = u - s
        r0 += w
        r1 += w * du
        r2 += w * du * du
    H = t1 - s
    R0 = h * r0 + A0[i + 1]
    R1 = h * r1 + A1[i + 1] + H * A0[i + 1]
    R2 = h * r2 + A2[i + 1] + 2.0 * H * A1[i + 1] + H * H * A0[i + 1]
    return Q, R0, R1, R2


@numba.njit(cache=True, error_model="numpy")
def _tail_pot(s, tp, edges, Qc, A0, A1, A2):
    """V, dV/dr, phi, dphi/dr of the tail term at s (bohr)."""
    Q, R0, R1, R2 = _tail_query(s, tp, edges, Qc, A0, A1, A2, True)
    if s <= 0.0:
        return _FOUR_PI * R0, 0.0, math.inf, -math.inf
    Qs = Q / s
    return Qs + _FOUR_PI * R0, -Qs / s, _FOUR_PI * R1 / s, -(_FOUR_PI * (R1 + s * R0) / s) / s


# ----------------------------------------------------------------------------------------
# array kernels
# ----------------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def _density_kernel(r, m, a, c, tail_on, tp, deriv):
    """rho(r) and (if ``deriv``, else zeros) drho/dr over an array of radii."""
    rho = np.zeros(r.size)
    drho = np.zeros(r.size)
    for idx in range(r.size):
        x = r[idx]
        f = 0.0
        df = 0.0
        for j in range(m.size):
            if deriv:
                v, dv = _slater_rho(x, m[j], a[j], c[j])
                f += v
                df += dv
            else:
                f += c[j] * _ipow(x, m[j]) * math.exp(-a[j] * x)
        if tail_on:
            v, dv = _tail_rho(x, tp)
            f += v
            df += dv
        rho[idx] = f
        drho[idx] = df
    return rho, drho


@numba.njit(cache=True, error_model="numpy")
def _potential_kernel(r, m, a, c, tail_on, tp, edges, Qc, A0, A1, A2, full):
    """V, dV/dr and (if ``full``, else zeros) phi = N/r - V and dphi/dr over an array of radii."""
    n = r.size
    V = np.zeros(n)
    dV = np.zeros(n)
    phi = np.zeros(n)
    dphi = np.zeros(n)
    for idx in range(n):
        x = r[idx]
        for j in range(m.size):
            if c[j] == 0.0:
                continue
            if full:
                v, dv, p, dp = _slater_pot(x, m[j], a[j], c[j])
                phi[idx] += p
                dphi[idx] += dp
            else:
                v, dv = _slater_v(x, m[j], a[j], c[j])
            V[idx] += v
            dV[idx] += dv
        if tail_on:
            v, dv, p, dp = _tail_pot(x, tp, edges, Qc, A0, A1, A2)
            V[idx] += v
            dV[idx] += dv
            phi[idx] += p
            dphi[idx] += dp
    return V, dV, phi, dphi


@numba.njit(cache=True, error_model="numpy")
def _coulomb_ss_kernel(R, ma, aa, ca, mb, ab, cb):
    """Sums over all shell-shell pairs of (dJ, J, d dJ/dR, dJ/dR) at each distance R."""
    ipar, fpar, wk, wgk, P2, P2g, P3, P3g = _ss_setup(ma, aa, ca, mb, ab, cb)
    n = R.size
    DJ = np.zeros(n)
    J = np.zeros(n)
    dDJ = np.zeros(n)
    dJ = np.zeros(n)
    pot_a = np.zeros((ma.size, 5))  # V, dV, phi, dphi, e^{-aR} per term
    pot_b = np.zeros((mb.size, 5))
    Rpow = np.zeros(P2.shape[1] + wk.shape[1] + 2)
    for idx in range(n):
        x = R[idx]
        Rpow[0] = 1.0
        for j in range(1, Rpow.size):
            Rpow[j] = Rpow[j - 1] * x
        for i in range(ma.size):
            pot_a[i, 0], pot_a[i, 1], pot_a[i, 2], pot_a[i, 3] = _slater_pot(x, ma[i], aa[i], ca[i])
            pot_a[i, 4] = math.exp(-aa[i] * x)
        for j in range(mb.size):
            pot_b[j, 0], pot_b[j, 1], pot_b[j, 2], pot_b[j, 3] = _slater_pot(x, mb[j], ab[j], cb[j])
            pot_b[j, 4] = math.exp(-ab[j] * x)
        for q in range(ipar.shape[0]):
            o = ipar[q, 1]
            if ipar[q, 0] == 1:  # outer term from A, inner from B
                po, ei = pot_a, pot_b[ipar[q, 4], 4]
            else:
                po, ei = pot_b, pot_a[ipar[q, 4], 4]
            r1, r2, r3, r4 = _ss_pair(x, q, ipar, fpar, wk, wgk, P2, P2g, P3, P3g, Rpow,
                                      po[o, 4], ei, po[o, 0], po[o, 1], po[o, 2], po[o, 3])
            DJ[idx] += r1
            J[idx] += r2
            dDJ[idx] += r3
            dJ[idx] += r4
    return DJ, J, dDJ, dJ


@numba.njit(cache=True, error_model="numpy")
def _inner_eval(s, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic):
    """Pi(s) and psi(s) of the inner density (shell group or tail)."""
    if inner_tail:
        Q, R0, R1, R2 = _tail_query(s, ip, iedges, iQc, iA0, iA1, iA2, False)
        return _TWO_PI * R2, _FOUR_PI * R1
    P = 0.0
    G = 0.0
    for j in range(im.size):
        if ic[j] == 0.0:
            continue
        p, g = _slater_pi_psi(s, im[j], ia[j], ic[j])
        P += p
        G += g
    return P, G


@numba.njit(cache=True, error_model="numpy")
def _inner_pot_rho(s, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic):
    """V, rho and drho/dr of the inner density at s."""
    if inner_tail:
        V, _, _, _ = _tail_pot(s, ip, iedges, iQc, iA0, iA1, iA2)
        rho, drho = _tail_rho(s, ip)
        return V, rho, drho
    V = 0.0
    rho = 0.0
    drho = 0.0
    for j in range(im.size):
        if ic[j] == 0.0:
            continue
        v, _, _, _ = _slater_pot(s, im[j], ia[j], ic[j])
        f, df = _slater_rho(s, im[j], ia[j], ic[j])
        V += v
        rho += f
        drho += df
    return V, rho, drho


@numba.njit(cache=True, error_model="numpy")
def _panel_width(r, R, op, inner_tail, ip, ibmax):
    """Outer panel width at r: resolves the outer tail and the inner density seen from R.

    The inner density enters through Pi_i(|R - r|), which is three integrations smoother than
    rho_i (an r^(2beta) branch point of rho_i gives only s^(2beta+4) in Pi_i): no grading there.
    """
    w = _tail_width(r, op, True)
    d = abs(r - R)
    if inner_tail:
        wi = _tail_width(d, ip, False)
    else:
        wi = 4.0 / ibmax + 0.1 * d
    return min(w, wi)


@numba.njit(cache=True, error_model="numpy")
def _tail_pair_consts(op, oedges, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic, ibmax):
    """J0, c2, c4 (small-R Taylor coefficients) for an outer tail and an inner density."""
    rmax = oedges[oedges.size - 1]
    r = 0.0
    J0 = 0.0
    O0 = 0.0
    G = 0.0
    while r < rmax:
        r1 = min(r + _panel_width(r, 0.0, op, inner_tail, ip, ibmax), rmax)
        h = 0.5 * (r1 - r)
        mid = 0.5 * (r1 + r)
        for j in range(_GX.size):
            u = mid + h * _GX[j]
            rho, drho = _tail_rho(u, op)
            V, rhoi, drhoi = _inner_pot_rho(u, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
            w = _GW[j] * h * u * u
            J0 += w * rho * V
            O0 += w * rho * rhoi
            G += w * drho * drhoi
        r = r1
    return _FOUR_PI * J0, -(_TWO_PI / 3.0) * _FOUR_PI * O0, (_PI / 30.0) * _FOUR_PI * G


@numba.njit(cache=True, error_model="numpy")
def _coulomb_tail_kernel(R, op, oedges, oQc, oA0, oA1, oA2, inner_tail, ip, iedges, iQc, iA0, iA1,
                         iA2, im, ia, ic, ibmax, Ni, consts, sigma):
    """(dJ, J, d dJ/dR, dJ/dR) for an outer tail term and an inner density (shell group or tail).

    T(R) = (2 pi / R) int r rho_o(r) [Pi_i(|R-r|) - Pi_i(R+r)] dr by composite Gauss-Legendre
    (panel edge at r = R); dJ = Ni phi_o(R) + T and J = Ni V_o(R) - T.  Taylor series for
    R * sigma < _TAYLOR_X.
    """
    No = oQc[oQc.size - 1]
    NN = No * Ni
    n = R.size
    DJ = np.zeros(n)
    J = np.zeros(n)
    dDJ = np.zeros(n)
    dJ = np.zeros(n)
    rmax = oedges[oedges.size - 1]
    for idx in range(n):
        x = R[idx]
        if x * sigma < _TAYLOR_X:
            x2 = x * x
            J[idx] = consts[0] + x2 * (consts[1] + consts[2] * x2)
            dJ[idx] = x * (2.0 * consts[1] + 4.0 * consts[2] * x2)
            if x > 0.0:
                DJ[idx] = NN / x - J[idx]
                dDJ[idx] = -NN / x2 - dJ[idx]
            else:
                DJ[idx] = math.inf
                dDJ[idx] = -math.inf
            continue
        S = 0.0
        Sd = 0.0
        r = 0.0
        while r < rmax:
            r1 = min(r + _panel_width(r, x, op, inner_tail, ip, ibmax), rmax)
            if r < x < r1:
                r1 = x
            h = 0.5 * (r1 - r)
            mid = 0.5 * (r1 + r)
            for j in range(_GX.size):
                u = mid + h * _GX[j]
                rho, _ = _tail_rho(u, op)
                f = _GW[j] * h * u * rho
                if f == 0.0:
                    continue
                P1, G1 = _inner_eval(abs(x - u), inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
                P2, G2 = _inner_eval(x + u, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
                S += f * (P1 - P2)
                if u < x:
                    Sd += f * (G2 - G1)
                else:
                    Sd += f * (G2 + G1)
            r = r1
        V, dV, phi, dphi = _tail_pot(x, op, oedges, oQc, oA0, oA1, oA2)
        T = _TWO_PI * S / x
        Td = _TWO_PI * (Sd - S / x) / x
        DJ[idx] = Ni * phi + T
        J[idx] = Ni * V - T
        dDJ[idx] = Ni * dphi + Td
        dJ[idx] = Ni * dV - Td
    return DJ, J, dDJ, dJ


# ----------------------------------------------------------------------------------------
# public API: one density
# ----------------------------------------------------------------------------------------
def density(rd: RadialDensity | None, r):
    """rho(r) in electrons/bohr^3 at radii r (bohr, scalar or array)."""
    arr, flat = _as_radii(r)
    rd = _as_rd(rd)
    if rd is None:
        return _shape_out(arr, np.zeros(flat.size))
    rho, _ = _density_kernel(flat, rd._m, rd._a, rd.c, rd._tail_on, rd._tail_params, False)
    return _shape_out(arr, rho)


def density_derivative(rd: RadialDensity | None, r):
    """d rho/dr in electrons/bohr^4 at radii r (bohr)."""
    arr, flat = _as_radii(r)
    rd = _as_rd(rd)
    if rd is None:
        return _shape_out(arr, np.zeros(flat.size))
    _, drho = _density_kernel(flat, rd._m, rd._a, rd.c, rd._tail_on, rd._tail_params, True)
    return _shape_out(arr, drho)


def rdf(rd: RadialDensity | None, r):
    """Radial distribution 4 pi r^2 rho(r) in electrons/bohr."""
    arr, flat = _as_radii(r)
    return _shape_out(arr, _FOUR_PI * flat * flat * np.asarray(density(rd, flat)))


def _tail_moment(tp, k):
    """int_0^inf 4 pi r^(2+k) rho_tail dr by the tail panel rule."""
    tk = float(tp[3])
    _, h, u, rho = _tail_panel_rho(tp, (_TAIL_EXTENT + 4.0 * max(k, 0.0)) / (2.0 * tk))
    return float(_FOUR_PI * np.sum(h[:, None] * _GW[None, :] * u ** (2.0 + k) * rho))


def moment(rd: RadialDensity | None, k: float) -> float:
    """Radial moment <r^k> N = int 4 pi r^(2+k) rho dr (electrons bohr^k); k > -3.

    Shell terms: 4 pi c Gamma(m+3+k)/a^(m+3+k); the tail by Gauss-Legendre panels.
    """
    rd = _as_rd(rd)
    if rd is None:
        return 0.0
    k = float(k)
    if k <= -3.0:
        raise InputError(f"moment: k must be > -3 (got {k})")
    tot = 0.0
    for m, a, c in zip(rd._m, rd._a, rd.c):
        e = m + 3 + k
        if k.is_integer():
            tot += _FOUR_PI * c * _FACT[int(e) - 1] / a ** e
        else:
            tot += _FOUR_PI * c * math.exp(math.lgamma(e) - e * math.log(a))
    if rd._tail_on:
        tot += _tail_moment(rd._tail_params, k)
    return float(tot)


def electron_count(rd: RadialDensity | None) -> float:
    """Number of electrons N = int 4 pi r^2 rho dr."""
    rd = _as_rd(rd)
    return 0.0 if rd is None else rd.n_electrons


def rho0(rd: RadialDensity | None) -> float:
    """Density at the nucleus rho(0) (electrons/bohr^3): the sum of the n = 1 (r^0) coefficients."""
    rd = _as_rd(rd)
    if rd is None:
        return 0.0
    return float(np.sum(rd.c[rd._m == 0]))


def cusp_ratio(rd: RadialDensity | None, Z: float) -> float:
    """Kato cusp ratio -rho'(0) / (2 Z rho(0)); exactly 1 for an exact eigenstate density.

    rho(0) = sum over r^0 terms of c; rho'(0) = sum over r^0 terms of (-2 zeta c) plus the
    sum over r^1 (n = 1.5) terms of c.  Higher powers and the tail (~ r^2) do not contribute.
    NaN when rho(0) = 0.
    """
    rd = _as_rd(rd)
    if rd is None:
        return math.nan
    s0 = rd._m == 0
    r0 = float(np.sum(rd.c[s0]))
    if r0 == 0.0:
        return math.nan
    slope = float(np.sum(rd.c[rd._m == 1]) - np.sum(rd._a[s0] * rd.c[s0]))
    return -slope / (2.0 * Z * r0)


def _potential_parts(rd, flat, full=True):
    """V, dV/dr, phi = N/r - V, dphi/dr on a flat array of radii (zeros for no electrons;
    phi and dphi/dr only when ``full``)."""
    if rd is None:
        z = np.zeros(flat.size)
        return z, z.copy(), z.copy(), z.copy()
    return _potential_kernel(flat, rd._m, rd._a, rd.c, rd._tail_on, rd._tail_params, *rd._tail_table, full)


def potential(rd: RadialDensity | None, r):
    """Electrostatic potential of the electrons, V(r) = int rho(r')/|r - r'| d^3r' (hartree/e).

    Finite at r = 0 (V(0) = int 4 pi r rho dr) and -> N/r at large r.
    """
    arr, flat = _as_radii(r)
    V, _, _, _ = _potential_parts(_as_rd(rd), flat, False)
    return _shape_out(arr, V)


def potential_derivative(rd: RadialDensity | None, r):
    """dV/dr = -Q(r)/r^2 (hartree/(e bohr)), Q(r) the electron count inside r."""
    arr, flat = _as_radii(r)
    _, dV, _, _ = _potential_parts(_as_rd(rd), flat, False)
    return _shape_out(arr, dV)


def nuclear_attraction(rd: RadialDensity | None, R):
    """V[rho](R): the electron potential at a point (nucleus) R bohr from the centre.

    A nucleus of charge Z there has the attraction energy -Z * nuclear_attraction(rd, R).
    """
    return potential(rd, R)


# ----------------------------------------------------------------------------------------
# public API: two densities
# ----------------------------------------------------------------------------------------
def _inner_args(rd):
    """Arguments describing ``rd`` as the inner density of a tail quadrature (shell group part)."""
    return (rd._m, rd._a, rd.c, float(np.max(rd._a)) if rd.n.size else 1.0)


_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0)


def _tail_outer(outer, inner, inner_is_tail, flat):
    """Tail of ``outer`` against the shell group (or the tail) of ``inner``."""
    op = outer._tail_params
    otab = outer._tail_table
    if inner_is_tail:
        ip, itab = inner._tail_params, inner._tail_table
        im, ia, ic, ibmax = _EMPTY_I, _EMPTY_F, _EMPTY_F, 1.0
        Ni = inner._tail_count
        sigma = _tail_scale(op) + _tail_scale(ip)
    else:
        ip, itab = np.array([0.0, 1.0, 1.0, 1.0]), (np.array([0.0, 1.0]),) + (np.zeros(2),) * 4
        im, ia, ic, ibmax = _inner_args(inner)
        Ni = float(np.sum(inner._shell_counts))
        sigma = _tail_scale(op) + ibmax
    consts = np.array(_tail_pair_consts(op, otab[0], inner_is_tail, ip, *itab, im, ia, ic, ibmax))
    return _coulomb_tail_kernel(flat, op, *otab, inner_is_tail, ip, *itab, im, ia, ic, ibmax, Ni,
                                consts, sigma)


def _coulomb_parts(rd_a, rd_b, flat):
    """Sums over term pairs of (dJ, J, d dJ/dR, dJ/dR); dJ = Na Nb/R - J is the short-range part."""
    n = flat.size
    acc = [np.zeros(n) for _ in range(4)]
    if rd_a is None or rd_b is None:
        return acc
    if rd_a.n.size and rd_b.n.size:
        for t, v in zip(acc, _coulomb_ss_kernel(flat, rd_a._m, rd_a._a, rd_a.c, rd_b._m, rd_b._a, rd_b.c)):
            t += v
    if rd_a._tail_on and rd_b.n.size and np.any(rd_b.c != 0):
        for t, v in zip(acc, _tail_outer(rd_a, rd_b, False, flat)):
            t += v
    if rd_b._tail_on and rd_a.n.size and np.any(rd_a.c != 0):
        for t, v in zip(acc, _tail_outer(rd_b, rd_a, False, flat)):
            t += v
    if rd_a._tail_on and rd_b._tail_on:
        for t, v in zip(acc, _tail_outer(rd_a, rd_b, True, flat)):
            t += v
    return acc


def _far_mask(flat, NN, DJ):
    """Where Na Nb/R - dJ carries no cancellation (dJ <= half of Na Nb/R)."""
    big = NN / flat
    return (flat > 0) & np.isfinite(big) & (DJ <= 0.5 * big), big


def _coulomb_both(rd_a, rd_b, flat):
    """J and dJ/dR: Na Nb/R - sum(dJ) where that has no cancellation, else the pair sums of J."""
    DJ, Jp, dDJ, dJp = _coulomb_parts(rd_a, rd_b, flat)
    if rd_a is None or rd_b is None:
        return Jp, dJp
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far, big = _far_mask(flat, rd_a.n_electrons * rd_b.n_electrons, DJ)
        J = np.where(far, big - DJ, Jp)
        dJ = np.where(far, -big / flat - dDJ, dJp)
    return J, dJ


def coulomb(rd_a: RadialDensity | None, rd_b: RadialDensity | None, R):
    """Electron-electron Coulomb energy J(R) = int int rho_a rho_b / r12 (hartree) of two
    spherical densities whose centres are R bohr apart; J(0) finite, J -> Na Nb / R."""
    arr, flat = _as_radii(R, "R")
    J, _ = _coulomb_both(_as_rd(rd_a), _as_rd(rd_b), flat)
    return _shape_out(arr, J)


def coulomb_derivative(rd_a: RadialDensity | None, rd_b: RadialDensity | None, R):
    """dJ/dR (hartree/bohr)."""
    arr, flat = _as_radii(R, "R")
    _, dJ = _coulomb_both(_as_rd(rd_a), _as_rd(rd_b), flat)
    return _shape_out(arr, dJ)


def _state_parts(Za, rd_a, Zb, rd_b, flat):
    """U and dU/dR: the q-form (see ``state_coulomb``) at all but tiny R, there the direct sum."""
    rd_a, rd_b = _as_rd(rd_a), _as_rd(rd_b)
    Za, Zb = float(Za), float(Zb)
    Na, Nb = electron_count(rd_a), electron_count(rd_b)
    Va, dVa, phia, dphia = _potential_parts(rd_a, flat)
    Vb, dVb, phib, dphib = _potential_parts(rd_b, flat)
    DJ, Jp, dDJ, dJp = _coulomb_parts(rd_a, rd_b, flat)
    qq = (Za - Na) * (Zb - Nb)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far, _ = _far_mask(flat, Na * Nb if Na * Nb > 0 else 1.0, DJ)
        ZZ = Za * Zb / flat
        U = np.where(far, qq / flat + Za * phib + Zb * phia - DJ, ZZ - Za * Vb - Zb * Va + Jp)
        dU = np.where(far, -qq / (flat * flat) + Za * dphib + Zb * dphia - dDJ,
                      -ZZ / flat - Za * dVb - Zb * dVa + dJp)
        U = np.where(flat > 0, U, math.inf if Za * Zb > 0 else math.nan)
        dU = np.where(flat > 0, dU, -math.inf if Za * Zb > 0 else math.nan)
    return U, dU


def state_coulomb(Za: float, rd_a: RadialDensity | None, Zb: float, rd_b: RadialDensity | None, R):
    """Total electrostatic interaction of two spherical atomic states (hartree):

    U(R) = Za Zb/R - Za V_b(R) - Zb V_a(R) + J_ab(R)  ->  qa qb / R  (q = Z - N) at large R.
    Evaluated as qa qb/R + Za phi_b + Zb phi_a - dJ with phi = N/R - V and dJ = Na Nb/R - J,
    so the exponentially small overlap part carries no cancellation noise.  ``rd`` None (or
    zero electrons) is a bare nucleus.
    """
    arr, flat = _as_radii(R, "R")
    U, _ = _state_parts(Za, rd_a, Zb, rd_b, flat)
    return _shape_out(arr, U)


def state_coulomb_derivative(Za: float, rd_a: RadialDensity | None, Zb: float,
                             rd_b: RadialDensity | None, R):
    """dU/dR (hartree/bohr) of ``state_coulomb``."""
    arr, flat = _as_radii(R, "R")
    _, dU = _state_parts(Za, rd_a, Zb, rd_b, flat)
    return _shape_out(arr, dU)


# ----------------------------------------------------------------------------------------
# plain vectorized-numpy references (benchmark baseline only; shell terms only)
# ----------------------------------------------------------------------------------------
def _density_numpy(rd: RadialDensity, r: np.ndarray) -> np.ndarray:
    """rho(r) with numpy broadcasting over r (shell terms + tail)."""
    r = np.asarray(r, dtype=np.float64)
    out = np.zeros_like(r)
    for m, a, c in zip(rd._m, rd._a, rd.c):
        out += c * r ** m * np.exp(-a * r)
    if rd._tail_on:
        tc, tb, tbeta, tk = rd.tail_c, rd.tail_b, rd.tail_beta, rd.tail_kappa
        q = max(1.0 - tbeta, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (r / tb) ** 2
            g = np.where(y > 0, -np.expm1(-y) / np.where(y > 0, y, 1.0), 1.0)
            near = tc * r ** (2.0 * tbeta + 2.0 * q) * tb ** (-2.0 * q) * g ** q  # exact rewrite
            far = tc * r ** (2.0 * tbeta) * (-np.expm1(-y)) ** q
            out += np.where(y <= 1.0, near, far) * np.exp(-2.0 * tk * r)
    return out


def _exp_sum_np(x, n):
    s = np.ones_like(x)
    t = np.ones_like(x)
    for k in range(1, n + 1):
        t = t * x / k
        s += t
    return s


def _lower_gamma_np(p, x, ex):
    """Vectorized ``_lower_gamma``."""
    small = x < p
    xs = np.where(small, x, 0.0)
    t = np.full_like(x, 1.0 / p)
    s = t.copy()
    for j in range(1, 400):
        t = t * xs / (p + j)
        s += t
        if np.all(t <= 1e-17 * s):
            break
    ser = xs ** p * ex * s
    big = _FACT[p - 1] * (1.0 - ex * _exp_sum_np(x, p - 1))
    return np.where(small, ser, big)


def _potential_numpy(rd: RadialDensity, r: np.ndarray) -> np.ndarray:
    """V(r) for shell-only densities with numpy broadcasting (same closed form as the kernel), r > 0."""
    if rd._tail_on:
        raise NotImplementedError("numpy reference covers shell terms only")
    r = np.asarray(r, dtype=np.float64)
    V = np.zeros_like(r)
    for m, a, c in zip(rd._m, rd._a, rd.c):
        x = a * r
        ex = np.exp(-x)
        Q = _FOUR_PI * c * _lower_gamma_np(m + 3, x, ex) / a ** (m + 3)
        O = _FOUR_PI * c * _FACT[m + 1] * ex * _exp_sum_np(x, m + 1) / a ** (m + 2)
        V += Q / r + O
    return V


def _kint_np(k, p, x):
    """Vectorized ``_kint``: expansion where accepted, positive series elsewhere."""
    use = np.zeros(x.shape, dtype=bool)
    asy = np.zeros_like(x)
    try_ = (x >= 1.4 * p * (k + 1)) & (x > 0)
    if np.any(try_):
        xt = x[try_]
        xi = 1.0 / xt
        sm = np.zeros_like(xt)
        sa = np.zeros_like(xt)
        for j in range(p + 1):
            t = _BINOM[p, j] * _FACT[k + j] * xi ** (k + j + 1)
            sm += (-1.0) ** j * t
            sa += t
        e = np.zeros_like(xt)
        for nn in range(p, p + k + 1):
            e += _FACT[nn] * _BINOM[k, nn - p] * xi ** (nn + 1)
        e *= np.exp(-np.minimum(xt, _EXP_CUT)) * (xt < _EXP_CUT)
        sm += (-1.0) ** (p + 1) * e
        sa += e
        ok = sa <= 4.0 * sm
        asy[try_] = sm
        use[try_] = ok
    ser = np.zeros_like(x)
    rest = ~use
    if np.any(rest):
        xs = x[rest]
        t = np.full_like(xs, _FACT[k] * _FACT[p] / _FACT[k + p + 1])
        acc = t.copy()
        nmax = float(np.max(xs))
        n = 0
        while True:
            t = t * xs / (n + 1) * (p + n + 1) / (k + p + n + 2)
            n += 1
            acc += t
            if n > nmax and np.all(t < 1e-17 * acc):
                break
        ser[rest] = np.exp(-xs) * acc
    return np.where(use, asy, ser)


def _coulomb_numpy(rd_a: RadialDensity, rd_b: RadialDensity, R: np.ndarray) -> np.ndarray:
    """J(R) for shell-only densities with numpy broadcasting over R (R (a+b) >= _TAYLOR_X, a R < 700).

    Same closed form and R-independent tables (``_ss_setup``) as the numba kernel, value only.
    """
    if rd_a._tail_on or rd_b._tail_on:
        raise NotImplementedError("numpy reference covers shell terms only")
    R = np.asarray(R, dtype=np.float64)
    ipar, fpar, wk, wgk, P2, P2g, P3, P3g = _ss_setup(rd_a._m, rd_a._a, rd_a.c, rd_b._m, rd_b._a, rd_b.c)
    phis = {}
    for key, rd in (("a", rd_a), ("b", rd_b)):
        for i, (m, a, c) in enumerate(zip(rd._m, rd._a, rd.c)):
            x = a * R
            ssum = np.zeros_like(R)
            t = np.ones_like(R)
            for k in range(m + 2):
                ssum += (m + 2 - k) * t
                t = t * x / (k + 1)
            phis[key, i] = _FOUR_PI * c * _FACT[m + 1] / a ** (m + 3) * np.exp(-x) * ssum / R
    DJ = np.zeros_like(R)
    for q in range(ipar.shape[0]):
        outer_a, o, p, l = (int(v) for v in ipar[q, :4])
        a, b, Ni = fpar[q, 0], fpar[q, 1], fpar[q, 2]
        ea, eb = np.exp(-a * R), np.exp(-b * R)
        S = ea * np.polynomial.polynomial.polyval(R, P2[q, :p + 1]) \
            - eb * np.polynomial.polynomial.polyval(R, P3[q, :l + 2])
        Rk = ea * R ** (p + 1)
        for k in range(l + 2):
            S += wk[q, k] * Rk * _kint_np(k, p, (b - a) * R)
            Rk = Rk * R
        DJ += Ni * phis["a" if outer_a else "b", o] + _TWO_PI * S / R
    return rd_a.n_electrons * rd_b.n_electrons / R - DJ
