"""Time per energy + forces call of the long-range Coulomb sum Σ q_i q_j / r (hartree, bohr):
the direct O(N²) sum (clusters), ewald.py (cells; setup + energy) and PME (pme.py; setup + energy)
on rock-salt LiF (charges ±1, a = 7.6 bohr, rattled by 0.1 bohr): periodic n×n×n supercells of the conventional cell and
open cubic clusters cut from the same crystal (n³ conventional cells, 8 n³ atoms).

Each time is the best of 3 calls after a warm-up call (JIT compilation excluded). PME runs with
NUMBA_NUM_THREADS=1 and =2 (one subprocess each); direct and ewald (serial kernels) with 2. The direct
sum is skipped above 2·10⁴ atoms and ewald.py above 1.2·10⁴ (it stores every pair within its r_cut: 2.5 GB).
Prints a table and the exponent b of a fit t ∝ N^b of the PME times; --json writes the rows.

    .venv/bin/python benchmarks/bench_long_range.py [--reps 5 8 11 17 23] [--tol 1e-6] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

A_LIF = 7.6
DIRECT_MAX_ATOMS = 20_000
EWALD_MAX_ATOMS = 12_000  # ewald.py keeps every atom pair within r_cut ∝ N^(1/6): 2.5 GB at 10^4 atoms


def lif(reps: int):
    """positions (bohr), charges of an n×n×n rock-salt LiF supercell, and its cell."""
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], dtype=float)
    frac = np.vstack([fcc, (fcc + [.5, 0, 0]) % 1.0])
    q = np.array([1.0] * 4 + [-1.0] * 4)
    g = np.array([[i, j, k] for i in range(reps) for j in range(reps) for k in range(reps)], dtype=float)
    pos = ((g[:, None, :] + frac[None]) * A_LIF).reshape(-1, 3)
    pos += np.random.default_rng(0).normal(0.0, 0.1, pos.shape)  # rattled: forces are not zero
    return pos, np.tile(q, len(g)), np.eye(3) * A_LIF * reps


def best_of(fn, repeat: int = 3) -> float:
    fn()  # warm-up (JIT, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run_worker(reps_list, methods, tol):
    from ectem_core.potential.ewald import ewald_energy, ewald_setup
    from ectem_core.potential.kernels import long_range_direct
    from ectem_core.potential.pme import pme_energy, pme_setup

    rows = []
    for reps in reps_list:
        pos, q, cell = lif(reps)
        n = len(q)
        for kind in ("cell", "cluster"):
            geometry = cell if kind == "cell" else None
            for method in methods:
                if method == "direct" and (kind == "cell" or n > DIRECT_MAX_ATOMS):
                    continue
                if method == "ewald" and (kind == "cluster" or n > EWALD_MAX_ATOMS):
                    continue
                if method == "direct":
                    def call():
                        long_range_direct(pos, q, True, np.zeros_like(pos), np.zeros((3, 3)))
                elif method == "ewald":
                    def call():
                        ewald_energy(ewald_setup(pos, geometry, tol=tol), q)
                else:
                    def call():
                        pme_energy(pme_setup(pos, geometry, tol=tol), q)
                seconds = best_of(call)
                extra = {}
                if method == "pme":
                    s = pme_setup(pos, geometry, tol=tol)
                    extra = {"mesh": list(s.mesh), "order": s.order, "pairs": s.n_pairs,
                             "setup_s": best_of(lambda: pme_setup(pos, geometry, tol=tol), 1),
                             "energy_s": best_of(lambda: pme_energy(s, q))}
                if method == "ewald":
                    s = ewald_setup(pos, geometry, tol=tol)
                    extra = {"energy_s": best_of(lambda: ewald_energy(s, q)), "kvectors": s.n_kvectors, "pairs": s.n_pairs}
                if method == "direct":
                    extra = {"energy_s": seconds}
                rows.append({"kind": kind, "atoms": n, "method": method, "seconds": seconds,
                             "threads": int(os.environ.get("NUMBA_NUM_THREADS", "0")), **extra})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def spawn(reps_list, methods, tol, threads):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker", "--tol", str(tol), "--methods", *methods, "--reps", *map(str, reps_list)]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True)  # progress on stderr
    return json.loads(out.stdout)


def exponent(rows, kind, threads):
    pts = [(r["atoms"], r["seconds"]) for r in rows if r["kind"] == kind and r["method"] == "pme" and r["threads"] == threads]
    if len(pts) < 2:
        return float("nan")
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, nargs="+", default=[5, 8, 11, 17, 23])
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--methods", nargs="+", default=["direct", "ewald", "pme"])
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(args.reps, args.methods, args.tol)))
        return
    rows = spawn(args.reps, ["direct", "ewald", "pme"], args.tol, 2) + spawn(args.reps, ["pme"], args.tol, 1)
    print(f"long-range Coulomb, LiF rock salt (a = {A_LIF} bohr), tol = {args.tol:g}: seconds per energy + forces call "
          "(setup included), best of 3; 'E' columns: energy call only (positions-only setup reused)")
    print(f"{'kind':8s} {'N':>7s} {'direct':>9s} {'ewald':>9s} {'pme 1 thr':>10s} {'pme 2 thr':>10s} {'mesh':>14s} {'p':>3s}"
          f" {'ewald E':>9s} {'pme E 1t':>9s} {'pme E 2t':>9s}")
    for kind in ("cell", "cluster"):
        for n in sorted({r["atoms"] for r in rows if r["kind"] == kind}):
            def t(method, threads=2):
                hit = [r for r in rows if (r["kind"], r["atoms"], r["method"], r["threads"]) == (kind, n, method, threads)]
                return hit[0] if hit else None
            cells = [t("direct"), t("ewald"), t("pme", 1), t("pme", 2)]
            txt = ["%9.4f" % c["seconds"] if c else "%9s" % "-" for c in cells]
            pm = t("pme", 2)
            print(f"{kind:8s} {n:7d} {txt[0]} {txt[1]} {txt[2]:>10s} {txt[3]:>10s} "
                  f"{'x'.join(map(str, pm['mesh'])) if pm else '-':>14s} {pm['order'] if pm else '-':>3}"
                  + "".join(" %9.4f" % c["energy_s"] if c else " %9s" % "-" for c in (cells[1], cells[2], cells[3])))
        print(f"{kind}: PME time ∝ N^b, b = {exponent(rows, kind, 1):.2f} (1 thread), {exponent(rows, kind, 2):.2f} (2 threads)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"tol": args.tol, "rows": rows,
                       "exponent": {k: {t: exponent(rows, k, t) for t in (1, 2)} for k in ("cell", "cluster")}}, fh, indent=1)


if __name__ == "__main__":
    main()
