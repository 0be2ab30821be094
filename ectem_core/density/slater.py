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

import numpy as np

from ..errors import InputError
from .kernels import coulomb_ss_kernel, coulomb_tail_kernel, density_kernel, potential_kernel, tail_pair_consts
from .model import RadialDensity, as_density, as_radii, shape_out, tail_scale
from .shells import FACT, FOUR_PI, GW, TAIL_EXTENT
from .tail import tail_panel_rho

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


# ----------------------------------------------------------------------------------------
# public API: one density
# ----------------------------------------------------------------------------------------
def density(rd: RadialDensity | None, r):
    """rho(r) in electrons/bohr^3 at radii r (bohr, scalar or array)."""
    arr, flat = as_radii(r)
    rd = as_density(rd)
    if rd is None:
        return shape_out(arr, np.zeros(flat.size))
    rho, _ = density_kernel(flat, rd.m, rd.a, rd.c, rd.tail_active, rd.tail_params, False)
    return shape_out(arr, rho)


def density_derivative(rd: RadialDensity | None, r):
    """d rho/dr in electrons/bohr^4 at radii r (bohr)."""
    arr, flat = as_radii(r)
    rd = as_density(rd)
    if rd is None:
        return shape_out(arr, np.zeros(flat.size))
    _, drho = density_kernel(flat, rd.m, rd.a, rd.c, rd.tail_active, rd.tail_params, True)
    return shape_out(arr, drho)


def rdf(rd: RadialDensity | None, r):
    """Radial distribution 4 pi r^2 rho(r) in electrons/bohr."""
    arr, flat = as_radii(r)
    return shape_out(arr, FOUR_PI * flat * flat * np.asarray(density(rd, flat)))


def tail_moment(tp, k):
    """int_0^inf 4 pi r^(2+k) rho_tail dr by the tail panel rule."""
    tk = float(tp[3])
    _, h, u, rho = tail_panel_rho(tp, (TAIL_EXTENT + 4.0 * max(k, 0.0)) / (2.0 * tk))
    return float(FOUR_PI * np.sum(h[:, None] * GW[None, :] * u ** (2.0 + k) * rho))


def moment(rd: RadialDensity | None, k: float) -> float:
    """Radial moment <r^k> N = int 4 pi r^(2+k) rho dr (electrons bohr^k); k > -3.

    Shell terms: 4 pi c Gamma(m+3+k)/a^(m+3+k); the tail by Gauss-Legendre panels.
    """
    rd = as_density(rd)
    if rd is None:
        return 0.0
    k = float(k)
    if k <= -3.0:
        raise InputError(f"moment: k must be > -3 (got {k})")
    tot = 0.0
    for m, a, c in zip(rd.m, rd.a, rd.c):
        e = m + 3 + k
        if k.is_integer():
            tot += FOUR_PI * c * FACT[int(e) - 1] / a ** e
        else:
            tot += FOUR_PI * c * math.exp(math.lgamma(e) - e * math.log(a))
    if rd.tail_active:
        tot += tail_moment(rd.tail_params, k)
    return float(tot)


def electron_count(rd: RadialDensity | None) -> float:
    """Number of electrons N = int 4 pi r^2 rho dr."""
    rd = as_density(rd)
    return 0.0 if rd is None else rd.n_electrons


def rho0(rd: RadialDensity | None) -> float:
    """Density at the nucleus rho(0) (electrons/bohr^3): the sum of the n = 1 (r^0) coefficients."""
    rd = as_density(rd)
    if rd is None:
        return 0.0
    return float(np.sum(rd.c[rd.m == 0]))


def cusp_ratio(rd: RadialDensity | None, Z: float) -> float:
    """Kato cusp ratio -rho'(0) / (2 Z rho(0)); exactly 1 for an exact eigenstate density.

    rho(0) = sum over r^0 terms of c; rho'(0) = sum over r^0 terms of (-2 zeta c) plus the
    sum over r^1 (n = 1.5) terms of c.  Higher powers and the tail (~ r^2) do not contribute.
    NaN when rho(0) = 0.
    """
    rd = as_density(rd)
    if rd is None:
        return math.nan
    s0 = rd.m == 0
    r0 = float(np.sum(rd.c[s0]))
    if r0 == 0.0:
        return math.nan
    slope = float(np.sum(rd.c[rd.m == 1]) - np.sum(rd.a[s0] * rd.c[s0]))
    return -slope / (2.0 * Z * r0)


def potential_parts(rd, flat, full=True):
    """V, dV/dr, phi = N/r - V, dphi/dr on a flat array of radii (zeros for no electrons;
    phi and dphi/dr only when ``full``)."""
    if rd is None:
        z = np.zeros(flat.size)
        return z, z.copy(), z.copy(), z.copy()
    return potential_kernel(flat, rd.m, rd.a, rd.c, rd.tail_active, rd.tail_params, *rd.tail_table, full)


def potential(rd: RadialDensity | None, r):
    """Electrostatic potential of the electrons, V(r) = int rho(r')/|r - r'| d^3r' (hartree/e).

    Finite at r = 0 (V(0) = int 4 pi r rho dr) and -> N/r at large r.
    """
    arr, flat = as_radii(r)
    V, _, _, _ = potential_parts(as_density(rd), flat, False)
    return shape_out(arr, V)


def potential_derivative(rd: RadialDensity | None, r):
    """dV/dr = -Q(r)/r^2 (hartree/(e bohr)), Q(r) the electron count inside r."""
    arr, flat = as_radii(r)
    _, dV, _, _ = potential_parts(as_density(rd), flat, False)
    return shape_out(arr, dV)


def nuclear_attraction(rd: RadialDensity | None, R):
    """V[rho](R): the electron potential at a point (nucleus) R bohr from the centre.

    A nucleus of charge Z there has the attraction energy -Z * nuclear_attraction(rd, R).
    """
    return potential(rd, R)


# ----------------------------------------------------------------------------------------
# public API: two densities
# ----------------------------------------------------------------------------------------
def inner_args(rd):
    """Arguments describing ``rd`` as the inner density of a tail quadrature (shell group part)."""
    return (rd.m, rd.a, rd.c, float(np.max(rd.a)) if rd.n.size else 1.0)


EMPTY_I = np.zeros(0, dtype=np.int64)
EMPTY_F = np.zeros(0)


def tail_outer(outer, inner, inner_is_tail, flat):
    """Tail of ``outer`` against the shell group (or the tail) of ``inner``."""
    op = outer.tail_params
    otab = outer.tail_table
    if inner_is_tail:
        ip, itab = inner.tail_params, inner.tail_table
        im, ia, ic, ibmax = EMPTY_I, EMPTY_F, EMPTY_F, 1.0
        Ni = inner.tail_count
        sigma = tail_scale(op) + tail_scale(ip)
    else:
        ip, itab = np.array([0.0, 1.0, 1.0, 1.0]), (np.array([0.0, 1.0]),) + (np.zeros(2),) * 4
        im, ia, ic, ibmax = inner_args(inner)
        Ni = float(np.sum(inner.shell_counts))
        sigma = tail_scale(op) + ibmax
    consts = np.array(tail_pair_consts(op, otab[0], inner_is_tail, ip, *itab, im, ia, ic, ibmax))
    return coulomb_tail_kernel(flat, op, *otab, inner_is_tail, ip, *itab, im, ia, ic, ibmax, Ni,
                                consts, sigma)


def coulomb_parts(rd_a, rd_b, flat):
    """Sums over term pairs of (dJ, J, d dJ/dR, dJ/dR); dJ = Na Nb/R - J is the short-range part."""
    n = flat.size
    acc = [np.zeros(n) for _ in range(4)]
    if rd_a is None or rd_b is None:
        return acc
    if rd_a.n.size and rd_b.n.size:
        for t, v in zip(acc, coulomb_ss_kernel(flat, rd_a.m, rd_a.a, rd_a.c, rd_b.m, rd_b.a, rd_b.c)):
            t += v
    if rd_a.tail_active and rd_b.n.size and np.any(rd_b.c != 0):
        for t, v in zip(acc, tail_outer(rd_a, rd_b, False, flat)):
            t += v
    if rd_b.tail_active and rd_a.n.size and np.any(rd_a.c != 0):
        for t, v in zip(acc, tail_outer(rd_b, rd_a, False, flat)):
            t += v
    if rd_a.tail_active and rd_b.tail_active:
        for t, v in zip(acc, tail_outer(rd_a, rd_b, True, flat)):
            t += v
    return acc


def far_mask(flat, NN, DJ):
    """Where Na Nb/R - dJ carries no cancellation (dJ <= half of Na Nb/R)."""
    big = NN / flat
    return (flat > 0) & np.isfinite(big) & (DJ <= 0.5 * big), big


def coulomb_both(rd_a, rd_b, flat):
    """J and dJ/dR: Na Nb/R - sum(dJ) where that has no cancellation, else the pair sums of J."""
    DJ, Jp, dDJ, dJp = coulomb_parts(rd_a, rd_b, flat)
    if rd_a is None or rd_b is None:
        return Jp, dJp
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far, big = far_mask(flat, rd_a.n_electrons * rd_b.n_electrons, DJ)
        J = np.where(far, big - DJ, Jp)
        dJ = np.where(far, -big / flat - dDJ, dJp)
    return J, dJ


def coulomb(rd_a: RadialDensity | None, rd_b: RadialDensity | None, R):
    """Electron-electron Coulomb energy J(R) = int int rho_a rho_b / r12 (hartree) of two
    spherical densities whose centres are R bohr apart; J(0) finite, J -> Na Nb / R."""
    arr, flat = as_radii(R, "R")
    J, _ = coulomb_both(as_density(rd_a), as_density(rd_b), flat)
    return shape_out(arr, J)


def coulomb_derivative(rd_a: RadialDensity | None, rd_b: RadialDensity | None, R):
    """dJ/dR (hartree/bohr)."""
    arr, flat = as_radii(R, "R")
    _, dJ = coulomb_both(as_density(rd_a), as_density(rd_b), flat)
    return shape_out(arr, dJ)


def state_parts(Za, rd_a, Zb, rd_b, flat):
    """U and dU/dR: the q-form (see ``state_coulomb``) at all but tiny R, there the direct sum."""
    rd_a, rd_b = as_density(rd_a), as_density(rd_b)
    Za, Zb = float(Za), float(Zb)
    Na, Nb = electron_count(rd_a), electron_count(rd_b)
    Va, dVa, phia, dphia = potential_parts(rd_a, flat)
    Vb, dVb, phib, dphib = potential_parts(rd_b, flat)
    DJ, Jp, dDJ, dJp = coulomb_parts(rd_a, rd_b, flat)
    qq = (Za - Na) * (Zb - Nb)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far, _ = far_mask(flat, Na * Nb if Na * Nb > 0 else 1.0, DJ)
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
    arr, flat = as_radii(R, "R")
    U, _ = state_parts(Za, rd_a, Zb, rd_b, flat)
    return shape_out(arr, U)


def state_coulomb_derivative(Za: float, rd_a: RadialDensity | None, Zb: float,
                             rd_b: RadialDensity | None, R):
    """dU/dR (hartree/bohr) of ``state_coulomb``."""
    arr, flat = as_radii(R, "R")
    _, dU = state_parts(Za, rd_a, Zb, rd_b, flat)
    return shape_out(arr, dU)


