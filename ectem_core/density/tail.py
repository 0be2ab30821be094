"""Tail term of the density model: the panel table of cumulative integrals and its queries
(enclosed charge Q, outer moments R_j) from which the tail's potential follows (bohr, hartree)."""
from __future__ import annotations

import math

import numba
import numpy as np

from .shells import FOUR_PI, GW, GX, TAIL_EXTENT, tail_rho, tail_rho_arr, tail_width


# ----------------------------------------------------------------------------------------
# tail term: table of cumulative integrals and queries
# ----------------------------------------------------------------------------------------
def tail_edges(tp, rmax):
    """Panel edges on [0, rmax] with widths from ``tail_width`` (graded at the origin)."""
    edges = [0.0]
    r = 0.0
    while r < rmax:
        r = min(r + tail_width(r, tp, True), rmax)
        edges.append(r)
    return np.array(edges)


def tail_panel_rho(tp, rmax):
    """Gauss-Legendre nodes u (panel x node), half-widths h and tail density on [0, rmax]."""
    edges = tail_edges(tp, rmax)
    t0, t1 = edges[:-1], edges[1:]
    h = 0.5 * (t1 - t0)
    u = (0.5 * (t0 + t1))[:, None] + h[:, None] * GX[None, :]
    rho = tail_rho_arr(u.reshape(-1), tp).reshape(u.shape)
    return edges, h, u, rho


def build_tail_table(tp):
    """Edges t_i and, at each edge, Q(t) = int_0^t 4 pi u^2 rho and A_j(t) = int_t^inf u (u-t)^j rho du.

    The A_j are accumulated from the outside in with binomially shifted (positive) sums,
    so every later query is a sum of positive terms.
    """
    edges, h, u, rho = tail_panel_rho(tp, TAIL_EXTENT / (2.0 * tp[3]))
    t0, t1 = edges[:-1], edges[1:]
    w = h[:, None] * GW[None, :]
    q = FOUR_PI * np.sum(w * u * u * rho, axis=1)
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
def tail_query(s, tp, edges, Qc, A0, A1, A2, need_left):
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
        for j in range(GX.size):
            u = mid + h * GX[j]
            rho, _ = tail_rho(u, tp)
            acc += GW[j] * u * u * rho
        Q += FOUR_PI * h * acc
    h = 0.5 * (t1 - s)
    mid = 0.5 * (t1 + s)
    r0 = 0.0
    r1 = 0.0
    r2 = 0.0
    for j in range(GX.size):
        u = mid + h * GX[j]
        rho, _ = tail_rho(u, tp)
        w = GW[j] * u * rho
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
def tail_pot(s, tp, edges, Qc, A0, A1, A2):
    """V, dV/dr, phi, dphi/dr of the tail term at s (bohr)."""
    Q, R0, R1, R2 = tail_query(s, tp, edges, Qc, A0, A1, A2, True)
    if s <= 0.0:
        return FOUR_PI * R0, 0.0, math.inf, -math.inf
    Qs = Q / s
    return Qs + FOUR_PI * R0, -Qs / s, FOUR_PI * R1 / s, -(FOUR_PI * (R1 + s * R0) / s) / s


