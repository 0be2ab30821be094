"""Uniform-grid pair tables at fixed ensemble weights (hartree, bohr) for `potential.fixed`.

At fixed weights each pair (A, B) of atom *components* — a component is an element with a fixed list
of (state, weight): one per atom type on a vertex or at neutral weights, one per active state of an
element otherwise — has three functions of R with the C¹ switch folded in:

    KA(R) = Σ_st w_s w_t sw_st(R) K_st(R)    background density seen by A from B (bohr⁻³),
    KB(R) = Σ_st w_s w_t sw_st(R) K_ts(R)    seen by B from A,
    U(R)  = Σ_st w_s w_t sw_st(R) U^sr_st(R) short-range Coulomb U − q_s q_t / R (hartree),

with K = S/N (overlap background) or ρ (point background, or a state without electrons; such ρ kernels
stay exact, see `rho_kernels`) and sw_st the switch of fastmodel (1 below r_on, 0 beyond r_on + width).
They are resampled from the exact pair tables (`FastModel.tabs`; LOG tables through f = e^p,
f' = p' f, f'' = (p'' + p'²) f) as piecewise quintic Hermite interpolants matching f, f', f'' at every
knot, on a few uniform segments: breaks at every switch start and end and every source-table end
(where f'' jumps) and at R_min·2^k (so that the fine spacing of the steep inner region is not used
everywhere). Each segment halves its spacing until the interpolant matches the source at the cell
mid- and quarter-points to `rtol` of the larger of the segment's own largest |f| (|f'|) and the
largest at R ≥ R_REF = 2 bohr (a short bond: the size of the terms a sum over neighbours adds up), or
the spacing reaches `h_min`. The source tables are C² piecewise quintics on knots of their own, so the
resampling error falls as h³ (h² for f'), not h⁶. Lookup: the segment of R's coarse bin (BIN wide;
one more compare where a segment starts inside the bin), then k = int((R − lo)·inv_h). Beyond the last
switch end every function is 0; below R_min the first cell's polynomial is extended."""
from __future__ import annotations

import math

import numba
import numpy as np

from .kernels import _tab
from .pair_tables import _hermite, switch_nb

NF = 3          # functions per component pair: KA, KB, U
STRIDE = 6 * NF  # doubles per cell
R_REF = 2.0     # bohr: beyond it errors are measured against the largest |f|, |f'| at R ≥ R_REF
BIN = 0.05      # bohr: coarse bins that map R to its segment in O(1)


# ----------------------------------------------------------------------------- exact source values
def source_derivs(tabs, tid: int, R, short: bool, left=False):
    """(f, f', f'') of flat table `tid` of FastModel.tabs at R (array, bohr): the value `_tab` gives
    (short=True: U − qq/R for a COULOMB table), with exact first and second derivatives. left=True
    (a bool or one per R) takes the left limit at a knot and at the table end, else the right one (as `_tab`)."""
    knots, kstart, coefs, cstart, meta = tabs[:5]
    R = np.atleast_1d(np.asarray(R, dtype=float))
    kn = knots[kstart[tid]:kstart[tid + 1]]
    cf = coefs[cstart[tid]:cstart[tid + 1]]
    kind = int(meta[tid, 0])
    K = kn.size - 1
    left = np.broadcast_to(np.asarray(left, dtype=bool), R.shape)
    k = np.where(left, np.searchsorted(kn, R, side="left"), np.searchsorted(kn, R, side="right")) - 1
    k = np.clip(k, 0, K - 1)
    beyond = np.where(left, R > kn[K], R >= kn[K])
    t = R - kn[k]
    c = cf[k]
    p = c[:, 0] + t * (c[:, 1] + t * (c[:, 2] + t * (c[:, 3] + t * (c[:, 4] + t * c[:, 5]))))
    p1 = c[:, 1] + t * (2 * c[:, 2] + t * (3 * c[:, 3] + t * (4 * c[:, 4] + t * 5 * c[:, 5])))
    p2 = 2 * c[:, 2] + t * (6 * c[:, 3] + t * (12 * c[:, 4] + t * 20 * c[:, 5]))
    if kind == 1:   # LOG: beyond the end ln f continues linearly
        te = kn[K] - kn[K - 1]
        ce = cf[K - 1]
        pe = ce[0] + te * (ce[1] + te * (ce[2] + te * (ce[3] + te * (ce[4] + te * ce[5]))))
        de = ce[1] + te * (2 * ce[2] + te * (3 * ce[3] + te * (4 * ce[4] + te * 5 * ce[5])))
        p = np.where(beyond, pe + de * (R - kn[K]), p)
        p1 = np.where(beyond, de, p1)
        p2 = np.where(beyond, 0.0, p2)
        f = np.exp(p)
        return f, p1 * f, (p2 + p1 * p1) * f
    if kind == 2:   # COULOMB: p = R U − qq
        if not short:
            raise ValueError("source_derivs: only the short-range part of a COULOMB table")
        f = p / R
        f1 = (p1 * R - p) / R ** 2
        f2 = p2 / R - 2.0 * p1 / R ** 2 + 2.0 * p / R ** 3
    else:
        f, f1, f2 = p, p1, p2
    z = np.where(beyond, 0.0, 1.0)
    return f * z, f1 * z, f2 * z


def switch_derivs(R, r_on: float, r_off: float, left=False):
    """(s, s', s'') of pair_tables.switch_nb at R (array, bohr); left (bool or one per R): the left limit
    of s'' at r_on and r_off, else the right one."""
    R = np.atleast_1d(np.asarray(R, dtype=float))
    w = r_off - r_on
    x = (R - r_on) / w
    inside = np.where(left, (R > r_on) & (R <= r_off), (R >= r_on) & (R < r_off))
    s = np.where(R <= r_on, 1.0, np.where(R >= r_off, 0.0, 1.0 - x * x * (3.0 - 2.0 * x)))
    s1 = np.where(inside, -6.0 * x * (1.0 - x) / w, 0.0)
    s2 = np.where(inside, -6.0 * (1.0 - 2.0 * x) / (w * w), 0.0)
    return s, s1, s2


def component_charge(fm, comp) -> float:
    """Charge (e) of a component (element index, ((state, weight), ...)): Σ_s w_s q_s."""
    k, states = comp
    return float(sum(w * fm.el[1][k, s] for s, w in states))


def ewald_real_derivs(R, alpha: float):
    """(f, f', f'') of erfc(αR)/R at R (array, bohr; α in 1/bohr): the real-space Ewald pair kernel."""
    from scipy.special import erfc

    R = np.atleast_1d(np.asarray(R, dtype=float))
    g = erfc(alpha * R)
    gauss = 2.0 * alpha / math.sqrt(math.pi) * np.exp(-(alpha * R) ** 2)
    f = g / R
    f1 = -gauss / R - g / R ** 2
    f2 = gauss * (2.0 * alpha ** 2 + 2.0 / R ** 2) + 2.0 * g / R ** 3
    return f, f1, f2


def pair_functions(fm, compA, compB, R, left=False, resampled_only=False, ewald_alpha=None):
    """Exact (3, 3, len(R)) array [KA, KB, U][f, f', f''] of the component pair (A, B) at R (bohr);
    a component is (element index, ((state, weight), ...)); left as in `source_derivs`.
    resampled_only: leave out the ρ kernels (evaluated on the fly, see `rho_kernels`).
    ewald_alpha (1/bohr): U also holds q_A q_B erfc(αR)/R, the real-space part of a particle-mesh
    Ewald sum with that splitting (not switched: it ends where the table ends)."""
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = fm.tabs
    nel = fm.el[2]
    point, r_on, width = fm.pair_opts[:3]
    R = np.atleast_1d(np.asarray(R, dtype=float))
    out = np.zeros((NF, 3, R.size))
    ka, sa = compA
    kb, sb = compB
    seen = {}

    def table(tid, short):
        if tid not in seen:
            seen[tid] = source_derivs(fm.tabs, tid, R, short, left)
        return seen[tid]

    for s, ws in sa:
        for t, wt in sb:
            lo = float(r_on[ka, kb, s, t])
            if lo + width <= R.min():
                continue
            sw = switch_derivs(R, lo, lo + width, left)
            zero = np.zeros((3, R.size))
            if point or nel[ka, s] == 0:
                fa = zero if resampled_only else table(rhoid[kb, t], False)
            else:
                fa = [x / nel[ka, s] for x in table(Sid[ka, kb, s, t], False)]
            if point or nel[kb, t] == 0:
                fb = zero if resampled_only else table(rhoid[ka, s], False)
            else:
                fb = [x / nel[kb, t] for x in table(Sid[ka, kb, s, t], False)]
            fu = table(Uid[ka, kb, s, t], True)
            for m, f in enumerate((fa, fb, fu)):
                out[m, 0] += ws * wt * (f[0] * sw[0])
                out[m, 1] += ws * wt * (f[1] * sw[0] + f[0] * sw[1])
                out[m, 2] += ws * wt * (f[2] * sw[0] + 2.0 * f[1] * sw[1] + f[0] * sw[2])
    if ewald_alpha is not None:
        qq = component_charge(fm, compA) * component_charge(fm, compB)
        if qq != 0.0:
            out[2] += qq * np.array(ewald_real_derivs(R, float(ewald_alpha)))
    return out


def rho_kernels(fm, compA, compB):
    """(table id of KA, of KB, r_on) for kernels that are point densities ρ (point background, or a
    state without electrons), −1 where K = S/N. The ρ tables are C¹ cubics (their f'' jumps at every
    knot), which no smooth resampling follows to 1e-10, so these stay exact: evaluated on the fly
    (`kernels._tab` × switch). Needs single-state components (ValueError otherwise)."""
    rhoid = fm.tabs[7]
    nel = fm.el[2]
    point, r_on = fm.pair_opts[:2]
    ka, sa = compA
    kb, sb = compB
    ta = [rhoid[kb, t] if (point or nel[ka, s] == 0) else -1 for s, _ in sa for t, _ in sb]
    tb = [rhoid[ka, s] if (point or nel[kb, t] == 0) else -1 for s, _ in sa for t, _ in sb]
    if max(ta + tb) < 0:
        return -1, -1, 0.0
    if len(sa) != 1 or len(sb) != 1 or sa[0][1] != 1.0 or sb[0][1] != 1.0:
        raise ValueError("uniform tables: ρ kernels need single-state components of weight 1")
    return int(ta[0]), int(tb[0]), float(r_on[ka, kb, sa[0][0], sb[0][0]])


def _breaks(fm, compA, compB, r_min_end: float = 0.0):
    """Grid start, switch ends and every knot where a folded function's f'' may jump (bohr); the
    table ends at the last switch end or at r_min_end, whichever is further."""
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = fm.tabs
    nel = fm.el[2]
    point, r_on, width = fm.pair_opts[:3]
    ka, sa = compA
    kb, sb = compB
    ends, starts = [], []
    for s, _ in sa:
        for t, _ in sb:
            lo = float(r_on[ka, kb, s, t])
            ends += [lo, lo + width]
            tids = [Uid[ka, kb, s, t]]
            tids.append(rhoid[kb, t] if (point or nel[ka, s] == 0) else Sid[ka, kb, s, t])
            tids.append(rhoid[ka, s] if (point or nel[kb, t] == 0) else Sid[ka, kb, s, t])
            for tid in tids:
                starts.append(float(meta[tid, 2]))
                ends.append(float(meta[tid, 3]))
    r0 = max(starts)
    r_end = max(max(float(r_on[ka, kb, s, t]) + width for s, _ in sa for t, _ in sb), float(r_min_end))
    return merge_breaks(r0, [r0 * 2.0 ** m for m in range(1, 8)] + ends, r_end)


def merge_breaks(r0: float, points, r_end: float) -> np.ndarray:
    """Sorted segment breaks from r0 to r_end (bohr): the points strictly between them, any closer
    than 1e-9 bohr to the previous break (or to r_end) dropped."""
    brk = [float(r0)]
    for x in sorted(float(x) for x in points if r0 < x < r_end):
        if x - brk[-1] > 1e-9:
            brk.append(x)
    if r_end - brk[-1] <= 1e-9:
        brk.pop()
    return np.array(brk + [float(r_end)])


def _segment(fm, compA, compB, lo, hi, h0, rtol, h_min, scale, ewald_alpha=None):
    """Coefficients (n, 18) of one uniform segment [lo, hi] and its worst error measured, relative to
    max(the segment's largest |f|, |f'|, `scale` (2, 3): the largest beyond R_REF)."""
    cf, worst = segment_group(fm, [(compA, compB)], [ewald_alpha], lo, hi, h0, rtol, h_min, [scale])
    return cf[:, 0], worst


def segment_group(fm, pairs, ewald, lo, hi, h0, rtol, h_min, scales):
    """Coefficients (n, len(pairs), 18) of one uniform segment [lo, hi] common to the component pairs
    `pairs` ((compA, compB) each; ewald[k]: α of pair k or None) and the worst error measured: the
    spacing halves from h0 until every pair's interpolant matches it at the cell quarter-, mid- and
    three-quarter points to rtol of max(the segment's largest |f| (|f'|), scales[k] (2, 3): the largest
    beyond R_REF), or reaches h_min."""
    n = max(1, int(math.ceil((hi - lo) / h0 - 1e-9)))
    frac = np.array([0.25, 0.5, 0.75])
    while True:
        h = (hi - lo) / n
        x = lo + h * np.arange(n + 1)
        x[-1] = hi
        # one pass over the sources: right limits at the cell starts, left limits at the cell ends,
        # and the check points (quarter, mid and three-quarter of every cell)
        uu = np.tile(frac, n)
        cell = np.repeat(np.arange(n), frac.size)
        side = np.concatenate([np.zeros(n, bool), np.ones(n, bool), np.zeros(uu.size, bool)])
        where = np.concatenate([x[:-1], x[1:], lo + (cell + uu) * h])
        powers = h ** np.arange(6)   # power coefficients in u = (R − cell start)/h ∈ [0, 1)
        cf = np.empty((n, len(pairs), STRIDE))
        worst = 0.0
        for k, (A, B) in enumerate(pairs):
            allf = pair_functions(fm, A, B, where, side, True, ewald[k])
            fr, fl, ex = allf[:, :, :n], allf[:, :, n:2 * n], allf[:, :, 2 * n:]
            for m in range(NF):
                cf[:, k, 6 * m:6 * m + 6] = _hermite(np.full(n, h), fr[m, 0], fr[m, 1], fr[m, 2],
                                                     fl[m, 0], fl[m, 1], fl[m, 2], 5) * powers
                v, d = poly_eval(cf[cell, k, 6 * m:6 * m + 6], uu)
                sv = max(np.abs(ex[m, 0]).max(), np.abs(fr[m, 0]).max(), scales[k][m, 0], 1e-300)
                sd = max(np.abs(ex[m, 1]).max(), np.abs(fr[m, 1]).max(), scales[k][m, 1], 1e-300)
                worst = max(worst, np.abs(v - ex[m, 0]).max() / sv, np.abs(d / h - ex[m, 1]).max() / sd)
            if worst > rtol and h > h_min:
                break   # this spacing fails already: halve it before sampling the remaining pairs
        if worst <= rtol or h <= h_min:
            return cf, worst
        n *= 2


def pack_segments(segs, r_end):
    """The lookup arrays of per-pair segment lists segs[p] = [(lo, 1/h, n cells, first cell), ...] with
    table ends r_end[p] (bohr): nseg, seg_lo (padded with ∞: seg_lo[p, nseg[p]] = ∞), seg_inv_h, seg_n,
    seg_off, bins (grid start, 1/BIN) and seg_of, the segment holding the start of each coarse bin of
    BIN bohr from the grid start (see `lookup`)."""
    ms = max(len(r) for r in segs)
    npair = len(segs)
    nseg = np.array([len(r) for r in segs], dtype=np.int64)
    seg_lo = np.full((npair, ms + 1), np.inf)
    seg_inv_h = np.zeros((npair, ms))
    seg_n = np.zeros((npair, ms), dtype=np.int64)
    seg_off = np.zeros((npair, ms), dtype=np.int64)
    for p, rows in enumerate(segs):
        for s, (lo, ih, n, off) in enumerate(rows):
            seg_lo[p, s], seg_inv_h[p, s], seg_n[p, s], seg_off[p, s] = lo, ih, n, off
    nbin = [int(math.ceil((r_end[p] - seg_lo[p, 0]) / BIN)) + 1 for p in range(npair)]
    bins = np.array([[seg_lo[p, 0], 1.0 / BIN] for p in range(npair)])
    seg_of = np.zeros((npair, max(nbin)), dtype=np.int64)
    for p in range(npair):
        starts = seg_lo[p, 0] + BIN * np.arange(nbin[p])
        seg_of[p, :nbin[p]] = np.searchsorted(seg_lo[p, :nseg[p]], starts, side="right") - 1
    return nseg, seg_lo, seg_inv_h, seg_n, seg_off, bins, seg_of


def poly_eval(c, t):
    """Value and d/dt of power-form quintics c (..., 6) at t (numpy)."""
    v = c[..., 0] + t * (c[..., 1] + t * (c[..., 2] + t * (c[..., 3] + t * (c[..., 4] + t * c[..., 5]))))
    d = c[..., 1] + t * (2 * c[..., 2] + t * (3 * c[..., 3] + t * (4 * c[..., 4] + t * 5 * c[..., 5])))
    return v, d


class UniformTables:
    """Resampled tables of every unordered component pair (A ≤ B); see the module doc.

    comps: list of components (element index, ((state, weight), ...)); h0 (bohr): starting spacing;
    rtol: target error relative to each segment's largest |f| and |f'|; h_min (bohr): finest spacing.
    Packed for the kernel: cpid (nc, nc) pair id (A, B in either order), r_end (npair,), per pair the
    coarse bins (grid start, 1/BIN) and the segment of each bin, per segment lo, inv_h, n cells, first
    cell (padded to the largest nseg; seg_lo with one more column of ∞); coefs (cells, 18)
    = KA, KB, U power coefficients in u = (R − cell start)/h (d/dR = inv_h d/du). `errors[p]` the worst error measured.
    ewald: (α 1/bohr, reach bohr) or None: U of every pair of charged components also holds
    q_A q_B erfc(αR)/R out to at least `reach` (the real-space part of the particle-mesh Ewald sum,
    `long_range.folded_real_space`), so that a fixed-charge pass needs no real-space Ewald pass."""

    def __init__(self, fm, comps, h0: float = 0.02, rtol: float = 1e-12, h_min: float = 1e-3, ewald=None):
        self.comps = list(comps)
        self.ewald = None if ewald is None else (float(ewald[0]), float(ewald[1]))
        nc = len(self.comps)
        self.cpid = np.full((nc, nc), -1, dtype=np.int64)
        segs, blocks, r_end, self.errors, rho = [], [], [], [], []
        ncell = 0
        for a in range(nc):
            for b in range(a, nc):
                p = len(segs)
                self.cpid[a, b] = self.cpid[b, a] = p
                alpha, reach = None, 0.0
                if self.ewald is not None and \
                        component_charge(fm, self.comps[a]) * component_charge(fm, self.comps[b]) != 0.0:
                    alpha, reach = self.ewald
                brk = _breaks(fm, self.comps[a], self.comps[b], reach)
                grid = np.linspace(min(R_REF, brk[-1]), brk[-1], 4001)
                scale = np.abs(pair_functions(fm, self.comps[a], self.comps[b], grid, False, True,
                                              alpha)[:, :2]).max(axis=2)
                rho.append(rho_kernels(fm, self.comps[a], self.comps[b]))
                rows, worst = [], 0.0
                for lo, hi in zip(brk[:-1], brk[1:]):
                    cf, err = _segment(fm, self.comps[a], self.comps[b], float(lo), float(hi), h0, rtol, h_min,
                                       scale, alpha)
                    rows.append((float(lo), cf.shape[0] / (hi - lo), cf.shape[0], ncell))
                    ncell += cf.shape[0]
                    blocks.append(cf)
                    worst = max(worst, err)
                segs.append(rows)
                r_end.append(float(brk[-1]))
                self.errors.append(worst)
        (self.nseg, self.seg_lo, self.seg_inv_h, self.seg_n, self.seg_off, self.bins,
         self.seg_of) = pack_segments(segs, r_end)
        self.r_end = np.array(r_end)
        self.coefs = np.ascontiguousarray(np.concatenate(blocks))
        self.rho_tid = np.array([[x[0], x[1]] for x in rho], dtype=np.int64)
        self.sw_lo = np.array([x[2] for x in rho])
        self.width = float(fm.pair_opts[2])
        self.source = fm.tabs[:5]

    @property
    def packed(self):
        """The tuple the numba kernels take (the flat source tables last, for the ρ kernels)."""
        return (self.cpid, self.r_end, self.bins, self.seg_of, self.seg_lo, self.seg_inv_h, self.seg_n, self.seg_off,
                self.coefs, self.rho_tid, self.sw_lo, self.width) + tuple(self.source)

    @property
    def n_cells(self) -> int:
        return int(self.coefs.shape[0])

    def __call__(self, a: int, b: int, R):
        """[KA, KB, U][value, d/dR] (3, 2, len(R)) of components (a, b) at R (bohr): `lookup` in numpy."""
        R = np.atleast_1d(np.asarray(R, dtype=float))
        out = np.zeros((NF, 2, R.size))
        p = self.cpid[a, b]
        for m, r in enumerate(R):
            row, u, ih = lookup(p, r, *self.packed[1:8])
            if row < 0:
                continue
            c = self.coefs[row]
            for f in range(NF):
                v, d = poly_eval(c[6 * f:6 * f + 6], u)
                g = f if (a <= b or f == 2) else 1 - f
                out[g, 0, m], out[g, 1, m] = v, d * ih
            for side in range(2):
                if self.rho_tid[p, side] >= 0:
                    sw, dsw = switch_nb(r, self.sw_lo[p], self.sw_lo[p] + self.width)
                    v, d = _tab(self.rho_tid[p, side], r, *self.source, False)
                    g = side if a <= b else 1 - side
                    out[g, 0, m] += sw * v
                    out[g, 1, m] += sw * d + dsw * v
        return out


@numba.njit(cache=True, inline="always")
def lookup(p, R, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off):
    """(cell row, u = (R − cell start)/h, 1/h) of pair p at R (bohr); row −1 at or beyond the end.
    The segment comes from the coarse bin of R (bins[p] = grid start, 1/BIN), moved up past any
    segment start inside that bin (rare, so the branch is predictable: no scan over segments)."""
    if R >= r_end[p]:
        return -1, 0.0, 0.0
    s = seg_of[p, max(int((R - bins[p, 0]) * bins[p, 1]), 0)]
    while R >= seg_lo[p, s + 1]:
        s += 1
    ih = seg_inv_h[p, s]
    x = (R - seg_lo[p, s]) * ih
    k = max(min(int(x), seg_n[p, s] - 1), 0)   # below the grid start: the first cell, extended
    return seg_off[p, s] + k, x - k, ih
