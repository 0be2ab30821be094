"""Benchmark: numba kernels of ectem_core.density.slater against the plain vectorized-numpy reference.

Times 10^6 evaluations (default) of
  rho  - a 6-term Slater density at 10^6 radii,
  V    - its electrostatic potential at the same radii,
  J    - the Coulomb integral of two 6-term densities at 10^6 centre distances,
with the numba kernels (after JIT warm-up, best of several repeats) and with the numpy
reference implementations (density.reference: density_numpy, potential_numpy, coulomb_numpy; same closed
forms written with array operations), and reports the speed ratio.  A second table times
the quadrature-based tail pairs (no numpy reference): J of a tail against the 6-term density
and of a tail against itself, per distance, for three tails (q > 0 twice, graded q = 0).

    .venv/bin/python benchmarks/bench_slater.py [--n 1000000] [--repeat 5] [--tail-distances 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402

from ectem_core.density import reference as REF  # noqa: E402
from ectem_core.density import slater as S  # noqa: E402

# Two 6-term "second-row-like" densities: core 1s pair, 2s/2p-like pair, diffuse n = 3 pair.
A = S.RadialDensity(np.array([1, 1, 2, 2, 3, 3]), [7.5, 5.2, 2.1, 1.3, 0.9, 0.6],
                    [120.0, 40.0, 3.0, 0.5, 0.05, 0.01])
B = S.RadialDensity(np.array([1, 1, 2, 2, 3, 3]), [6.1, 4.4, 1.8, 1.1, 0.8, 0.5],
                    [60.0, 25.0, 2.0, 0.3, 0.03, 0.005])
# tails c r^(2beta) (1 - e^{-r^2/b^2})^q e^{-2 kappa r}: (c, b, beta, kappa)
TAILS = {"q=0.6": (0.3, 1.0, 0.4, 0.6), "q=1.8": (0.05, 0.3, -0.8, 0.9), "q=0 graded": (0.1, 1.0, 1.7, 0.8)}


def tail_rows(n_dist):
    """Per-distance cost of the tail quadratures (tail-shells, tail-tail) on n_dist distances."""
    R = np.linspace(0.5, 20.0, n_dist)
    rows = []
    for name, (c, b, beta, kappa) in TAILS.items():
        t = S.RadialDensity([], [], [], tail_c=c, tail_b=b, tail_beta=beta, tail_kappa=kappa)
        S.coulomb(t, A, R[:2]), S.coulomb(t, t, R[:2])  # tables + JIT
        ts, _ = best_time(lambda: S.coulomb(t, A, R), 2)
        tt, _ = best_time(lambda: S.coulomb(t, t, R), 2)
        rows.append({"tail": name, "params_c_b_beta_kappa": [c, b, beta, kappa], "distances": n_dist,
                     "tail_shells_ms_per_R": 1e3 * ts / n_dist, "tail_tail_ms_per_R": 1e3 * tt / n_dist})
    return rows


def best_time(fn, repeat):
    """Best wall time of ``repeat`` calls (seconds) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="evaluations per quantity")
    ap.add_argument("--repeat", type=int, default=5, help="repeats for the numba kernels (best taken)")
    ap.add_argument("--repeat-numpy", type=int, default=3, help="repeats for the numpy reference")
    ap.add_argument("--tail-distances", type=int, default=200, help="distances for the tail table (0: skip)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = ap.parse_args(argv)

    r = np.linspace(0.01, 20.0, args.n)    # bohr
    R = np.linspace(0.5, 20.0, args.n)     # bohr
    cases = [
        ("rho", lambda: S.density(A, r), lambda: REF.density_numpy(A, r)),
        ("V", lambda: S.potential(A, r), lambda: REF.potential_numpy(A, r)),
        ("J", lambda: S.coulomb(A, B, R), lambda: REF.coulomb_numpy(A, B, R)),
    ]
    # JIT warm-up (compiles or loads the on-disk cache)
    S.density(A, r[:10]), S.potential(A, r[:10]), S.coulomb(A, B, R[:10])

    rows = []
    for name, fast, ref in cases:
        t_nb, v_nb = best_time(fast, args.repeat)
        t_np, v_np = best_time(ref, args.repeat_numpy if name != "J" else min(args.repeat_numpy, 2))
        rows.append({
            "quantity": name,
            "evaluations": args.n,
            "numba_s": t_nb,
            "numba_ns_per_eval": 1e9 * t_nb / args.n,
            "numpy_s": t_np,
            "numpy_ns_per_eval": 1e9 * t_np / args.n,
            "speedup_vs_numpy": t_np / t_nb,
            "max_rel_diff": float(np.max(np.abs(v_nb - v_np) / np.abs(v_np))),
        })

    machine = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
    }
    print(f"ectem_core.density.slater benchmark: {args.n} evaluations each; 6-term densities; "
          f"numba best of {args.repeat}, numpy best of {args.repeat_numpy} (J: <= 2)")
    print(f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, "
          f"load {machine['load_average_1min']}")
    head = f"{'quantity':8} {'numba [s]':>10} {'ns/eval':>9} {'numpy [s]':>10} {'ns/eval':>9} {'speedup':>8} {'max rel diff':>13}"
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row['quantity']:8} {row['numba_s']:10.3f} {row['numba_ns_per_eval']:9.1f} "
              f"{row['numpy_s']:10.3f} {row['numpy_ns_per_eval']:9.1f} {row['speedup_vs_numpy']:7.1f}x "
              f"{row['max_rel_diff']:13.1e}")
    tails = tail_rows(args.tail_distances) if args.tail_distances > 0 else []
    if tails:
        print(f"\ntail quadratures, J at {args.tail_distances} distances 0.5-20 bohr (best of 2):")
        print(f"{'tail':12} {'vs 6 shells [ms/R]':>19} {'vs itself [ms/R]':>17}")
        for row in tails:
            print(f"{row['tail']:12} {row['tail_shells_ms_per_R']:19.2f} {row['tail_tail_ms_per_R']:17.2f}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": rows, "tails": tails}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
