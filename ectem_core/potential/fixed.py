"""ECT-EAM energy, forces and stress at FIXED ensemble weights (hartree, bohr): the MD/relaxation
path when the weights do not change (plain EAM: every atom neutral; the pure model's ionic crystals:
every atom on one state; any fixed vector for the pure variant).

Same energy as `fastmodel.FastModel(...cutoff mode...).evaluate` up to the resampling of its pair
tables (measured on LiF cells and clusters: energy ≤ 3e-15 relative, forces ≤ 7e-11 of the largest
force (near-perfect crystals, whose forces are small; ≤ 4e-12 in rattled cells), strain ≤ 3e-11,
ρ̄ ≤ 2e-15; tests/unit/potential/test_fixed_fast.py asserts 1e-10). At construction the switched pair
functions of every pair of atom components (atom types, or single states for many distinct fractional
weight vectors) are resampled onto uniform-grid quintic tables (`uniform_tables`), so a pair costs one
O(1) lookup and three polynomials (K_ij, K_ji, U^sr with derivatives) instead of ~10 binary-searched
table values with exp.
One pass over a HALF neighbour list gives ρ̄, the short-range energy and per pair dK_ij/dR, dK_ji/dR,
dU/dR; after the embedding, a second pass of pure arithmetic gives dE/dR_ij = G_i dK_ij + G_j dK_ji + dU
into forces and dE/dε. Both passes run in parallel (`numba.prange`) over chunks of atoms of about equal
pair counts, one per thread, each writing its own ρ̄ / gradient buffers (no write conflicts).
No dE/dc (the weights are fixed); the q_i q_j / R tail as in the fast model (direct sum for clusters,
Ewald for cells, particle-mesh Ewald by choice or from `long_range.AUTO_PME_*` atoms). With PME the
real-space part q_i q_j erfc(αR)/R is folded into the U tables (`UniformTables(ewald=…)`): the table
pass sums it, PME does only the mesh and self terms, and parts["coulomb_short"] then includes it.
The resonance and thermal couplings vanish at integer weights and are refused for fractional ones
(use FastModel)."""
from __future__ import annotations

import math

import numba
import numpy as np

from ..embedding.function import eval_one
from ..errors import InputError
from .cell import same_cell
from .kernels import _tab, long_range
from .long_range import MAX_PAIR_REACH, folded_real_space, long_range_data
from .model import Evaluation
from .pair_tables import switch_nb
from .threads import threads_for
from .uniform_tables import UniformTables, lookup


@numba.njit(cache=True, parallel=True, error_model="numpy", fastmath={"contract"})
def _short_range(pos, shift, start, nbr, chunk, comp_off, comp_id, comp_w, ut, act_off, act_state, act_w, elem, el,
                 want_f):
    """Half neighbour list (pairs (i, j + shift) for j in nbr[start[i]:start[i+1]]), split into chunks of
    atoms chunk[c]..chunk[c+1] run in parallel, each accumulating into its own buffers (no write
    conflicts). Atom i has components comp_id[comp_off[i]:comp_off[i+1]] with weights comp_w, the
    tables `ut` (UniformTables.packed), and active states act_* for the embedding. Returns
    E_short (Ha), E_onsite + E_embed (Ha), ρ̄ (bohr⁻³), dE/dpos (Ha/bohr, (n, 3)) and dE/dε (xx xy xz yy yz zz)."""
    cpid, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off, coefs, rho_tid, sw_lo, width = ut[:12]
    knots, kstart, tcoefs, cstart, meta = ut[12:]
    dE, emb, eoff, eend = el[3], el[7], el[8], el[9]
    n = elem.size
    nch = chunk.size - 1
    npair = nbr.size
    r2_max = r_end.max() ** 2
    rho_c = np.zeros((nch, n))
    e_c = np.zeros(nch)
    # per pair: (dK_ij/dR, dK_ji/dR, dU/dR) / R, contracted over the components
    da = np.empty(npair) if want_f else np.empty(0)
    db = np.empty(npair) if want_f else np.empty(0)
    du = np.empty(npair) if want_f else np.empty(0)
    # pass 1: ρ̄ (both ends of each pair) and the short-range energy; one table lookup per component pair
    for c in numba.prange(nch):
        e = 0.0
        for i in range(chunk[c], chunk[c + 1]):
            ri = 0.0
            for p in range(start[i], start[i + 1]):
                j = nbr[p]
                d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
                d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
                d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
                r2 = d0 * d0 + d1 * d1 + d2 * d2
                if r2 >= r2_max:   # in the list's skin: every function is 0 here
                    if want_f:
                        da[p] = 0.0
                        db[p] = 0.0
                        du[p] = 0.0
                    continue
                R = math.sqrt(r2)
                a_acc = 0.0
                b_acc = 0.0
                u_acc = 0.0
                for a in range(comp_off[i], comp_off[i + 1]):
                    A = comp_id[a]
                    for b in range(comp_off[j], comp_off[j + 1]):
                        B = comp_id[b]
                        q = cpid[A, B]
                        r, u, ih = lookup(q, R, r_end, bins, seg_of, seg_lo, seg_inv_h, seg_n, seg_off)
                        if r < 0:
                            continue
                        w = comp_w[a] * comp_w[b]
                        # the first six coefficients are K seen by the lower component id
                        oi = 0 if A <= B else 6
                        oj = 6 - oi
                        ki = coefs[r, oi] + u * (coefs[r, oi + 1] + u * (coefs[r, oi + 2] + u * (
                            coefs[r, oi + 3] + u * (coefs[r, oi + 4] + u * coefs[r, oi + 5]))))
                        kj = coefs[r, oj] + u * (coefs[r, oj + 1] + u * (coefs[r, oj + 2] + u * (
                            coefs[r, oj + 3] + u * (coefs[r, oj + 4] + u * coefs[r, oj + 5]))))
                        uv = coefs[r, 12] + u * (coefs[r, 13] + u * (coefs[r, 14] + u * (
                            coefs[r, 15] + u * (coefs[r, 16] + u * coefs[r, 17]))))
                        dki = 0.0
                        dkj = 0.0
                        if want_f:
                            dki = ih * (coefs[r, oi + 1] + u * (2.0 * coefs[r, oi + 2] + u * (3.0 * coefs[r, oi + 3] + u * (
                                4.0 * coefs[r, oi + 4] + u * 5.0 * coefs[r, oi + 5]))))
                            dkj = ih * (coefs[r, oj + 1] + u * (2.0 * coefs[r, oj + 2] + u * (3.0 * coefs[r, oj + 3] + u * (
                                4.0 * coefs[r, oj + 4] + u * 5.0 * coefs[r, oj + 5]))))
                            u_acc += w * ih * (coefs[r, 13] + u * (2.0 * coefs[r, 14] + u * (3.0 * coefs[r, 15] + u * (
                                4.0 * coefs[r, 16] + u * 5.0 * coefs[r, 17]))))
                        if rho_tid[q, 0] >= 0 or rho_tid[q, 1] >= 0:
                            # point-density kernels: exact source table × switch (uniform_tables.rho_kernels)
                            sw, dsw = switch_nb(R, sw_lo[q], sw_lo[q] + width)
                            for side in range(2):
                                tid = rho_tid[q, side]
                                if tid < 0 or sw == 0.0:
                                    continue
                                v, dv = _tab(tid, R, knots, kstart, tcoefs, cstart, meta, False)
                                if (side == 0) == (A <= B):
                                    ki += sw * v
                                    dki += sw * dv + dsw * v
                                else:
                                    kj += sw * v
                                    dkj += sw * dv + dsw * v
                        ri += w * ki
                        rho_c[c, j] += w * kj
                        e += w * uv
                        a_acc += w * dki
                        b_acc += w * dkj
                if want_f:
                    rinv = 1.0 / R
                    da[p] = a_acc * rinv
                    db[p] = b_acc * rinv
                    du[p] = u_acc * rinv
            rho_c[c, i] += ri
        e_c[c] = e
    rho = np.zeros(n)
    for c in range(nch):
        for i in range(n):
            rho[i] += rho_c[c, i]
    # embedding: E_i = Σ_s c_is (ΔE_s + F_s(ρ̄_i)), G_i = Σ_s c_is F'_s(ρ̄_i) (0 without a background)
    G = np.zeros(n)
    from_embedding = np.zeros(n)
    for i in numba.prange(n):
        k = elem[i]
        rr = rho[i] if rho[i] > 0.0 else 0.0
        g = 0.0
        e = 0.0
        for a in range(act_off[i], act_off[i + 1]):
            s = act_state[a]
            F, dF, _ = eval_one(rr, emb[eoff[k, s]:eend[k, s]])
            e += act_w[a] * (dE[k, s] + F)
            g += act_w[a] * dF
        from_embedding[i] = e
        G[i] = g if rho[i] > 0.0 else 0.0
    grad = np.zeros((n, 3))
    strain = np.zeros(6)
    if want_f:
        # pass 2: dE/dR_ij / R = G_i dK_ij/R + G_j dK_ji/R + dU/R, pure arithmetic on the stored pieces
        grad_c = np.zeros((nch, n, 3))
        st_c = np.zeros((nch, 6))
        for c in numba.prange(nch):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
            s5 = 0.0
            for i in range(chunk[c], chunk[c + 1]):
                gi = G[i]
                g0 = 0.0
                g1 = 0.0
                g2 = 0.0
                for p in range(start[i], start[i + 1]):
                    j = nbr[p]
                    f = gi * da[p] + G[j] * db[p] + du[p]
                    if f == 0.0:
                        continue
                    d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
                    d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
                    d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
                    f0 = f * d0
                    f1 = f * d1
                    f2 = f * d2
                    g0 += f0
                    g1 += f1
                    g2 += f2
                    grad_c[c, j, 0] -= f0
                    grad_c[c, j, 1] -= f1
                    grad_c[c, j, 2] -= f2
                    s0 += f0 * d0
                    s1 += f0 * d1
                    s2 += f0 * d2
                    s3 += f1 * d1
                    s4 += f1 * d2
                    s5 += f2 * d2
                grad_c[c, i, 0] += g0
                grad_c[c, i, 1] += g1
                grad_c[c, i, 2] += g2
            st_c[c, 0] = s0
            st_c[c, 1] = s1
            st_c[c, 2] = s2
            st_c[c, 3] = s3
            st_c[c, 4] = s4
            st_c[c, 5] = s5
        for c in range(nch):
            for i in range(n):
                grad[i, 0] += grad_c[c, i, 0]
                grad[i, 1] += grad_c[c, i, 1]
                grad[i, 2] += grad_c[c, i, 2]
            for v in range(6):
                strain[v] += st_c[c, v]
    return float(np.sum(e_c)), float(np.sum(from_embedding)), rho, grad, strain


@numba.njit(cache=True)
def _half_list(n, pi, pj, shift):
    """Half list (i, j, shift) → CSR by i: start (n+1), nbr, shift (j seen from i, bohr)."""
    start = np.zeros(n + 1, dtype=np.int64)
    for p in range(pi.size):
        start[pi[p] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:n].copy()
    nbr = np.empty(pi.size, dtype=np.int64)
    sh = np.empty((pi.size, 3))
    for p in range(pi.size):
        i = pi[p]
        nbr[fill[i]] = pj[p]
        sh[fill[i], 0] = shift[p, 0]
        sh[fill[i], 1] = shift[p, 1]
        sh[fill[i], 2] = shift[p, 2]
        fill[i] += 1
    return start, nbr, sh


def _chunks(start, nch):
    """Atom boundaries (nch + 1) splitting the half list into nch runs of about equal pair counts."""
    n = start.size - 1
    bounds = np.searchsorted(start, np.linspace(0, start[-1], nch + 1)[1:-1])
    return np.concatenate([[0], np.clip(bounds, 0, n), [n]]).astype(np.int64)


class FixedWeights:
    """Energy, forces and stress of one system at fixed weights `c` under a cut-off FastModel `fm`.

    The pair functions are resampled once (per FastModel and set of components, cached on it) onto
    uniform-grid quintic tables (`uniform_tables.UniformTables`, switch folded in): on a vertex or at
    uniform weights every atom type (element + its weighted states) is one component, so a pair costs
    one table lookup; with many distinct fractional weight vectors the components are the single states
    and the kernel sums over the active state pairs. `h0`, `rtol`, `h_min`: see UniformTables."""

    SKIN = 1.0   # bohr: the neighbour list is built to r_cut + SKIN and reused until an atom moved SKIN/2
    MAX_TYPE_TABLES = 10   # atom types are components while they need no more tables than this or than the states

    def __init__(self, fm, system, c, tol: float = 1e-14, h0: float = 0.02, rtol: float = 1e-12, h_min: float = 1e-3):
        if fm.cutoff_tol is None:
            raise InputError("fixed-weight evaluation needs a cut-off model: fast_model(model, cutoff_tol=1e-6, r_max=12.0)")
        c = np.asarray(c, dtype=float)
        if c.shape != (int(system.offsets[-1]),):
            raise InputError(f"weights: expected {int(system.offsets[-1])} values, got {c.shape}")
        integer = bool(np.all((np.abs(c) < tol) | (np.abs(c - 1.0) < tol)))
        if fm.model.options.variant != "pure" and not integer:
            raise InputError(f"fixed fractional weights with the {fm.model.options.variant} variant have a coupling "
                             "energy this path does not compute: use FastModel.evaluate")
        self.fm, self.system, self.c = fm, system, c
        self.elem = np.asarray(system.element_index, dtype=np.int64)
        off, states, w, types = [0], [], [], []
        for i in range(system.n_atoms):
            sl = system.slice(i)
            mine = tuple((s, float(x)) for s, x in enumerate(c[sl]) if abs(x) > tol)
            states += [s for s, _ in mine]
            w += [x for _, x in mine]
            off.append(len(states))
            types.append((int(self.elem[i]), mine))
        self.act_off = np.array(off, dtype=np.int64)
        self.act_state = np.array(states, dtype=np.int64)
        self.act_w = np.array(w)
        kinds = sorted(set(types))
        singles = sorted({(k, ((s, 1.0),)) for k, mine in kinds for s, _ in mine})
        # point-density kernels (point background, states without electrons) stay exact: single states only
        exact_rho = bool(fm.pair_opts[0]) or any(fm.el[2][k, s] == 0 for k, ((s, _),) in singles)
        if not exact_rho and \
                len(kinds) * (len(kinds) + 1) // 2 <= max(len(singles) * (len(singles) + 1) // 2, self.MAX_TYPE_TABLES):
            comps = kinds          # one component per atom type, weight 1
            index = {t: m for m, t in enumerate(comps)}
            self.comp_off = np.arange(system.n_atoms + 1, dtype=np.int64)
            self.comp_id = np.array([index[t] for t in types], dtype=np.int64)
            self.comp_w = np.ones(system.n_atoms)
        else:                      # one component per (element, state), weighted by c_is
            comps = singles
            index = {t: m for m, t in enumerate(comps)}
            self.comp_off = self.act_off
            self.comp_id = np.array([index[(int(self.elem[i]), ((s, 1.0),))] for i in range(system.n_atoms)
                                     for s in self.act_state[self.act_off[i]:self.act_off[i + 1]]], dtype=np.int64)
            self.comp_w = self.act_w
        self._comps, self._accuracy = tuple(comps), (float(h0), float(rtol), float(h_min))
        self._tables = None      # the UniformTables of the last evaluation (`tables`)
        self.charges = fm.model.charges(system, c)
        self._list = None        # (positions, cell, start, nbr, shift) of the last neighbour list
        self._last = None        # (positions, cell, Ewald fold (α, reach) or None, φ, ρ̄) of the last evaluation
        self._pairs = None       # its (pi, pj, shift)
        self._kinds = np.unique(self.elem)
        self.list_builds = 0

    def tables_for(self, ewald=None) -> UniformTables:
        """The uniform tables of this system's components, built once per FastModel, components,
        accuracy and `ewald` (α, reach) or None (UniformTables; cached on the FastModel)."""
        cache = self.fm.__dict__.setdefault("_uniform_tables", {})
        key = (self._comps, *self._accuracy) + (() if ewald is None else (("ewald",) + tuple(ewald),))
        if key not in cache:
            cache[key] = UniformTables(self.fm, self._comps, *self._accuracy, ewald=ewald)
        self._tables = cache[key]
        return self._tables

    @property
    def tables(self) -> UniformTables:
        """The tables of the last evaluation (those without the Ewald real space before the first)."""
        return self._tables if self._tables is not None else self.tables_for(None)

    def _reach(self) -> float:
        """Every pair within this distance (bohr) is in the Verlet list: the smallest cut-off present."""
        return float(self.fm.rcut[np.ix_(self._kinds, self._kinds)].min())

    def _neighbours(self, pos, cell):
        """Half list to r_cut + SKIN (pairs beyond a component pair's switch contribute exactly 0), reused
        while no atom has moved more than SKIN/2 and the cell is unchanged (Verlet list)."""
        from .neighbours import neighbour_pairs, periodic_pairs, within_cutoff

        if self._list is not None:
            p0, c0, start, nbr, sh = self._list
            if same_cell(c0, cell) and p0.shape == pos.shape and np.max(np.abs(pos - p0)) < 0.5 * self.SKIN / np.sqrt(3.0):
                return start, nbr, sh
        rc = float(self.fm.rcut.max()) + self.SKIN
        if cell is not None:
            pi, pj, shift = periodic_pairs(pos, cell, rc)
        else:
            pi, pj = neighbour_pairs(pos, rc)
            shift = np.zeros((pi.size, 3))
        pi, pj, shift, d, k = within_cutoff(pos, np.ascontiguousarray(pi, dtype=np.int64),
                                            np.ascontiguousarray(pj, dtype=np.int64), np.ascontiguousarray(shift),
                                            self.elem, np.ascontiguousarray(self.fm.rcut, dtype=float), self.SKIN)
        if k >= 0 and d[k] < 1e-8:
            raise InputError("two atoms coincide (or an atom sits on a periodic image)")
        start, nbr, sh = _half_list(self.system.n_atoms, pi, pj, shift)
        self._list = (pos.copy(), None if cell is None else cell.copy(), start, nbr, sh)
        self._pairs = (pi, pj, shift)   # the same list as (i, j, shift), for the long range's real space
        self.list_builds += 1
        return start, nbr, sh

    def evaluate(self, positions, cell=None, want_forces: bool = True) -> Evaluation:
        from .cell import check_cell, check_neutral

        pos = np.ascontiguousarray(np.asarray(positions, dtype=float).reshape(-1, 3))
        if pos.shape[0] != self.system.n_atoms or not np.all(np.isfinite(pos)):
            raise InputError(f"positions: expected {self.system.n_atoms} finite positions (bohr)")
        if cell is not None:
            cell = np.ascontiguousarray(check_cell(cell)[0])
            check_neutral(float(self.charges.sum()))
        start, nbr, sh = self._neighbours(pos, cell)
        charged = bool(np.any(self.charges != 0.0))   # plain EAM (all neutral) has no long range at all
        # PME on this Verlet list: its real space q_i q_j erfc(αR)/R is folded into the U tables
        alpha = folded_real_space(self.system.n_atoms, cell is not None, self.fm.long_range, self.fm.mesh_tol,
                                  self._reach()) if charged else None
        ewald = None if alpha is None else (alpha, min(self._reach(), MAX_PAIR_REACH))
        tables = self.tables_for(ewald)
        chunk = _chunks(start, max(1, min(numba.get_num_threads(), self.system.n_atoms)))
        with threads_for(int(nbr.size)):
            e_sr, e_emb, rho, grad, s6 = _short_range(pos, sh, start, nbr, chunk, self.comp_off, self.comp_id, self.comp_w,
                                                      tables.packed, self.act_off, self.act_state, self.act_w,
                                                      self.elem, self.fm.el, bool(want_forces))
        strain = np.zeros((3, 3))
        for (a, b), k in (((0, 0), 0), ((0, 1), 1), ((0, 2), 2), ((1, 1), 3), ((1, 2), 4), ((2, 2), 5)):
            strain[a, b] = strain[b, a] = s6[k]
        q = np.ascontiguousarray(self.charges)
        e_lr = 0.0
        if charged:
            # every pair within the smallest cut-off is in the Verlet list while it is reused (moves < SKIN/2)
            lr = long_range_data(pos, cell, self.fm.ewald_tol, method=self.fm.long_range, mesh_tol=self.fm.mesh_tol,
                                 pairs=self._pairs, pair_reach=self._reach(), real_space=alpha is None)
            e_lr, phi = long_range(pos, q, bool(want_forces), grad, strain, lr)
        else:
            phi = np.zeros(self.system.n_atoms)
        self._last = (pos.copy(), None if cell is None else cell.copy(), ewald, phi, rho)
        energy = e_sr + e_emb + float(e_lr)
        return Evaluation(energy, np.zeros(0), grad, self.charges.copy(), rho,
                          {"onsite+embedding": e_emb, "coulomb_short": e_sr, "coulomb_long": float(e_lr)},
                          strain if want_forces else None)

    @property
    def vertex(self) -> np.ndarray | None:
        """The state index of every atom when the weights are a vertex (each atom on one state), else None."""
        if not np.all(np.diff(self.act_off) == 1) or not np.all(self.act_w == 1.0):
            return None
        return self.act_state

    def weight_gradient(self, positions, cell=None):
        """∂E/∂c (hartree) of every state of every atom at this vertex and the positions of the last
        `evaluate` (which must be these), from the grouped state-pair tables (`vertex_gradient`); None
        where that path does not apply (weights not on a vertex, a variant other than pure, or exact
        ρ kernels among the element pairs present): then use FastModel.evaluate."""
        from .pair_data_fast import grouped_tables
        from .vertex_gradient import supported, vertex_gradient

        active = self.vertex
        if active is None or self.fm.model.options.variant != "pure" or self._last is None:
            return None
        pos = np.ascontiguousarray(np.asarray(positions, dtype=float).reshape(-1, 3))
        p0, c0, ewald, phi, rho = self._last
        if not (same_cell(c0, cell) and np.array_equal(p0, pos)):
            raise InputError("weight_gradient: call evaluate at these positions and cell first")
        gt = grouped_tables(self.fm, ewald=ewald)
        if not supported(gt, self._kinds):
            return None
        start, nbr, sh = self._list[2:]
        chunk = _chunks(start, max(1, min(numba.get_num_threads(), self.system.n_atoms)))
        with threads_for(int(nbr.size)):
            return vertex_gradient(pos, sh, start, nbr, chunk, self.elem, np.asarray(self.system.offsets, dtype=np.int64),
                                   active, rho, gt.packed, self.fm.el, phi)


def cached_fixed_weights(fm, system, c) -> FixedWeights:
    """A FixedWeights of `system` at weights c under fm, the same object for the same atoms and weights
    (kept on fm, the two most recent): its Verlet list and tables carry over between calls, as along
    an MD run whose weights are held."""
    c = np.asarray(c, dtype=float)
    key = (np.asarray(system.element_index, dtype=np.int64).tobytes(), c.tobytes())
    cache = fm.__dict__.setdefault("_fixed_weights", [])
    for k, fw in cache:
        if k == key:
            return fw
    fw = FixedWeights(fm, system, c)
    cache.insert(0, (key, fw))
    del cache[2:]
    return fw
