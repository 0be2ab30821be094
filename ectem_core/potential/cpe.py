"""Chemical-potential equalization: the ensemble weights that minimize the ECT-EAM energy
(hartree) under the simplex rules (c_is ≥ 0, Σ_s c_is = 1 per atom) and Σ_i q_i = Q.

The problem is non-convex (bilinear Coulomb, linear ensembles), so a warm-started local
solver can sit on the wrong branch. Method (docs/cpe.md, docs/model.md section 4):
  1. candidates = every feasible vertex (one state per atom, Σq = Q) for ≤ 2 atoms (plus, for
     Q = 0, midpoints of the neutral vertex and each other vertex), or, for clusters, the
     all-neutral vertex, the warm start, and single charge-transfer probes (one cation/anion
     pair moved onto the start) for pairs closer than `probe_radius` (screened when many);
  2. from each candidate a local solve: by default (`method="auto"`) spectral projected
     gradient in numba on the `fastmodel` energy, every iterate projected exactly onto the
     feasible set, converged at ‖P(c − ∇E) − c‖∞ ≤ 1e-11; then, for ≤ 40 atoms, a discrete
     descent over one- and two-atom vertex moves as a global check. `method="slsqp"` is the
     reference: SciPy SLSQP (analytic gradients, bounds [0, 1], equality constraints exact
     to 1e-12 after a final projection, ftol 1e-14) on the Python model;
  3. the lowest energy wins.
μ is the electron chemical potential ∂E/∂N from the KKT conditions: a number when some
weight is fractional, otherwise the interval [μ_lo, μ_hi] allowed by the inactive states.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..errors import EctemError, InputError
from .cpe_kernels import kkt_bounds, pg_norm, probe_screen, project_feasible, spg_multistart, vertex_moves
from .fastmodel import fast_model
from .model import ECTModel, Evaluation, System
from .simplex import project

METHODS = ("auto", "fast", "slsqp")
SPG_TOL = 1e-11          # ‖P(c − ∇E) − c‖∞ at convergence (hartree-scaled weights)
SPG_MAX_ITER = 2000


@dataclass
class CPEResult:
    weights: np.ndarray
    evaluation: Evaluation
    mu: tuple                 # (lo, hi) hartree; lo == hi when a weight is fractional
    n_candidates: int
    converged: bool


def _constraints(model: ECTModel, system: System, Q: float):
    n, m = system.n_atoms, system.offsets[-1]
    A = np.zeros((n + 1, m))
    for i in range(n):
        A[i, system.slice(i)] = 1.0
    A[n] = model.charge_vector(system)
    b = np.concatenate([np.ones(n), [Q]])
    return A, b


def vertices(model: ECTModel, system: System, Q: float = 0.0):
    """All weight vectors with one state per atom and total charge Q (small systems)."""
    per_atom = [range(len(model.elements[k].state_ids)) for k in system.element_index]
    out = []
    for combo in itertools.product(*per_atom):
        q = sum(model.elements[k].charge[s] for k, s in zip(system.element_index, combo))
        if abs(q - Q) > 1e-12:
            continue
        c = np.zeros(system.offsets[-1])
        for i, s in enumerate(combo):
            c[system.offsets[i] + s] = 1.0
        out.append(c)
    return out


def _local(model, system, pos, c0, A, b):
    fun = lambda c: model.evaluate(system, pos, c, want_forces=False)  # noqa: E731
    cache = {}

    def f(c):
        key = c.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = fun(c)
        return cache[key]

    res = optimize.minimize(lambda c: f(c).energy, c0, jac=lambda c: f(c).grad_c, method="SLSQP",
                            bounds=[(0.0, 1.0)] * len(c0), constraints=[{"type": "eq", "fun": lambda c: A @ c - b,
                                                                        "jac": lambda c: A}],
                            options={"ftol": 1e-14, "maxiter": 300})
    c = project(np.asarray(res.x, dtype=float), A, b)
    return c, model.evaluate(system, pos, c), bool(res.success)


def solve(model: ECTModel, system: System, positions, Q: float = 0.0, warm_start: np.ndarray | None = None,
          probe_radius: float = 12.0, method: str = "auto", fast=None, cell=None,
          global_checks: bool = True) -> CPEResult:
    """Global CPE minimum (exhaustive starts for ≤ 2 atoms; local + probes for clusters).

    method: 'auto' (the numba SPG solver where `fastmodel` supports the model, else SLSQP),
    'fast' (numba only; InputError where unsupported) or 'slsqp' (the reference solver).
    fast: a `fastmodel.FastModel` to use (e.g. one with a cut-off); default exact.
    cell: None (cluster) or a periodic cell (3×3 bohr, rows = lattice vectors): needs Q = 0 and a
    cut-off FastModel (default: cutoff_tol 1e-6, r_max 12 bohr); the same starts and global checks,
    with minimum-image distances for the probes.
    global_checks: False solves locally from `warm_start` alone (no vertex or probe starts, no vertex
    descent): the cost of one warm-started charge solve, as an MD step between global checks needs;
    the result is a local minimum that the checks could still improve."""
    if method not in METHODS:
        raise InputError(f"unknown CPE method {method!r}: use one of {', '.join(METHODS)}")
    if cell is not None:
        from .cell import check_neutral

        check_neutral(Q)
        if method == "slsqp":
            raise InputError("the reference SLSQP solver has no periodic energy: use method='auto' for a cell")
        if fast is None:
            fast = fast_model(model, cutoff_tol=PERIODIC_CUTOFF_TOL, r_max=PERIODIC_R_MAX)
        if not fast.supported:
            raise InputError(f"periodic cells need the fast model, which does not support this model ({fast.reason})")
    fm = None
    if method != "slsqp":
        fm = fast if fast is not None else fast_model(model)
        if not fm.supported:
            if method == "fast":
                raise InputError(f"the fast CPE solver does not support this model ({fm.reason}): use method='slsqp'")
            fm = None
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    if not global_checks:
        if warm_start is None:
            raise InputError("global_checks=False solves from the warm start alone: pass warm_start")
        start = np.ascontiguousarray(np.asarray(warm_start, dtype=float))
        if start.shape != (int(system.offsets[-1]),):
            raise InputError(f"warm_start: expected {int(system.offsets[-1])} weights, got {start.size}")
        if fm is None:
            return _solve_slsqp(model, system, pos, Q, [start])
        held = _converged_vertex(fm, system, pos, cell, start, Q)
        if held is not None:   # the warm start is a vertex and already a KKT point: no pair data of every state pair
            c, ev = held
            return CPEResult(c, ev, chemical_potential(model, system, c, ev), 1, True)
        pd = fm.pair_data(system, pos, cell)
        held = _converged_start(fm, pd, start, Q)
        if held is not None:   # the warm start is already a KKT point: its energy and forces are the result
            c, ev = held
            return CPEResult(c, ev, chemical_potential(model, system, c, ev), 1, True)
        W, E, status = _run(start[None, :], Q, fm, pd)
        if status[0] == 3 or not np.isfinite(E[0]):
            raise EctemError(f"CPE: no feasible local solution from the warm start at total charge {Q:+g}")
        ev = fm.evaluate_data(pd, W[0])
        return CPEResult(W[0].copy(), ev, chemical_potential(model, system, W[0], ev), 1, bool(status[0] == 0))
    if fm is None:
        return _solve_slsqp(model, system, pos, Q, _starts(model, system, pos, Q, warm_start, probe_radius))
    pd = fm.pair_data(system, pos, cell)
    if system.n_atoms > SMALL_CLUSTER:  # probes are screened, not enumerated (see _solve_fast)
        starts = _starts(model, system, pos, Q, warm_start, probe_radius, probes=False, cell=cell)
        return _solve_fast(model, fm, pd, Q, starts, warm_start, probe_radius, screened=True)
    starts = _starts(model, system, pos, Q, warm_start, probe_radius, cell=cell)
    screened = system.n_atoms > 2 and len(starts) > FULL_PROBE_LIMIT + 2
    if screened:
        starts = starts[:int(abs(Q) < 1e-12) + int(warm_start is not None)]
    return _solve_fast(model, fm, pd, Q, starts, warm_start, probe_radius, screened=screened)


def _converged_vertex(fm, system, pos, cell, start, Q):
    """(c, evaluation) when `start` is a vertex (every weight 0 or 1, Σq = Q) of the pure model under a
    cut-off fast model and already passes SPG's convergence test at these positions: the energy, forces
    and strain of the fixed-weight path (`fixed.cached_fixed_weights`, its Verlet list kept between
    calls) and ∂E/∂c from the grouped tables at the vertex (`FixedWeights.weight_gradient`: the state
    pairs (s, a_j) and (a_i, t) only). None otherwise (the caller solves on the full pair data)."""
    if fm.cutoff_tol is None or fm.model.options.variant != "pure":
        return None
    qv = fm.model.charge_vector(system)
    # Σq by elementwise numpy, not a BLAS dot (see cell.times3: its thread pool would slow the kernels)
    if not np.all((start == 0.0) | (start == 1.0)) or abs(float(np.sum(qv * start)) - Q) > 1e-12:
        return None
    from .fixed import cached_fixed_weights

    fw = cached_fixed_weights(fm, system, start)
    if fw.vertex is None:
        return None
    ev = fw.evaluate(pos, cell=cell)
    g = fw.weight_gradient(pos, cell)
    if g is None or not np.isfinite(ev.energy):
        return None
    woff = np.asarray(system.offsets, dtype=np.int64)
    if pg_norm(start, g, woff, qv, float(Q), np.empty_like(start)) > SPG_TOL:
        return None
    return start.copy(), Evaluation(ev.energy, g, ev.grad_r, ev.charges, ev.rho_bar, ev.parts, ev.strain)


def _converged_start(fm, pd, start, Q):
    """(c, evaluation with forces) when the feasible projection c of `start` already satisfies SPG's
    convergence test ‖P(c − ∇E) − c‖∞ ≤ SPG_TOL (an MD step that moved no weight), else None. One
    energy + force evaluation instead of SPG's first energy and a second one with forces; not for
    the thermal variant (its c ln c slopes never pass the test)."""
    if fm.opts[0] == 2:
        return None
    woff, qv = pd.sysd[1], pd.sysd[2]
    c = np.empty_like(start)
    if not np.isfinite(project_feasible(start, woff, qv, float(Q), c)):
        return None
    ev = fm.evaluate_data(pd, c)
    if not np.isfinite(ev.energy) or pg_norm(c, ev.grad_c, woff, qv, float(Q), np.empty_like(c)) > SPG_TOL:
        return None
    return c, ev


PERIODIC_CUTOFF_TOL = 1e-6   # default kernel tolerance of periodic cells (docs/periodic.md)
PERIODIC_R_MAX = 12.0        # default cap of every state-pair radius in cells (bohr)


def _starts(model, system, pos, Q, warm_start, probe_radius, probes=True, cell=None):
    ground = model.ground_weights(system)
    if system.n_atoms == 1:
        starts = vertices(model, system, Q)
        if not starts:
            raise EctemError(f"no state of {system.symbols[0]} has charge {Q:+g}")
        return starts
    starts = []
    if system.n_atoms <= 2:
        vs = vertices(model, system, Q)
        starts += vs
        if abs(Q) < 1e-12:
            starts += [0.5 * (ground + v) for v in vs if not np.array_equal(v, ground)]
    else:
        if abs(Q) < 1e-12:
            starts.append(ground)
        # large systems and cells: the fully ionic vertex, which single probes from neutral do not reach
        ionic = _electronegativity_vertex(model, system, Q) if (cell is not None or system.n_atoms > SMALL_CLUSTER) else None
        if ionic is not None:
            starts.append(ionic)
        if warm_start is not None:
            starts.append(np.asarray(warm_start, dtype=float))
        base = starts[-1] if starts else None
        if base is not None and probes:
            starts += _probes(model, system, pos, base, probe_radius, cell)
    if not starts:
        raise EctemError(f"no feasible start for total charge {Q:+g}: give a warm start")
    return starts


def _electronegativity_vertex(model, system, Q):
    """The fully ionic vertex: every atom of the least electronegative element (Pauling) of the system
    as its cation, of the most electronegative as its anion, the others neutral; None unless both
    ions exist, the elements differ and the total charge is Q. A start the single charge-transfer
    probes cannot reach from the neutral vertex in a large cell (a 64-atom LiH cell: −1.24 eV per
    formula unit from the neutral start, −4.08 eV from this one)."""
    from ..elements import PAULING_ELECTRONEGATIVITY

    kinds = sorted(set(int(k) for k in system.element_index),
                   key=lambda k: PAULING_ELECTRONEGATIVITY.get(model.elements[k].symbol, np.nan))
    if len(kinds) < 2:
        return None
    lo, hi = model.elements[kinds[0]], model.elements[kinds[-1]]
    if lo.cation is None or hi.anion is None or not all(
            model.elements[k].symbol in PAULING_ELECTRONEGATIVITY for k in kinds):
        return None
    c = model.ground_weights(system)
    q = 0.0
    for i, k in enumerate(system.element_index):
        e = model.elements[k]
        s = e.cation if k == kinds[0] else e.anion if k == kinds[-1] else None
        if s is not None:
            c[system.slice(i)] = 0.0
            c[system.offsets[i] + s] = 1.0
            q += e.charge[s]
    return c if abs(q - Q) < 1e-12 else None


def _solve_slsqp(model, system, pos, Q, starts) -> CPEResult:
    """Reference: SLSQP from every start, lowest energy wins."""
    A, b = _constraints(model, system, Q)
    if system.n_atoms == 1:
        best = min(((c, model.evaluate(system, pos, c)) for c in starts), key=lambda t: t[1].energy)
        return CPEResult(best[0], best[1], chemical_potential(model, system, best[0], best[1]), len(starts), True)
    best, n_ok = None, 0
    for c0 in starts:
        c, ev, ok = _local(model, system, pos, c0, A, b)
        n_ok += ok
        if np.abs(A @ c - b).max() > 1e-10:
            continue
        if best is None or ev.energy < best[1].energy - 1e-13:
            best = (c, ev)
    if best is None:
        raise EctemError("CPE found no weights satisfying the constraints")
    return CPEResult(best[0], best[1], chemical_potential(model, system, best[0], best[1]), len(starts), n_ok > 0)


FULL_PROBE_LIMIT = 64     # clusters with at most this many probes solve from every probe
SMALL_CLUSTER = 40        # above this many atoms the probes are not enumerated in Python
SCREENED_PROBES = 16      # beyond: the lowest screened probes are solved


def _solve_fast(model, fm, pd, Q, starts, warm_start=None, probe_radius=12.0, screened=False) -> CPEResult:
    """Numba SPG from every start on one set of pair data; lowest energy wins. Clusters with more
    than FULL_PROBE_LIMIT charge-transfer probes: solve from the neutral vertex and the warm start,
    then screen every probe pair (i+, j−) within probe_radius on that solution by the pair model
    ΔE ≈ g_i·Δc_i + g_j·Δc_j + Δc_iᵀ U_ij Δc_j and solve from the SCREENED_PROBES lowest (< 0.1 Ha)."""
    system = pd.system
    S = np.ascontiguousarray(np.array(starts, dtype=float))
    if system.n_atoms == 1:
        evs = [fm.evaluate_data(pd, c) for c in S]
        k = int(np.argmin([e.energy for e in evs]))
        return CPEResult(S[k], evs[k], chemical_potential(model, system, S[k], evs[k]), len(starts), True)
    W, E, status = _run(S, Q, fm, pd)
    n_starts = len(S)
    if screened:  # too many probes to solve from each: screen them on the best base solution
        k = _best(E, status)
        if k is not None:
            c = W[k]
            g = fm.evaluate_data(pd, c, want_forces=False).grad_c
            P = _screened_probes(model, fm, pd, c, g, probe_radius)
            if len(P):
                W2, E2, s2 = _run(P, Q, fm, pd)
                W, E, status = np.vstack([W, W2]), np.concatenate([E, E2]), np.concatenate([status, s2])
        n_starts = len(W)
    best = _best(E, status)
    if best is None:
        raise EctemError(f"CPE: total charge {Q:+g} cannot be reached with these ensembles")
    c, e = W[best].copy(), float(E[best])
    if system.n_atoms <= SMALL_CLUSTER:
        c, e, n_moves = _vertex_descent(c, e, Q, fm, pd)
        n_starts += n_moves
    ev = fm.evaluate_data(pd, c)
    return CPEResult(c, ev, chemical_potential(model, system, c, ev), n_starts, bool(np.any(status == 0)))


def _vertex_descent(c, e, Q, fm, pd, max_rounds=100, depth2=32, uphill=0.05):
    """Global check by discrete descent: from the best local minimum, try every move that puts one
    atom (charge kept) or two atoms (total charge kept) on single states, and on top of the
    `depth2` lowest of those (up to `uphill` Ha above the current energy) every second such move;
    re-solve locally from the best combination that lowers the energy; repeat until none does."""
    n_moves = 0
    for _ in range(max_rounds):
        X, EX = vertex_moves(c, pd.sysd, fm.el, pd.arrays, fm.opts)
        if not len(EX):
            break
        k = int(np.argmin(EX))
        x, ex = X[k], float(EX[k])
        if ex >= e - 1e-12:
            order = np.argsort(EX, kind="stable")[:depth2]
            for k in order[EX[order] < e + uphill]:
                X2, E2 = vertex_moves(X[k], pd.sysd, fm.el, pd.arrays, fm.opts)
                if len(E2) and E2.min() < ex:
                    k2 = int(np.argmin(E2))
                    x, ex = X2[k2], float(E2[k2])
        if ex >= e - 1e-12:
            break
        n_moves += 1
        W, E, status = _run(x[None, :], Q, fm, pd)
        if status[0] != 3 and E[0] < ex:
            x, ex = W[0], float(E[0])
        c, e = x.copy(), ex
    return c, e, n_moves


class _FastShim:
    """`evaluate(system, pos, c)` of a FastModel on fixed pair data (for the SLSQP polish)."""

    def __init__(self, fm, pd):
        self.fm, self.pd = fm, pd

    def evaluate(self, system, pos, c, want_forces=True):
        return self.fm.evaluate_data(self.pd, c, want_forces=False)


def _run(S, Q, fm, pd):
    """Local solves from the rows of S on the fast energy: SPG in numba; for systems of at most
    SMALL_CLUSTER atoms, runs that hit the iteration cap are finished with SLSQP, and for the
    thermal variant (c ln c: infinite slope at c = 0, where SPG crawls) SLSQP is used from
    every start as in the reference solver (on the fast energy, ~50x cheaper per evaluation)."""
    system = pd.system
    small = system.n_atoms <= SMALL_CLUSTER
    S = np.ascontiguousarray(S)
    if fm.opts[0] == 2 and small:
        W, E, status = np.empty_like(S), np.full(len(S), np.inf), np.full(len(S), 3)
        todo = np.arange(len(S))
    else:
        W, E, _, _, status = spg_multistart(S, float(Q), pd.sysd, fm.el, pd.arrays, fm.opts, SPG_TOL, SPG_MAX_ITER)
        todo = np.flatnonzero(status == 1) if small else np.zeros(0, dtype=int)
    if len(todo):
        A, b = _constraints(fm.model, system, Q)
        shim = _FastShim(fm, pd)
        for k in todo:
            c, ev, ok = _local(shim, system, pd.positions, S[k] if status[k] == 3 else W[k], A, b)
            if np.abs(A @ c - b).max() <= 1e-10 and np.all(c >= 0) and ev.energy < E[k]:
                W[k], E[k], status[k] = c, ev.energy, 0 if ok else 1
    return W, E, status


def _best(E, status):
    best = None
    for k in range(len(E)):
        if status[k] == 3 or not np.isfinite(E[k]):
            continue
        if best is None or E[k] < E[best] - 1e-13:
            best = k
    return best


def _screened_probes(model, fm, pd, c, g, radius, n_keep=SCREENED_PROBES, margin=0.1):
    nst, charge, nel, dE, ground, cation, anion = fm.el[:7]
    i, j, est = probe_screen(c, g, pd.sysd, pd.arrays, nst, charge, cation, anion, float(radius))
    order = np.argsort(est, kind="stable")
    order = order[est[order] < margin][:n_keep]
    woff = pd.sysd[1]
    elem = pd.sysd[0]
    out = np.empty((len(order), c.size))
    for r, k in enumerate(order):
        x = c.copy()
        a, b = int(i[k]), int(j[k])
        x[woff[a]:woff[a + 1]] = 0.0
        x[woff[a] + cation[elem[a]]] = 1.0
        x[woff[b]:woff[b + 1]] = 0.0
        x[woff[b] + anion[elem[b]]] = 1.0
        out[r] = x
    return out


def _probes(model, system, pos, base, radius, cell=None):
    """Charge-transfer probes: move one cation/anion pair (i+, j−) closer than `radius` (bohr; the
    minimum-image distance in a periodic cell) onto `base`."""
    out = []
    n = system.n_atoms
    dist = _distances(pos, cell)
    for i in range(n):
        ei = model.elements[system.element_index[i]]
        for j in range(n):
            ej = model.elements[system.element_index[j]]
            if i == j or ei.cation is None or ej.anion is None:
                continue
            if dist[i, j] > radius:
                continue
            c = base.copy()
            c[system.slice(i)] = 0.0
            c[system.offsets[i] + ei.cation] = 1.0
            c[system.slice(j)] = 0.0
            c[system.offsets[j] + ej.anion] = 1.0
            out.append(c)
    return out


def _distances(pos, cell):
    """n×n distances (bohr): direct, or the minimum image over the 27 neighbouring cells."""
    d = pos[:, None, :] - pos[None, :, :]
    if cell is None:
        return np.linalg.norm(d, axis=-1)
    cell = np.asarray(cell, dtype=float)
    frac = d @ np.linalg.inv(cell)
    frac -= np.round(frac)
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float) @ cell
    cart = frac @ cell
    return np.min(np.linalg.norm(cart[:, :, None, :] + shifts[None, None], axis=-1), axis=-1)


def chemical_potential(model: ECTModel, system: System, c: np.ndarray, ev: Evaluation) -> tuple:
    """Electron chemical potential μ = ∂E/∂N (hartree) from the KKT conditions.

    With multiplier ν of Σq = Q, stationarity on active states reads g_is = λ_i + ν q_is;
    μ = −ν. Atoms with two or more active states fix ν; otherwise ν lies in the interval
    allowed by g_is ≥ λ_i + ν q_is for the inactive states."""
    qv = np.ascontiguousarray(model.charge_vector(system), dtype=float)
    nus, lo, hi = kkt_bounds(np.ascontiguousarray(c, dtype=float), np.ascontiguousarray(ev.grad_c, dtype=float), qv,
                             np.asarray(system.offsets, dtype=np.int64), 1e-9)
    nus = list(nus)
    if nus:
        nu = float(np.median(nus))
        return (-nu, -nu)
    return (-hi, -lo)


