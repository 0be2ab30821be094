"""Chemical-potential equalization: the ensemble weights that minimize the ECT-EAM energy
under the simplex rules (c_is ≥ 0, Σ_s c_is = 1 per atom) and Σ_i q_i = Q.

The problem is non-convex (bilinear Coulomb, linear ensembles), so a warm-started local
solver can sit on the wrong branch. Method (docs/model.md section 4):
  1. candidates = every feasible vertex (one state per atom, Σq = Q) for ≤ 2 atoms, or,
     for clusters, the all-neutral vertex, the warm start, and single charge-transfer
     probes (one cation/anion pair moved onto the current solution) for pairs of atoms
     closer than `probe_radius`;
  2. from each candidate, and from the midpoint of the neutral vertex and each charge-
     transfer vertex, a local SLSQP solve (analytic gradients, bounds [0, 1], equality
     constraints exact to 1e-12 after a final projection);
  3. the lowest energy wins. Converged when SLSQP reports success with ftol 1e-14.
μ is the electron chemical potential ∂E/∂N from the KKT conditions: a number when some
weight is fractional, otherwise the interval [μ_lo, μ_hi] allowed by the inactive states.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .errors import EctemError
from .model import ECTModel, Evaluation, System


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
          probe_radius: float = 12.0) -> CPEResult:
    """Global CPE minimum (exhaustive starts for ≤ 2 atoms; local + probes for clusters)."""
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    A, b = _constraints(model, system, Q)
    ground = model.ground_weights(system)
    if system.n_atoms == 1:
        starts = vertices(model, system, Q)
        if not starts:
            raise EctemError(f"no state of {system.symbols[0]} has charge {Q:+g}")
        best = min(((c, model.evaluate(system, pos, c)) for c in starts), key=lambda t: t[1].energy)
        return CPEResult(best[0], best[1], chemical_potential(model, system, best[0], best[1]), len(starts), True)
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
        if base is not None:
            starts += _probes(model, system, pos, base, probe_radius)
    if not starts:
        raise EctemError(f"no feasible start for total charge {Q:+g}: give a warm start")
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
