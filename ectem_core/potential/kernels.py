"""Numba kernels of the fast ECT-EAM evaluator: flat pair-table lookup, the positions-only pair
data of one geometry, the direct long-range Coulomb sum and the energy with its gradients
(hartree, bohr). Packed by fastmodel.FastModel; contract in docs/cpe.md."""
from __future__ import annotations

import math

import numba
import numpy as np

from ..embedding.function import eval_one
from .ewald import _energy_kernel as ewald_pair_kspace
from .neighbours import separation
from .pair_tables import switch_nb
from .pme_kernels import pme_long_range

_VA = (0, 1, 2, 1, 0, 0)   # Voigt order xx yy zz yz xz xy
_VB = (0, 1, 2, 2, 2, 1)


# ----------------------------------------------------------------------------- table evaluation
@numba.njit(cache=True, error_model="numpy")
def _tab(tid, R, knots, kstart, coefs, cstart, meta, short):
    """pair_tables.eval_table of table `tid` (flat storage). short=True for a COULOMB table
    returns the short-range part U − qq/R only (0 beyond the table)."""
    k0 = kstart[tid]
    K = kstart[tid + 1] - k0 - 1
    c0 = cstart[tid]
    kind = int(meta[tid, 0])
    qq = meta[tid, 1]
    if R >= knots[k0 + K]:
        if kind == 2:
            if short:
                return 0.0, 0.0
            return qq / R, -qq / (R * R)
        if kind == 1:
            t = knots[k0 + K] - knots[k0 + K - 1]
            r = c0 + K - 1
            p = coefs[r, 0] + t * (coefs[r, 1] + t * (coefs[r, 2] + t * (coefs[r, 3] + t * (coefs[r, 4] + t * coefs[r, 5]))))
            dp = coefs[r, 1] + t * (2.0 * coefs[r, 2] + t * (3.0 * coefs[r, 3] + t * (4.0 * coefs[r, 4] + t * 5.0 * coefs[r, 5])))
            v = math.exp(p + dp * (R - knots[k0 + K]))
            return v, dp * v
        return 0.0, 0.0
    if R <= knots[k0]:
        k = 0
    else:
        lo = 0
        hi = K
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if knots[k0 + mid] <= R:
                lo = mid
            else:
                hi = mid
        k = lo
    r = c0 + k
    t = R - knots[k0 + k]
    p = coefs[r, 0] + t * (coefs[r, 1] + t * (coefs[r, 2] + t * (coefs[r, 3] + t * (coefs[r, 4] + t * coefs[r, 5]))))
    dp = coefs[r, 1] + t * (2.0 * coefs[r, 2] + t * (3.0 * coefs[r, 3] + t * (4.0 * coefs[r, 4] + t * 5.0 * coefs[r, 5])))
    if kind == 1:
        v = math.exp(p)
        return v, dp * v
    if kind == 2:
        if short:
            return p / R, (dp * R - p) / (R * R)
        return (qq + p) / R, (dp * R - qq - p) / (R * R)
    return p, dp


# ----------------------------------------------------------------------------- positions-only part
@numba.njit(cache=True, error_model="numpy")
def thermal_tau(r, rsw, t0, tw, r_on, width):
    """The thermal variant's pair temperature τ(R) = T0 / (1 + e^((R − R_s)/w)) times the C¹ switch from
    r_on to r_on + width, and dτ/dR (model.ECTModel.temperature); 0 where T0 = 0 or R_s is undefined."""
    if not (t0 > 0.0 and rsw == rsw and r <= rsw + 40.0 * tw):
        return 0.0, 0.0
    x = (r - rsw) / tw
    if x < -40.0:
        tv, dtv = t0, 0.0
    else:
        e = math.exp(x)
        f = 1.0 / (1.0 + e)
        tv, dtv = t0 * f, -t0 * e * f * f / tw
    sw, dsw = switch_nb(r, r_on, r_on + width)
    return sw * tv, sw * dtv + dsw * tv


@numba.njit(cache=True, error_model="numpy")
def pair_data_kernel(pos, shift, elem, woff, pi, pj, tabs, el, pair_opts):
    """Positions-only pair data; pair p joins atom pi[p] and the image pj[p] + shift[p] (bohr):
    R_p = |pos[pi] − pos[pj] − shift[p]| (shift = 0 for clusters, a lattice vector in cells)."""
    knots, kstart, coefs, cstart, meta, Sid, Uid, rhoid = tabs
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    point, r_on, width, rs, T0, tw, tau_on = pair_opts
    npair = pi.size
    R = np.empty(npair)
    u = np.empty((npair, 3))
    boff = np.zeros(npair + 1, dtype=np.int64)
    for p in range(npair):
        i = pi[p]
        j = pj[p]
        boff[p + 1] = boff[p] + (woff[i + 1] - woff[i]) * (woff[j + 1] - woff[j])
    nb = boff[npair]
    Kij = np.zeros(nb)
    Kji = np.zeros(nb)
    dKij = np.zeros(nb)
    dKji = np.zeros(nb)
    Us = np.zeros(nb)
    dUs = np.zeros(nb)
    sres = np.zeros(npair)
    dsres = np.zeros(npair)
    tau = np.zeros(npair)
    dtau = np.zeros(npair)
    for p in range(npair):
        i = pi[p]
        j = pj[p]
        d0, d1, d2, r = separation(pos, shift, p, i, j)
        R[p] = r
        u[p, 0] = d0 / r
        u[p, 1] = d1 / r
        u[p, 2] = d2 / r
        ki = elem[i]
        kj = elem[j]
        ni = nst[ki]
        nj = nst[kj]
        o = boff[p]
        for s in range(ni):
            for t in range(nj):
                sw, dsw = switch_nb(r, r_on[ki, kj, s, t], r_on[ki, kj, s, t] + width)
                if sw == 0.0:
                    continue
                S, dS = _tab(Sid[ki, kj, s, t], r, knots, kstart, coefs, cstart, meta, False)
                U, dU = _tab(Uid[ki, kj, s, t], r, knots, kstart, coefs, cstart, meta, True)
                if point or nel[ki, s] == 0:
                    a, da = _tab(rhoid[kj, t], r, knots, kstart, coefs, cstart, meta, False)
                else:
                    a = S / nel[ki, s]
                    da = dS / nel[ki, s]
                if point or nel[kj, t] == 0:
                    b, db = _tab(rhoid[ki, s], r, knots, kstart, coefs, cstart, meta, False)
                else:
                    b = S / nel[kj, t]
                    db = dS / nel[kj, t]
                Kij[o + s * nj + t] = sw * a
                dKij[o + s * nj + t] = sw * da + dsw * a
                Kji[o + t * ni + s] = sw * b
                dKji[o + t * ni + s] = sw * db + dsw * b
                Us[o + s * nj + t] = sw * U
                dUs[o + s * nj + t] = sw * dU + dsw * U
                if s == ground[ki] and t == ground[kj]:
                    norm = math.sqrt(selfov[ki] * selfov[kj])
                    sres[p] = sw * S / norm
                    dsres[p] = (sw * dS + dsw * S) / norm
        # thermal temperature (model.ECTModel.temperature), switched like the rest in cutoff mode
        tau[p], dtau[p] = thermal_tau(r, rs[ki, kj], T0[ki, kj], tw, tau_on[ki, kj], width)
    return R, u, boff, Kij, Kji, dKij, dKji, Us, dUs, sres, dsres, tau, dtau


# ----------------------------------------------------------------------------- weight-dependent part
@numba.njit(cache=True, error_model="numpy")
def long_range_direct(pos, q, want_r, grad_r, strain):
    """E = Σ_{i<j} q_i q_j / R_ij over charged atoms; φ_i = Σ_j q_j / R_ij; adds dE/dR to grad_r
    and dE/dε (homogeneous strain) to strain."""
    n = q.size
    phi = np.zeros(n)
    idx = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if q[i] != 0.0:
            idx[m] = i
            m += 1
    e = 0.0
    for a in range(m):
        i = idx[a]
        for b in range(a + 1, m):
            j = idx[b]
            d0 = pos[i, 0] - pos[j, 0]
            d1 = pos[i, 1] - pos[j, 1]
            d2 = pos[i, 2] - pos[j, 2]
            r2 = d0 * d0 + d1 * d1 + d2 * d2
            rinv = 1.0 / math.sqrt(r2)
            e += q[i] * q[j] * rinv
            phi[i] += q[j] * rinv
            phi[j] += q[i] * rinv
            if want_r:
                f = -q[i] * q[j] * rinv * rinv * rinv  # dE/dR / R
                grad_r[i, 0] += f * d0
                grad_r[i, 1] += f * d1
                grad_r[i, 2] += f * d2
                grad_r[j, 0] -= f * d0
                grad_r[j, 1] -= f * d1
                grad_r[j, 2] -= f * d2
                strain[0, 0] += f * d0 * d0
                strain[0, 1] += f * d0 * d1
                strain[0, 2] += f * d0 * d2
                strain[1, 1] += f * d1 * d1
                strain[1, 2] += f * d1 * d2
                strain[2, 2] += f * d2 * d2
    return e, phi


@numba.njit(cache=True, error_model="numpy")
def long_range(pos, q, want_r, grad_r, strain, lr):
    """The q_i q_j / R energy of the atom charges: a direct sum for clusters (lr[0] == 0), an Ewald
    sum for periodic cells (lr[0] == 1, see ewald.py), particle-mesh Ewald for cells and clusters
    (lr[0] == 2, see pme.py); returns (E, φ = dE/dq)."""
    if lr[0] == 2:
        return pme_long_range(q, want_r, grad_r, strain, lr[13])
    if lr[0] == 0:
        e, phi = long_range_direct(pos, q, want_r, grad_r, strain)
        strain[1, 0] = strain[0, 1]
        strain[2, 0] = strain[0, 2]
        strain[2, 1] = strain[1, 2]
        return e, phi
    _m, pi, pj, g, dg, w, kvec, kfac, kstrain, cos_kr, sin_kr, alpha, volume, _mesh = lr
    e_real, e_rec, phi, grad, sv = ewald_pair_kspace(q, pi, pj, g, dg, w, kvec, kfac, kstrain, cos_kr, sin_kr,
                                                     want_r, want_r)
    # self term −α/√π Σq² and the neutralizing background −π Q²/(2Vα²) (zero for the neutral cells callers allow)
    Q = 0.0
    for i in range(q.size):
        Q += q[i]
    qq = 0.0
    for i in range(q.size):
        qq += q[i] * q[i]
    e = e_real + e_rec - alpha / math.sqrt(math.pi) * qq - math.pi * Q * Q / (2.0 * volume * alpha * alpha)
    for i in range(q.size):
        phi[i] -= 2.0 * alpha / math.sqrt(math.pi) * q[i] + math.pi * Q / (volume * alpha * alpha)
    if want_r:
        e_bg = -math.pi * Q * Q / (2.0 * volume * alpha * alpha)
        for i in range(q.size):
            for x in range(3):
                grad_r[i, x] += grad[i, x]
        for v in range(6):
            a = _VA[v]
            b = _VB[v]
            strain[a, b] += sv[v]
            if a != b:
                strain[b, a] += sv[v]
        for x in range(3):
            strain[x, x] -= e_bg
    return e, phi


@numba.njit(cache=True, error_model="numpy")
def energy_kernel(c, want_r, sysd, el, pd, opts):
    """Energy parts (onsite, embedding, coulomb short, coulomb long, coupling), grad_c, grad_r,
    ρ̄, atom charges and the strain derivative dE/dε (hartree; with want_r) at weights c."""
    elem, woff, qv, pos, pi, pj, lr = sysd
    nst, charge, nel, dE, ground, cation, anion, emb, eoff, eend, selfov = el
    R, u, boff, Kij, Kji, dKij, dKji, Us, dUs, sres, dsres, tau, dtau = pd
    variant, eta, eps, cls, ncls = opts
    n = elem.size
    m = c.size
    npair = pi.size
    sigma = np.zeros(m)
    for p in range(npair):
        i = pi[p]
        j = pj[p]
        a = woff[i]
        b = woff[j]
        ni = woff[i + 1] - a
        nj = woff[j + 1] - b
        o = boff[p]
        for s in range(ni):
            acc = 0.0
            for t in range(nj):
                acc += Kij[o + s * nj + t] * c[b + t]
            sigma[a + s] += acc
        for t in range(nj):
            acc = 0.0
            for s in range(ni):
                acc += Kji[o + t * ni + s] * c[a + s]
            sigma[b + t] += acc
    rho = np.zeros(n)
    G = np.zeros(n)
    qa = np.zeros(n)
    grad = np.zeros(m)
    e_on = 0.0
    e_emb = 0.0
    for i in range(n):
        k = elem[i]
        a = woff[i]
        ni = woff[i + 1] - a
        r = 0.0
        qi = 0.0
        for s in range(ni):
            r += c[a + s] * sigma[a + s]
            qi += qv[a + s] * c[a + s]
        rho[i] = r
        qa[i] = qi
        rr = r if r > 0.0 else 0.0
        g = 0.0
        for s in range(ni):
            F, dF, d2F = eval_one(rr, emb[eoff[k, s]:eend[k, s]])
            e_on += c[a + s] * dE[k, s]
            e_emb += c[a + s] * F
            g += c[a + s] * dF
            grad[a + s] = dE[k, s] + F
        if r > 0.0:
            G[i] = g
            for s in range(ni):
                grad[a + s] += g * sigma[a + s]
    grad_r = np.zeros((n, 3))
    strain = np.zeros((3, 3))
    e_sr = 0.0
    for p in range(npair):
        i = pi[p]
        j = pj[p]
        a = woff[i]
        b = woff[j]
        ni = woff[i + 1] - a
        nj = woff[j + 1] - b
        o = boff[p]
        Gi = G[i]
        Gj = G[j]
        dEdR = 0.0
        for s in range(ni):
            cs = c[a + s]
            for t in range(nj):
                ct = c[b + t]
                kij = Kij[o + s * nj + t]
                kji = Kji[o + t * ni + s]
                us = Us[o + s * nj + t]
                grad[b + t] += (Gi * kij + us) * cs
                grad[a + s] += (Gj * kji + us) * ct
                e_sr += cs * us * ct
                if want_r:
                    dEdR += cs * ct * (Gi * dKij[o + s * nj + t] + Gj * dKji[o + t * ni + s] + dUs[o + s * nj + t])
        if want_r and dEdR != 0.0:
            _add_pair_gradient(grad_r, strain, i, j, dEdR, u[p], R[p])
    e_lr, phi = long_range(pos, qa, want_r, grad_r, strain, lr)
    for i in range(n):
        if phi[i] != 0.0:
            for s in range(woff[i], woff[i + 1]):
                grad[s] += phi[i] * qv[s]
    e_cpl = 0.0
    if variant == 1:
        for p in range(npair):
            if sres[p] == 0.0 and dsres[p] == 0.0:
                continue
            i = pi[p]
            j = pj[p]
            ki = elem[i]
            kj = elem[j]
            a = woff[i]
            b = woff[j]
            H = eta * sres[p]
            dH = eta * dsres[p]
            a0 = a + ground[ki]
            b0 = b + ground[kj]
            wN = c[a0] * c[b0]
            for side in range(2):
                if side == 0:
                    sa = cation[ki]
                    sb = anion[kj]
                else:
                    sa = anion[ki]
                    sb = cation[kj]
                if sa < 0 or sb < 0:
                    continue
                wC = c[a + sa] * c[b + sb]
                root = math.sqrt(wN * wC + eps * eps)
                e_cpl += -2.0 * H * (root - eps)
                gg = -2.0 * H / (2.0 * root)
                grad[a0] += gg * c[b0] * wC
                grad[b0] += gg * c[a0] * wC
                grad[a + sa] += gg * wN * c[b + sb]
                grad[b + sb] += gg * wN * c[a + sa]
                if want_r:
                    _add_pair_gradient(grad_r, strain, i, j, -2.0 * dH * (root - eps), u[p], R[p])
    elif variant == 2:
        # Σ_i T_i Σ_q p_iq ln p_iq, p_iq = Σ_{s: q_s = q} c_is (classes cls[k, s], ncls[k] of them)
        T = np.zeros(n)
        for p in range(npair):
            T[pi[p]] += tau[p]
            T[pj[p]] += tau[p]
        Hs = np.zeros(n)
        pc = np.zeros(cls.shape[1])
        for i in range(n):
            k = elem[i]
            a = woff[i]
            nc = ncls[k]
            for v in range(nc):
                pc[v] = 0.0
            for s in range(woff[i + 1] - a):
                pc[cls[k, s]] += c[a + s]
            h = 0.0
            for v in range(nc):
                if pc[v] > 0.0:
                    h += pc[v] * math.log(pc[v])
            Hs[i] = h
            e_cpl += T[i] * h
            if T[i] > 0.0:
                for s in range(woff[i + 1] - a):
                    grad[a + s] += T[i] * (math.log(max(pc[cls[k, s]], 1e-300)) + 1.0)
        if want_r:
            for p in range(npair):
                if dtau[p] != 0.0:
                    _add_pair_gradient(grad_r, strain, pi[p], pj[p], dtau[p] * (Hs[pi[p]] + Hs[pj[p]]), u[p], R[p])
    return e_on, e_emb, e_sr, e_lr, e_cpl, grad, grad_r, rho, qa, strain


@numba.njit(cache=True, error_model="numpy")
def _add_pair_gradient(grad_r, strain, i, j, dEdR, u, R):
    """A pair term's dE/dR_ij into the atom gradients and into dE/dε_xy = Σ dE/dR · u_x u_y R."""
    for x in range(3):
        grad_r[i, x] += dEdR * u[x]
        grad_r[j, x] -= dEdR * u[x]
        for y in range(3):
            strain[x, y] += dEdR * u[x] * u[y] * R
