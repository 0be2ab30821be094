"""Numba kernels of the particle-mesh Ewald sum (pme.py; atomic units: e, bohr, hartree).

Positions-only kernels: the real-space pair values erfc(αr)/r and their radial derivative, the
cardinal B-spline weights of every atom on the mesh, the influence functions of a periodic cell
and of an open cluster. The charge-dependent kernel `pme_long_range(q, want_r, grad_r, strain, data)`
is callable from other numba kernels (kernels.long_range); `data` is the tuple `pme.PMESetup.data`:

    (pi, pj, pair_g, pair_h, pair_d, base, weights, dweights, du_dr, ghat, kmat, mesh, rel,
     order, slab_start, alpha, volume, periodic)

pair p: g = erfc(αr)/r, h = g'(r)/r, d = r_i - r_j - shift (bohr); base (n, 3) the first mesh
index an atom touches per axis, weights/dweights (n, 3, p) the B-spline values M_p and M_p' at
base + t; du_dr[x, a] = ∂u_a/∂r_x (u: position in mesh units); ghat the real influence function
on the r2c spectrum (the mesh potential is irfftn(ghat · rfftn(Q))); kmat rows 2π × reciprocal
vectors (periodic virial); mesh (3,) the mesh sizes; rel (n, 3) the cluster positions less their centroid (the
mesh part of a cluster's strain derivative; empty for cells); order/slab_start
the atoms sorted into slabs of mesh planes (axis 0) for conflict-free parallel spreading.
"""
from __future__ import annotations

import math

import numba
import numpy as np

PAIR_CHUNK = 8192  # pairs per real-space work unit (the chunking is independent of the thread count)
MAX_PAIR_CHUNKS = 16


# ----------------------------------------------------------------------------- positions-only kernels
@numba.njit(cache=True, parallel=True, error_model="numpy")
def real_space_pairs(pos, pi, pj, shift, alpha):
    """Per pair: g = erfc(αr)/r, h = g'(r)/r (hartree/e² per bohr²), d = pos_i - pos_j - shift."""
    npair = pi.size
    g = np.empty(npair)
    h = np.empty(npair)
    d = np.empty((npair, 3))
    two_a_sqrtpi = 2.0 * alpha / math.sqrt(math.pi)
    for p in numba.prange(npair):
        i = pi[p]
        j = pj[p]
        d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
        d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
        d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
        r2 = d0 * d0 + d1 * d1 + d2 * d2
        r = math.sqrt(r2)
        e = math.erfc(alpha * r) / r
        g[p] = e
        h[p] = -(e + two_a_sqrtpi * math.exp(-alpha * alpha * r2)) / r2
        d[p, 0] = d0
        d[p, 1] = d1
        d[p, 2] = d2
    return g, h, d


@numba.njit(cache=True)
def _bspline(w, p, vals, dvals):
    """vals[k] = M_p(w + k), dvals[k] = M_p'(w + k), k = 0..p-1, for 0 <= w < 1 (cardinal B-spline
    of order p, support [0, p]; recursion M_n(x) = (x M_{n-1}(x) + (n - x) M_{n-1}(x - 1)) / (n - 1))."""
    vals[0] = w
    vals[1] = 1.0 - w
    for k in range(2, p):
        vals[k] = 0.0
    for n in range(2, p):  # order n -> n + 1
        if n == p - 1:
            dvals[0] = vals[0]
            for k in range(1, p):
                dvals[k] = vals[k] - vals[k - 1]
        prev = 0.0
        inv_n = 1.0 / n
        for k in range(n + 1):
            cur = vals[k]
            vals[k] = ((w + k) * cur + (n + 1 - w - k) * prev) * inv_n
            prev = cur


@numba.njit(cache=True, inline="always")
def _atom_weights(u, mesh, p, periodic, i, vals, dvals, base, wts, dwts):
    """Atom i's rows of `spline_weights` (vals, dvals: scratch of length p)."""
    for a in range(3):
        f = math.floor(u[i, a])
        _bspline(u[i, a] - f, p, vals, dvals)
        b = int(f) - (p - 1)
        if periodic:
            b = b % mesh[a]
        base[i, a] = b
        for t in range(p):
            wts[i, a, t] = vals[p - 1 - t]
            dwts[i, a, t] = dvals[p - 1 - t]


@numba.njit(cache=True, parallel=True, error_model="numpy")
def spline_weights(u, mesh, p, periodic):
    """B-spline weights of each atom at mesh position u (n, 3) (mesh units): the atom touches the
    points base + t (t = 0..p-1, wrapped when periodic) with weight M_p(u - base - t) and derivative
    ∂/∂u of it; the point floor(u) - k carries M_p(w + k), w = u - floor(u)."""
    n = u.shape[0]
    base = np.empty((n, 3), dtype=np.int64)
    wts = np.empty((n, 3, p))
    dwts = np.empty((n, 3, p))
    nch = min(n, 64)   # chunks of atoms (scratch rows allocated once per chunk, not per atom)
    for c in numba.prange(nch):
        vals = np.empty(p)
        dvals = np.empty(p)
        for i in range(c * n // nch, (c + 1) * n // nch):
            _atom_weights(u, mesh, p, periodic, i, vals, dvals, base, wts, dwts)
    return base, wts, dwts


@numba.njit(cache=True, parallel=True)
def periodic_influence(mesh, kmat, alpha, volume, bsq0, bsq1, bsq2):
    """ghat on the r2c spectrum of a periodic mesh: K_tot (4π/V) exp(-k²/4α²)/k² |b0 b1 b2|²,
    k = 2π m.recip (rows of kmat), m signed; 0 at k = 0."""
    K0, K1, K2 = mesh[0], mesh[1], mesh[2]
    H = K2 // 2 + 1
    ghat = np.empty((K0, K1, H))
    pref = K0 * K1 * K2 * 4.0 * math.pi / volume
    inv4a2 = 1.0 / (4.0 * alpha * alpha)
    for i0 in numba.prange(K0):
        m0 = i0 if 2 * i0 <= K0 else i0 - K0
        for i1 in range(K1):
            m1 = i1 if 2 * i1 <= K1 else i1 - K1
            for m2 in range(H):
                k0 = m0 * kmat[0, 0] + m1 * kmat[1, 0] + m2 * kmat[2, 0]
                k1 = m0 * kmat[0, 1] + m1 * kmat[1, 1] + m2 * kmat[2, 1]
                k2 = m0 * kmat[0, 2] + m1 * kmat[1, 2] + m2 * kmat[2, 2]
                ksq = k0 * k0 + k1 * k1 + k2 * k2
                if ksq == 0.0:
                    ghat[i0, i1, m2] = 0.0
                else:
                    ghat[i0, i1, m2] = pref * math.exp(-ksq * inv4a2) / ksq * bsq0[i0] * bsq1[i1] * bsq2[m2]
    return ghat


@numba.njit(cache=True, parallel=True, error_model="numpy")
def sampled_kernel(mesh, spacing, alpha):
    """erf(αr)/r at the minimum-image displacements of a (padded) mesh of `spacing` bohr; 2α/√π at r = 0."""
    K0, K1, K2 = mesh[0], mesh[1], mesh[2]
    out = np.empty((K0, K1, K2))
    g0 = 2.0 * alpha / math.sqrt(math.pi)
    for i0 in numba.prange(K0):
        x = (i0 if 2 * i0 < K0 else i0 - K0) * spacing
        for i1 in range(K1):
            y = (i1 if 2 * i1 < K1 else i1 - K1) * spacing
            for i2 in range(K2):
                z = (i2 if 2 * i2 < K2 else i2 - K2) * spacing
                r = math.sqrt(x * x + y * y + z * z)
                out[i0, i1, i2] = g0 if r == 0.0 else math.erf(alpha * r) / r
    return out


# ----------------------------------------------------------------------------- charge-dependent kernel
@numba.njit(cache=True, parallel=True, error_model="numpy")
def _real_space(q, pi, pj, g, h, d, want_r):
    """E, φ, gradient and Voigt strain derivative of the real-space pairs, in a fixed number of
    pair chunks (the summation order does not depend on the number of threads)."""
    n = q.size
    npair = pi.size
    nch = min(MAX_PAIR_CHUNKS, max(1, npair // PAIR_CHUNK))
    e_c = np.zeros(nch)
    phi_c = np.zeros((nch, n))
    grad_c = np.zeros((nch, n if want_r else 0, 3))
    s_c = np.zeros((nch, 6))
    for c in numba.prange(nch):
        lo = c * npair // nch
        hi = (c + 1) * npair // nch
        e = 0.0
        for p in range(lo, hi):
            i = pi[p]
            j = pj[p]
            gp = g[p]
            e += q[i] * q[j] * gp
            phi_c[c, i] += q[j] * gp
            phi_c[c, j] += q[i] * gp
            if want_r:
                f = q[i] * q[j] * h[p]
                d0 = d[p, 0]
                d1 = d[p, 1]
                d2 = d[p, 2]
                if i != j:
                    grad_c[c, i, 0] += f * d0
                    grad_c[c, i, 1] += f * d1
                    grad_c[c, i, 2] += f * d2
                    grad_c[c, j, 0] -= f * d0
                    grad_c[c, j, 1] -= f * d1
                    grad_c[c, j, 2] -= f * d2
                s_c[c, 0] += f * d0 * d0
                s_c[c, 1] += f * d1 * d1
                s_c[c, 2] += f * d2 * d2
                s_c[c, 3] += f * d1 * d2
                s_c[c, 4] += f * d0 * d2
                s_c[c, 5] += f * d0 * d1
        e_c[c] = e
    e = 0.0
    phi = np.zeros(n)
    grad = np.zeros((n if want_r else 0, 3))
    sv = np.zeros(6)
    for c in range(nch):
        e += e_c[c]
        for v in range(6):
            sv[v] += s_c[c, v]
    for i in numba.prange(n):
        for c in range(nch):
            phi[i] += phi_c[c, i]
            if want_r:
                for x in range(3):
                    grad[i, x] += grad_c[c, i, x]
    return e, phi, grad, sv


@numba.njit(cache=True)
def _spread_slab(Q, q, base, wts, mesh, order, lo, hi):
    p = wts.shape[2]
    K0, K1, K2 = mesh[0], mesh[1], mesh[2]
    for a in range(lo, hi):
        i = order[a]
        qi = q[i]
        if qi == 0.0:
            continue
        for t0 in range(p):
            k0 = base[i, 0] + t0
            if k0 >= K0:
                k0 -= K0
            w0 = qi * wts[i, 0, t0]
            b2 = base[i, 2]
            n2 = min(p, K2 - b2)   # points before the periodic wrap along axis 2: two branch-free runs
            for t1 in range(p):
                k1 = base[i, 1] + t1
                if k1 >= K1:
                    k1 -= K1
                w01 = w0 * wts[i, 1, t1]
                row = Q[k0, k1]
                for t2 in range(n2):
                    row[b2 + t2] += w01 * wts[i, 2, t2]
                for t2 in range(n2, p):
                    row[b2 + t2 - K2] += w01 * wts[i, 2, t2]


@numba.njit(cache=True, parallel=True)
def spread_charges(q, base, wts, mesh, order, slab_start):
    """Mesh charges Q = Σ_i q_i θ_i. Atoms are sorted into slabs of at least p mesh planes along
    axis 0; slabs two apart touch disjoint planes, so the even slabs run in parallel, then the odd
    ones (and, for an odd number of slabs, the last one alone: it wraps onto slab 0)."""
    Q = np.zeros((mesh[0], mesh[1], mesh[2]))
    ns = slab_start.size - 1
    last_alone = ns % 2 == 1 and ns > 1
    for colour in range(2):
        nc = (ns - colour + 1) // 2
        for c in numba.prange(nc):
            s = colour + 2 * c
            if last_alone and s == ns - 1:
                continue
            _spread_slab(Q, q, base, wts, mesh, order, slab_start[s], slab_start[s + 1])
    if last_alone:
        _spread_slab(Q, q, base, wts, mesh, order, slab_start[ns - 1], slab_start[ns])
    return Q


@numba.njit(cache=True, parallel=True)
def _gather(q, phig, base, wts, dwts, mesh, want_r):
    """φ_i = Σ θ_i φ_grid and ∂E/∂u_i = q_i Σ ∂θ_i/∂u φ_grid, per atom in parallel."""
    n = q.size
    p = wts.shape[2]
    K0, K1, K2 = mesh[0], mesh[1], mesh[2]
    phi = np.zeros(n)
    dEdu = np.zeros((n if want_r else 0, 3))
    for i in numba.prange(n):
        s = 0.0
        g0 = 0.0
        g1 = 0.0
        g2 = 0.0
        b2 = base[i, 2]
        n2 = min(p, K2 - b2)   # points before the periodic wrap along axis 2: two branch-free runs
        for t0 in range(p):
            k0 = base[i, 0] + t0
            if k0 >= K0:
                k0 -= K0
            for t1 in range(p):
                k1 = base[i, 1] + t1
                if k1 >= K1:
                    k1 -= K1
                w01 = wts[i, 0, t0] * wts[i, 1, t1]
                row = phig[k0, k1]
                a = 0.0
                b = 0.0
                for t2 in range(n2):
                    v = row[b2 + t2]
                    a += wts[i, 2, t2] * v
                    if want_r:
                        b += dwts[i, 2, t2] * v
                for t2 in range(n2, p):
                    v = row[b2 + t2 - K2]
                    a += wts[i, 2, t2] * v
                    if want_r:
                        b += dwts[i, 2, t2] * v
                s += w01 * a
                if want_r:
                    g0 += dwts[i, 0, t0] * wts[i, 1, t1] * a
                    g1 += wts[i, 0, t0] * dwts[i, 1, t1] * a
                    g2 += w01 * b
        phi[i] = s
        if want_r:
            dEdu[i, 0] = q[i] * g0
            dEdu[i, 1] = q[i] * g1
            dEdu[i, 2] = q[i] * g2
    return phi, dEdu


@numba.njit(cache=True, parallel=True)
def _periodic_virial(F, ghat, kmat, alpha, mesh):
    """Voigt strain derivative of the reciprocal energy, Σ_m E_m (2 k_a k_b (1/4α² + 1/k²) - δ_ab),
    E_m = ghat |F|² / (2 K_tot) over the full spectrum (r2c half counted twice but m2 = 0, K2/2)."""
    K0, K1, K2 = mesh[0], mesh[1], mesh[2]
    H = ghat.shape[2]
    inv4a2 = 1.0 / (4.0 * alpha * alpha)
    scale = 0.5 / (K0 * K1 * K2)
    part = np.zeros((K0, 6))
    for i0 in numba.prange(K0):
        m0 = i0 if 2 * i0 <= K0 else i0 - K0
        for i1 in range(K1):
            m1 = i1 if 2 * i1 <= K1 else i1 - K1
            for m2 in range(H):
                gh = ghat[i0, i1, m2]
                if gh == 0.0:
                    continue
                z = F[i0, i1, m2]
                e = scale * gh * (z.real * z.real + z.imag * z.imag)
                if m2 != 0 and 2 * m2 != K2:
                    e *= 2.0
                k0 = m0 * kmat[0, 0] + m1 * kmat[1, 0] + m2 * kmat[2, 0]
                k1 = m0 * kmat[0, 1] + m1 * kmat[1, 1] + m2 * kmat[2, 1]
                k2 = m0 * kmat[0, 2] + m1 * kmat[1, 2] + m2 * kmat[2, 2]
                ksq = k0 * k0 + k1 * k1 + k2 * k2
                f = 2.0 * e * (inv4a2 + 1.0 / ksq)
                part[i0, 0] += f * k0 * k0 - e
                part[i0, 1] += f * k1 * k1 - e
                part[i0, 2] += f * k2 * k2 - e
                part[i0, 3] += f * k1 * k2
                part[i0, 4] += f * k0 * k2
                part[i0, 5] += f * k0 * k1
    sv = np.zeros(6)
    for i0 in range(K0):
        for v in range(6):
            sv[v] += part[i0, v]
    return sv


@numba.njit(cache=True)
def _mesh_potential(Q, ghat, mesh):
    F = np.fft.rfftn(Q)
    G = F * ghat
    return F, np.fft.irfftn(G, (mesh[0], mesh[1], mesh[2]))


@numba.njit(cache=True, error_model="numpy")
def pme_parts(q, want_r, grad_r, strain, data):
    """(E_real, E_mesh, E_self, E_background, φ) hartree, hartree/e of charges q (e); with want_r adds
    ∂E/∂r (hartree/bohr) to grad_r (n, 3) and ∂E/∂ε (hartree) to strain (3, 3)."""
    (pi, pj, pg, ph, pd, base, wts, dwts, du_dr, ghat, kmat, mesh, rel, order, slab_start,
     alpha, volume, periodic) = data
    n = q.size
    e_real, phi, grad, sv = _real_space(q, pi, pj, pg, ph, pd, want_r)
    Q = spread_charges(q, base, wts, mesh, order, slab_start)
    F, phig = _mesh_potential(Q, ghat, mesh)
    phim, dEdu = _gather(q, phig, base, wts, dwts, mesh, want_r)
    e_mesh = 0.0
    qtot = 0.0
    qq = 0.0
    for i in range(n):
        e_mesh += 0.5 * q[i] * phim[i]
        qtot += q[i]
        qq += q[i] * q[i]
    rpi = math.sqrt(math.pi)
    e_self = -alpha / rpi * qq
    e_bg = 0.0
    bg_phi = 0.0
    if periodic:
        e_bg = -math.pi * qtot * qtot / (2.0 * volume * alpha * alpha)
        bg_phi = math.pi * qtot / (volume * alpha * alpha)
    for i in range(n):
        phi[i] += phim[i] - 2.0 * alpha / rpi * q[i] - bg_phi
    if want_r:
        for i in range(n):
            for x in range(3):
                gx = du_dr[x, 0] * dEdu[i, 0] + du_dr[x, 1] * dEdu[i, 1] + du_dr[x, 2] * dEdu[i, 2]
                grad_r[i, x] += grad[i, x] + gx
                if not periodic:  # Σ_i (r_i - centroid) ⊗ ∂E_mesh/∂r_i, symmetrized
                    for y in range(3):
                        strain[x, y] += 0.5 * rel[i, y] * gx
                        strain[y, x] += 0.5 * rel[i, y] * gx
        if periodic:
            rv = _periodic_virial(F, ghat, kmat, alpha, mesh)
            for v in range(6):
                sv[v] += rv[v]
            for x in range(3):
                strain[x, x] -= e_bg
        _add_voigt(strain, sv)
    return e_real, e_mesh, e_self, e_bg, phi


@numba.njit(cache=True)
def _add_voigt(strain, sv):
    strain[0, 0] += sv[0]
    strain[1, 1] += sv[1]
    strain[2, 2] += sv[2]
    strain[1, 2] += sv[3]
    strain[2, 1] += sv[3]
    strain[0, 2] += sv[4]
    strain[2, 0] += sv[4]
    strain[0, 1] += sv[5]
    strain[1, 0] += sv[5]


@numba.njit(cache=True, error_model="numpy")
def pme_long_range(q, want_r, grad_r, strain, data):
    """E (hartree) and φ = ∂E/∂q (hartree/e); adds ∂E/∂r to grad_r and ∂E/∂ε to strain with want_r."""
    e_real, e_mesh, e_self, e_bg, phi = pme_parts(q, want_r, grad_r, strain, data)
    return e_real + e_mesh + e_self + e_bg, phi
