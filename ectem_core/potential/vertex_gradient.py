"""dE/dc of the pure model at a vertex (every atom on one state; hartree per unit weight), on a
fixed-weight evaluator's half neighbour list: what a CPE solve needs to know whether held vertex
weights are still a KKT point after the atoms moved, without the pair data of every state pair.

At a vertex (atom i on state a_i) the gradient of `kernels.energy_kernel` (pure variant) is

    ∂E/∂c_is = ΔE_s + F_s(ρ̄_i) + G_i σ_is + Σ_j [G_j K_ji(a_j, s) + U^sr(s, a_j)] + q_s φ_i,
    σ_is = Σ_j K_ij(s, a_j),  ρ̄_i = σ_{i a_i},  G_i = F'_{a_i}(ρ̄_i) (0 where ρ̄_i = 0),

with φ_i the long-range potential of the vertex charges (the mesh and self terms of PME when its real
space is folded into U^sr, as in the tables used here). Per neighbour pair only the state pairs
(s, a_j) for every s of i and (a_i, t) for every t of j enter: nst_i + nst_j − 1 of the nst_i · nst_j
cells of `grouped_tables.GroupedTables`, values only, after one grid lookup. Two passes: the first
sums σ and the U^sr terms and keeps the cross kernels K_ji(a_j, s), K_ij(a_i, t) per pair; the second
adds the G terms. Point-density kernels (ρ tables evaluated on the fly) are not handled: callers
check `supported` and fall back to the full pair data."""
from __future__ import annotations

import numba
import numpy as np

from ..embedding.function import eval_one
from .neighbours import separation
from .uniform_tables import lookup


@numba.njit(cache=True, inline="always")
def _quintic(cf, row, col, x, x2):
    """c0 + c1 x + … + c5 x⁵ as three independent pairs (a short dependency chain, unlike Horner)."""
    return (cf[row, col] + x * cf[row, col + 1]) + x2 * (cf[row, col + 2] + x * cf[row, col + 3]) + \
        x2 * x2 * (cf[row, col + 4] + x * cf[row, col + 5])


@numba.njit(cache=True, error_model="numpy")
def vertex_gradient(pos, shift, start, nbr, elem, woff, active, gt, el, phi):
    """∂E/∂c (woff[-1],) at the vertex `active` (state index per atom) of the half list (pairs (i, nbr[p]
    + shift[p]) for p in start[i]:start[i+1]; bohr), grouped tables `gt` (GroupedTables.packed), element
    data `el` (FastModel.el) and long-range potential φ (n,) hartree/e. Returns (grad_c, ρ̄)."""
    epid, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off, base, nslot, cf = gt[:11]
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    n = elem.size
    m = woff[n]
    npair = nbr.size
    sigma = np.zeros(m)
    grad = np.zeros(m)
    # per pair: where its cross kernels start (nst_i + nst_j values)
    xoff = np.empty(npair + 1, dtype=np.int64)
    xoff[0] = 0
    for i in range(n):
        for p in range(start[i], start[i + 1]):
            xoff[p + 1] = xoff[p] + nst[elem[i]] + nst[elem[nbr[p]]]
    cross = np.zeros(xoff[npair])
    sig_i = np.zeros(nst.max())   # atom i's sums, kept local over its pairs
    u_i = np.zeros(nst.max())
    for i in range(n):
        ki = elem[i]
        ni = nst[ki]
        a = woff[i]
        si = active[i]
        for s in range(ni):
            sig_i[s] = 0.0
            u_i[s] = 0.0
        for p in range(start[i], start[i + 1]):
            j = nbr[p]
            r = separation(pos, shift, p, i, j)[3]
            kj = elem[j]
            g = epid[ki, kj]
            cell, x, ih = lookup(g, r, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off)
            if cell < 0:
                continue
            nj = nst[kj]
            b = woff[j]
            tj = active[j]
            swap = ki > kj
            nb = ni if swap else nj
            row0 = base[g] + cell * nslot[g]
            x2 = x * x
            # the table's A side is i's element unless swapped: K_ij(s, t) is column 0 (A sees B) or 6
            ci = 6 if swap else 0
            cj = 0 if swap else 6
            for s in range(ni):          # state pairs (s, a_j): σ_is, U^sr(s, a_j), K_ji(a_j, s)
                row = row0 + (tj * nb + s if swap else s * nb + tj)
                sig_i[s] += _quintic(cf, row, ci, x, x2)
                u_i[s] += _quintic(cf, row, 12, x, x2)
                cross[xoff[p] + s] = _quintic(cf, row, cj, x, x2)
            for t in range(nj):          # state pairs (a_i, t): σ_jt, U^sr(a_i, t), K_ij(a_i, t)
                row = row0 + (t * nb + si if swap else si * nb + t)
                sigma[b + t] += _quintic(cf, row, cj, x, x2)
                grad[b + t] += _quintic(cf, row, 12, x, x2)
                cross[xoff[p] + ni + t] = _quintic(cf, row, ci, x, x2)
        for s in range(ni):
            sigma[a + s] += sig_i[s]
            grad[a + s] += u_i[s]
    rho = np.zeros(n)
    G = np.zeros(n)
    for i in range(n):
        k = elem[i]
        a = woff[i]
        r = sigma[a + active[i]]
        rho[i] = r
        rr = r if r > 0.0 else 0.0
        for s in range(nst[k]):
            F, dF, _ = eval_one(rr, emb[eoff[k, s]:eend[k, s]])
            grad[a + s] += dE[k, s] + F + phi[i] * charge[k, s]
            if s == active[i] and r > 0.0:
                G[i] = dF
        if r > 0.0:
            for s in range(nst[k]):
                grad[a + s] += G[i] * sigma[a + s]
    for i in range(n):
        ni = nst[elem[i]]
        a = woff[i]
        for p in range(start[i], start[i + 1]):
            j = nbr[p]
            b = woff[j]
            for s in range(ni):
                grad[a + s] += G[j] * cross[xoff[p] + s]
            for t in range(nst[elem[j]]):
                grad[b + t] += G[i] * cross[xoff[p] + ni + t]
    return grad, rho


def supported(gt_obj, kinds) -> bool:
    """True when no state pair of the element pairs among `kinds` (element indices) needs an exact ρ
    kernel (point background, a state without electrons): those are not in the grouped cells."""
    for a in kinds:
        for b in kinds:
            if np.any(gt_obj.rho_tid[gt_obj.epid[a, b]] >= 0):
                return False
    return True
