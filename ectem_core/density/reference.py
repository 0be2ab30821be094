"""Plain vectorized-numpy references of density, potential and pair Coulomb energy (the
benchmark baseline of the numba kernels; tested against them)."""
from __future__ import annotations

import numpy as np

from .model import RadialDensity
from .shells import BINOM, EXP_CUT, FACT, FOUR_PI, TWO_PI, ss_setup


# ----------------------------------------------------------------------------------------
# plain vectorized-numpy references (benchmark baseline only; shell terms only)
# ----------------------------------------------------------------------------------------
def density_numpy(rd: RadialDensity, r: np.ndarray) -> np.ndarray:
    """rho(r) with numpy broadcasting over r (shell terms + tail)."""
    r = np.asarray(r, dtype=np.float64)
    out = np.zeros_like(r)
    for m, a, c in zip(rd.m, rd.a, rd.c):
        out += c * r ** m * np.exp(-a * r)
    if rd.tail_active:
        tc, tb, tbeta, tk = rd.tail_c, rd.tail_b, rd.tail_beta, rd.tail_kappa
        q = max(1.0 - tbeta, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = (r / tb) ** 2
            g = np.where(y > 0, -np.expm1(-y) / np.where(y > 0, y, 1.0), 1.0)
            near = tc * r ** (2.0 * tbeta + 2.0 * q) * tb ** (-2.0 * q) * g ** q  # exact rewrite
            far = tc * r ** (2.0 * tbeta) * (-np.expm1(-y)) ** q
            out += np.where(y <= 1.0, near, far) * np.exp(-2.0 * tk * r)
    return out


def exp_sum_np(x, n):
    s = np.ones_like(x)
    t = np.ones_like(x)
    for k in range(1, n + 1):
        t = t * x / k
        s += t
    return s


def lower_gamma_np(p, x, ex):
    """Vectorized ``lower_gamma``."""
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
    big = FACT[p - 1] * (1.0 - ex * exp_sum_np(x, p - 1))
    return np.where(small, ser, big)


def potential_numpy(rd: RadialDensity, r: np.ndarray) -> np.ndarray:
    """V(r) for shell-only densities with numpy broadcasting (same closed form as the kernel), r > 0."""
    if rd.tail_active:
        raise NotImplementedError("numpy reference covers shell terms only")
    r = np.asarray(r, dtype=np.float64)
    V = np.zeros_like(r)
    for m, a, c in zip(rd.m, rd.a, rd.c):
        x = a * r
        ex = np.exp(-x)
        Q = FOUR_PI * c * lower_gamma_np(m + 3, x, ex) / a ** (m + 3)
        O = FOUR_PI * c * FACT[m + 1] * ex * exp_sum_np(x, m + 1) / a ** (m + 2)
        V += Q / r + O
    return V


def kint_np(k, p, x):
    """Vectorized ``kint``: expansion where accepted, positive series elsewhere."""
    use = np.zeros(x.shape, dtype=bool)
    asy = np.zeros_like(x)
    try_ = (x >= 1.4 * p * (k + 1)) & (x > 0)
    if np.any(try_):
        xt = x[try_]
        xi = 1.0 / xt
        sm = np.zeros_like(xt)
        sa = np.zeros_like(xt)
        for j in range(p + 1):
            t = BINOM[p, j] * FACT[k + j] * xi ** (k + j + 1)
            sm += (-1.0) ** j * t
            sa += t
        e = np.zeros_like(xt)
        for nn in range(p, p + k + 1):
            e += FACT[nn] * BINOM[k, nn - p] * xi ** (nn + 1)
        e *= np.exp(-np.minimum(xt, EXP_CUT)) * (xt < EXP_CUT)
        sm += (-1.0) ** (p + 1) * e
        sa += e
        ok = sa <= 4.0 * sm
        asy[try_] = sm
        use[try_] = ok
    ser = np.zeros_like(x)
    rest = ~use
    if np.any(rest):
        xs = x[rest]
        t = np.full_like(xs, FACT[k] * FACT[p] / FACT[k + p + 1])
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


def coulomb_numpy(rd_a: RadialDensity, rd_b: RadialDensity, R: np.ndarray) -> np.ndarray:
    """J(R) for shell-only densities with numpy broadcasting over R (R (a+b) >= TAYLOR_X, a R < 700).

    Same closed form and R-independent tables (``ss_setup``) as the numba kernel, value only.
    """
    if rd_a.tail_active or rd_b.tail_active:
        raise NotImplementedError("numpy reference covers shell terms only")
    R = np.asarray(R, dtype=np.float64)
    ipar, fpar, wk, wgk, P2, P2g, P3, P3g = ss_setup(rd_a.m, rd_a.a, rd_a.c, rd_b.m, rd_b.a, rd_b.c)
    phis = {}
    for key, rd in (("a", rd_a), ("b", rd_b)):
        for i, (m, a, c) in enumerate(zip(rd.m, rd.a, rd.c)):
            x = a * R
            ssum = np.zeros_like(R)
            t = np.ones_like(R)
            for k in range(m + 2):
                ssum += (m + 2 - k) * t
                t = t * x / (k + 1)
            phis[key, i] = FOUR_PI * c * FACT[m + 1] / a ** (m + 3) * np.exp(-x) * ssum / R
    DJ = np.zeros_like(R)
    for q in range(ipar.shape[0]):
        outer_a, o, p, l = (int(v) for v in ipar[q, :4])
        a, b, Ni = fpar[q, 0], fpar[q, 1], fpar[q, 2]
        ea, eb = np.exp(-a * R), np.exp(-b * R)
        S = ea * np.polynomial.polynomial.polyval(R, P2[q, :p + 1]) \
            - eb * np.polynomial.polynomial.polyval(R, P3[q, :l + 2])
        Rk = ea * R ** (p + 1)
        for k in range(l + 2):
            S += wk[q, k] * Rk * kint_np(k, p, (b - a) * R)
            Rk = Rk * R
        DJ += Ni * phis["a" if outer_a else "b", o] + TWO_PI * S / R
    return rd_a.n_electrons * rd_b.n_electrons / R - DJ
