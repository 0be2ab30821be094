"""Half neighbour lists for clusters (no periodic images): every pair i < j with
R_ij < cutoff (bohr), found with a cell list in O(N) for a fixed density, or all pairs.

`neighbour_pairs(positions_bohr, cutoff)` → (i, j) int64 arrays (i < j), sorted by i then j.
`all_pairs(n)` → every pair i < j (the exact, O(N²) list the reference model uses).
`periodic_pairs(positions_bohr, cell_bohr, cutoff)` → (i, j, shift): the half list of a fully
periodic cell, pair p joining atom i and the image of atom j at pos[j] + shift[p] (bohr), closer
than the cut-off; i < j with any image, and i == j with its own images in one half space (cells
smaller than the cut-off included). Each pair of the infinite crystal per cell appears once.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import InputError


@numba.njit(cache=True)
def _cell_pairs(pos, cutoff, cell):
    n = pos.shape[0]
    lo = np.empty(3)
    ncell = np.empty(3, dtype=np.int64)
    for d in range(3):
        lo[d] = pos[:, d].min()
        ncell[d] = max(1, int(math.floor((pos[:, d].max() - lo[d]) / cell)) + 1)
    total = ncell[0] * ncell[1] * ncell[2]
    cell_of = np.empty(n, dtype=np.int64)
    for a in range(n):
        cx = min(int((pos[a, 0] - lo[0]) / cell), ncell[0] - 1)
        cy = min(int((pos[a, 1] - lo[1]) / cell), ncell[1] - 1)
        cz = min(int((pos[a, 2] - lo[2]) / cell), ncell[2] - 1)
        cell_of[a] = (cx * ncell[1] + cy) * ncell[2] + cz
    order = np.argsort(cell_of, kind="mergesort")
    start = np.zeros(total + 1, dtype=np.int64)
    for a in range(n):
        start[cell_of[a] + 1] += 1
    for k in range(total):
        start[k + 1] += start[k]
    c2 = cutoff * cutoff
    counts = np.zeros(n, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int64)
    _sweep(pos, cell_of, order, start, ncell, c2, counts, dummy, dummy, False)
    off = np.zeros(n + 1, dtype=np.int64)
    for a in range(n):
        off[a + 1] = off[a] + counts[a]
    pi = np.empty(off[n], dtype=np.int64)
    pj = np.empty(off[n], dtype=np.int64)
    fill = off[:n].copy()
    _sweep(pos, cell_of, order, start, ncell, c2, fill, pi, pj, True)
    for a in range(n):  # each atom's partners in increasing order (deterministic)
        pj[off[a]:off[a + 1]].sort()
    return pi, pj


@numba.njit(cache=True)
def _sweep(pos, cell_of, order, start, ncell, c2, counter, pi, pj, store):
    """Visit every pair a < b in neighbouring cells closer than sqrt(c2): count it
    (store=False: counter[a] += 1) or write it at counter[a] (store=True)."""
    n = pos.shape[0]
    for a in range(n):
        ca = cell_of[a]
        cz = ca % ncell[2]
        cy = (ca // ncell[2]) % ncell[1]
        cx = ca // (ncell[1] * ncell[2])
        for dx in range(-1, 2):
            x = cx + dx
            if x < 0 or x >= ncell[0]:
                continue
            for dy in range(-1, 2):
                y = cy + dy
                if y < 0 or y >= ncell[1]:
                    continue
                for dz in range(-1, 2):
                    z = cz + dz
                    if z < 0 or z >= ncell[2]:
                        continue
                    cb = (x * ncell[1] + y) * ncell[2] + z
                    for k in range(start[cb], start[cb + 1]):
                        b = order[k]
                        if b <= a:
                            continue
                        r2 = 0.0
                        for d in range(3):
                            t = pos[a, d] - pos[b, d]
                            r2 += t * t
                        if r2 < c2:
                            if store:
                                pi[counter[a]] = a
                                pj[counter[a]] = b
                            counter[a] += 1


def neighbour_pairs(positions_bohr, cutoff: float):
    """All pairs i < j closer than `cutoff` (bohr), by a cell list."""
    pos = np.ascontiguousarray(np.asarray(positions_bohr, dtype=float).reshape(-1, 3))
    if not np.all(np.isfinite(pos)):
        raise InputError("neighbour list: positions must be finite")
    if not (cutoff > 0 and math.isfinite(cutoff)):
        raise InputError(f"neighbour list: cutoff must be a positive finite distance in bohr (got {cutoff})")
    if pos.shape[0] < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ext = float(np.max(pos.max(axis=0) - pos.min(axis=0)))
    cell = max(float(cutoff), ext / 200.0)  # cells >= cutoff; at most 200 per direction
    return _cell_pairs(pos, float(cutoff), cell)


def all_pairs(n: int):
    """Every pair i < j of n atoms, ordered like the reference model's double loop."""
    i, j = np.triu_indices(int(n), k=1)
    return i.astype(np.int64), j.astype(np.int64)


@numba.njit(cache=True)
def _image_pairs(frac, cell, nmax, cutoff, store, pi, pj, shift):
    """Count (store=False) or write every half-list pair (i, j, n) with |r_i − r_j − n·L| < cutoff,
    positions given as wrapped fractional coordinates `frac`; shift = n·L (wrapped frame)."""
    n = frac.shape[0]
    c2 = cutoff * cutoff
    k = 0
    for i in range(n):
        for j in range(i, n):
            f0 = frac[i, 0] - frac[j, 0]
            f1 = frac[i, 1] - frac[j, 1]
            f2 = frac[i, 2] - frac[j, 2]
            for a in range(-nmax[0], nmax[0] + 1):
                for b in range(-nmax[1], nmax[1] + 1):
                    for c in range(-nmax[2], nmax[2] + 1):
                        if i == j and (a < 0 or (a == 0 and (b < 0 or (b == 0 and c <= 0)))):
                            continue  # an atom and its own images: one half space, not itself
                        g0 = f0 - a
                        g1 = f1 - b
                        g2 = f2 - c
                        r2 = 0.0
                        for x in range(3):
                            d = g0 * cell[0, x] + g1 * cell[1, x] + g2 * cell[2, x]
                            r2 += d * d
                        if r2 < c2:
                            if store:
                                pi[k] = i
                                pj[k] = j
                                for x in range(3):
                                    shift[k, x] = a * cell[0, x] + b * cell[1, x] + c * cell[2, x]
                            k += 1
    return k


@numba.njit(cache=True)
def _binned_pairs(frac, cell, bins, span, cutoff, pi, pj, shift):
    """The half list of `_image_pairs` for cells at least one cut-off thick in every direction: atoms
    binned by wrapped fractional coordinates (bins[a] per lattice direction, each >= cutoff/span thick);
    every atom against the atoms of the (2 span + 1)³ bins around its own. A stencil index t outside
    0..bins−1 stands for bin t mod bins of the periodic image t div bins; distinct t are distinct
    (bin, image) pairs, so each image pair is found once (i < j; an atom's own images are at least one
    cell thickness, hence one cut-off, away). Fills pi, pj, shift up to their size and returns the
    number of pairs found (more than the size: call again with room for them)."""
    n = frac.shape[0]
    cap = pi.size
    nb = bins[0] * bins[1] * bins[2]
    bin_of = np.empty(n, dtype=np.int64)
    for a in range(n):
        b0 = min(int(frac[a, 0] * bins[0]), bins[0] - 1)
        b1 = min(int(frac[a, 1] * bins[1]), bins[1] - 1)
        b2 = min(int(frac[a, 2] * bins[2]), bins[2] - 1)
        bin_of[a] = (b0 * bins[1] + b1) * bins[2] + b2
    order = np.argsort(bin_of, kind="mergesort")
    start = np.zeros(nb + 1, dtype=np.int64)
    for a in range(n):
        start[bin_of[a] + 1] += 1
    for k in range(nb):
        start[k + 1] += start[k]
    c2 = cutoff * cutoff
    k = 0
    for i in range(n):
        b = bin_of[i]
        b2 = b % bins[2]
        b1 = (b // bins[2]) % bins[1]
        b0 = b // (bins[1] * bins[2])
        for o0 in range(-span, span + 1):
            w0 = (b0 + o0) // bins[0]
            t0 = b0 + o0 - w0 * bins[0]
            for o1 in range(-span, span + 1):
                w1 = (b1 + o1) // bins[1]
                t1 = b1 + o1 - w1 * bins[1]
                for o2 in range(-span, span + 1):
                    w2 = (b2 + o2) // bins[2]
                    t2 = b2 + o2 - w2 * bins[2]
                    cb = (t0 * bins[1] + t1) * bins[2] + t2
                    for q in range(start[cb], start[cb + 1]):
                        j = order[q]
                        if j <= i:
                            continue
                        # image of j at frac[j] + w: d = r_i − (r_j + w·L), i.e. shift = w·L
                        g0 = frac[i, 0] - frac[j, 0] - w0
                        g1 = frac[i, 1] - frac[j, 1] - w1
                        g2 = frac[i, 2] - frac[j, 2] - w2
                        r2 = 0.0
                        for x in range(3):
                            d = g0 * cell[0, x] + g1 * cell[1, x] + g2 * cell[2, x]
                            r2 += d * d
                        if r2 < c2:
                            if k < cap:
                                pi[k] = i
                                pj[k] = j
                                for x in range(3):
                                    shift[k, x] = w0 * cell[0, x] + w1 * cell[1, x] + w2 * cell[2, x]
                            k += 1
    return k


BIN_SPAN = 2   # bins per cut-off of the binned search: (2·2+1)³ bins of ≥ rc/2 hold 1.7× fewer candidates than 3³ of ≥ rc


def _binned_once(frac, cell, bins, cutoff, volume):
    """`_binned_pairs` in one pass into arrays sized from the density (1.25 × the expected half-list
    count), again with the exact size in the rare case that was too small."""
    n = frac.shape[0]
    guess = int(1.25 * n * (n / volume) * (2.0 * math.pi / 3.0) * cutoff ** 3) + 1024
    cap = guess
    while True:
        pi, pj, shift = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64), np.empty((cap, 3))
        m = _binned_pairs(frac, cell, bins, BIN_SPAN, cutoff, pi, pj, shift)
        if m <= cap:
            return pi[:m], pj[:m], shift[:m]
        cap = m


def _count_then_store(kernel, frac, cell, reach, cutoff):
    """Run a pair kernel twice: count the pairs, then fill arrays of exactly that size."""
    none_i, none_s = np.zeros(0, dtype=np.int64), np.zeros((0, 3))
    m = kernel(frac, cell, reach, cutoff, False, none_i, none_i, none_s)
    pi, pj, shift = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64), np.empty((m, 3))
    kernel(frac, cell, reach, cutoff, True, pi, pj, shift)
    return pi, pj, shift


def periodic_pairs(positions_bohr, cell_bohr, cutoff: float):
    """Half neighbour list of a fully periodic cell (rows of `cell_bohr` = lattice vectors, bohr):
    (i, j, shift) with |pos[i] − pos[j] − shift| < cutoff for the positions as given (not wrapped)."""
    pos = np.ascontiguousarray(np.asarray(positions_bohr, dtype=float).reshape(-1, 3))
    cell = np.ascontiguousarray(np.asarray(cell_bohr, dtype=float).reshape(3, 3))
    if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(cell))):
        raise InputError("neighbour list: positions and cell must be finite")
    if not (cutoff > 0 and math.isfinite(cutoff)):
        raise InputError(f"neighbour list: cutoff must be a positive finite distance in bohr (got {cutoff})")
    from .cell import check_cell, times3

    check_cell(cell)
    volume = abs(float(np.linalg.det(cell)))
    frac = times3(pos, np.linalg.inv(cell))
    whole = np.floor(frac)
    frac = np.ascontiguousarray(frac - whole)
    # plane spacings h_a = V / |a_b × a_c|; |n_a| < cutoff / h_a + 1 for wrapped fractional positions
    h = np.array([volume / np.linalg.norm(np.cross(cell[(a + 1) % 3], cell[(a + 2) % 3])) for a in range(3)])
    nmax = np.array([int(cutoff / ha) + 1 for ha in h], dtype=np.int64)
    if np.prod(2 * nmax + 1) > 10**6:
        raise InputError(f"cutoff {cutoff:.3g} bohr needs more than 10^6 periodic images of this cell "
                         f"(plane spacings {', '.join(f'{x:.3g}' for x in h)} bohr): the cell is too thin")
    bins = np.floor(BIN_SPAN * h / cutoff).astype(np.int64)
    if np.all(h >= cutoff) and pos.shape[0] > 64:
        # cell at least one cut-off thick: bins of at least cutoff/BIN_SPAN along each lattice direction,
        # the bins within BIN_SPAN (periodically wrapped, the wrap recorded as the image), O(N)
        pi, pj, shift = _binned_once(frac, cell, bins, float(cutoff), volume)
    else:
        pi, pj, shift = _count_then_store(_image_pairs, frac, cell, nmax, float(cutoff))
    # back to the positions as given: r_i − r_j − n·L (wrapped) = pos_i − pos_j − (n + m_i − m_j)·L
    shift += times3(whole[pi] - whole[pj], cell)
    return pi, pj, shift


@numba.njit(cache=True, inline="always")
def separation(pos, shift, p, i, j):
    """(d_x, d_y, d_z, R) of pair p joining atom i and the image j + shift[p]: d = r_i − r_j − shift[p] (bohr)."""
    d0 = pos[i, 0] - pos[j, 0] - shift[p, 0]
    d1 = pos[i, 1] - pos[j, 1] - shift[p, 1]
    d2 = pos[i, 2] - pos[j, 2] - shift[p, 2]
    return d0, d1, d2, math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)


@numba.njit(cache=True)
def within_cutoff(pos, pi, pj, shift, elem, rcut, extra):
    """The candidate pairs (i, j + shift) closer than rcut[elem_i, elem_j] + extra (bohr), in their
    order: (pi, pj, shift, R) of those kept, and the index among them of the closest pair (−1 if none)."""
    n = pi.size
    keep = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    m = 0
    best = -1
    dmin = np.inf
    for p in range(n):
        i = pi[p]
        j = pj[p]
        r = separation(pos, shift, p, i, j)[3]
        if r < rcut[elem[i], elem[j]] + extra:
            keep[m] = p
            dist[m] = r
            if r < dmin:
                dmin = r
                best = m
            m += 1
    oi = np.empty(m, dtype=np.int64)
    oj = np.empty(m, dtype=np.int64)
    osh = np.empty((m, 3))
    for k in range(m):
        p = keep[k]
        oi[k] = pi[p]
        oj[k] = pj[p]
        osh[k, 0] = shift[p, 0]
        osh[k, 1] = shift[p, 1]
        osh[k, 2] = shift[p, 2]
    return oi, oj, osh, dist[:m].copy(), best
