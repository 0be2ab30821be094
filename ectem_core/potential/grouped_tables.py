"""Uniform-grid tables of every state pair, grouped by element pair (hartree, bohr), for
`pair_data_fast`: one grid per element pair (A ≤ B) shared by all its state pairs (s, t), so that a
neighbour pair costs ONE grid lookup and then a contiguous run of nst_A · nst_B table cells (three
quintics each: K seen by A's state s, K seen by B's state t, U^sr) instead of one lookup per state pair.

The functions and their resampling are those of `uniform_tables` (same sources, switch folded in,
quintic Hermite matching f, f', f'' at every knot, the same error test relative to each function's
own scale, the same optional Ewald real space q_s q_t erfc(αR)/R); only the grid is common: its
segment breaks are the union of the state pairs' breaks, and each segment halves its spacing until
EVERY state pair passes (so a group has the finest spacing any of its state pairs needs there).
Point-density kernels (ρ, see `uniform_tables.rho_kernels`) stay exact per state pair, as there.
A state pair whose switch has ended inside the grid is 0 there (its source functions are)."""
from __future__ import annotations

import numpy as np

from .uniform_tables import (
    R_REF,
    STRIDE,
    _breaks,
    component_charge,
    merge_breaks,
    pack_segments,
    pair_functions,
    rho_kernels,
    segment_group,
)


class GroupedTables:
    """Tables of every state pair of a cut-off FastModel, one grid per element pair (see the module doc).

    Packed for the kernel (`pair_data_fast.pair_data_grouped`): epid (ne, ne) element-pair id (A ≤ B in
    element order; −1 never), r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off as in
    `uniform_tables.UniformTables` but per element pair (seg_off counts grid cells within the pair), base
    (npair,) the first coefficient row of each pair, nslot (npair,) = nst_A · nst_B; cell k of pair p,
    state pair (s, t) is coefs row base[p] + k · nslot[p] + s · nst_B + t (18 doubles: K seen by A's s,
    K seen by B's t, U^sr); rho_tid (npair, max slots, 2) and sw_lo (npair, max slots) the exact ρ
    kernels. ewald: (α 1/bohr, reach bohr) folds q_s q_t erfc(αR)/R into U^sr out to ≥ reach."""

    def __init__(self, fm, h0: float = 0.02, rtol: float = 1e-12, h_min: float = 1e-3, ewald=None):
        nst = fm.el[0]
        ne = int(nst.size)
        self.ewald = None if ewald is None else (float(ewald[0]), float(ewald[1]))
        self.epid = np.full((ne, ne), -1, dtype=np.int64)
        segs, blocks, r_end, base, nslot, self.errors, rho = [], [], [], [], [], [], []
        nrow = 0
        for ka in range(ne):
            for kb in range(ka, ne):
                p = len(segs)
                self.epid[ka, kb] = self.epid[kb, ka] = p
                pairs = [((ka, ((s, 1.0),)), (kb, ((t, 1.0),))) for s in range(int(nst[ka])) for t in range(int(nst[kb]))]
                alphas, ends, brks = [], [], []
                for A, B in pairs:
                    charged = self.ewald is not None and component_charge(fm, A) * component_charge(fm, B) != 0.0
                    alphas.append(self.ewald[0] if charged else None)
                    b = _breaks(fm, A, B, self.ewald[1] if charged else 0.0)
                    brks.append(b)
                    ends.append(float(b[-1]))
                end = max(ends)
                r0 = max(float(b[0]) for b in brks)   # every source table starts by here
                brk = merge_breaks(r0, [x for b in brks for x in b[1:]], end)
                grid = np.linspace(min(R_REF, end), end, 4001)
                scales = [np.abs(pair_functions(fm, A, B, grid, False, True, al)[:, :2]).max(axis=2)
                          for (A, B), al in zip(pairs, alphas)]
                rho.append([rho_kernels(fm, A, B) for A, B in pairs])
                rows, worst, ncell = [], 0.0, 0
                for lo, hi in zip(brk[:-1], brk[1:]):
                    cf, err = segment_group(fm, pairs, alphas, float(lo), float(hi), h0, rtol, h_min, scales)
                    rows.append((float(lo), cf.shape[0] / (hi - lo), cf.shape[0], ncell))
                    ncell += cf.shape[0]
                    blocks.append(cf.reshape(-1, STRIDE))
                    worst = max(worst, err)
                segs.append(rows)
                r_end.append(float(brk[-1]))
                base.append(nrow)
                nslot.append(len(pairs))
                nrow += ncell * len(pairs)
                self.errors.append(worst)
        npair = len(segs)
        (self.nseg, self.seg_lo, self.seg_inv_h, self.seg_n, self.seg_off, self.bins,
         self.seg_of) = pack_segments(segs, r_end)
        self.r_end = np.array(r_end)
        self.base = np.array(base, dtype=np.int64)
        self.nslot = np.array(nslot, dtype=np.int64)
        self.coefs = np.ascontiguousarray(np.concatenate(blocks))
        mslot = int(self.nslot.max())
        self.rho_tid = np.full((npair, mslot, 2), -1, dtype=np.int64)
        self.sw_lo = np.zeros((npair, mslot))
        for p, per in enumerate(rho):
            for slot, (ta, tb, lo) in enumerate(per):
                self.rho_tid[p, slot] = ta, tb
                self.sw_lo[p, slot] = lo
        self.width = float(fm.pair_opts[2])

    @property
    def packed(self):
        """The tuple the numba kernel takes."""
        return (self.epid, self.r_end, self.bins, self.seg_of, self.seg_lo, self.seg_inv_h, self.seg_n, self.seg_off,
                self.base, self.nslot, self.coefs, self.rho_tid, self.sw_lo, self.width)

    @property
    def n_cells(self) -> int:
        return int(self.coefs.shape[0])
