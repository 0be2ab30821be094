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

import numba
import numpy as np
from scipy import optimize

from .errors import EctemError, InputError
from .fastmodel import _energy, fast_model
from .model import ECTModel, Evaluation, System

METHODS = ("auto", "fast", "slsqp")
SPG_TOL = 1e-11          # ‖P(c − ∇E) − c‖∞ at convergence (hartree-scaled weights)
SPG_MAX_ITER = 2000
STALL = 30               # SPG iterations without an energy decrease > 1e-12·max(1, |E|) before stopping


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


def _project(c: np.ndarray, A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Clean a solver result: clip tiny negatives, then restore the equalities exactly on
    the support with a minimum-norm correction."""
    c = np.where(c < 1e-13, 0.0, c)
    for _ in range(3):
        support = c > 0
        As = A[:, support]
        r = b - A @ c
        if np.abs(r).max() < 1e-15:
            break
        delta = np.linalg.lstsq(As, r, rcond=None)[0]
        c[support] += delta
        c = np.where(c < 0, 0.0, c)
    return c


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
    c = _project(np.asarray(res.x, dtype=float), A, b)
    return c, model.evaluate(system, pos, c), bool(res.success)


def solve(model: ECTModel, system: System, positions, Q: float = 0.0, warm_start: np.ndarray | None = None,
          probe_radius: float = 12.0, method: str = "auto", fast=None) -> CPEResult:
    """Global CPE minimum (exhaustive starts for ≤ 2 atoms; local + probes for clusters).

    method: 'auto' (the numba SPG solver where `fastmodel` supports the model, else SLSQP),
    'fast' (numba only; InputError where unsupported) or 'slsqp' (the reference solver).
    fast: a `fastmodel.FastModel` to use (e.g. one with a cut-off); default exact."""
    if method not in METHODS:
        raise InputError(f"unknown CPE method {method!r}: use one of {', '.join(METHODS)}")
    fm = None
    if method != "slsqp":
        fm = fast if fast is not None else fast_model(model)
        if not fm.supported:
            if method == "fast":
                raise InputError(f"the fast CPE solver does not support this model ({fm.reason}): use method='slsqp'")
            fm = None
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    if fm is None:
        return _solve_slsqp(model, system, pos, Q, _starts(model, system, pos, Q, warm_start, probe_radius))
    if system.n_atoms > SMALL_CLUSTER:  # probes are screened, not enumerated (see _solve_fast)
        starts = _starts(model, system, pos, Q, warm_start, probe_radius, probes=False)
        return _solve_fast(model, fm, system, pos, Q, starts, warm_start, probe_radius, screened=True)
    starts = _starts(model, system, pos, Q, warm_start, probe_radius)
    screened = system.n_atoms > 2 and len(starts) > FULL_PROBE_LIMIT + 2
    if screened:
        starts = starts[:int(abs(Q) < 1e-12) + int(warm_start is not None)]
    return _solve_fast(model, fm, system, pos, Q, starts, warm_start, probe_radius, screened=screened)


def _starts(model, system, pos, Q, warm_start, probe_radius, probes=True):
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
        if warm_start is not None:
            starts.append(np.asarray(warm_start, dtype=float))
        base = starts[-1] if starts else None
        if base is not None and probes:
            starts += _probes(model, system, pos, base, probe_radius)
    if not starts:
        raise EctemError(f"no feasible start for total charge {Q:+g}: give a warm start")
    return starts


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


def _solve_fast(model, fm, system, pos, Q, starts, warm_start=None, probe_radius=12.0, screened=False) -> CPEResult:
    """Numba SPG from every start on one set of pair data; lowest energy wins. Clusters with more
    than FULL_PROBE_LIMIT charge-transfer probes: solve from the neutral vertex and the warm start,
    then screen every probe pair (i+, j−) within probe_radius on that solution by the pair model
    ΔE ≈ g_i·Δc_i + g_j·Δc_j + Δc_iᵀ U_ij Δc_j and solve from the SCREENED_PROBES lowest (< 0.1 Ha)."""
    pd = fm.pair_data(system, pos)
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
        X, EX = _moves(c, pd.sysd, fm.el, pd.arrays, fm.opts)
        if not len(EX):
            break
        k = int(np.argmin(EX))
        x, ex = X[k], float(EX[k])
        if ex >= e - 1e-12:
            order = np.argsort(EX, kind="stable")[:depth2]
            for k in order[EX[order] < e + uphill]:
                X2, E2 = _moves(X[k], pd.sysd, fm.el, pd.arrays, fm.opts)
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


@numba.njit(cache=True)
def _moves(c, sysd, el, pd, opts):
    """Every single-atom (charge kept) and pair (total charge kept) vertex move from c:
    the moved weight vectors and their energies."""
    elem, woff, qv, pos, pi, pj = sysd
    n = elem.size
    q = np.zeros(n)
    for i in range(n):
        for s in range(woff[i], woff[i + 1]):
            q[i] += qv[s] * c[s]
    cap = 16
    X = np.empty((cap, c.size))
    E = np.empty(cap)
    k = 0
    for i in range(n):
        for j in range(i, n):
            for s in range(woff[i], woff[i + 1]):
                for t in range(woff[j], woff[j + 1]):
                    if i == j:
                        if t != s or abs(qv[s] - q[i]) > 1e-12 or c[s] == 1.0:
                            continue
                    else:
                        if abs(qv[s] - q[i]) <= 1e-12:
                            continue  # covered by the single-atom moves
                        if abs(qv[s] + qv[t] - q[i] - q[j]) > 1e-12:
                            continue
                    if k == cap:
                        X2 = np.empty((2 * cap, c.size))
                        E2 = np.empty(2 * cap)
                        X2[:cap] = X
                        E2[:cap] = E
                        X, E, cap = X2, E2, 2 * cap
                    X[k] = c
                    X[k, woff[i]:woff[i + 1]] = 0.0
                    X[k, woff[j]:woff[j + 1]] = 0.0
                    X[k, s] = 1.0
                    X[k, t] = 1.0
                    r = _energy(X[k], False, sysd, el, pd, opts)
                    E[k] = r[0] + r[1] + r[2] + r[3] + r[4]
                    k += 1
    return X[:k], E[:k]


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
        W, E, _, _, status = _multistart(S, float(Q), pd.sysd, fm.el, pd.arrays, fm.opts, SPG_TOL, SPG_MAX_ITER)
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
    i, j, est = _probe_screen(c, g, pd.sysd, pd.arrays, nst, charge, cation, anion, float(radius))
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


@numba.njit(cache=True)
def _probe_screen(c, g, sysd, pd, nst, charge, cation, anion, radius):
    """Pair-model energy change of every probe (i → cation, j → anion) over the pair list."""
    elem, woff, qv, pos, pi, pj = sysd
    R, u, boff, Kij, Kji, dKij, dKji, Us, dUs, sres, dsres, tau, dtau = pd
    npair = pi.size
    oi = np.empty(2 * npair, dtype=np.int64)
    oj = np.empty(2 * npair, dtype=np.int64)
    est = np.empty(2 * npair)
    m = 0
    for p in range(npair):
        if R[p] > radius:
            continue
        for flip in range(2):
            i = pi[p] if flip == 0 else pj[p]
            j = pj[p] if flip == 0 else pi[p]
            ki = elem[i]
            kj = elem[j]
            if cation[ki] < 0 or anion[kj] < 0:
                continue
            a = woff[i]
            b = woff[j]
            ni = woff[i + 1] - a
            nj = woff[j + 1] - b
            di = np.empty(ni)
            dj = np.empty(nj)
            e = 0.0
            for s in range(ni):
                di[s] = (1.0 if s == cation[ki] else 0.0) - c[a + s]
                e += g[a + s] * di[s]
            for t in range(nj):
                dj[t] = (1.0 if t == anion[kj] else 0.0) - c[b + t]
                e += g[b + t] * dj[t]
            o = boff[p]
            n2 = woff[pj[p] + 1] - woff[pj[p]]
            for s in range(ni):
                for t in range(nj):
                    if flip == 0:
                        us = Us[o + s * n2 + t]
                    else:
                        us = Us[o + t * n2 + s]
                    e += di[s] * dj[t] * (us + charge[ki, s] * charge[kj, t] / R[p])
            oi[m] = i
            oj[m] = j
            est[m] = e
            m += 1
    return oi[:m], oj[:m], est[:m]


def _probes(model, system, pos, base, radius):
    """Charge-transfer probes: move one cation/anion pair (i+, j−) onto `base`."""
    out = []
    n = system.n_atoms
    for i in range(n):
        ei = model.elements[system.element_index[i]]
        for j in range(n):
            ej = model.elements[system.element_index[j]]
            if i == j or ei.cation is None or ej.anion is None:
                continue
            if np.linalg.norm(pos[i] - pos[j]) > radius:
                continue
            c = base.copy()
            c[system.slice(i)] = 0.0
            c[system.offsets[i] + ei.cation] = 1.0
            c[system.slice(j)] = 0.0
            c[system.offsets[j] + ej.anion] = 1.0
            out.append(c)
    return out


def chemical_potential(model: ECTModel, system: System, c: np.ndarray, ev: Evaluation) -> tuple:
    """Electron chemical potential μ = ∂E/∂N (hartree) from the KKT conditions.

    With multiplier ν of Σq = Q, stationarity on active states reads g_is = λ_i + ν q_is;
    μ = −ν. Atoms with two or more active states fix ν; otherwise ν lies in the interval
    allowed by g_is ≥ λ_i + ν q_is for the inactive states."""
    qv = model.charge_vector(system)
    g = ev.grad_c
    nus, lo, hi = [], -np.inf, np.inf
    for i in range(system.n_atoms):
        sl = system.slice(i)
        ci, gi, qi = c[sl], g[sl], qv[sl]
        act = ci > 1e-9
        if act.sum() >= 2:
            ia = np.flatnonzero(act)
            for a, bb in itertools.combinations(ia, 2):
                if abs(qi[a] - qi[bb]) > 1e-12:
                    nus.append((gi[a] - gi[bb]) / (qi[a] - qi[bb]))
        v = int(np.argmax(ci))
        for s in np.flatnonzero(~act):
            dq = qi[s] - qi[v]
            dg = gi[s] - gi[v]
            if dq > 0:
                hi = min(hi, dg / dq)
            elif dq < 0:
                lo = max(lo, dg / dq)
    if nus:
        nu = float(np.median(nus))
        return (-nu, -nu)
    return (-hi, -lo)


# ============================================================================ fast local solver
# Spectral projected gradient (Birgin, Martínez & Raydan, SIAM J. Optim. 10, 1196 (2000), SPG2)
# on the feasible set itself: every iterate is the Euclidean projection onto
# {c_i in the simplex of atom i for every i, Σ q_is c_is = Q}, so weights never leave it.
@numba.njit(cache=True)
def _charge_at(nu, y, woff, qv, out, buf):
    """Project every atom's y_i − ν q_i onto its simplex (sort-based, no allocation); Σ q·out."""
    n = woff.size - 1
    h = 0.0
    for i in range(n):
        a = woff[i]
        m = woff[i + 1] - a
        for k in range(m):  # insertion sort, descending
            v = y[a + k] - nu * qv[a + k]
            p = k
            while p > 0 and buf[p - 1] < v:
                buf[p] = buf[p - 1]
                p -= 1
            buf[p] = v
        css = 0.0
        theta = 0.0
        for k in range(m):
            css += buf[k]
            tk = (css - 1.0) / (k + 1)
            if buf[k] - tk > 0.0:
                theta = tk
        for k in range(m):
            v = y[a + k] - nu * qv[a + k] - theta
            out[a + k] = v if v > 0.0 else 0.0
            h += qv[a + k] * out[a + k]
    return h


@numba.njit(cache=True)
def _project_feasible(y, woff, qv, Q, out, nu0=0.0):
    """Projection onto the product of simplices with Σ q c = Q: out = P(y − ν q) atom by atom,
    ν found by safeguarded false position (h(ν) = Σ q·out is piecewise linear, non-increasing).
    Returns ν (the multiplier of the charge constraint) or nan when Q is not reachable."""
    n = woff.size - 1
    buf = np.empty(64)
    qmax = 0.0
    qmin = 0.0
    scale = 1.0
    for i in range(n):
        hi = -1e300
        lo = 1e300
        for s in range(woff[i], woff[i + 1]):
            hi = max(hi, qv[s])
            lo = min(lo, qv[s])
            scale = max(scale, abs(y[s]))
        qmax += hi
        qmin += lo
    tol = 1e-14 * max(1.0, qmax - qmin)
    if Q > qmax + tol or Q < qmin - tol:
        return np.nan
    if qmax - qmin < 1e-300:
        _charge_at(0.0, y, woff, qv, out, buf)
        return 0.0
    h0 = _charge_at(nu0, y, woff, qv, out, buf)
    if abs(h0 - Q) <= tol:
        return nu0
    # bracket: h(a) > Q > h(b), a < b (starting next to the guess, steps growing 4x)
    step = 1e-3 * scale
    if h0 > Q:
        a, ha = nu0, h0
        b = step
        hb = _charge_at(b, y, woff, qv, out, buf)
        while hb > Q + tol:
            a, ha = b, hb
            step *= 4.0
            b = a + step
            hb = _charge_at(b, y, woff, qv, out, buf)
            if step > 1e300:
                return np.nan
    else:
        b, hb = nu0, h0
        a = -step
        ha = _charge_at(a, y, woff, qv, out, buf)
        while ha < Q - tol:
            b, hb = a, ha
            step *= 4.0
            a = b - step
            ha = _charge_at(a, y, woff, qv, out, buf)
            if step > 1e300:
                return np.nan
    if abs(hb - Q) <= tol:
        _charge_at(b, y, woff, qv, out, buf)
        return b
    if abs(ha - Q) <= tol:
        _charge_at(a, y, woff, qv, out, buf)
        return a
    side = 0
    nu = 0.5 * (a + b)
    for _ in range(200):
        nu = (a * (hb - Q) - b * (ha - Q)) / (hb - ha)   # false position
        if not (a < nu < b):
            nu = 0.5 * (a + b)
        h = _charge_at(nu, y, woff, qv, out, buf)
        if abs(h - Q) <= tol or b - a <= 1e-15 * max(abs(a), abs(b)):
            break
        if h > Q:
            a, ha = nu, h
            if side == -1:
                hb = Q + 0.5 * (hb - Q)   # Illinois
            side = -1
        else:
            b, hb = nu, h
            if side == 1:
                ha = Q + 0.5 * (ha - Q)
            side = 1
    # restore Σ q c = Q exactly on the free weights of one atom with two active charges
    h = 0.0
    for s in range(out.size):
        h += qv[s] * out[s]
    r = Q - h
    if r != 0.0:
        for i in range(n):
            best = -1
            other = -1
            for s in range(woff[i], woff[i + 1]):
                if out[s] > 0.0:
                    if best < 0:
                        best = s
                    elif qv[s] != qv[best]:
                        other = s
            if best >= 0 and other >= 0:
                dq = qv[other] - qv[best]
                x = r / dq
                if out[best] - x >= 0.0 and out[other] + x >= 0.0:
                    out[best] -= x
                    out[other] += x
                    break
    return nu


@numba.njit(cache=True)
def _pg_norm(c, g, woff, qv, Q, tmp, nu0=0.0):
    """‖P(c − g) − c‖∞: zero exactly at KKT points."""
    _project_feasible(c - g, woff, qv, Q, tmp, nu0)
    r = 0.0
    for k in range(c.size):
        r = max(r, abs(tmp[k] - c[k]))
    return r


@numba.njit(cache=True)
def _spg(c0, Q, sysd, el, pd, opts, tol, max_iter):
    """SPG2 with a non-monotone line search (memory 10). Returns (c, energy, |projected
    gradient|∞, iterations, status): status 0 converged, 1 max_iter, 2 line search stalled,
    3 infeasible. Converged: |projected gradient|∞ <= tol, or (thermal variant: stagnation) the best energy
    has not dropped by more than 1e-12·max(1, |E|) in STALL iterations — needed where the
    energy has c ln c terms (thermal variant): their slope is infinite at c = 0, so the
    projected gradient of a weight that should be ~e^(−Δ/T) never becomes small."""
    woff = sysd[1]
    qv = sysd[2]
    m = c0.size
    c = np.empty(m)
    tmp = np.empty(m)
    nu0 = _project_feasible(c0, woff, qv, Q, c)
    if nu0 != nu0:  # nan: Q not reachable
        return c, np.inf, np.inf, 0, 3
    r = _energy(c, False, sysd, el, pd, opts)
    f = r[0] + r[1] + r[2] + r[3] + r[4]
    g = r[5]
    hist = np.full(10, -np.inf)
    hist[0] = f
    mu_est = 0.0
    pgn = _pg_norm(c, g, woff, qv, Q, tmp)
    lam = 1.0 / max(pgn, 1e-12)
    lam = min(max(lam, 1e-10), 1e10)
    it = 0
    status = 1
    d = np.empty(m)
    cn = np.empty(m)
    c_best = c.copy()
    f_best = f
    it_best = 0
    while it < max_iter:
        if pgn <= tol:
            status = 0
            break
        if opts[0] == 2 and it - it_best > STALL:  # thermal only (see docstring)
            status = 0
            break
        it += 1
        nu = _project_feasible(c - lam * g, woff, qv, Q, tmp, mu_est * lam)
        if nu == nu:
            mu_est = nu / lam
        gd = 0.0
        for k in range(m):
            d[k] = tmp[k] - c[k]
            gd += g[k] * d[k]
        if gd >= 0.0:  # no descent left at this precision
            status = 0 if pgn <= 1e3 * tol else 2
            break
        fmax = hist.max()
        alpha = 1.0
        ok = False
        for _ in range(60):
            for k in range(m):
                cn[k] = c[k] + alpha * d[k]
            rn = _energy(cn, False, sysd, el, pd, opts)
            fn = rn[0] + rn[1] + rn[2] + rn[3] + rn[4]
            if fn <= fmax + 1e-4 * alpha * gd:
                ok = True
                break
            den = fn - f - alpha * gd
            at = -0.5 * alpha * alpha * gd / den if den > 0.0 else 0.5 * alpha
            if 0.1 <= at <= 0.9 * alpha:
                alpha = at
            else:
                alpha *= 0.5
        if not ok:
            status = 2
            break
        gn = rn[5]
        sy = 0.0
        ss = 0.0
        for k in range(m):
            s_ = cn[k] - c[k]
            ss += s_ * s_
            sy += s_ * (gn[k] - g[k])
        c[:] = cn
        f = fn
        g = gn
        hist[it % 10] = f
        if f < f_best:
            if f < f_best - 1e-12 * max(1.0, abs(f_best)):
                it_best = it
            f_best = f
            c_best[:] = c
        lam = 1e10 if sy <= 0.0 else min(max(ss / sy, 1e-10), 1e10)
        pgn = _pg_norm(c, g, woff, qv, Q, tmp, mu_est)
    if status != 0 and pgn <= tol:
        status = 0
    if f_best < f:  # non-monotone search: return the best point seen
        return c_best, f_best, pgn, it, status
    return c, f, pgn, it, status


@numba.njit(cache=True)
def _multistart(starts, Q, sysd, el, pd, opts, tol, max_iter):
    """_spg from every row of `starts`: weights, energies, |pg|, iterations, status per start."""
    ns, m = starts.shape
    W = np.empty((ns, m))
    E = np.empty(ns)
    P = np.empty(ns)
    I = np.empty(ns, dtype=np.int64)
    S = np.empty(ns, dtype=np.int64)
    for k in range(ns):
        c, f, pg, it, st = _spg(starts[k], Q, sysd, el, pd, opts, tol, max_iter)
        W[k] = c
        E[k] = f
        P[k] = pg
        I[k] = it
        S[k] = st
    return W, E, P, I, S
