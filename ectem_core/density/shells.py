"""Numba building blocks of the Slater-shell density model (docs/slater.md): constants,
integer powers, truncated exponential sums, incomplete gamma functions, single-shell density
and potential, and the shell–shell pair Coulomb pieces. Atomic units (bohr, hartree).
"""
from __future__ import annotations

import math

import numba
import numpy as np

PI = math.pi
FOUR_PI = 4.0 * math.pi
TWO_PI = 2.0 * math.pi

# Shell n is limited to 1.._NMAX (powers m = 2(n-1) <= 18): the K-function series then
# stays below e^700 (no overflow).
NMAX = 10
FACT = np.array([float(math.factorial(i)) for i in range(171)])
BINOM = np.array([[float(math.comb(i, j)) for j in range(2 * NMAX + 8)]
                   for i in range(2 * NMAX + 8)])
INV = np.array([0.0] + [1.0 / i for i in range(1, 4096)])  # reciprocal table for series loops
GX, GW = np.polynomial.legendre.leggauss(20)  # panel rule for the tail quadratures

# Below R * (sum of the pair's inverse length scales) < TAYLOR_X the pair Coulomb
# integral is evaluated from its Taylor series J0 + c2 R^2 + c4 R^4 (the closed form
# carries a 1/R that cancels there).
TAYLOR_X = 0.02
# Beyond a*R > EXP_CUT every exp(-a R) short-range remainder is below 1e-300.
EXP_CUT = 700.0
# Tail grid: extends to 2*kappa*r = TAIL_EXTENT (density < e^-600 beyond).
TAIL_EXTENT = 600.0
# Tails with beta >= 1 and 2 beta not an integer have an r^(2 beta) branch point at r = 0:
# their panels are graded geometrically (width <= r/2) down to r = TAIL_GRADE / kappa.
TAIL_GRADE = 0.005
# Non-negativity check of densities with negative shell coefficients: rho >= -NEG_TOL max rho
# on CHECK_R (bohr), plus the sign of the asymptotically leading term.
NEG_TOL = 1e-14
CHECK_R = np.geomspace(1e-6, 100.0, 2000)


# ----------------------------------------------------------------------------------------
# numba building blocks
# ----------------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def ipow(x, n):
    """x^n for a small integer n >= 0 by repeated multiplication."""
    v = 1.0
    for _ in range(n):
        v *= x
    return v


@numba.njit(cache=True, error_model="numpy")
def exp_sum(x, n):
    """e_n(x) = sum_{k=0}^n x^k / k!  (all terms positive)."""
    s = 1.0
    t = 1.0
    for k in range(1, n + 1):
        t *= x / k
        s += t
    return s


@numba.njit(cache=True, error_model="numpy")
def ex_sum(x, n, ex):
    """e^-x e_n(x) given ex = e^-x (0 once e^-x underflows, avoiding inf * 0)."""
    return ex * exp_sum(x, n) if ex > 0.0 else 0.0


@numba.njit(cache=True, error_model="numpy")
def lower_gamma(p, x, ex):
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
        return ipow(x, p) * ex * s
    return FACT[p - 1] * (1.0 - ex_sum(x, p - 1, ex))


@numba.njit(cache=True, error_model="numpy")
def slater_rho(r, m, a, c):
    """rho and drho/dr of one shell term c r^m e^{-a r}."""
    e = c * math.exp(-a * r)
    if m == 0:
        return e, -a * e
    rm1 = ipow(r, m - 1)
    return e * rm1 * r, e * rm1 * (m - a * r)


@numba.njit(cache=True, error_model="numpy")
def tail_gh(y):
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
def tail_rho(r, tp):
    """rho and drho/dr of the tail c r^(2beta) (1 - e^{-r^2/b^2})^q e^{-2 kappa r} (tp: ``tail_vector``).

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
            g, h = tail_gh(y)
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
def tail_rho_arr(u, tp):
    """Tail density at every point of a 1-D array."""
    out = np.zeros(u.size)
    for i in range(u.size):
        out[i], _ = tail_rho(u[i], tp)
    return out


@numba.njit(cache=True, error_model="numpy")
def tail_width(d, tp, graded):
    """Panel width for the tail term at distance d from its centre (<= 4/kappa).

    q > 0: the nearest singularities of (1 - e^{-r^2/b^2})^q, at r^2 = 2 pi i k b^2 (k != 0),
    are at least D = max(0.65 d, 1.77 b) from the real point d: width <= 0.8 D, so the 20-point
    rule converges like rho^-40 with a Bernstein-ellipse parameter rho >= 4.8.  q = 0 with
    2 beta not an integer and ``graded``: geometric grading (width <= d/2, rho ~ 10) towards
    the r^(2beta) branch point at 0, down to d = TAIL_GRADE/kappa.
    """
    w = 4.0 / tp[3]
    if tp[4] > 0.0:
        w = min(w, 0.8 * max(0.65 * d, 1.77 * tp[1]))
    elif graded and tp[7] > 0.0:
        w = min(w, 0.5 * max(d, TAIL_GRADE / tp[3]))
    return w


@numba.njit(cache=True, error_model="numpy")
def slater_pot(r, m, a, c):
    """V, dV/dr, phi, dphi/dr of one shell term c r^m e^{-a r} at r (bohr).

    V = Q(r)/r + O(r) with Q = 4 pi c gamma(m+3, ar)/a^(m+3), O = 4 pi c Gamma(m+2, ar)/a^(m+2);
    dV/dr = -Q/r^2.  phi = N/r - V = (4 pi c (m+1)!/(a^(m+3) r)) e^{-ar} sum_k (m+2-k)(ar)^k/k!
    (positive sum, no cancellation); dphi/dr = -Qout/r^2 with Qout = N - Q.
    """
    x = a * r
    ex = math.exp(-x)
    pref = FOUR_PI * c
    ia = 1.0 / a
    ia_m2 = 1.0 / ipow(a, m + 2)
    O = pref * FACT[m + 1] * ex_sum(x, m + 1, ex) * ia_m2
    if r <= 0.0:
        return O, 0.0, math.inf, -math.inf
    Q = pref * lower_gamma(m + 3, x, ex) * ia_m2 * ia
    Qout = pref * FACT[m + 2] * ex_sum(x, m + 2, ex) * ia_m2 * ia
    s = 0.0
    t = 1.0
    for k in range(m + 2):
        s += (m + 2 - k) * t
        t *= x / (k + 1)
    phi = pref * FACT[m + 1] * ia_m2 * ia * ex * s / r if ex > 0.0 else 0.0
    Qr = Q / r
    return Qr + O, -Qr / r, phi, -(Qout / r) / r


@numba.njit(cache=True, error_model="numpy")
def slater_v(r, m, a, c):
    """V and dV/dr of one shell term (the first two results of ``slater_pot``)."""
    x = a * r
    ex = math.exp(-x)
    ko = FOUR_PI * c / ipow(a, m + 2)
    O = ko * FACT[m + 1] * ex_sum(x, m + 1, ex)
    if r <= 0.0:
        return O, 0.0
    Q = ko / a * lower_gamma(m + 3, x, ex)
    Qr = Q / r
    return Qr + O, -Qr / r


@numba.njit(cache=True, error_model="numpy")
def slater_pi_psi(s, l, b, d):
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
        bk = BINOM[l + 1, k] * sk * ipow(ib, l + 3 - k)
        P += bk * FACT[l + 3 - k] * ib
        G += bk * FACT[l + 2 - k]
        sk *= s
    return TWO_PI * d * eb * P, FOUR_PI * d * eb * G


@numba.njit(cache=True, inline="always", error_model="numpy")
def kint(k, p, x, ex):
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
        xp = ipow(xi, k + 1)
        for j in range(p + 1):
            t = BINOM[p, j] * FACT[k + j] * xp
            s += sign * t
            sa += t
            sign = -sign
            xp *= xi
        if ex > 0.0:
            e = 0.0
            xp = ipow(xi, p + 1)
            for nn in range(p, p + k + 1):
                e += FACT[nn] * BINOM[k, nn - p] * xp
                xp *= xi
            e *= ex
            sa += e
            if p % 2 == 0:
                s -= e
            else:
                s += e
        if sa <= 4.0 * s:
            return s
    t = FACT[k] * FACT[p] / FACT[k + p + 1]
    s = t
    n = 0
    nlim = INV.size - k - p - 3
    while n < nlim:
        t *= x * INV[n + 1] * (p + n + 1) * INV[k + p + n + 2]
        n += 1
        s += t
        if t < 1e-17 * s and n > x:
            break
    return ex * s


@numba.njit(cache=True, error_model="numpy")
def ss_taylor(m, a, c, l, b, d):
    """J0, c2, c4 of J(R) = J0 + c2 R^2 + c4 R^4 + O(R^6) for two shell terms.

    J0 = int int dQa dQb / max(r, s) (positive finite sums), c2 = -(2pi/3) int rho_a rho_b d^3r,
    c4 = (pi/30) int grad rho_a . grad rho_b d^3r.
    """
    s = a + b
    x_ab = 0.0
    for j in range(l + 2):
        x_ab += b ** j / FACT[j] * FACT[m + 2 + j] / s ** (m + 3 + j)
    x_ab *= FACT[l + 1] / b ** (l + 2)
    x_ba = 0.0
    for j in range(m + 2):
        x_ba += a ** j / FACT[j] * FACT[l + 2 + j] / s ** (l + 3 + j)
    x_ba *= FACT[m + 1] / a ** (m + 2)
    pref = FOUR_PI * c * d
    J0 = FOUR_PI * pref * (x_ab + x_ba)
    ml = m + l
    o0 = pref * FACT[ml + 2] / s ** (ml + 3)
    g = pref * (m * l * FACT[ml] / s ** (ml + 1) - (m * b + l * a) * FACT[ml + 1] / s ** (ml + 2)
                + a * b * FACT[ml + 2] / s ** (ml + 3))
    return J0, -(TWO_PI / 3.0) * o0, (PI / 30.0) * g


@numba.njit(cache=True, error_model="numpy")
def ss_setup(ma, aa, ca, mb, ab, cb):
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
            No = FOUR_PI * c * FACT[m + 2] / a ** (m + 3)
            Ni = FOUR_PI * d * FACT[l + 2] / b ** (l + 3)
            J0, c2, c4 = ss_taylor(m, a, c, l, b, d)
            fpar[q, 0], fpar[q, 1], fpar[q, 2], fpar[q, 3] = a, b, Ni, No * Ni
            fpar[q, 4], fpar[q, 5], fpar[q, 6] = J0, c2, c4
            for k in range(l + 2):
                wk[q, k] = c * TWO_PI * d * BINOM[l + 1, k] * FACT[l + 3 - k] / b ** (l + 4 - k)
                wgk[q, k] = c * FOUR_PI * d * BINOM[l + 1, k] * FACT[l + 2 - k] / b ** (l + 3 - k)
            for k in range(l + 2):
                for jj in range(p + 1):  # R^jj from I2_k (i = p - jj)
                    f = BINOM[p, jj] * FACT[k + p - jj] / s ** (k + p - jj + 1)
                    P2[q, jj] += wk[q, k] * f
                    P2g[q, jj] += wgk[q, k] * f
                for jj in range(k + 1):  # R^jj from I3_k (i = k - jj)
                    f = BINOM[k, jj] * FACT[p + k - jj] / s ** (p + k - jj + 1)
                    P3[q, jj] += wk[q, k] * f
                    P3g[q, jj] += wgk[q, k] * f
            q += 1
    return ipar, fpar, wk, wgk, P2, P2g, P3, P3g


@numba.njit(cache=True, inline="always", error_model="numpy")
def ss_pair(R, q, ipar, fpar, wk, wgk, P2, P2g, P3, P3g, Rpow, ea, eb, V, dV, phi, dphi):
    """(dJ, J, d dJ/dR, dJ/dR) of shell pair q at R.

    Rpow[j] = R^j; ea, eb = e^{-aR}, e^{-bR} of the outer/inner term; V..dphi: the outer
    term's potential data at R.  dJ = No Ni/R - J is the short-range remainder (it has the
    sign of c d): dJ = Ni phi_o + T, J = Ni V_o - T, T = 2 pi S / R (see ``ss_setup``).
    Taylor series where R (a+b) < TAYLOR_X.
    """
    a, b, Ni, NN = fpar[q, 0], fpar[q, 1], fpar[q, 2], fpar[q, 3]
    if R * (a + b) < TAYLOR_X:
        R2 = R * R
        J = fpar[q, 4] + R2 * (fpar[q, 5] + fpar[q, 6] * R2)
        dJ = R * (2.0 * fpar[q, 5] + 4.0 * fpar[q, 6] * R2)
        if R > 0.0:
            return NN / R - J, J, -NN / R2 - dJ, dJ
        return math.inf, J, -math.inf, dJ
    if a * R > EXP_CUT:
        return 0.0, NN / R, 0.0, -NN / (R * R)
    p, l = ipar[q, 2], ipar[q, 3]
    x = (b - a) * R
    ex = math.exp(-x) if x < EXP_CUT else 0.0
    S1 = 0.0
    S1g = 0.0
    for k in range(l + 2):
        I1 = Rpow[p + k + 1] * kint(k, p, x, ex)
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
    T = TWO_PI * S / R
    Td = TWO_PI * (Sd - S / R) / R
    return Ni * phi + T, Ni * V - T, Ni * dphi + Td, Ni * dV - Td


