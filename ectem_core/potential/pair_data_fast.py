"""Positions-only pair data of a cut-off FastModel on uniform-grid tables (hartree, bohr).

Same outputs as `kernels.pair_data_kernel` (R, unit vectors, the per-pair state-block offsets, the
switched background kernels K_ij, K_ji (bohr⁻³), the short-range Coulomb U^sr (hartree), the
normalized ground-state overlap and the thermal τ, each with its R-derivative), but every switched
pair function of a state pair (s, t) comes from `grouped_tables.GroupedTables`, built once per
FastModel: one uniform grid per element pair, so a neighbour pair costs one O(1) grid lookup and then
nst_i · nst_j consecutive table cells (three quintics each: K_ij, K_ji, U^sr) instead of three
binary-searched source tables and an exp per state pair. Point-density kernels (point background,
states without electrons) stay exact, as in `fixed.py`; so does the ground-state overlap where it is
not K_ij · N (then `_tab` × switch). With particle-mesh Ewald on the same pair list, U^sr also holds
q_s q_t erfc(αR)/R (`long_range.folded_real_space`).
Only for cut-off models (cutoff_tol set): exact mode keeps the exact tables, which run to ∞."""
from __future__ import annotations

import math
import sys
import threading

import numba
import numpy as np

from .grouped_tables import GroupedTables
from .kernels import _tab, thermal_tau
from .neighbours import separation
from .pair_tables import switch_nb
from .threads import threads_for
from .uniform_tables import lookup


def grouped_tables(fm, h0: float = 0.02, rtol: float = 1e-12, h_min: float = 1e-3, ewald=None) -> GroupedTables:
    """The GroupedTables of every state pair of the cut-off FastModel `fm`, built on first use and
    cached on fm, keyed by accuracy and `ewald` ((α, reach) folds the PME real space into U^sr)."""
    if fm.cutoff_tol is None:
        raise ValueError("uniform pair tables need a cut-off model (cutoff_tol)")
    cache = fm.__dict__.setdefault("_grouped_tables", {})
    key = (float(h0), float(rtol), float(h_min)) + (() if ewald is None else tuple(float(x) for x in ewald))
    if key not in cache:
        cache[key] = GroupedTables(fm, h0, rtol, h_min, ewald=ewald)
    return cache[key]


def grouped_pair_tables(fm, h0: float = 0.02, rtol: float = 1e-12, h_min: float = 1e-3, ewald=None):
    """`grouped_tables(...)`.packed, the tuple the kernels take."""
    return grouped_tables(fm, h0, rtol, h_min, ewald).packed


@numba.njit(cache=True, error_model="numpy", parallel=True)
def pair_data_grouped(pos, shift, elem, woff, pi, pj, boff, out, gt, tabs, el, pair_opts):
    """`kernels.pair_data_kernel` on the grouped tables `gt` (GroupedTables.packed); pair p joins atom
    pi[p] and the image pj[p] + shift[p] (bohr). boff: the per-pair offsets of the state blocks
    (`block_offsets`); out (6, boff[-1]): filled with K_ij, K_ji, dK_ij/dR, dK_ji/dR, U^sr, dU^sr/dR
    (every slot written). One grid lookup per pair, then the nst_i · nst_j cells of its element pair
    in a row. Parallel over pairs (each writes only its own slots). Returns (R, u, sres, dsres, tau, dtau)."""
    epid, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off, base, nslot, cf, rho_tid, sw_lo, sw_width = gt
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = tabs
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    point, r_on, width, rs, T0, tw, tau_on = pair_opts
    npair = pi.size
    R = np.empty(npair)
    u = np.empty((npair, 3))
    Kij = out[0]
    Kji = out[1]
    dKij = out[2]
    dKji = out[3]
    Us = out[4]
    dUs = out[5]
    sres = np.zeros(npair)
    dsres = np.zeros(npair)
    tau = np.zeros(npair)
    dtau = np.zeros(npair)
    for p in numba.prange(npair):
        i = pi[p]
        j = pj[p]
        d0, d1, d2, r = separation(pos, shift, p, i, j)
        R[p] = r
        u[p, 0] = d0 / r
        u[p, 1] = d1 / r
        u[p, 2] = d2 / r
        ki = elem[i]
        kj = elem[j]
        ni = nst[ki]
        nj = nst[kj]
        o = boff[p]
        g = epid[ki, kj]
        swap = ki > kj            # the table's first element is j's: its K "seen by A" is K_ji
        nb = ni if swap else nj   # states of the table's second element
        cell, x, ih = lookup(g, r, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off)
        if cell < 0:              # beyond every switch of this element pair: every function is 0
            for k in range(o, o + ni * nj):
                Kij[k] = 0.0
                dKij[k] = 0.0
                Kji[k] = 0.0
                dKji[k] = 0.0
                Us[k] = 0.0
                dUs[k] = 0.0
        else:
            row0 = base[g] + cell * nslot[g]
            for s in range(ni):
                for t in range(nj):
                    slot = t * nb + s if swap else s * nb + t
                    row = row0 + slot
                    ka = cf[row, 0] + x * (cf[row, 1] + x * (cf[row, 2] + x * (
                        cf[row, 3] + x * (cf[row, 4] + x * cf[row, 5]))))
                    dka = ih * (cf[row, 1] + x * (2.0 * cf[row, 2] + x * (3.0 * cf[row, 3] + x * (
                        4.0 * cf[row, 4] + x * 5.0 * cf[row, 5]))))
                    kb = cf[row, 6] + x * (cf[row, 7] + x * (cf[row, 8] + x * (
                        cf[row, 9] + x * (cf[row, 10] + x * cf[row, 11]))))
                    dkb = ih * (cf[row, 7] + x * (2.0 * cf[row, 8] + x * (3.0 * cf[row, 9] + x * (
                        4.0 * cf[row, 10] + x * 5.0 * cf[row, 11]))))
                    U = cf[row, 12] + x * (cf[row, 13] + x * (cf[row, 14] + x * (
                        cf[row, 15] + x * (cf[row, 16] + x * cf[row, 17]))))
                    dU = ih * (cf[row, 13] + x * (2.0 * cf[row, 14] + x * (3.0 * cf[row, 15] + x * (
                        4.0 * cf[row, 16] + x * 5.0 * cf[row, 17]))))
                    if rho_tid[g, slot, 0] >= 0 or rho_tid[g, slot, 1] >= 0:
                        # point-density kernels: exact source table × switch (uniform_tables.rho_kernels)
                        sw, dsw = switch_nb(r, sw_lo[g, slot], sw_lo[g, slot] + sw_width)
                        for side in range(2):
                            tid = rho_tid[g, slot, side]
                            if tid < 0 or sw == 0.0:
                                continue
                            v, dv = _tab(tid, r, knots, kstart, coefs, cstart, meta, False)
                            if side == 0:
                                ka += sw * v
                                dka += sw * dv + dsw * v
                            else:
                                kb += sw * v
                                dkb += sw * dv + dsw * v
                    if swap:
                        ka, kb, dka, dkb = kb, ka, dkb, dka
                    Kij[o + s * nj + t] = ka
                    dKij[o + s * nj + t] = dka
                    Kji[o + t * ni + s] = kb
                    dKji[o + t * ni + s] = dkb
                    Us[o + s * nj + t] = U
                    dUs[o + s * nj + t] = dU
        # the normalized ground-state overlap (kernels.pair_data_kernel's sres)
        s = ground[ki]
        t = ground[kj]
        norm = math.sqrt(selfov[ki] * selfov[kj])
        if point or nel[ki, s] == 0:   # K_ij is a point density, not S/N: the overlap table itself
            sw, dsw = switch_nb(r, r_on[ki, kj, s, t], r_on[ki, kj, s, t] + width)
            S, dS = _tab(Sid[ki, kj, s, t], r, knots, kstart, coefs, cstart, meta, False)
            sres[p] = sw * S / norm
            dsres[p] = (sw * dS + dsw * S) / norm
        else:                          # sw S = N_s · K_ij
            sres[p] = Kij[o + s * nj + t] * nel[ki, s] / norm
            dsres[p] = dKij[o + s * nj + t] * nel[ki, s] / norm
        # thermal temperature (model.ECTModel.temperature), switched as in kernels.pair_data_kernel
        tau[p], dtau[p] = thermal_tau(r, rs[ki, kj], T0[ki, kj], tw, tau_on[ki, kj], width)
    return R, u, sres, dsres, tau, dtau


def block_offsets(woff, pi, pj):
    """Offsets (npair + 1) of each pair's (states of i) × (states of j) block, as pair_data_kernel's boff."""
    n = woff[1:] - woff[:-1]
    boff = np.zeros(pi.size + 1, dtype=np.int64)
    np.cumsum(n[pi] * n[pj], out=boff[1:])
    return boff


_BUFFER_LOCK = threading.Lock()


def _buffer(fm, nb):
    """A (6, nb) float block for the per-state-pair arrays: the one of fm's previous call when nothing
    refers to it any more (all its PairData gone), else a new one (kept for the next call). Reusing it
    saves the page faults of a fresh block of tens of MB, which cost as much as the lookups themselves."""
    with _BUFFER_LOCK:
        slot = fm.__dict__.setdefault("_pair_data_buffer", [None])
        buf = slot[0]
        slot[0] = None   # claimed: a concurrent call allocates its own
        # references: this local and getrefcount's argument; any more are views held by a PairData
        if buf is None or buf.size < 6 * nb or sys.getrefcount(buf) > 2:
            buf = np.empty(max(6 * nb, int(1.25 * 6 * nb)))
    return buf


def pair_data(fm, pos, shift, elem, woff, pi, pj, ewald=None):
    """The 13 arrays of `kernels.pair_data_kernel` (R, u, boff, K_ij, K_ji, dK_ij/dR, dK_ji/dR, U^sr,
    dU^sr/dR, sres, dsres, τ, dτ/dR; bohr, hartree) of the cut-off FastModel fm on uniform tables;
    ewald (α, reach): U^sr also holds q_s q_t erfc(αR)/R (the PME real space, `uniform_pair_tables`)."""
    gt = grouped_pair_tables(fm, ewald=ewald)
    boff = block_offsets(woff, pi, pj)
    nb = int(boff[-1])
    buf = _buffer(fm, nb)
    out = buf[:6 * nb].reshape(6, nb)
    with threads_for(int(pi.size)):
        R, u, sres, dsres, tau, dtau = pair_data_grouped(pos, shift, elem, woff, pi, pj, boff, out, gt, fm.tabs,
                                                         fm.el, fm.pair_opts)
    with _BUFFER_LOCK:
        fm.__dict__.setdefault("_pair_data_buffer", [None])[0] = buf
    return R, u, boff, out[0], out[1], out[2], out[3], out[4], out[5], sres, dsres, tau, dtau
