"""ECT-EAM energy, forces and stress at FIXED ensemble weights (hartree, bohr): the MD/relaxation
path when the weights do not change (plain EAM: every atom neutral; the pure model's ionic crystals:
every atom on one state; any fixed vector for the pure variant).

Same energy as `fastmodel.FastModel(...cutoff mode...).evaluate` (tested to 1e-12), computed only for
the state pairs (s, t) with c_is c_jt ≠ 0 — one of the 12 Li–F state pairs on the ionic vertex — in
one numba pass over a FULL neighbour list, parallel over atoms (`numba.prange`, no write conflicts:
atom i accumulates only its own ρ̄, energy and force; every pair is visited from both ends).
No dE/dc (the weights are fixed); the q_i q_j / R tail as in the fast model (direct sum for clusters,
Ewald for cells). The resonance and thermal couplings vanish at integer weights and are refused for
fractional ones (use FastModel)."""
from __future__ import annotations

import math

import numba
import numpy as np

from ..embedding.function import eval_one
from ..errors import InputError
from .kernels import _tab, long_range
from .long_range import long_range_data
from .model import Evaluation
from .pair_tables import switch_nb


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _short_range(pos, shift, elem, start, nbr, act_off, act_state, act_w, tabs, el, pair_opts, want_f):
    """Full neighbour list (start[i]..start[i+1] into nbr/shift); active states of atom i at
    act_state[act_off[i]:act_off[i+1]] with weights act_w. Returns E_onsite + E_embed + E_short,
    ρ̄, the gradient (n, 3) and the strain derivative per atom (n, 9), summed by the caller."""
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = tabs
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    point, r_on, width, rs, T0, tw, tau_on = pair_opts
    n = elem.size
    rho = np.zeros(n)
    e_atom = np.zeros(n)
    # pass 1: ρ̄_i = Σ_j Σ_st c_is c_jt K_st(R) and ½ Σ U^sr (each pair from both ends: half each)
    for i in numba.prange(n):
        ki = elem[i]
        r = 0.0
        e = 0.0
        for p in range(start[i], start[i + 1]):
            j = nbr[p]
            kj = elem[j]
            d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
            d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
            d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
            R = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            for a in range(act_off[i], act_off[i + 1]):
                s = act_state[a]
                for b in range(act_off[j], act_off[j + 1]):
                    t = act_state[b]
                    sw, _ = switch_nb(R, r_on[ki, kj, s, t], r_on[ki, kj, s, t] + width)
                    if sw == 0.0:
                        continue
                    w = act_w[a] * act_w[b]
                    if point or nel[ki, s] == 0:
                        k, _ = _tab(rhoid[kj, t], R, knots, kstart, coefs, cstart, meta, False)
                    else:
                        S, _ = _tab(Sid[ki, kj, s, t], R, knots, kstart, coefs, cstart, meta, False)
                        k = S / nel[ki, s]
                    U, _ = _tab(Uid[ki, kj, s, t], R, knots, kstart, coefs, cstart, meta, True)
                    r += w * sw * k
                    e += 0.5 * w * sw * U
        rho[i] = r
        e_atom[i] = e
    G = np.zeros(n)
    from_embedding = np.zeros(n)
    for i in numba.prange(n):
        ki = elem[i]
        rr = rho[i] if rho[i] > 0.0 else 0.0
        g = 0.0
        e = 0.0
        for a in range(act_off[i], act_off[i + 1]):
            s = act_state[a]
            F, dF, _ = eval_one(rr, emb[eoff[ki, s]:eend[ki, s]])
            e += act_w[a] * (dE[ki, s] + F)
            g += act_w[a] * dF
        from_embedding[i] = e
        G[i] = g if rho[i] > 0.0 else 0.0
    grad = np.zeros((n, 3))
    strain = np.zeros((n, 9))
    if want_f:
        # pass 2: dE/dR of every pair from both ends; atom i keeps -dE/dR·u for itself and half the virial
        for i in numba.prange(n):
            ki = elem[i]
            for p in range(start[i], start[i + 1]):
                j = nbr[p]
                kj = elem[j]
                d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
                d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
                d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
                R = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
                dEdR = 0.0
                for a in range(act_off[i], act_off[i + 1]):
                    s = act_state[a]
                    for b in range(act_off[j], act_off[j + 1]):
                        t = act_state[b]
                        sw, dsw = switch_nb(R, r_on[ki, kj, s, t], r_on[ki, kj, s, t] + width)
                        if sw == 0.0 and dsw == 0.0:
                            continue
                        w = act_w[a] * act_w[b]
                        # K seen by i from j (s on i) and by j from i (t on j)
                        if point or nel[ki, s] == 0:
                            kij, dkij = _tab(rhoid[kj, t], R, knots, kstart, coefs, cstart, meta, False)
                        else:
                            S, dS = _tab(Sid[ki, kj, s, t], R, knots, kstart, coefs, cstart, meta, False)
                            kij, dkij = S / nel[ki, s], dS / nel[ki, s]
                        if point or nel[kj, t] == 0:
                            kji, dkji = _tab(rhoid[ki, s], R, knots, kstart, coefs, cstart, meta, False)
                        else:
                            S, dS = _tab(Sid[ki, kj, s, t], R, knots, kstart, coefs, cstart, meta, False)
                            kji, dkji = S / nel[kj, t], dS / nel[kj, t]
                        U, dU = _tab(Uid[ki, kj, s, t], R, knots, kstart, coefs, cstart, meta, True)
                        dEdR += w * (G[i] * (sw * dkij + dsw * kij) + G[j] * (sw * dkji + dsw * kji)
                                     + sw * dU + dsw * U)
                f = dEdR / R
                grad[i, 0] += f * d0
                grad[i, 1] += f * d1
                grad[i, 2] += f * d2
                # each pair is seen twice (from i and from j): half of its virial per visit
                strain[i, 0] += 0.5 * f * d0 * d0
                strain[i, 1] += 0.5 * f * d0 * d1
                strain[i, 2] += 0.5 * f * d0 * d2
                strain[i, 4] += 0.5 * f * d1 * d1
                strain[i, 5] += 0.5 * f * d1 * d2
                strain[i, 8] += 0.5 * f * d2 * d2
    return float(np.sum(e_atom)), float(np.sum(from_embedding)), rho, grad, strain


@numba.njit(cache=True)
def _full_list(n, pi, pj, shift):
    """Half list (i, j, shift) → full list in CSR form: start (n+1), nbr, shift (j seen from i)."""
    count = np.zeros(n + 1, dtype=np.int64)
    for p in range(pi.size):
        count[pi[p] + 1] += 1
        count[pj[p] + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    fill = count[:n].copy()
    nbr = np.empty(2 * pi.size, dtype=np.int64)
    sh = np.empty((2 * pi.size, 3))
    for p in range(pi.size):
        i = pi[p]
        j = pj[p]
        nbr[fill[i]] = j
        sh[fill[i]] = shift[p]
        fill[i] += 1
        nbr[fill[j]] = i
        sh[fill[j], 0] = -shift[p, 0]
        sh[fill[j], 1] = -shift[p, 1]
        sh[fill[j], 2] = -shift[p, 2]
        fill[j] += 1
    return count, nbr, sh


class FixedWeights:
    """Energy, forces and stress of one system at fixed weights `c` under a cut-off FastModel `fm`."""

    SKIN = 1.0   # bohr: the neighbour list is built to r_cut + SKIN and reused until an atom moved SKIN/2

    def __init__(self, fm, system, c, tol: float = 1e-14):
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
        off, states, w = [0], [], []
        for i in range(system.n_atoms):
            sl = system.slice(i)
            for s, x in enumerate(c[sl]):
                if abs(x) > tol:
                    states.append(s)
                    w.append(float(x))
            off.append(len(states))
        self.act_off = np.array(off, dtype=np.int64)
        self.act_state = np.array(states, dtype=np.int64)
        self.act_w = np.array(w)
        self.charges = fm.model.charges(system, c)
        self.elem = np.asarray(system.element_index, dtype=np.int64)
        self._list = None        # (positions, cell, start, nbr, shift) of the last neighbour list
        self.list_builds = 0

    def _neighbours(self, pos, cell):
        """Full list to r_cut + SKIN (pairs beyond a state pair's switch contribute exactly 0), reused
        while no atom has moved more than SKIN/2 and the cell is unchanged (Verlet list)."""
        from .neighbours import neighbour_pairs, periodic_pairs

        if self._list is not None:
            p0, c0, start, nbr, sh = self._list
            same_cell = (c0 is None and cell is None) or (c0 is not None and cell is not None and np.array_equal(c0, cell))
            if same_cell and p0.shape == pos.shape and np.max(np.abs(pos - p0)) < 0.5 * self.SKIN / np.sqrt(3.0):
                return start, nbr, sh
        rc = float(self.fm.rcut.max()) + self.SKIN
        if cell is not None:
            pi, pj, shift = periodic_pairs(pos, cell, rc)
        else:
            pi, pj = neighbour_pairs(pos, rc)
            shift = np.zeros((pi.size, 3))
        d = np.linalg.norm(pos[pi] - pos[pj] - shift, axis=1)
        if d.size and d.min() < 1e-8:
            raise InputError("two atoms coincide (or an atom sits on a periodic image)")
        keep = d < self.fm.rcut[self.elem[pi], self.elem[pj]] + self.SKIN
        start, nbr, sh = _full_list(self.system.n_atoms, np.ascontiguousarray(pi[keep]), np.ascontiguousarray(pj[keep]),
                                    np.ascontiguousarray(shift[keep]))
        self._list = (pos.copy(), None if cell is None else cell.copy(), start, nbr, sh)
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
        e_sr, e_emb, rho, grad, st = _short_range(pos, sh, self.elem, start, nbr, self.act_off, self.act_state,
                                                  self.act_w, self.fm.tabs, self.fm.el, self.fm.pair_opts,
                                                  bool(want_forces))
        strain = np.zeros((3, 3))
        s9 = st.sum(axis=0)
        for (a, b), k in (((0, 0), 0), ((0, 1), 1), ((0, 2), 2), ((1, 1), 4), ((1, 2), 5), ((2, 2), 8)):
            strain[a, b] = strain[b, a] = s9[k]
        q = np.ascontiguousarray(self.charges)
        e_lr = 0.0
        if np.any(q != 0.0):   # plain EAM (all neutral) has no long range at all
            lr = long_range_data(pos, cell, self.fm.ewald_tol)
            e_lr, _phi = long_range(pos, q, bool(want_forces), grad, strain, lr)
        energy = e_sr + e_emb + float(e_lr)
        return Evaluation(energy, np.zeros(0), grad, self.charges.copy(), rho,
                          {"onsite+embedding": e_emb, "coulomb_short": e_sr, "coulomb_long": float(e_lr)},
                          strain if want_forces else None)
