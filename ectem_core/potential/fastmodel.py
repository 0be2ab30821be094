"""Fast evaluation of the ECT-EAM energy (numba): energy (hartree), dE/dc, dE/dR (hartree/bohr),
charges and ρ̄ of `model.ECTModel.evaluate`, for the variants pure, resonance and thermal and
both backgrounds, on a pair list.

Two modes:
  exact  (cutoff_tol=None): every pair i < j, every pair function as tabulated — the reference
         model's numbers to rounding (tested to 1e-12 relative);
  cutoff (cutoff_tol=tol):  pairs from a cell list; each state pair (s, t) of two elements has a
         radius R_on where its background kernels (S/N or ρ, bohr⁻³) and short-range Coulomb
         U − q_s q_t/R (hartree) stay below `tol`; all three (and the resonance overlap, the
         thermal τ) are multiplied by the C¹ switch of pair_tables (1 → 0 on [R_on, R_on + width]).

The Coulomb energy is split exactly: U_st(R) = q_s q_t / R + U^sr_st(R). The short-range part goes
with the pair list; Σ_st c_is c_jt q_s q_t / R = q_i q_j / R is an atom-level direct O(N²) sum over
charged atoms (never cut off; timed separately as 'long-range').

Positions-only work (table evaluations, switches) is done once per geometry (`pair_data`); the
weight-dependent part (`evaluate_data`) is cheap, so a CPE solve at fixed positions re-uses it.
Public: `FastModel(model, cutoff_tol=None, switch_width=2.0)`, `fast_model(model, ...)` (cached on
the model), `FastModel.supports`, `.pair_data`, `.evaluate`, `.evaluate_data`, `evaluate(model, ...)`
(dispatches to the Python model where the fast path does not apply).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import InputError
from .cell import check_cell, check_neutral, check_overlaps, same_cell
from .kernels import energy_kernel, pair_data_kernel
from .long_range import MAX_PAIR_REACH, METHODS, folded_real_space, long_range_data
from .model import Evaluation

VARIANT_CODES = {"pure": 0, "resonance": 1, "thermal": 2}
SUPPORTED_VARIANTS = ("pure", "resonance", "thermal")
_NONE = -1
EWALD_TOL = 1e-10   # relative accuracy of the periodic q_i q_j / R sum (docs/periodic.md)

# ----------------------------------------------------------------------------- Python front end
class PairData:
    """Positions-only data of one geometry (pair list, tables, switches); see `FastModel.pair_data`.
    cell: None (cluster) or the periodic cell (rows = lattice vectors, bohr); shift: the lattice
    vector of each pair's image (bohr)."""

    def __init__(self, system, positions, pi, pj, arrays, sysd, seconds, cell=None, shift=None):
        self.system = system
        self.positions = positions
        self.pi, self.pj = pi, pj
        self.arrays = arrays
        self.sysd = sysd
        self.seconds = seconds
        self.cell = cell
        self.shift = shift

    @property
    def volume(self) -> float | None:
        """Cell volume (bohr³), None for a cluster."""
        return None if self.cell is None else abs(float(np.linalg.det(self.cell)))

    @property
    def n_pairs(self) -> int:
        return int(self.pi.size)


class FastModel:
    """Numba evaluator of an `ECTModel` whose pairs are `potential.TablePairs` (see module doc).

    cutoff_tol: None (exact: all pairs) or the tolerance that sets each state pair's radius;
    switch_width (bohr): length of the C¹ switch beyond that radius; r_max (bohr): optional cap
    on every state-pair radius including the switch (diffuse anions such as Li⁻ otherwise need
    ~30 bohr); the thermal τ keeps its own range R_s + w ln(T0/tol) (R_s ≈ 16 bohr for LiF);
    long_range: how Σ q_i q_j / R is summed ("auto", "direct", "ewald", "pme"; long_range.long_range_data),
    mesh_tol: the relative accuracy of the particle-mesh Ewald sum when it is used."""

    def __init__(self, model, cutoff_tol: float | None = None, switch_width: float = 2.0,
                 r_max: float | None = None, ewald_tol: float = EWALD_TOL, long_range: str = "auto",
                 mesh_tol: float = 1e-6):
        self.model = model
        self.ewald_tol = float(ewald_tol)
        if long_range not in METHODS:
            raise InputError(f"fast model: long_range={long_range!r} is not known; use one of "
                             f"{', '.join(map(repr, METHODS))} (docs/periodic.md, 'Particle-mesh Ewald')")
        if not (isinstance(mesh_tol, (int, float)) and 0.0 < mesh_tol < 1.0):
            raise InputError(f"fast model: mesh_tol must be a relative accuracy between 0 and 1 (e.g. 1e-6); got {mesh_tol!r}")
        self.long_range = long_range
        self.mesh_tol = float(mesh_tol)
        self.r_max = None if r_max is None else float(r_max)
        if self.r_max is not None and not (cutoff_tol is not None and self.r_max > switch_width):
            raise InputError(f"fast model: r_max needs a cutoff_tol and must exceed switch_width (got {r_max})")
        self.reason = self._unsupported_reason(model)
        self.cutoff_tol = cutoff_tol
        self.switch_width = float(switch_width)
        if cutoff_tol is not None and not (cutoff_tol > 0 and switch_width > 0):
            raise InputError(f"fast model: cutoff_tol and switch_width must be > 0 (got {cutoff_tol}, {switch_width})")
        if self.reason is None:
            self._pack()

    # ------------------------------------------------------------------ capability
    @staticmethod
    def _unsupported_reason(model):
        opt = model.options
        if opt.variant not in SUPPORTED_VARIANTS:
            return f"variant {opt.variant!r}"
        pairs = model.pairs
        if not all(hasattr(pairs, a) for a in ("tables", "self_overlap")):
            return "pair provider is not TablePairs"
        for e in model.elements:
            if not all(hasattr(f, "packed") for f in e.embedding):
                return f"embedding of {e.symbol} is not a packed function"
        if opt.variant == "thermal" and not (hasattr(model, "switch_distance") and hasattr(model, "temperature")):
            return "model has no thermal switch distance"
        return None

    @property
    def supported(self) -> bool:
        return self.reason is None

    # ------------------------------------------------------------------ packing
    def _pack(self):
        m = self.model
        els = m.elements
        ne = len(els)
        ms = max(len(e.state_ids) for e in els)
        nst = np.array([len(e.state_ids) for e in els], dtype=np.int64)
        charge = np.zeros((ne, ms))
        nel = np.zeros((ne, ms))
        dE = np.zeros((ne, ms))
        ground = np.array([e.ground for e in els], dtype=np.int64)
        cation = np.array([_NONE if e.cation is None else e.cation for e in els], dtype=np.int64)
        anion = np.array([_NONE if e.anion is None else e.anion for e in els], dtype=np.int64)
        packs, eoff, eend = [], np.zeros((ne, ms), dtype=np.int64), np.zeros((ne, ms), dtype=np.int64)
        pos = 0
        for k, e in enumerate(els):
            ns = len(e.state_ids)
            charge[k, :ns] = e.charge
            nel[k, :ns] = e.n_electrons
            dE[k, :ns] = e.delta_e
            for s, f in enumerate(e.embedding):
                pk = np.asarray(f.packed, dtype=float)
                eoff[k, s], eend[k, s] = pos, pos + pk.size
                packs.append(pk)
                pos += pk.size
        emb = np.concatenate(packs)
        selfov = np.array(m.pairs.self_overlap, dtype=float)
        self.el = (nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov)
        # tables
        tables, ids = [], {}

        def tid(t):
            if id(t) not in ids:
                ids[id(t)] = len(tables)
                tables.append(t)
            return ids[id(t)]

        Sid = np.zeros((ne, ne, ms, ms), dtype=np.int64)
        Uid = np.zeros((ne, ne, ms, ms), dtype=np.int64)
        rhoid = np.zeros((ne, ms), dtype=np.int64)
        for (ka, kb), tabs in m.pairs.tables.items():
            for (s, t), ts in tabs.items():
                Sid[ka, kb, s, t] = Sid[kb, ka, t, s] = tid(ts["S"])
                Uid[ka, kb, s, t] = Uid[kb, ka, t, s] = tid(ts["U"])
                rhoid[ka, s] = tid(ts["rho_a_at_R"])
                rhoid[kb, t] = tid(ts["rho_b_at_R"])
        knots = np.concatenate([t.knots for t in tables])
        kstart = np.concatenate([[0], np.cumsum([t.knots.size for t in tables])]).astype(np.int64)
        coefs = np.ascontiguousarray(np.concatenate([t.coefs for t in tables]))
        cstart = np.concatenate([[0], np.cumsum([t.coefs.shape[0] for t in tables])]).astype(np.int64)
        meta = np.array([t.meta for t in tables])
        self.tabs = (knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid)
        self.n_tables = len(tables)
        # thermal switch distances
        opt = m.options
        rs = np.full((ne, ne), np.nan)
        if opt.variant == "thermal":
            for ka in range(ne):
                for kb in range(ne):
                    v = m.switch_distance(ka, kb)
                    rs[ka, kb] = np.nan if v is None else v
        tw = float(getattr(opt, "t_width", 1.0))
        T0 = np.zeros((ne, ne))
        if opt.variant == "thermal":
            for ka in range(ne):
                for kb in range(ne):
                    if np.isfinite(rs[ka, kb]):  # the plateau, read from the model itself
                        T0[ka, kb] = m.temperature(ka, kb, rs[ka, kb] - 41.0 * tw)[0]
        # charge classes of each element's states (thermal entropy of the charge distribution)
        cls = np.zeros((ne, ms), dtype=np.int64)
        ncls = np.zeros(ne, dtype=np.int64)
        for k, e in enumerate(els):
            values = list(np.unique(e.charge))
            ncls[k] = len(values)
            cls[k, :len(e.state_ids)] = [values.index(v) for v in e.charge]
        self.opts = (VARIANT_CODES[opt.variant], float(opt.eta), float(opt.epsilon), cls, ncls)
        # cutoffs
        r_on = np.full((ne, ne, ms, ms), np.inf)
        tau_on = np.full((ne, ne), np.inf)
        width = 0.0
        if self.cutoff_tol is not None:
            width = self.switch_width
            r_on = self._cutoffs(float(self.cutoff_tol))
            if self.r_max is not None:  # hard cap (truncates the most diffuse states' kernels)
                r_on = np.minimum(r_on, self.r_max - width)
            for ka in range(ne):
                for kb in range(ne):
                    if np.isfinite(rs[ka, kb]) and T0[ka, kb] > 0:
                        # τ ≈ T0 e^{-(R - R_s)/w} below tol beyond R_s + w ln(T0/tol)
                        tau_on[ka, kb] = min(rs[ka, kb] + tw * max(math.log(T0[ka, kb] / self.cutoff_tol), 0.0),
                                             rs[ka, kb] + 40.0 * tw)
                        # not capped by r_max: τ's range (R_s ≈ 1/Δ + d) is physics, not a tolerance
        self.r_on, self.tau_on = r_on, tau_on
        self.pair_opts = (opt.background == "point", r_on, width, rs, T0, tw, tau_on)
        # neighbour cut-off per element pair
        self.rcut = np.zeros((ne, ne))
        for ka in range(ne):
            for kb in range(ne):
                v = r_on[ka, kb, :nst[ka], :nst[kb]].max()
                if opt.variant == "thermal":
                    v = max(v, tau_on[ka, kb] if np.isfinite(tau_on[ka, kb]) else 0.0)
                self.rcut[ka, kb] = v + width

    def _cutoffs(self, tol):
        """R_on per state pair: beyond it |K_ab|, |K_ba| (bohr⁻³) and |U − qq/R| (Ha) stay < tol."""
        m = self.model
        els = m.elements
        ne = len(els)
        ms = max(len(e.state_ids) for e in els)
        grid = np.arange(0.5, 120.0, 0.05)
        r_on = np.zeros((ne, ne, ms, ms))
        for (ka, kb), tabs in m.pairs.tables.items():
            ea, eb = els[ka], els[kb]
            for (s, t), ts in tabs.items():
                S = np.abs(ts["S"](grid)[0])
                U = np.abs(ts["U"](grid)[0] - ts["U"].qq / grid)
                rb = np.abs(ts["rho_b_at_R"](grid)[0])
                ra = np.abs(ts["rho_a_at_R"](grid)[0])
                point = m.options.background == "point"
                ka_ = rb if (point or ea.n_electrons[s] == 0) else S / ea.n_electrons[s]
                kb_ = ra if (point or eb.n_electrons[t] == 0) else S / eb.n_electrons[t]
                big = np.maximum(np.maximum(ka_, kb_), U) >= tol
                idx = np.nonzero(big)[0]
                if idx.size and idx[-1] + 1 >= grid.size:
                    raise InputError(f"fast model: pair functions of {ea.state_ids[s]}–{eb.state_ids[t]} exceed "
                                     f"cutoff_tol={tol:g} beyond {grid[-1]:.0f} bohr: use a larger tolerance")
                r = float(grid[idx[-1] + 1]) if idx.size else float(grid[0])
                r_on[ka, kb, s, t] = r_on[kb, ka, t, s] = r
        return r_on

    # ------------------------------------------------------------------ evaluation
    VERLET_SKIN = 1.0   # bohr: candidate pairs to r_cut + skin, reused until an atom moved skin/2

    def _candidates(self, pos, cell, build):
        """Candidate pairs (pi, pj, shift) within the largest cut-off plus VERLET_SKIN, reused while the
        cell and atom count are the same and no atom has moved more than half the skin (a Verlet list:
        every pair within the cut-off is among them; the caller keeps those within it)."""
        v = self.__dict__.get("_verlet")
        if v is not None:
            p0, c0, pi, pj, shift = v
            if same_cell(c0, cell) and p0.shape == pos.shape and np.max(np.abs(pos - p0)) < 0.5 * self.VERLET_SKIN / np.sqrt(3.0):
                return pi, pj, shift
        pi, pj, shift = build(float(self.rcut.max()) + self.VERLET_SKIN)
        if shift is None:
            shift = np.zeros((pi.size, 3))
        self._verlet = (pos.copy(), None if cell is None else cell.copy(), pi, pj, shift)
        return pi, pj, shift

    def pair_data(self, system, positions, cell=None) -> PairData:
        """Pair list and every positions-only quantity of one geometry. cell: None for a cluster,
        else the 3×3 periodic cell (rows = lattice vectors, bohr; periodic in all three
        directions), which needs a cut-off model (cutoff_tol) and sums q_i q_j / R by Ewald."""
        if self.reason is not None:
            raise InputError(f"fast model does not support this model ({self.reason})")
        t_start = time.perf_counter()
        pos = np.ascontiguousarray(np.asarray(positions, dtype=float).reshape(-1, 3))
        n = system.n_atoms
        if pos.shape[0] != n:
            raise InputError(f"positions: expected {n} atoms, got {pos.shape[0]}")
        if not np.all(np.isfinite(pos)):
            raise InputError("positions must be finite (bohr)")
        elem = np.asarray(system.element_index, dtype=np.int64)
        woff = np.asarray(system.offsets, dtype=np.int64)
        from .neighbours import all_pairs, neighbour_pairs, periodic_pairs, within_cutoff

        if cell is not None:
            if self.cutoff_tol is None:
                raise InputError("a periodic cell needs a cut-off model: build the fast model with cutoff_tol "
                                 "(e.g. fast_model(model, cutoff_tol=1e-6, r_max=12.0))")
            cell = np.ascontiguousarray(check_cell(cell)[0])
            check_overlaps(pos, cell)
            pi, pj, shift = self._candidates(pos, cell, lambda rc: periodic_pairs(pos, cell, rc))
        elif self.cutoff_tol is None:
            pi, pj = all_pairs(n)
            shift = np.zeros((pi.size, 3))
        elif n > 1:
            pi, pj, shift = self._candidates(pos, None, lambda rc: (*neighbour_pairs(pos, rc), None))
        else:
            pi, pj = all_pairs(n)
            shift = np.zeros((pi.size, 3))
        # every candidate within the cut-off of its element pair (none: the exact model's all pairs)
        rcut = self.rcut if self.cutoff_tol is not None else np.full(self.rcut.shape, np.inf)
        pi, pj, shift, d, k = within_cutoff(pos, np.ascontiguousarray(pi, dtype=np.int64),
                                            np.ascontiguousarray(pj, dtype=np.int64), np.ascontiguousarray(shift),
                                            elem, np.ascontiguousarray(rcut, dtype=float), 0.0)
        if k >= 0 and d[k] < 1e-8:   # (cells were checked above, with the image named)
            raise InputError(f"atoms {pi[k]} and {pj[k]} coincide")
        reach = None
        if self.cutoff_tol is not None and n > 1:   # the pairs kept above are every pair within the smallest cut-off
            kinds = np.unique(elem)
            reach = float(self.rcut[np.ix_(kinds, kinds)].min())
        alpha = None
        if self.cutoff_tol is not None:   # uniform-grid tables (built on first use, cached on self)
            from .pair_data_fast import pair_data as pair_data_fast

            # PME on this pair list: its real space q_s q_t erfc(αR)/R goes into the U^sr tables (then
            # bilinear in the weights like the rest of U^sr), PME keeps the mesh and self terms
            alpha = folded_real_space(n, cell is not None, self.long_range, self.mesh_tol, reach)
            ewald = None if alpha is None else (alpha, min(reach, MAX_PAIR_REACH))
            arrays = pair_data_fast(self, pos, shift, elem, woff, pi, pj, ewald)
        else:
            arrays = pair_data_kernel(pos, shift, elem, woff, pi, pj, self.tabs, self.el, self.pair_opts)
        qv = self.model.charge_vector(system).astype(float)
        lr = long_range_data(pos, cell, self.ewald_tol, method=self.long_range, mesh_tol=self.mesh_tol,
                             pairs=(pi, pj, shift), pair_reach=reach, real_space=alpha is None)
        sysd = (elem, woff, np.ascontiguousarray(qv), pos, pi, pj, lr)
        return PairData(system, pos, pi, pj, arrays, sysd, time.perf_counter() - t_start, cell, shift)

    def evaluate_data(self, pd: PairData, c, want_forces: bool = True) -> Evaluation:
        c = np.ascontiguousarray(np.asarray(c, dtype=float))
        if c.shape != (int(pd.system.offsets[-1]),):
            raise InputError(f"weights: expected {int(pd.system.offsets[-1])} values, got {c.shape}")
        if pd.cell is not None:
            check_neutral(float(np.sum(self.model.charge_vector(pd.system) * c)))   # not BLAS: cell.times3
        e_on, e_emb, e_sr, e_lr, e_cpl, grad, grad_r, rho, q, strain = energy_kernel(
            c, bool(want_forces), pd.sysd, self.el, pd.arrays, self.opts)
        energy = float(e_on + e_emb + e_sr + e_lr + e_cpl)
        return Evaluation(energy, grad, grad_r, q, rho,
                          {"onsite": float(e_on), "embedding": float(e_emb), "coulomb": float(e_sr + e_lr),
                           "coulomb_short": float(e_sr), "coulomb_long": float(e_lr), "coupling": float(e_cpl)},
                          strain if want_forces else None)

    def evaluate(self, system, positions, c, want_forces: bool = True, cell=None) -> Evaluation:
        """Same contract as `ECTModel.evaluate`; cell (bohr, rows) for a periodic cell."""
        return self.evaluate_data(self.pair_data(system, positions, cell), c, want_forces)


def fast_model(model, cutoff_tol: float | None = None, switch_width: float = 2.0,
               r_max: float | None = None, ewald_tol: float = EWALD_TOL, long_range: str = "auto",
               mesh_tol: float = 1e-6) -> FastModel:
    """The FastModel of `model` (built once per model and settings, kept on the model)."""
    cache = model.__dict__.setdefault("_fast_models", {})
    key = (cutoff_tol, float(switch_width), r_max, float(ewald_tol), repr(model.options), long_range, mesh_tol)
    if key not in cache:
        cache[key] = FastModel(model, cutoff_tol, switch_width, r_max, ewald_tol, long_range, mesh_tol)
    return cache[key]


def evaluate(model, system, positions, c, want_forces: bool = True) -> Evaluation:
    """Fast exact evaluation where supported, else `model.evaluate` (same result)."""
    fm = fast_model(model)
    if fm.supported:
        return fm.evaluate(system, positions, c, want_forces)
    return model.evaluate(system, positions, c, want_forces=want_forces)
