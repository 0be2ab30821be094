"""Weights on simplices: c ≥ 0 with linear equalities A c = b (one simplex per atom, total
charge). One projection that cleans a solver result back onto the constraints, and a
constrained minimizer (SLSQP presolve + active-set Newton with a linear-programming KKT check)
used by the density and energy weights. Used by `cpe` and `molecules.weights`."""
from __future__ import annotations

import numpy as np
from scipy import optimize

from ..errors import InputError

PROJECT_CLIP = 1e-14      # weights below this are set to 0 before the equalities are restored


def null_space(A, tol=1e-12):
    if A.shape[0] == 0:
        return np.eye(A.shape[1])
    _, s, vt = np.linalg.svd(A)
    rank = int((s > tol * max(s.max(initial=0.0), 1.0)).sum())
    return vt[rank:].T


def project(c, A, b):
    """Clip weights below PROJECT_CLIP (and negatives) to 0, then restore A c = b on the support
    by a minimum-norm correction (at most 5 rounds, until the residual is below 1e-15)."""
    c = np.where(c < PROJECT_CLIP, 0.0, c)
    for _ in range(5):
        r = b - A @ c
        if np.abs(r).max(initial=0.0) < 1e-15:
            break
        sup = c > 0
        c[sup] += np.linalg.lstsq(A[:, sup], r, rcond=None)[0]
        c = np.where(c < 0, 0.0, c)
    return c


def interior_start(A, b):
    """A feasible point as far from the bounds as possible (LP: max t with c ≥ t)."""
    m = A.shape[1]
    obj = np.zeros(m + 1)
    obj[-1] = -1.0
    Aeq = np.hstack([A, np.zeros((A.shape[0], 1))])
    Aub = np.hstack([-np.eye(m), np.ones((m, 1))])
    res = optimize.linprog(obj, A_ub=Aub, b_ub=np.zeros(m), A_eq=Aeq, b_eq=b,
                           bounds=[(0, None)] * m + [(0, 1)], method="highs")
    if res.status != 0:
        raise InputError("no weights satisfy the constraints (each atom's simplex and the total charge): "
                         "check the total charge against the states in the bundle")
    return project(np.asarray(res.x[:m], float), A, b)


def first_order_gap(g, A, free):
    """min gᵀd over feasible directions (A d = 0, d ≥ 0 where the weight is 0, |d| ≤ 1): zero at
    a KKT point of the convex problem, negative with a descent direction d otherwise."""
    bounds = [(-1.0, 1.0) if fk else (0.0, 1.0) for fk in free]
    res = optimize.linprog(g, A_eq=A, b_eq=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    if res.status != 0:
        return 0.0, np.zeros_like(g)
    return float(res.fun), np.asarray(res.x, float)


def minimize_on_simplex(fun, A, b, x0=None, tol=1e-12, maxit=200, presolve=True):
    """Minimize fun(c) -> (f, g, H) under c ≥ 0, A c = b: SLSQP (if presolve), then an
    active-set Newton method in the null space of the active constraints, with the KKT
    conditions checked by a linear program over the feasible directions. Global for a convex
    fun; a local minimum (KKT point) otherwise. Returns (c, info)."""
    x = interior_start(A, b) if x0 is None else project(np.array(x0, float), A, b)
    ok = True
    if presolve:
        scale = max(1.0, abs(fun(x, hess=False)[0]))
        res = optimize.minimize(lambda c: fun(c, hess=False)[0] / scale, x, method="SLSQP",
                                jac=lambda c: fun(c, hess=False)[1] / scale, bounds=[(0.0, None)] * len(x),
                                constraints=[{"type": "eq", "fun": lambda c: A @ c - b, "jac": lambda c: A}],
                                options={"ftol": 1e-15, "maxiter": 500})
        ok = bool(res.success)
        xs = project(np.asarray(res.x, float), A, b)
        if np.isfinite(fun(xs, hess=False)[0]):
            x = xs
    free = x > 0
    noise = 1e-13 * max(1.0, float(getattr(fun, "f_scale", 1.0)))
    kkt, stalled, it = np.inf, False, 0
    for it in range(maxit):  # noqa: B007 -- the count after the loop is reported in info
        f, g, H = fun(x)
        gscale = max(1.0, np.abs(g).max())
        Z = null_space(A[:, free])
        idx = np.flatnonzero(free)
        p = np.zeros_like(x)
        gz = Z.T @ g[idx] if Z.size else np.zeros(0)
        if Z.size:
            ev, V = np.linalg.eigh(Z.T @ H[np.ix_(idx, idx)] @ Z)
            ev = np.maximum(np.abs(ev), 1e-14 * max(np.abs(ev).max(), 1e-300))  # modified Newton
            p[idx] = -Z @ (V @ ((V.T @ gz) / ev))
        if stalled or np.linalg.norm(gz) <= tol * gscale or np.abs(p).max() < 1e-13:
            # stationary on this face (or stalled): first-order optimality over the whole
            # feasible cone; if some feasible direction descends, move along it
            gap, d = first_order_gap(g, A, free)
            kkt = max(-gap, 0.0) / gscale
            if kkt <= tol:
                break
            neg = d < 0
            amax = float(np.min(-x[neg] / d[neg])) if neg.any() else 1.0
            step = optimize.minimize_scalar(lambda a: fun(x + a * d, hess=False)[0], bounds=(0.0, amax),
                                            method="bounded", options={"xatol": 1e-14 * max(amax, 1e-300)})
            if not fun(x + step.x * d, hess=False)[0] < f:
                break
            x = project(np.where(x + step.x * d < 0, 0.0, x + step.x * d), A, b)
            free = x > 0
            stalled = False
            continue
        # longest step keeping the free weights non-negative, then backtracking
        neg = p < 0
        amax = min(1.0, float(np.min(-x[neg] / p[neg]))) if neg.any() else 1.0
        alpha, slope, accepted = amax, float(g @ p), False
        while alpha > 1e-12:
            xn = x + alpha * p
            fn = fun(xn, hess=False)[0]
            if fn <= f + 1e-4 * alpha * slope + noise:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            stalled = True
            continue
        if alpha == amax and amax < 1.0:
            xn[neg & (xn < 1e-14)] = 0.0
        x = project(np.where(xn < 0, 0.0, xn), A, b)
        free &= x > 0
    info = {"kkt_residual": float(kkt), "iterations": it + 1, "slsqp_success": ok,
            "converged": bool(kkt <= 1e-8)}
    return x, info
