"""Smooth particle-mesh Ewald (SPME) sum of point charges, for periodic cells and open clusters
(atomic units: charges in e, positions and cell in bohr, energies in hartree), with the potential
φ = ∂E/∂q (hartree/e), the gradient ∂E/∂r (hartree/bohr) and the strain derivative ∂E/∂ε (hartree).

Ewald's split 1/r = erfc(αr)/r + erf(αr)/r; the first over a neighbour list within r_cut, the
second on a mesh (Essmann et al., J. Chem. Phys. 103, 8577 (1995)):

- periodic (triclinic cell, rows = lattice vectors): charges spread with cardinal B-splines of
  order p on a K0 x K1 x K2 mesh along the lattice vectors, FFT, the influence function
  (4π/V) exp(-k²/4α²)/k² |b(m)|² (|b|² the B-spline correction), back-interpolation; the
  conducting-boundary sum with the self term -α/√π Σq² and the background term -πQ²/(2Vα²) of
  ewald.py; the reciprocal strain derivative Σ_k E_k (2 k_a k_b (1/4α² + 1/k²) - δ_ab).
- cluster (cell=None): the free-space sum Σ_{i<j} q_i q_j / r. erf(αr)/r is sampled on an
  axis-aligned mesh padded to at least twice the cluster's extent plus a margin (Hockney–Eastwood
  doubling: the circular convolution equals the aperiodic one), FFT'd and divided by the B-spline
  autocorrelation symbol (multiplied by |b|², as above; its real-space inverse decays like
  λ_p^|d|, which sets the margin); minus the self term. The strain derivative is Σ_i r_i ⊗ ∂E/∂r_i,
  symmetrized.

Two phases: `pme_setup(positions, cell, tol)` computes everything that depends on positions only
(pair values, spline weights; the influence function is cached per cell/mesh); `pme_energy(setup,
q)` (or the numba kernel `pme_kernels.pme_long_range` on `setup.data`) is linear/bilinear in q.
Parameter rule and measured accuracy: `pme_parameters` and docs/periodic.md.
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .cell import as_positions, check_cell, check_neutral, check_overlaps, wrap
from .ewald import TOL_MARGIN, EwaldResult
from .pme_kernels import periodic_influence, pme_parts, real_space_pairs, sampled_kernel, spline_weights

# bohr: real-space cut-off when none is given (measured balance of pairs and mesh, docs/periodic.md); a
# cluster's mesh is doubled (8x the points), so it shifts more of the sum to real space
R_CUT_CELL = 10.0
R_CUT_CLUSTER = 16.0
# (smallest tol, spline order p, α·h) of the mesh rule: the first row with tol >= its tol applies
MESH_RULE = ((1e-4, 8, 0.33), (1e-6, 10, 0.30), (1e-8, 12, 0.25), (1e-10, 12, 0.20), (0.0, 12, 0.15))
INFLUENCE_CACHE_SIZE = 4


# ----------------------------------------------------------------------------- parameters
def fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n (FFT-friendly mesh size)."""
    n = max(int(n), 1)
    best = None
    p2 = 1
    while p2 < 2 * n:
        p3 = p2
        while p3 < 2 * n:
            p5 = p3
            while p5 < n:
                p5 *= 5
            if best is None or p5 < best:
                best = p5
            p3 *= 3
        p2 *= 2
    return int(best)


def pme_parameters(tol: float, r_cut: float | None = None, periodic: bool = True) -> tuple[float, float, float, int]:
    """(α 1/bohr, r_cut bohr, mesh spacing h bohr, spline order p) for the relative accuracy `tol`.

    Real space as ewald.py: exp(-(α r_cut)²) = tol/10, so α = sqrt(ln(10/tol)) / r_cut with
    r_cut = 10 bohr (cells) or 16 bohr (clusters) unless given. Mesh: the first row of MESH_RULE
    with tol >= its tol gives the order p and α·h (measured: energy, force and strain errors below
    tol; docs/periodic.md)."""
    if not (0.0 < tol < 1.0):
        raise InputError(f"PME tol must be a relative accuracy between 0 and 1 (e.g. 1e-6); got {tol}")
    rc = (R_CUT_CELL if periodic else R_CUT_CLUSTER) if r_cut is None else float(r_cut)
    if not (rc > 0.0 and math.isfinite(rc)):
        raise InputError(f"PME r_cut must be a positive distance in bohr; got {r_cut}")
    alpha = math.sqrt(math.log(TOL_MARGIN / tol)) / rc
    for row_tol, order, ah in MESH_RULE:
        if tol >= row_tol:
            return alpha, rc, ah / alpha, order
    raise AssertionError("unreachable")


def bspline_symbol(order: int, size: int) -> np.ndarray:
    """|b(m)|² = 1 / |Σ_{k=0}^{p-2} M_p(k+1) exp(2πi m k / K)|², m = 0..K-1 (even p: never singular)."""
    vals = _bspline_integers(order)
    m = np.arange(size)
    k = np.arange(order - 1)
    den = np.exp(2j * np.pi * np.outer(m, k) / size) @ vals
    return 1.0 / np.abs(den) ** 2


def _bspline_integers(order: int) -> np.ndarray:
    """M_p(1), ..., M_p(p-1): the cardinal B-spline at the integers (by its recursion)."""
    m = np.array([0.0, 1.0, 0.0])  # M_2 at 0, 1, 2
    for n in range(3, order + 1):
        x = np.arange(n + 1, dtype=float)
        prev = np.concatenate([m, [0.0]])
        shifted = np.concatenate([[0.0], m])
        m = (x * prev + (n - x) * shifted) / (n - 1)
    return m[1:order]


def spline_margin(order: int, tol: float) -> int:
    """Mesh points by which the inverse of the B-spline autocorrelation symbol has decayed below
    tol/10: it decays like λ^|d|, λ the root of Σ M_p(k+1) z^k inside the unit circle closest to it."""
    roots = np.roots(_bspline_integers(order)[::-1])
    lam = float(max(abs(r) for r in roots if abs(r) < 1.0))
    return int(math.ceil(math.log(tol / TOL_MARGIN) / math.log(lam))) + 1


# ----------------------------------------------------------------------------- setup
@dataclass(frozen=True, eq=False)
class PMESetup:
    """Positions-only PME data of one geometry; `data` is the tuple the numba kernel reads
    (layout in pme_kernels). cell None for a cluster; mesh the mesh sizes (padded for clusters)."""

    positions: np.ndarray
    cell: np.ndarray | None
    volume: float
    tol: float
    alpha: float
    r_cut: float
    spacing: float
    order: int
    mesh: tuple
    data: tuple
    seconds: float = 0.0

    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_pairs(self) -> int:
        return int(self.data[0].size)

    @property
    def periodic(self) -> bool:
        return self.cell is not None


_influence_cache: OrderedDict = OrderedDict()


def _cached(key, build):
    """The influence function for `key`, built once (a few recent cells/meshes are kept)."""
    if key in _influence_cache:
        _influence_cache.move_to_end(key)
        return _influence_cache[key]
    value = build()
    _influence_cache[key] = value
    while len(_influence_cache) > INFLUENCE_CACHE_SIZE:
        _influence_cache.popitem(last=False)
    return value


def _periodic_ghat(cell, mesh, alpha, order):
    K = np.asarray(mesh, dtype=np.int64)
    volume = abs(float(np.linalg.det(cell)))
    kmat = 2.0 * np.pi * np.linalg.inv(cell).T
    b = [bspline_symbol(order, int(k)) for k in K]
    return periodic_influence(K, kmat, alpha, volume, b[0], b[1], b[2][:K[2] // 2 + 1].copy())


def _cluster_ghat(mesh, spacing, alpha, order, margin):
    """Influence function of a cluster mesh (sizes `mesh` >= twice the occupied extent): erf(αr)/r
    sampled on a mesh larger by 2 `margin` per axis, deconvolved there by the B-spline symbol (its
    inverse decays below tol/10 within the margin), cropped to `mesh` (only displacements within
    the occupied extent matter) and transformed."""
    K = np.asarray(mesh, dtype=np.int64)
    big = np.array([fft_size(k + 2 * margin) for k in K], dtype=np.int64)
    b = [bspline_symbol(order, int(k)) for k in big]
    spec = np.fft.rfftn(sampled_kernel(big, spacing, alpha))
    spec *= b[0][:, None, None] * b[1][None, :, None] * b[2][None, None, :big[2] // 2 + 1]
    deconv = np.fft.irfftn(spec, tuple(int(k) for k in big), axes=(0, 1, 2))
    idx = [np.where(np.arange(k) < (k + 1) // 2, np.arange(k), np.arange(k) - k + kb) for k, kb in zip(K, big)]
    cropped = deconv[np.ix_(idx[0], idx[1], idx[2])]
    return np.ascontiguousarray(np.fft.rfftn(cropped).real)


def _slabs(base0, mesh0, order):
    """Atoms sorted into slabs of `order` mesh planes along axis 0 (the last slab takes the rest)."""
    nslab = max(1, mesh0 // order)
    slab = np.minimum(base0 // order, nslab - 1)
    idx = np.argsort(slab, kind="stable").astype(np.int64)
    start = np.zeros(nslab + 1, dtype=np.int64)
    np.cumsum(np.bincount(slab, minlength=nslab), out=start[1:])
    return idx, start


def pme_setup(positions, cell=None, tol: float = 1e-6, r_cut: float | None = None, pbc=(True, True, True),
              alpha: float | None = None, spacing: float | None = None, order: int | None = None,
              pairs=None) -> PMESetup:
    """Positions-only PME data for positions (n, 3) bohr: in the periodic `cell` (3, 3) bohr, lattice
    vectors as rows, or a cluster (cell=None or pbc=False). α, r_cut, mesh spacing and spline order
    follow from `tol` (`pme_parameters`); alpha, spacing (bohr) and order (even, >= 4) override.
    pairs: a caller's half neighbour list (pi, pj, shift bohr; each image pair once, as
    `neighbours.periodic_pairs` gives it) holding at least every pair within r_cut, used instead of a
    search (an MD Verlet list; pairs beyond r_cut only add terms below tol)."""
    t0 = time.perf_counter()
    pos = as_positions(positions)
    n = pos.shape[0]
    if n == 0:
        raise InputError("PME: no atoms")
    periodic = False
    c = None
    if cell is not None:
        c, periodic = check_cell(cell, pbc)
    a, rc, h, p = pme_parameters(float(tol), r_cut, periodic)
    if alpha is not None:
        if not (alpha > 0.0 and math.isfinite(alpha)):
            raise InputError(f"PME alpha must be a positive splitting parameter in 1/bohr; got {alpha}")
        a = float(alpha)
        rc = math.sqrt(math.log(TOL_MARGIN / tol)) / a
    if order is not None:
        if int(order) != order or order < 4 or order % 2:
            raise InputError(f"PME spline order must be an even integer >= 4; got {order}")
        p = int(order)
    if spacing is not None:
        if not (spacing > 0.0 and math.isfinite(spacing)):
            raise InputError(f"PME mesh spacing must be a positive distance in bohr; got {spacing}")
        h = float(spacing)
    check_overlaps(pos, c if periodic else None, pbc if periodic else False)
    from .neighbours import neighbour_pairs, periodic_pairs

    if periodic:
        volume = abs(float(np.linalg.det(c)))
        K = np.array([fft_size(max(math.ceil(np.linalg.norm(c[k]) / h), p)) for k in range(3)], dtype=np.int64)
        frac, _, _ = wrap(pos, c)
        u = np.ascontiguousarray(frac * K)
        pi, pj, shift = periodic_pairs(pos, c, rc) if pairs is None else pairs
        inv = np.linalg.inv(c)
        du_dr = np.ascontiguousarray(inv * K[None, :])
        kmat = np.ascontiguousarray(2.0 * np.pi * inv.T)
        ghat = _cached(("cell", c.tobytes(), tuple(K), a, p), lambda: _periodic_ghat(c, K, a, p))
        rel = np.zeros((0, 3))
    else:
        c = None
        volume = 0.0
        lo = pos.min(axis=0)
        extent = pos.max(axis=0) - lo
        occupied = np.floor(extent / h).astype(np.int64) + p
        margin = spline_margin(p, float(tol))
        K = np.array([fft_size(2 * d) for d in occupied], dtype=np.int64)
        u = np.ascontiguousarray((pos - lo) / h + (p - 1))
        if pairs is not None:
            pi, pj = pairs[0], pairs[1]
        elif n > 1:
            pi, pj = neighbour_pairs(pos, rc)
        else:
            pi = pj = np.zeros(0, dtype=np.int64)
        shift = np.zeros((pi.size, 3))
        du_dr = np.eye(3) / h
        kmat = np.zeros((3, 3))
        ghat = _cached(("cluster", tuple(K), h, a, p, margin), lambda: _cluster_ghat(K, h, a, p, margin))
        rel = np.ascontiguousarray(pos - pos.mean(axis=0))
    base, wts, dwts = spline_weights(u, K, p, periodic)
    g, hh, d = real_space_pairs(pos, pi, pj, shift, a)
    order_idx, slab_start = _slabs(base[:, 0], int(K[0]), p)
    data = (np.ascontiguousarray(pi, dtype=np.int64), np.ascontiguousarray(pj, dtype=np.int64), g, hh, d, base, wts, dwts,
            du_dr, ghat, kmat, K, rel, order_idx, slab_start, float(a), float(volume), np.int64(periodic))
    return PMESetup(positions=pos.copy(), cell=None if c is None else c.copy(), volume=volume, tol=float(tol), alpha=a,
                    r_cut=rc, spacing=h, order=p, mesh=tuple(int(k) for k in K), data=data,
                    seconds=time.perf_counter() - t0)


def pme_energy(setup: PMESetup, q, want_forces: bool = True, want_stress: bool = True,
               allow_charged: bool = False) -> EwaldResult:
    """Energy (hartree), potential (hartree/e), gradient (n, 3) hartree/bohr and strain derivative
    (3, 3) hartree of charges q (n,) e (see ewald.EwaldResult; parts: real, mesh, self, background).
    A periodic cell must be neutral unless allow_charged (then the background term applies)."""
    qv = np.ascontiguousarray(np.asarray(q, dtype=float).ravel())
    if qv.size != setup.n_atoms:
        raise InputError(f"PME charges: expected {setup.n_atoms} values, got {qv.size}")
    if not np.all(np.isfinite(qv)):
        raise InputError("PME charges must be finite (e)")
    if setup.periodic and not allow_charged:
        check_neutral(float(qv.sum()))
    want = bool(want_forces or want_stress)
    grad = np.zeros((setup.n_atoms, 3))
    strain = np.zeros((3, 3))
    e_real, e_mesh, e_self, e_bg, phi = pme_parts(qv, want, grad, strain, setup.data)
    parts = {"real": float(e_real), "mesh": float(e_mesh), "self": float(e_self), "background": float(e_bg)}
    return EwaldResult(energy=float(e_real + e_mesh + e_self + e_bg), potential=phi,
                       gradient=grad if want_forces else None, strain_derivative=strain if want_stress else None,
                       parts=parts)
