"""Numba kernels of the CPE solver: exact projection onto the feasible set (every atom's simplex and
the total charge), spectral projected gradient (SPG2) with multistart, and the discrete vertex
moves and charge-transfer probe screening of the global checks (hartree, weights)."""
from __future__ import annotations

import math

import numba
import numpy as np

from .kernels import energy_kernel

STALL = 30               # SPG iterations without an energy decrease > 1e-12·max(1, |E|) before stopping


@numba.njit(cache=True)
def vertex_moves(c, sysd, el, pd, opts):
    """Every single-atom (charge kept) and pair (total charge kept) vertex move from c:
    the moved weight vectors and their energies."""
    elem, woff, qv, pos, pi, pj, lr = sysd
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
                    r = energy_kernel(X[k], False, sysd, el, pd, opts)
                    E[k] = r[0] + r[1] + r[2] + r[3] + r[4]
                    k += 1
    return X[:k], E[:k]


@numba.njit(cache=True)
def probe_screen(c, g, sysd, pd, nst, charge, cation, anion, radius):
    """Pair-model energy change of every probe (i → cation, j → anion) over the pair list. The pair's
    Coulomb is U^sr + q_s q_t / R; where PME's real space is folded into U^sr (PME given no pairs of
    its own while the pair list has some: FastModel.pair_data) U^sr already holds q_s q_t erfc(αR)/R
    and the rest is q_s q_t erf(αR)/R."""
    elem, woff, qv, pos, pi, pj, lr = sysd
    R, u, boff, Kij, Kji, dKij, dKji, Us, dUs, sres, dsres, tau, dtau = pd
    npair = pi.size
    alpha = 0.0
    if lr[0] == 2 and lr[13][0].size == 0 and npair > 0:
        alpha = lr[13][15]
    oi = np.empty(2 * npair, dtype=np.int64)
    oj = np.empty(2 * npair, dtype=np.int64)
    est = np.empty(2 * npair)
    m = 0
    for p in range(npair):
        if R[p] > radius or pi[p] == pj[p]:  # (an atom and its own periodic image is no probe)
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
            coul = (math.erf(alpha * R[p]) if alpha > 0.0 else 1.0) / R[p]
            for s in range(ni):
                for t in range(nj):
                    if flip == 0:
                        us = Us[o + s * n2 + t]
                    else:
                        us = Us[o + t * n2 + s]
                    e += di[s] * dj[t] * (us + charge[ki, s] * charge[kj, t] * coul)
            oi[m] = i
            oj[m] = j
            est[m] = e
            m += 1
    return oi[:m], oj[:m], est[:m]


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
def project_feasible(y, woff, qv, Q, out, nu0=0.0):
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
def pg_norm(c, g, woff, qv, Q, tmp, nu0=0.0):
    """‖P(c − g) − c‖∞: zero exactly at KKT points."""
    project_feasible(c - g, woff, qv, Q, tmp, nu0)
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
    nu0 = project_feasible(c0, woff, qv, Q, c)
    if nu0 != nu0:  # nan: Q not reachable
        return c, np.inf, np.inf, 0, 3
    r = energy_kernel(c, False, sysd, el, pd, opts)
    f = r[0] + r[1] + r[2] + r[3] + r[4]
    g = r[5]
    hist = np.full(10, -np.inf)
    hist[0] = f
    mu_est = 0.0
    pgn = pg_norm(c, g, woff, qv, Q, tmp)
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
        nu = project_feasible(c - lam * g, woff, qv, Q, tmp, mu_est * lam)
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
            rn = energy_kernel(cn, False, sysd, el, pd, opts)
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
        pgn = pg_norm(c, g, woff, qv, Q, tmp, mu_est)
    if status != 0 and pgn <= tol:
        status = 0
    if f_best < f:  # non-monotone search: return the best point seen
        return c_best, f_best, pgn, it, status
    return c, f, pgn, it, status


@numba.njit(cache=True)
def spg_multistart(starts, Q, sysd, el, pd, opts, tol, max_iter):
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


@numba.njit(cache=True)
def kkt_bounds(c, g, qv, woff, active_tol):
    """The KKT data of cpe.chemical_potential: the multiplier estimates ν = Δg/Δq of every pair of
    active states with different charges on one atom, and the interval [lo, hi] that the inactive
    states allow for ν (g_is ≥ g_iv + ν (q_is − q_iv), v the atom's largest weight)."""
    nus = np.empty(0)
    count = 0
    lo = -np.inf
    hi = np.inf
    for i in range(woff.size - 1):
        a0 = woff[i]
        a1 = woff[i + 1]
        v = a0
        for s in range(a0, a1):
            if c[s] > c[v]:
                v = s
        for a in range(a0, a1):
            if c[a] <= active_tol:
                continue
            for b in range(a + 1, a1):
                if c[b] > active_tol and abs(qv[a] - qv[b]) > 1e-12:
                    if count == nus.size:
                        grown = np.empty(max(8, 2 * nus.size))
                        grown[:count] = nus[:count]
                        nus = grown
                    nus[count] = (g[a] - g[b]) / (qv[a] - qv[b])
                    count += 1
        for s in range(a0, a1):
            if c[s] > active_tol:
                continue
            dq = qv[s] - qv[v]
            dg = g[s] - g[v]
            if dq > 0:
                hi = min(hi, dg / dq)
            elif dq < 0:
                lo = max(lo, dg / dq)
    return nus[:count], lo, hi
