"""dE/dc of the pure model at a vertex (every atom on one state; hartree per unit weight), on a
fixed-weight evaluator's half neighbour list: what a CPE solve needs to know whether held vertex
weights are still a KKT point after the atoms moved, without the pair data of every state pair.

At a vertex (atom i on state a_i) the gradient of `kernels.energy_kernel` (pure variant) is

    ∂E/∂c_is = ΔE_s + F_s(ρ̄_i) + G_i σ_is + Σ_j [G_j K_ji(a_j, s) + U^sr(s, a_j)] + q_s φ_i,
    σ_is = Σ_j K_ij(s, a_j),  ρ̄_i = σ_{i a_i},  G_i = F'_{a_i}(ρ̄_i) (0 where ρ̄_i = 0),

with φ_i the long-range potential of the vertex charges (the mesh and self terms of PME when its real
space is folded into U^sr, as in the tables used here). ρ̄ (hence G) is the fixed-weight evaluator's,
so one pass over the pairs suffices: per neighbour pair only the state pairs (s, a_j) for every s of i
and (a_i, t) for every t of j enter, nst_i + nst_j − 1 of the nst_i · nst_j cells of
`grouped_tables.GroupedTables` (the cell (a_i, a_j) serves both sides), values only, after one grid
lookup. The pass runs in parallel (`numba.prange`) over chunks of atoms of about equal pair counts,
each accumulating into its own buffers. Point-density kernels (ρ tables evaluated on the fly) are not
handled: callers check `supported` and fall back to the full pair data."""
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


@numba.njit(cache=True, parallel=True, error_model="numpy")
def vertex_gradient(pos, shift, start, nbr, chunk, elem, woff, active, rho, gt, el, phi):
    """∂E/∂c (woff[-1],) at the vertex `active` (state index per atom) of the half list (pairs (i, nbr[p]
    + shift[p]) for p in start[i]:start[i+1]; bohr) split into the atom chunks chunk[c]..chunk[c+1],
    with ρ̄ (n,) of that vertex (bohr⁻³), grouped tables `gt` (GroupedTables.packed), element data `el`
    (FastModel.el) and long-range potential φ (n,) hartree/e."""
    epid, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off, base, nslot, cf = gt[:11]
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    n = elem.size
    m = woff[n]
    nch = chunk.size - 1
    G = np.zeros(n)
    for i in range(n):
        if rho[i] > 0.0:
            k = elem[i]
            G[i] = eval_one(rho[i], emb[eoff[k, active[i]]:eend[k, active[i]]])[1]
    nmax = nst.max()
    sig_c = np.zeros((nch, m))    # σ_is per chunk
    grad_c = np.zeros((nch, m))   # Σ_j [U^sr(s, a_j) + G_j K_ji(a_j, s)] per chunk
    for c in numba.prange(nch):
        sig = sig_c[c]
        grd = grad_c[c]
        sig_i = np.zeros(nmax)    # atom i's sums, kept local over its pairs
        u_i = np.zeros(nmax)
        for i in range(chunk[c], chunk[c + 1]):
            ki = elem[i]
            ni = nst[ki]
            a = woff[i]
            si = active[i]
            gi = G[i]
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
                gj = G[j]
                swap = ki > kj
                nb = ni if swap else nj
                row0 = base[g] + cell * nslot[g]
                x2 = x * x
                # the table's A side is i's element unless swapped: K_ij(s, t) is column 0 (A sees B) or 6
                ci = 6 if swap else 0
                cj = 0 if swap else 6
                kij = 0.0
                kji = 0.0
                uv = 0.0
                for s in range(ni):          # state pairs (s, a_j): σ_is, U^sr(s, a_j), K_ji(a_j, s)
                    row = row0 + (tj * nb + s if swap else s * nb + tj)
                    k1 = _quintic(cf, row, ci, x, x2)
                    k2 = _quintic(cf, row, cj, x, x2)
                    u = _quintic(cf, row, 12, x, x2)
                    sig_i[s] += k1
                    u_i[s] += u + gj * k2
                    if s == si:
                        kij = k1
                        kji = k2
                        uv = u
                for t in range(nj):          # state pairs (a_i, t): σ_jt, U^sr(a_i, t), K_ij(a_i, t)
                    if t == tj:
                        k1 = kij
                        k2 = kji
                        u = uv
                    else:
                        row = row0 + (t * nb + si if swap else si * nb + t)
                        k1 = _quintic(cf, row, ci, x, x2)
                        k2 = _quintic(cf, row, cj, x, x2)
                        u = _quintic(cf, row, 12, x, x2)
                    sig[b + t] += k2
                    grd[b + t] += u + gi * k1
            for s in range(ni):
                sig[a + s] += sig_i[s]
                grd[a + s] += u_i[s]
    grad = np.zeros(m)
    for i in range(n):
        k = elem[i]
        a = woff[i]
        rr = rho[i] if rho[i] > 0.0 else 0.0
        for s in range(nst[k]):
            sg = 0.0
            for c in range(nch):
                sg += sig_c[c, a + s]
                grad[a + s] += grad_c[c, a + s]
            F = eval_one(rr, emb[eoff[k, s]:eend[k, s]])[0]
            grad[a + s] += dE[k, s] + F + phi[i] * charge[k, s] + G[i] * sg
    return grad


def supported(gt_obj, kinds) -> bool:
    """True when no state pair of the element pairs among `kinds` (element indices) needs an exact ρ
    kernel (point background, a state without electrons): those are not in the grouped cells."""
    for a in kinds:
        for b in kinds:
            if np.any(gt_obj.rho_tid[gt_obj.epid[a, b]] >= 0):
                return False
    return True
