"""Coulomb energy of point charges in a periodic cell by Ewald summation (atomic units: charges
in e, positions and cell in bohr, energies in hartree), with the potential ∂E/∂q (hartree/e), the
gradient ∂E/∂r (hartree/bohr) and the strain derivative ∂E/∂ε (hartree).

    E = 1/2 Σ_i Σ_j Σ'_n q_i q_j / |r_j + n - r_i|       (per cell; ' skips i = j at n = 0)
      = E_real + E_reciprocal + E_self + E_background,
    E_real = Σ_(i,j,n) q_i q_j erfc(α r)/r               (each unordered image pair once, r < r_cut)
    E_rec  = (2π/V) Σ_(k≠0) exp(-k²/4α²)/k² |S(k)|²,  S(k) = Σ_j q_j exp(i k.r_j)   (|k| < k_cut)
    E_self = -α/√π Σ_i q_i²,   E_background = -π Q²/(2 V α²)   (Q = Σ q_i)

The lattice sum is the conducting-boundary ('tin-foil') value: no surface dipole term. The
background term is the energy of a uniform neutralizing charge -Q/V: it keeps E finite and
independent of α when Q ≠ 0; a charged periodic cell is not a physical crystal, so the periodic
code refuses Q ≠ 0 (`cell.check_neutral`) and the term is then zero.

Two phases, because a charge solver evaluates E hundreds of times at fixed positions:
`ewald_setup(positions, cell, tol)` chooses α, r_cut, k_cut from `tol` and precomputes everything
that depends on positions only (the real-space image sums of every atom pair, the k-vectors with
their weights and the cos/sin tables of k.r_j); `ewald_energy(setup, q)` is then sums over pairs
and k-vectors that are linear or bilinear in q. Parameter rule, stress formula and measured
accuracy: docs/periodic.md.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from ..errors import InputError
from .cell import as_positions, bin_atoms, bin_grid, check_cell, check_overlaps, half_image, wrap

# Voigt order of the 6-component symmetric tensors: xx, yy, zz, yz, xz, xy
_VA = (0, 1, 2, 1, 0, 0)
_VB = (0, 1, 2, 2, 2, 1)
TOL_MARGIN = 10.0  # Gaussian factors at the cut-offs = tol / TOL_MARGIN (ewald_parameters)
MAX_KVECTORS = 5_000_000  # k-vector candidates before a setup is refused as unreasonable


# ----------------------------------------------------------------------------- parameters
def ewald_parameters(n_atoms: int, volume: float, tol: float, alpha: float | None = None) -> tuple[float, float, float]:
    """(α 1/bohr, r_cut bohr, k_cut 1/bohr) from the relative accuracy `tol`.

    With s = sqrt(ln(10/tol)) the Gaussian factors at the cut-offs are a tenth of tol:
    exp(-(α r_cut)²) = exp(-(k_cut/2α)²) = tol/10, i.e. r_cut = s/α, k_cut = 2αs; the factor 10
    covers the prefactors of the truncation errors (the terms near the cut-offs, |S(k)|² up to
    N Σq² at the Bragg peaks of a crystal) that the plain rule exp(-s²) = tol leaves (measured
    errors up to 1.5 tol with it). The real-space work ∝ N² r_cut³/V and the reciprocal work
    ∝ N V k_cut³ are equal for α = √π (N/V²)^(1/6), which makes the total O(N^1.5) (the default;
    pass `alpha` to override)."""
    if not (0.0 < tol < 1.0):
        raise InputError(f"Ewald tol must be a relative accuracy between 0 and 1 (e.g. 1e-10); got {tol}")
    s = math.sqrt(math.log(TOL_MARGIN / tol))
    if alpha is None:
        alpha = math.sqrt(math.pi) * (max(n_atoms, 1) / volume ** 2) ** (1.0 / 6.0)
    elif not (alpha > 0.0 and math.isfinite(alpha)):
        raise InputError(f"Ewald alpha must be a positive splitting parameter in 1/bohr; got {alpha}")
    return float(alpha), s / alpha, 2.0 * alpha * s


# ----------------------------------------------------------------------------- setup kernels
@numba.njit(cache=True, error_model="numpy")
def _real_space_kernel(frac, x, cell, m, offs, rcut, alpha):
    """Image sums of every atom pair (i <= j) with an image within rcut:
    g = Σ_n erfc(αr)/r, dg = Σ_n h d, w = Σ_n h d_a d_b (Voigt), h = (d/dr)(erfc(αr)/r) / r,
    d = x_j + n.cell - x_i; for i = j only the half of the images n > 0 (lexicographically)."""
    n = frac.shape[0]
    bin_of, order, start = bin_atoms(frac, m)
    rc2 = rcut * rcut
    two_a_sqrtpi = 2.0 * alpha / math.sqrt(math.pi)
    stamp = np.full(n, -1, dtype=np.int64)
    acc = np.zeros((n, 10))  # image sums of atom i with each partner j
    count = np.zeros(n, dtype=np.int64)
    off = np.zeros(n + 1, dtype=np.int64)
    pi = np.zeros(0, dtype=np.int64)
    pj = np.zeros(0, dtype=np.int64)
    g = np.zeros(0)
    dg = np.zeros((0, 3))
    w = np.zeros((0, 6))
    nimg = 0
    for sweep in range(2):  # 0: count the partners of each atom, 1: accumulate
        if sweep == 1:
            for i in range(n):
                off[i + 1] = off[i] + count[i]
            npair = off[n]
            pi = np.empty(npair, dtype=np.int64)
            pj = np.empty(npair, dtype=np.int64)
            g = np.zeros(npair)
            dg = np.zeros((npair, 3))
            w = np.zeros((npair, 6))
            stamp[:] = -1
        for i in range(n):
            b = bin_of[i]
            c2i = b % m[2]
            c1i = (b // m[2]) % m[1]
            c0i = b // (m[1] * m[2])
            filled = 0
            for o in range(offs.shape[0]):
                t0 = c0i + offs[o, 0]
                t1 = c1i + offs[o, 1]
                t2 = c2i + offs[o, 2]
                s0 = t0 // m[0]
                s1 = t1 // m[1]
                s2 = t2 // m[2]
                cb = ((t0 - s0 * m[0]) * m[1] + (t1 - s1 * m[1])) * m[2] + (t2 - s2 * m[2])
                v0 = s0 * cell[0, 0] + s1 * cell[1, 0] + s2 * cell[2, 0] - x[i, 0]
                v1 = s0 * cell[0, 1] + s1 * cell[1, 1] + s2 * cell[2, 1] - x[i, 1]
                v2 = s0 * cell[0, 2] + s1 * cell[1, 2] + s2 * cell[2, 2] - x[i, 2]
                for k in range(start[cb], start[cb + 1]):
                    j = order[k]
                    if not half_image(j, i, s0, s1, s2):
                        continue
                    d0 = x[j, 0] + v0
                    d1 = x[j, 1] + v1
                    d2 = x[j, 2] + v2
                    r2 = d0 * d0 + d1 * d1 + d2 * d2
                    if r2 >= rc2:
                        continue
                    if sweep == 0:
                        nimg += 1
                        if stamp[j] != i:
                            stamp[j] = i
                            count[i] += 1
                        continue
                    if stamp[j] != i:
                        stamp[j] = i
                        pj[off[i] + filled] = j
                        filled += 1
                    r = math.sqrt(r2)
                    e = math.erfc(alpha * r) / r
                    h = -(e + two_a_sqrtpi * math.exp(-alpha * alpha * r2)) / r2
                    acc[j, 0] += e
                    acc[j, 1] += h * d0
                    acc[j, 2] += h * d1
                    acc[j, 3] += h * d2
                    acc[j, 4] += h * d0 * d0
                    acc[j, 5] += h * d1 * d1
                    acc[j, 6] += h * d2 * d2
                    acc[j, 7] += h * d1 * d2
                    acc[j, 8] += h * d0 * d2
                    acc[j, 9] += h * d0 * d1
            if sweep == 1:  # the partners of i, in the order met, from the dense scratch row
                for p in range(off[i], off[i + 1]):
                    j = pj[p]
                    pi[p] = i
                    g[p] = acc[j, 0]
                    for c in range(3):
                        dg[p, c] = acc[j, 1 + c]
                    for c in range(6):
                        w[p, c] = acc[j, 4 + c]
                    for c in range(10):
                        acc[j, c] = 0.0
    return pi, pj, g, dg, w, nimg


@numba.njit(cache=True)
def _kvector_kernel(recip, mmax, kcut):
    """Integer triples m of the half space (m0 > 0, or m0 = 0 and m1 > 0, or m0 = m1 = 0 and
    m2 > 0) with |k| < kcut, k = m.recip (rows of recip: 2π x reciprocal lattice vectors)."""
    cap = (mmax[0] + 1) * (2 * mmax[1] + 1) * (2 * mmax[2] + 1)
    out = np.empty((cap, 3), dtype=np.int64)
    kc2 = kcut * kcut
    nk = 0
    for m0 in range(0, mmax[0] + 1):
        lo1 = 0 if m0 == 0 else -mmax[1]
        for m1 in range(lo1, mmax[1] + 1):
            lo2 = 1 if (m0 == 0 and m1 == 0) else -mmax[2]
            for m2 in range(lo2, mmax[2] + 1):
                k0 = m0 * recip[0, 0] + m1 * recip[1, 0] + m2 * recip[2, 0]
                k1 = m0 * recip[0, 1] + m1 * recip[1, 1] + m2 * recip[2, 1]
                k2 = m0 * recip[0, 2] + m1 * recip[1, 2] + m2 * recip[2, 2]
                if k0 * k0 + k1 * k1 + k2 * k2 < kc2:
                    out[nk, 0] = m0
                    out[nk, 1] = m1
                    out[nk, 2] = m2
                    nk += 1
    return out[:nk].copy()


@numba.njit(cache=True)
def _ktables_kernel(mvec, frac):
    """cos(k.r_j), sin(k.r_j) as (nk, n) tables; k.r_j = 2π m.s_j from wrapped fractional s_j."""
    nk = mvec.shape[0]
    n = frac.shape[0]
    c = np.empty((nk, n))
    s = np.empty((nk, n))
    tau = 2.0 * math.pi
    for k in range(nk):
        for j in range(n):
            ph = tau * (mvec[k, 0] * frac[j, 0] + mvec[k, 1] * frac[j, 1] + mvec[k, 2] * frac[j, 2])
            c[k, j] = math.cos(ph)
            s[k, j] = math.sin(ph)
    return c, s


# ----------------------------------------------------------------------------- charge-dependent kernel
@numba.njit(cache=True, error_model="numpy")
def _energy_kernel(q, pi, pj, g, dg, w, kvec, kfac, kstrain, cos_kr, sin_kr, want_f, want_s):
    """E_real, E_rec, φ (real + reciprocal), gradient and Voigt strain derivative of both parts."""
    n = q.size
    phi = np.zeros(n)
    grad = np.zeros((n, 3))
    strain = np.zeros(6)
    e_real = 0.0
    for p in range(pi.size):
        i = pi[p]
        j = pj[p]
        qi = q[i]
        qj = q[j]
        gp = g[p]
        qq = qi * qj
        e_real += qq * gp
        phi[i] += qj * gp
        phi[j] += qi * gp
        if want_f and i != j:
            for x in range(3):
                grad[i, x] -= qq * dg[p, x]
                grad[j, x] += qq * dg[p, x]
        if want_s:
            for c in range(6):
                strain[c] += qq * w[p, c]
    e_rec = 0.0
    for k in range(kfac.size):
        C = 0.0
        S = 0.0
        for j in range(n):
            C += q[j] * cos_kr[k, j]
            S += q[j] * sin_kr[k, j]
        wk = kfac[k]
        s2 = wk * (C * C + S * S)
        e_rec += s2
        a = 2.0 * wk * C
        b = 2.0 * wk * S
        for i in range(n):
            phi[i] += a * cos_kr[k, i] + b * sin_kr[k, i]
        if want_f:
            k0 = kvec[k, 0]
            k1 = kvec[k, 1]
            k2 = kvec[k, 2]
            for i in range(n):
                f = q[i] * (b * cos_kr[k, i] - a * sin_kr[k, i])
                grad[i, 0] += f * k0
                grad[i, 1] += f * k1
                grad[i, 2] += f * k2
        if want_s:
            for c in range(6):
                strain[c] += s2 * kstrain[k, c]
    return e_real, e_rec, phi, grad, strain


# ----------------------------------------------------------------------------- Python front end
@dataclass(frozen=True, eq=False)
class EwaldSetup:
    """Positions-only data of one periodic geometry (`ewald_setup`). Real space: one entry per
    atom pair i <= j with an image closer than r_cut, holding the sums over its images n
    (pair_g = Σ erfc(αr)/r, pair_dg = Σ h d, pair_w = Σ h d⊗d in Voigt order xx yy zz yz xz xy,
    d = r_j + n.cell - r_i, h = (erfc(αr)/r)'/r; i = j: the images n ≠ 0, each ±n once).
    Reciprocal space: k-vectors of a half space (k and -k combined), kfac = (4π/V) exp(-k²/4α²)/k²,
    kstrain = -δ_ab + 2 k_a k_b (1/(4α²) + 1/k²), cos_kr/sin_kr = cos, sin(k.r_j) as (nk, n)."""

    positions: np.ndarray
    cell: np.ndarray
    volume: float
    tol: float
    alpha: float
    r_cut: float
    k_cut: float
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_g: np.ndarray
    pair_dg: np.ndarray
    pair_w: np.ndarray
    n_images: int
    kvec: np.ndarray
    kfac: np.ndarray
    kstrain: np.ndarray
    cos_kr: np.ndarray
    sin_kr: np.ndarray
    seconds: float = 0.0

    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_i.size)

    @property
    def n_kvectors(self) -> int:
        return int(self.kfac.size)


@dataclass(frozen=True, eq=False)
class EwaldResult:
    """energy (hartree per cell), potential φ_i = ∂E/∂q_i (hartree/e), gradient ∂E/∂r_i (n, 3)
    hartree/bohr (forces = -gradient; None unless asked), strain_derivative ∂E/∂ε_ab (3, 3) hartree
    (stress = strain_derivative / V, ASE's sign; None unless asked), parts: real, reciprocal,
    self, background (hartree)."""

    energy: float
    potential: np.ndarray
    gradient: np.ndarray | None
    strain_derivative: np.ndarray | None
    parts: dict = field(default_factory=dict)


def ewald_setup(positions, cell, tol: float = 1e-10, pbc=(True, True, True), alpha: float | None = None) -> EwaldSetup:
    """Positions-only Ewald data for positions (n, 3) bohr in `cell` (3, 3) bohr, lattice vectors
    as rows (ASE convention), fully periodic. α (1/bohr), r_cut (bohr) and k_cut (1/bohr) follow
    from `tol`, the relative accuracy of the energy (`ewald_parameters`: r_cut = s/α, k_cut = 2αs,
    s = sqrt(ln(10/tol)), α = √π (N/V²)^(1/6) unless given). Precomputes the real-space image sums of
    every atom pair, periodic self-images and cells thinner than r_cut included, the half-space
    k-vectors with exp(-k²/4α²)/k² and the cos/sin(k.r_j) tables; see `EwaldSetup`."""
    t0 = time.perf_counter()

    pos = as_positions(positions)
    c, periodic = check_cell(cell, pbc)
    if not periodic:
        raise InputError("Ewald summation needs a fully periodic cell (pbc=(True, True, True)); "
                         "a cluster's Coulomb energy is the direct sum (kernels.long_range_direct)")
    n = pos.shape[0]
    if n == 0:
        raise InputError("Ewald summation: no atoms in the cell")
    check_overlaps(pos, c, True)
    volume = abs(float(np.linalg.det(c)))
    a, r_cut, k_cut = ewald_parameters(n, volume, float(tol), alpha)
    frac, x, _ = wrap(pos, c)
    m, offs = bin_grid(c, r_cut, n)
    pi, pj, g, dg, w, nimg = _real_space_kernel(frac, x, c, m, offs, r_cut, a)

    recip = 2.0 * np.pi * np.linalg.inv(c).T  # rows b_k with a_i.b_k = 2π δ_ik
    mmax = np.floor(k_cut * np.linalg.norm(c, axis=1) / (2.0 * np.pi)).astype(np.int64)
    ncand = float(np.prod(2 * mmax + 1))
    if ncand > MAX_KVECTORS:
        raise InputError(f"cell too skewed for a reciprocal cut-off of {k_cut:.4g} 1/bohr: {ncand:.3g} k-vector candidates "
                         "(lattice vectors much longer than the plane spacings); use a reduced cell")
    mvec = _kvector_kernel(recip, mmax, k_cut)
    kvec = np.ascontiguousarray(mvec @ recip)
    k2 = np.einsum("ij,ij->i", kvec, kvec)
    kfac = 4.0 * np.pi / volume * np.exp(-k2 / (4.0 * a * a)) / k2
    fac = 2.0 * (1.0 / (4.0 * a * a) + 1.0 / k2)
    kstrain = np.empty((k2.size, 6))
    for v in range(6):
        kstrain[:, v] = fac * kvec[:, _VA[v]] * kvec[:, _VB[v]] - (1.0 if v < 3 else 0.0)
    cos_kr, sin_kr = _ktables_kernel(mvec, frac)
    return EwaldSetup(positions=pos.copy(), cell=c.copy(), volume=volume, tol=float(tol), alpha=a, r_cut=r_cut,
                      k_cut=k_cut, pair_i=pi, pair_j=pj, pair_g=g, pair_dg=dg, pair_w=w, n_images=int(nimg),
                      kvec=kvec, kfac=kfac, kstrain=kstrain, cos_kr=cos_kr, sin_kr=sin_kr,
                      seconds=time.perf_counter() - t0)


def _voigt_to_matrix(v) -> np.ndarray:
    t = np.empty((3, 3))
    for c in range(6):
        t[_VA[c], _VB[c]] = t[_VB[c], _VA[c]] = v[c]
    return t


def ewald_energy(setup: EwaldSetup, q, want_forces: bool = True, want_stress: bool = True) -> EwaldResult:
    """Energy, potential, gradient and strain derivative of charges q (n,) e at the setup's
    positions (see the module docstring and `EwaldResult`). Includes the neutralizing-background
    term -π Q²/(2Vα²) when Q = Σ q ≠ 0; callers refuse non-neutral cells (`cell.check_neutral`)."""
    qv = np.ascontiguousarray(np.asarray(q, dtype=float).ravel())
    if qv.size != setup.n_atoms:
        raise InputError(f"Ewald charges: expected {setup.n_atoms} values, got {qv.size}")
    if not np.all(np.isfinite(qv)):
        raise InputError("Ewald charges must be finite (e)")
    e_real, e_rec, phi, grad, strain = _energy_kernel(
        qv, setup.pair_i, setup.pair_j, setup.pair_g, setup.pair_dg, setup.pair_w, setup.kvec, setup.kfac,
        setup.kstrain, setup.cos_kr, setup.sin_kr, bool(want_forces), bool(want_stress))
    a = setup.alpha
    Q = float(qv.sum())
    e_self = -a / math.sqrt(math.pi) * float(qv @ qv)
    e_bg = -math.pi * Q * Q / (2.0 * setup.volume * a * a)
    phi = phi - 2.0 * a / math.sqrt(math.pi) * qv - math.pi * Q / (setup.volume * a * a)
    sd = None
    if want_stress:
        sd = _voigt_to_matrix(strain) - e_bg * np.eye(3)  # E_bg ∝ 1/V; E_self does not depend on strain
    parts = {"real": float(e_real), "reciprocal": float(e_rec), "self": e_self, "background": e_bg}
    return EwaldResult(energy=float(e_real + e_rec + e_self + e_bg), potential=phi,
                       gradient=grad if want_forces else None, strain_derivative=sd, parts=parts)
