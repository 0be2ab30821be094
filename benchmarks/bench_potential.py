"""Benchmarks of the ECT-EAM potential (stage 4): docs/performance.md, "Stage 4: the potential".

(a) the 200-point LiF scan (`scan(bundle, "Li-F", 1.5, 40, 200)`, pure variant, global CPE at
    every point): reference SLSQP path (before) vs numba evaluator + SPG solver (after);
(b) LiF rock-salt clusters (nearest neighbour 3.8 bohr, cubes of n³ sites): per atom-step cost of
    the geometry part (cell list + pair tables), energy + dE/dc + forces (short-range part and the
    O(N²) Coulomb sum over charged atoms timed separately) and the CPE solve;
(c) plain EAM (neutral ground states only, no CPE) by the same code, and ASE's own EAM calculator
    (`ase.calculators.eam.EAM`) built from arrays of the same neutral-only potential with the point
    background (ρ̄_i = Σ_j ρ_j(R_ij); F(ρ); φ = neutral–neutral U), both with the same switched cut-off.

Timings: wall clock (time.perf_counter), single thread (set OMP_NUM_THREADS=1), after a JIT
warm-up, median of --repeat runs; the 1-minute load average is recorded with every result.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_potential.py BUNDLE [--sizes 5 10 22]
        [--repeat 5] [--cutoff-tol 1e-6] [--r-max 12] [--skip-ase-above N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

NN_BOHR = 3.8


def load() -> float:
    return os.getloadavg()[0]


def timed(fn, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def rocksalt(n: int, nn: float = NN_BOHR):
    """n³ sites of the rock-salt lattice, Li on even (x+y+z), F on odd; bohr."""
    idx = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], dtype=float)
    syms = ["Li" if int(s) % 2 == 0 else "F" for s in idx.sum(axis=1)]
    return syms, idx * nn


def ionic_weights(pot, system):
    """Li⁺/F⁻ on every site; the surplus atoms of the majority element neutral (total charge 0)."""
    c = np.zeros(system.offsets[-1])
    syms = list(system.symbols)
    surplus = syms.count("Li") - syms.count("F")
    major = "Li" if surplus > 0 else "F"
    majority = [i for i, s in enumerate(syms) if s == major]
    neutral = set(majority[-abs(surplus):]) if surplus else set()
    for i, k in enumerate(system.element_index):
        e = pot.elements[k]
        s = e.ground if i in neutral else (e.cation if e.symbol == "Li" else e.anion)
        c[system.offsets[i] + s] = 1.0
    return c


def bench_scan(bundle, repeat):
    from ectem_core.potential.scan import scan

    scan(bundle, "Li-F", 1.5, 40, 5)  # JIT warm-up and table build
    t_after, rows_after = timed(lambda: scan(bundle, "Li-F", 1.5, 40, 200), repeat)
    l_after = load()
    t_before, rows_before = timed(lambda: scan(bundle, "Li-F", 1.5, 40, 200, cpe_method="slsqp"), 1)
    dE = max(abs(a["energy_hartree"] - b["energy_hartree"]) for a, b in zip(rows_after, rows_before))
    dq = max(abs(a["q_A"] - b["q_A"]) for a, b in zip(rows_after, rows_before))
    return {"before_s": t_before, "after_s": t_after, "ratio": t_before / t_after, "max_dE_hartree": dE,
            "max_dq": dq, "load_1min": l_after}


def neutral_only_bundle(bundle_path):
    from ectem_core.potential.bundle import load_bundle

    b = load_bundle(bundle_path)
    keep = {info["ground_state"] for info in b["elements"].values()}
    b = dict(b)
    b["states"] = [s for s in b["states"] if s["state_id"] in keep]
    return b


def ase_eam_from(fm_point, pot_point, elements, r_max_bohr):
    """ase EAM ('alloy' form, splines through arrays) of the neutral-only point-background
    potential, with the same switched functions as the FastModel."""
    from ase.calculators.eam import EAM
    from ase.units import Bohr, Hartree
    from scipy.interpolate import InterpolatedUnivariateSpline as spline

    from ectem_core.potential.pair_tables import switch_nb

    r = np.linspace(0.0, r_max_bohr, 4001)[1:]
    rho_grid = np.linspace(0.0, 2.0, 20001)
    emb, dens, phi = [], [], [[None] * len(elements) for _ in elements]
    tabs = pot_point.pairs.tables
    idx = [pot_point.index[s] for s in elements]
    width = fm_point.pair_opts[2]
    for a, ka in enumerate(idx):
        f = pot_point.elements[ka].embedding[0]
        F = f(rho_grid)[0] * Hartree
        emb.append(spline(rho_grid, F, k=3))
        key = (ka, ka)
        t = tabs[key][(0, 0)]["rho_a_at_R"]
        r_on = fm_point.r_on[ka, ka, 0, 0]
        sw = np.array([switch_nb(x, r_on, r_on + width)[0] for x in r])
        dens.append(spline(r * Bohr, t(r)[0] * sw, k=3))
        for b, kb in enumerate(idx):
            key = (min(ka, kb), max(ka, kb))
            U = tabs[key][(0, 0)]["U"](r)[0]
            r_on = fm_point.r_on[ka, kb, 0, 0]
            sw = np.array([switch_nb(x, r_on, r_on + width)[0] for x in r])
            phi[a][b] = spline(r * Bohr, U * sw * Hartree, k=3)
    d = lambda s: s.derivative()  # noqa: E731
    return EAM(elements=elements, embedded_energy=np.array(emb), electron_density=np.array(dens),
               phi=np.array(phi, dtype=object), d_embedded_energy=np.array([d(s) for s in emb]),
               d_electron_density=np.array([d(s) for s in dens]),
               d_phi=np.array([[d(s) for s in row] for row in phi], dtype=object),
               cutoff=r_max_bohr * Bohr, form="alloy", Z=[3, 9], mass=[6.94, 19.0], a=[0, 0], lattice=["", ""],
               skin=0.0)


def bench_clusters(bundle, sizes, repeat, tol, r_max, skip_ase_above, cpe_above):
    from ectem_core.potential import load_potential
    from ectem_core.potential.cpe import solve
    from ectem_core.potential.fastmodel import FastModel
    from ectem_core.potential.kernels import long_range_direct

    pot = load_potential(bundle)
    fm = FastModel(pot, cutoff_tol=tol, r_max=r_max)
    eam = load_potential(neutral_only_bundle(bundle))
    fm_eam = FastModel(eam, cutoff_tol=tol, r_max=r_max)
    eam_pt = load_potential(neutral_only_bundle(bundle), background="point")
    fm_pt = FastModel(eam_pt, cutoff_tol=tol, r_max=r_max)
    out = []
    for n in sizes:
        syms, pos = rocksalt(n)
        N = len(syms)
        row = {"n_side": n, "atoms": N}
        system = pot.system(syms)
        c_ion = ionic_weights(pot, system)
        fm.pair_data(system, pos)  # warm-up (JIT)
        t_geo, pd = timed(lambda: fm.pair_data(system, pos), repeat)
        t_ev, ev = timed(lambda: fm.evaluate_data(pd, c_ion, want_forces=True), repeat)
        q = ev.charges
        g = np.zeros((N, 3))
        t_lr, _ = timed(lambda: long_range_direct(pd.positions, q, True, g, np.zeros((3, 3))), repeat)
        row.update({"pairs": pd.n_pairs, "pairs_per_atom": 2 * pd.n_pairs / N, "geometry_s": t_geo,
                    "energy_forces_s": t_ev, "long_range_s": t_lr, "short_range_s": t_ev - t_lr,
                    "step_s": t_geo + t_ev,
                    "ionic_energy_per_atom_hartree": ev.energy / N, "load_1min": load()})
        if N <= cpe_above:
            t_cpe, res = timed(lambda: solve(pot, system, pos, warm_start=c_ion, fast=fm, method="fast"),
                               max(1, repeat // 2))
            row.update({"cpe_s": t_cpe, "cpe_starts": res.n_candidates, "cpe_energy_per_atom_hartree":
                        res.evaluation.energy / N, "cpe_max_abs_q": float(np.abs(res.evaluation.charges).max()),
                        "cpe_converged": res.converged})
        # plain EAM by the same code (overlap and point backgrounds)
        for tag, model, f in (("eam", eam, fm_eam), ("eam_point", eam_pt, fm_pt)):
            s2 = model.system(syms)
            c0 = model.ground_weights(s2)
            f.pair_data(s2, pos)
            t, e = timed(lambda: f.evaluate_data(f.pair_data(s2, pos), c0, want_forces=True), repeat)
            row[f"{tag}_s"] = t
            row[f"{tag}_energy_hartree"] = e.energy
            if tag == "eam_point":
                e_pt, g_pt = e.energy, e.grad_r
        if N <= skip_ase_above:
            from ase import Atoms
            from ase.units import Bohr, Hartree

            calc = ase_eam_from(fm_pt, eam_pt, ["Li", "F"], float(fm_pt.rcut.max()))
            atoms = Atoms(syms, positions=pos * Bohr)
            atoms.calc = calc

            def ase_run():
                atoms.calc.reset()
                return atoms.get_potential_energy(), atoms.get_forces()

            t_ase, (e_ase, f_ase) = timed(ase_run, max(1, min(repeat, 3)))
            row.update({"ase_eam_s": t_ase, "ase_eam_energy_hartree": e_ase / Hartree,
                        "ase_vs_ours_dE_hartree": e_ase / Hartree - e_pt,
                        "ase_vs_ours_max_dF_hartree_bohr": float(np.abs(-f_ase * Bohr / Hartree - g_pt).max())})
        out.append(row)
        print(json.dumps(row), flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle")
    p.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 22])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--cutoff-tol", type=float, default=1e-6)
    p.add_argument("--r-max", type=float, default=12.0)
    p.add_argument("--skip-ase-above", type=int, default=2000)
    p.add_argument("--cpe-above", type=int, default=20000, help="skip the CPE benchmark above this many atoms")
    p.add_argument("--no-scan", action="store_true")
    p.add_argument("--json")
    a = p.parse_args(argv)
    res = {"uptime_start": os.popen("uptime").read().strip()}
    if not a.no_scan:
        res["scan"] = bench_scan(a.bundle, a.repeat)
        print(json.dumps(res["scan"]), flush=True)
    res["clusters"] = bench_clusters(a.bundle, a.sizes, a.repeat, a.cutoff_tol, a.r_max, a.skip_ase_above,
                                     a.cpe_above)
    res["uptime_end"] = os.popen("uptime").read().strip()
    if a.json:
        from ectem_core.io import write_json

        write_json(a.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
