"""Array kernels of the density model (numba): density, potential and the Coulomb energy of
two densities (shell–shell closed forms, tail quadratures), in bohr and hartree."""
from __future__ import annotations

import math

import numba
import numpy as np

from .shells import (
    FOUR_PI,
    GW,
    GX,
    PI,
    TAYLOR_X,
    TWO_PI,
    ipow,
    slater_pi_psi,
    slater_pot,
    slater_rho,
    slater_v,
    ss_pair,
    ss_setup,
    tail_rho,
    tail_width,
)
from .tail import tail_pot, tail_query


# ----------------------------------------------------------------------------------------
# array kernels
# ----------------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def density_kernel(r, m, a, c, tail_on, tp, deriv):
    """rho(r) and (if ``deriv``, else zeros) drho/dr over an array of radii."""
    rho = np.zeros(r.size)
    drho = np.zeros(r.size)
    for idx in range(r.size):
        x = r[idx]
        f = 0.0
        df = 0.0
        for j in range(m.size):
            if deriv:
                v, dv = slater_rho(x, m[j], a[j], c[j])
                f += v
                df += dv
            else:
                f += c[j] * ipow(x, m[j]) * math.exp(-a[j] * x)
        if tail_on:
            v, dv = tail_rho(x, tp)
            f += v
            df += dv
        rho[idx] = f
        drho[idx] = df
    return rho, drho


@numba.njit(cache=True, error_model="numpy")
def potential_kernel(r, m, a, c, tail_on, tp, edges, Qc, A0, A1, A2, full):
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
                v, dv, p, dp = slater_pot(x, m[j], a[j], c[j])
                phi[idx] += p
                dphi[idx] += dp
            else:
                v, dv = slater_v(x, m[j], a[j], c[j])
            V[idx] += v
            dV[idx] += dv
        if tail_on:
            v, dv, p, dp = tail_pot(x, tp, edges, Qc, A0, A1, A2)
            V[idx] += v
            dV[idx] += dv
            phi[idx] += p
            dphi[idx] += dp
    return V, dV, phi, dphi


@numba.njit(cache=True, error_model="numpy")
def coulomb_ss_kernel(R, ma, aa, ca, mb, ab, cb):
    """Sums over all shell-shell pairs of (dJ, J, d dJ/dR, dJ/dR) at each distance R."""
    ipar, fpar, wk, wgk, P2, P2g, P3, P3g = ss_setup(ma, aa, ca, mb, ab, cb)
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
            pot_a[i, 0], pot_a[i, 1], pot_a[i, 2], pot_a[i, 3] = slater_pot(x, ma[i], aa[i], ca[i])
            pot_a[i, 4] = math.exp(-aa[i] * x)
        for j in range(mb.size):
            pot_b[j, 0], pot_b[j, 1], pot_b[j, 2], pot_b[j, 3] = slater_pot(x, mb[j], ab[j], cb[j])
            pot_b[j, 4] = math.exp(-ab[j] * x)
        for q in range(ipar.shape[0]):
            o = ipar[q, 1]
            if ipar[q, 0] == 1:  # outer term from A, inner from B
                po, ei = pot_a, pot_b[ipar[q, 4], 4]
            else:
                po, ei = pot_b, pot_a[ipar[q, 4], 4]
            r1, r2, r3, r4 = ss_pair(x, q, ipar, fpar, wk, wgk, P2, P2g, P3, P3g, Rpow,
                                      po[o, 4], ei, po[o, 0], po[o, 1], po[o, 2], po[o, 3])
            DJ[idx] += r1
            J[idx] += r2
            dDJ[idx] += r3
            dJ[idx] += r4
    return DJ, J, dDJ, dJ


@numba.njit(cache=True, error_model="numpy")
def inner_eval(s, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic):
    """Pi(s) and psi(s) of the inner density (shell group or tail)."""
    if inner_tail:
        Q, R0, R1, R2 = tail_query(s, ip, iedges, iQc, iA0, iA1, iA2, False)
        return TWO_PI * R2, FOUR_PI * R1
    P = 0.0
    G = 0.0
    for j in range(im.size):
        if ic[j] == 0.0:
            continue
        p, g = slater_pi_psi(s, im[j], ia[j], ic[j])
        P += p
        G += g
    return P, G


@numba.njit(cache=True, error_model="numpy")
def inner_pot_rho(s, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic):
    """V, rho and drho/dr of the inner density at s."""
    if inner_tail:
        V, _, _, _ = tail_pot(s, ip, iedges, iQc, iA0, iA1, iA2)
        rho, drho = tail_rho(s, ip)
        return V, rho, drho
    V = 0.0
    rho = 0.0
    drho = 0.0
    for j in range(im.size):
        if ic[j] == 0.0:
            continue
        v, _, _, _ = slater_pot(s, im[j], ia[j], ic[j])
        f, df = slater_rho(s, im[j], ia[j], ic[j])
        V += v
        rho += f
        drho += df
    return V, rho, drho


@numba.njit(cache=True, error_model="numpy")
def panel_width(r, R, op, inner_tail, ip, ibmax):
    """Outer panel width at r: resolves the outer tail and the inner density seen from R.

    The inner density enters through Pi_i(|R - r|), which is three integrations smoother than
    rho_i (an r^(2beta) branch point of rho_i gives only s^(2beta+4) in Pi_i): no grading there.
    """
    w = tail_width(r, op, True)
    d = abs(r - R)
    if inner_tail:
        wi = tail_width(d, ip, False)
    else:
        wi = 4.0 / ibmax + 0.1 * d
    return min(w, wi)


@numba.njit(cache=True, error_model="numpy")
def tail_pair_consts(op, oedges, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic, ibmax):
    """J0, c2, c4 (small-R Taylor coefficients) for an outer tail and an inner density."""
    rmax = oedges[oedges.size - 1]
    r = 0.0
    J0 = 0.0
    O0 = 0.0
    G = 0.0
    while r < rmax:
        r1 = min(r + panel_width(r, 0.0, op, inner_tail, ip, ibmax), rmax)
        h = 0.5 * (r1 - r)
        mid = 0.5 * (r1 + r)
        for j in range(GX.size):
            u = mid + h * GX[j]
            rho, drho = tail_rho(u, op)
            V, rhoi, drhoi = inner_pot_rho(u, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
            w = GW[j] * h * u * u
            J0 += w * rho * V
            O0 += w * rho * rhoi
            G += w * drho * drhoi
        r = r1
    return FOUR_PI * J0, -(TWO_PI / 3.0) * FOUR_PI * O0, (PI / 30.0) * FOUR_PI * G


@numba.njit(cache=True, error_model="numpy")
def coulomb_tail_kernel(R, op, oedges, oQc, oA0, oA1, oA2, inner_tail, ip, iedges, iQc, iA0, iA1,
                         iA2, im, ia, ic, ibmax, Ni, consts, sigma):
    """(dJ, J, d dJ/dR, dJ/dR) for an outer tail term and an inner density (shell group or tail).

    T(R) = (2 pi / R) int r rho_o(r) [Pi_i(|R-r|) - Pi_i(R+r)] dr by composite Gauss-Legendre
    (panel edge at r = R); dJ = Ni phi_o(R) + T and J = Ni V_o(R) - T.  Taylor series for
    R * sigma < TAYLOR_X.
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
        if x * sigma < TAYLOR_X:
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
            r1 = min(r + panel_width(r, x, op, inner_tail, ip, ibmax), rmax)
            if r < x < r1:
                r1 = x
            h = 0.5 * (r1 - r)
            mid = 0.5 * (r1 + r)
            for j in range(GX.size):
                u = mid + h * GX[j]
                rho, _ = tail_rho(u, op)
                f = GW[j] * h * u * rho
                if f == 0.0:
                    continue
                P1, G1 = inner_eval(abs(x - u), inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
                P2, G2 = inner_eval(x + u, inner_tail, ip, iedges, iQc, iA0, iA1, iA2, im, ia, ic)
                S += f * (P1 - P2)
                if u < x:
                    Sd += f * (G2 - G1)
                else:
                    Sd += f * (G2 + G1)
            r = r1
        V, dV, phi, dphi = tail_pot(x, op, oedges, oQc, oA0, oA1, oA2)
        T = TWO_PI * S / x
        Td = TWO_PI * (Sd - S / x) / x
        DJ[idx] = Ni * phi + T
        J[idx] = Ni * V - T
        dDJ[idx] = Ni * dphi + Td
        dJ[idx] = Ni * dV - Td
    return DJ, J, dDJ, dJ


