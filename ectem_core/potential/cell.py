"""Periodic cells (bohr, lattice vectors as rows of a 3x3 array, the ASE convention): the input
checks of the periodic code and the image search the Ewald sum and the checks share.

`check_cell(cell, pbc)` → (cell, periodic): finite 3x3, non-zero volume, fully periodic or fully
non-periodic; `check_neutral(Q)`: a periodic cell carries no net charge; `check_overlaps(positions,
cell, pbc)`: no atom on another atom or on a periodic image of itself or of another atom. Each
raises one InputError that names what is wrong and what to do.

Image search: positions are wrapped to fractional coordinates in [0, 1) and binned on an
m0 x m1 x m2 grid along the lattice vectors (bins about r/3 wide); an atom's neighbours within r
are in the bins up to ceil(r / w_k) away along k (w_k = h_k / m_k, h_k the spacing of the
lattice planes normal to b_k), a bin index beyond the grid standing for the same bin in the cell
shifted by a lattice vector; offsets whose bins are surely farther apart than r are dropped.
Every (partner, lattice shift) is visited once, so triclinic cells and cells thinner than r
(many images) need no special case.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import InputError

MIN_VOLUME = 1e-6  # bohr^3
MIN_DISTANCE = 1e-8  # bohr
MAX_OFFSETS = 20_000_000  # bin offsets x atoms an image search may visit before it is refused
BIN_WIDTH = 1.0 / 3.0  # bin width / search radius


# ----------------------------------------------------------------------------- checks
def _pbc3(pbc) -> tuple[bool, bool, bool]:
    if np.ndim(pbc) == 0:
        return (bool(pbc),) * 3
    p = tuple(bool(x) for x in np.asarray(pbc).ravel())
    if len(p) != 3:
        raise InputError(f"pbc must be one boolean or three (one per lattice vector); got {pbc!r}")
    return p


def check_cell(cell, pbc=(True, True, True)) -> tuple[np.ndarray, bool]:
    """Validate a cell: returns (cell as a float (3,3) array, periodic). periodic=True for pbc all
    True (volume checked), False for pbc all False (a cluster: the cell is not used)."""
    p = _pbc3(pbc)
    c = np.asarray(cell, dtype=float)
    if c.shape != (3, 3):
        raise InputError(f"cell must be a 3x3 array with the three lattice vectors as rows (bohr); got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise InputError(f"cell has non-finite entries {c.tolist()}: give three finite lattice vectors (rows, bohr)")
    if any(p) and not all(p):
        raise InputError(f"mixed periodicity pbc={p} is not supported: use a fully periodic cell, pbc=(True, True, True) "
                         "(a slab is a periodic cell with vacuum along its normal), or a cluster, pbc=False")
    if not all(p):
        return c, False
    vol = abs(float(np.linalg.det(c)))
    if not vol > MIN_VOLUME:
        raise InputError(f"cell has zero volume: |det(cell)| = {vol:.3g} bohr^3 (<= {MIN_VOLUME:g}); give three linearly "
                         f"independent lattice vectors as rows (bohr), got {c.tolist()}")
    return c, True


def check_neutral(q_total: float, tol: float = 1e-8) -> None:
    """Refuse a periodic cell with net charge |Q| > tol (e): its energy per cell is infinite
    without a neutralizing background, which is not a physical state of the crystal."""
    Q = float(q_total)
    if not abs(Q) <= tol:
        raise InputError(f"a periodic cell must be neutral: total charge Q={Q:.6g} e (|Q| > {tol:g}); use total_charge=0 "
                         "for a periodic system (add counter-ions to the cell to model a charged defect)")


def check_overlaps(positions, cell=None, pbc=(True, True, True), min_distance: float = MIN_DISTANCE) -> None:
    """Refuse two atoms closer than `min_distance` (bohr), periodic images included (an atom on a
    periodic image of itself means a lattice vector shorter than min_distance)."""
    pos = as_positions(positions)
    if cell is None:
        periodic = False
    else:
        c, periodic = check_cell(cell, pbc)
    if not periodic:
        from .neighbours import neighbour_pairs

        pi, pj = neighbour_pairs(pos, min_distance)
        if pi.size:
            i, j = int(pi[0]), int(pj[0])
            r = float(np.linalg.norm(pos[i] - pos[j]))
            raise InputError(f"atoms {i} and {j} coincide (distance {r:.3g} bohr < {min_distance:g}): remove the duplicate atom")
        return
    frac, x, shift = wrap(pos, c)
    m, offs = bin_grid(c, min_distance, pos.shape[0])
    found, i, j, n0, n1, n2, r = _closest_within(frac, x, c, m, offs, min_distance)
    if not found:
        return
    # the shift between the given (unwrapped) positions: x_j + n.cell - x_i, n = n' + f_i - f_j
    n = tuple(int(v) for v in np.array([n0, n1, n2]) + shift[i] - shift[j])
    if i == j:
        raise InputError(f"atom {i} sits on its own periodic image shifted by n={n} lattice vectors (distance {r:.3g} bohr < "
                         f"{min_distance:g}): a lattice vector is (nearly) zero; give three linearly independent lattice vectors")
    raise InputError(f"atoms {i} and {j} coincide: atom {j} shifted by n={n} lattice vectors (r_j + n.cell) is {r:.3g} bohr "
                     f"from atom {i} (< {min_distance:g}); remove the duplicate atom")


def as_positions(positions) -> np.ndarray:
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise InputError(f"positions must be an (n, 3) array in bohr; got shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise InputError("positions must be finite (bohr)")
    return np.ascontiguousarray(pos)


# ----------------------------------------------------------------------------- image search
def plane_spacings(cell) -> np.ndarray:
    """h_k = V / |a_l x a_m|: the distance between neighbouring lattice planes spanned by the two
    other lattice vectors (bohr); any vector with fractional component |s_k| has length >= |s_k| h_k."""
    return 1.0 / np.linalg.norm(np.linalg.inv(cell).T, axis=1)


def same_cell(a, b) -> bool:
    """True when two cells (3×3 bohr, or None for a cluster) are the same: both None or equal arrays."""
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


def times3(a, m) -> np.ndarray:
    """a (n, 3) @ m (3, 3) by elementwise numpy, not BLAS: a BLAS call on a large array wakes
    OpenBLAS' thread pool, whose spinning workers then take the cores that the numba kernels of the
    next step need (measured on the 2-core VM: one 14 336-element dot product between two 4 096-atom
    evaluations on two threads turned 20 ms into 30–94 ms; docs/performance.md)."""
    a = np.asarray(a, dtype=float)
    m = np.asarray(m, dtype=float)
    return a[:, 0, None] * m[0] + a[:, 1, None] * m[1] + a[:, 2, None] * m[2]


def wrap(positions, cell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractional coordinates wrapped into [0, 1), the matching Cartesian positions (bohr) and
    the integer lattice shifts f with positions = wrapped + f.cell."""
    frac = times3(np.asarray(positions, dtype=float).reshape(-1, 3), np.linalg.inv(cell))
    shift = np.floor(frac)
    frac -= shift
    over = frac >= 1.0  # -1e-17 wraps to 1.0 in floating point
    frac[over] = 0.0
    shift[over] += 1.0
    return np.ascontiguousarray(frac), np.ascontiguousarray(times3(frac, cell)), shift.astype(np.int64)


def bin_grid(cell, r: float, n: int, width: float = BIN_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Bins per lattice direction (about width*r wide, at most ~2 n^(1/3) per direction) and the
    bin offsets (K, 3) that can hold an image within r: |o_k| <= ceil(r / w_k) (w_k = h_k / m_k),
    less those whose nearest points are farther than r (bound: σ_min(cell) |Δs|, Δs_k = (|o_k| - 1)/m_k)."""
    h = plane_spacings(cell)
    cap = max(1, int(math.ceil(2.0 * n ** (1.0 / 3.0))))
    m = np.array([max(1, min(int(hk / (width * r)), cap)) for hk in h], dtype=np.int64)
    reach = np.array([int(math.ceil(r / (hk / mk))) for hk, mk in zip(h, m)], dtype=np.int64)
    visits = float(np.prod(2 * reach + 1)) * max(n, 1)
    if visits > MAX_OFFSETS:
        raise InputError(f"cell too thin for a real-space cut-off of {r:.4g} bohr: lattice plane spacings "
                         f"{np.round(h, 4).tolist()} bohr need {visits:.3g} image visits; use a less skewed (reduced) cell "
                         "or a supercell")
    o = np.stack(np.meshgrid(*[np.arange(-k, k + 1) for k in reach], indexing="ij"), axis=-1).reshape(-1, 3)
    gap = np.maximum(np.abs(o) - 1, 0) / m
    sigma = np.linalg.svd(cell, compute_uv=False).min()
    keep = sigma * np.linalg.norm(gap, axis=1) < r
    return m, np.ascontiguousarray(o[keep].astype(np.int64))


@numba.njit(cache=True)
def bin_atoms(frac, m):
    """Bin index of each atom, atoms sorted by bin (`order`) and the bin start offsets."""
    n = frac.shape[0]
    nb = m[0] * m[1] * m[2]
    bin_of = np.empty(n, dtype=np.int64)
    for a in range(n):
        b0 = min(int(frac[a, 0] * m[0]), m[0] - 1)
        b1 = min(int(frac[a, 1] * m[1]), m[1] - 1)
        b2 = min(int(frac[a, 2] * m[2]), m[2] - 1)
        bin_of[a] = (b0 * m[1] + b1) * m[2] + b2
    order = np.argsort(bin_of, kind="mergesort")
    start = np.zeros(nb + 1, dtype=np.int64)
    for a in range(n):
        start[bin_of[a] + 1] += 1
    for k in range(nb):
        start[k + 1] += start[k]
    return bin_of, order, start


@numba.njit(cache=True)
def half_image(j, i, n0, n1, n2):
    """Keep (i, j, n) once per unordered pair: j > i, or j == i with n lexicographically > 0."""
    if j != i:
        return j > i
    if n0 != 0:
        return n0 > 0
    if n1 != 0:
        return n1 > 0
    return n2 > 0


@numba.njit(cache=True)
def _closest_within(frac, x, cell, m, offs, rmax):
    """The closest (i, j, n) with |x_j + n.cell - x_i| < rmax (half list), if any."""
    n = frac.shape[0]
    bin_of, order, start = bin_atoms(frac, m)
    best = rmax * rmax
    found = False
    bi = bj = 0
    bn0 = bn1 = bn2 = 0
    for i in range(n):
        b = bin_of[i]
        c2i = b % m[2]
        c1i = (b // m[2]) % m[1]
        c0i = b // (m[1] * m[2])
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
                if r2 < best:
                    best = r2
                    found = True
                    bi, bj, bn0, bn1, bn2 = i, j, s0, s1, s2
    return found, bi, bj, bn0, bn1, bn2, math.sqrt(best)
