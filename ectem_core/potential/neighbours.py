"""Half neighbour lists for clusters (no periodic images): every pair i < j with
R_ij < cutoff (bohr), found with a cell list in O(N) for a fixed density, or all pairs.

`neighbour_pairs(positions_bohr, cutoff)` → (i, j) int64 arrays (i < j), sorted by i then j.
`all_pairs(n)` → every pair i < j (the exact, O(N²) list the reference model uses).
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
