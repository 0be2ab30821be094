"""Polyatomic cluster references: fixed geometries (bohr) of small clusters whose energy relative to
the free neutral atoms no fit uses (held-out validation of a tuned potential, docs/references.md).

Each cluster is computed at the molecule references' level (CCSD(T)/aug-cc-pVDZ by default): RHF →
CCSD(T) for closed shells, UHF (followed down to a stable solution) → UCCSD(T) otherwise; the atoms
at the same level by `reference.atom_energy`. Energies in hartree (and eV where the key says so).

Public: CLUSTERS, rhombus_positions, cluster_positions, default_clusters, check_names, run_cluster,
read_cluster.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..elements import BOHR_ANGSTROM
from ..elements import HARTREE_EV as EV
from ..errors import ConvergenceError, InputError


@dataclass(frozen=True)
class Cluster:
    """A cluster: symbols, geometry parameters (Å, degrees), 2S of its ground state and the source."""

    name: str
    symbols: tuple
    kind: str            # linear3 | rhombus | dimer_hf | bent3 | pyramid4
    params: tuple
    spin: int
    source: str


CLUSTERS = {c.name: c for c in (
    Cluster("H3_linear", ("H", "H", "H"), "linear3", (1.757 * BOHR_ANGSTROM,), 1,
            "symmetric saddle of H + H2 -> H2 + H, R = 1.757 bohr (Liu 1973; Mielke, Garrett, Peterson, "
            "J. Chem. Phys. 116, 4142 (2002): barrier 9.61 kcal/mol)"),
    Cluster("HF_dimer", ("F", "H", "F", "H"), "dimer_hf", (2.73, 0.9208, 7.0, 111.0), 0,
            "(HF)2 trans-bent equilibrium: R(F-F) 2.73 A, theta1 7 deg, theta2 111 deg (Peterson & Dunning, "
            "J. Chem. Phys. 102, 2032 (1995), CCSD(T)); r(HF) 0.9208 A"),
    Cluster("Li2F2", ("Li", "Li", "F", "F"), "rhombus", (1.7207, 99.83), 0,
            "D2h rhombus optimized at RHF/aug-cc-pVDZ (tools/optimize_rhombus.py)"),
    Cluster("Li2H2", ("Li", "Li", "H", "H"), "rhombus", (1.7802, 99.60), 0,
            "D2h rhombus optimized at RHF/aug-cc-pVDZ (tools/optimize_rhombus.py)"),
    Cluster("Na2Cl2", ("Na", "Na", "Cl", "Cl"), "rhombus", (2.5792, 102.26), 0,
            "D2h rhombus optimized at RHF/aug-cc-pVDZ (tools/optimize_rhombus.py)"),
    Cluster("H2O", ("O", "H", "H"), "bent3", (0.9578, 104.48), 0,
            "equilibrium r_e 0.9578 A, angle 104.48 deg (Hoy & Bunker, J. Mol. Spectrosc. 74, 1 (1979))"),
    Cluster("NH3", ("N", "H", "H", "H"), "pyramid4", (1.0116, 106.7), 0,
            "equilibrium r_e 1.0116 A, angle H-N-H 106.7 deg (Benedict & Plyler, Can. J. Phys. 35, 1235 (1957))"),
)}


def rhombus_positions(d_bohr: float, angle_deg: float) -> np.ndarray:
    """(MX)2 rhombus in the xy plane: M at (±a, 0), X at (0, ±b), M–X = d, angle X–M–X = angle."""
    half = math.radians(angle_deg) / 2
    a, b = d_bohr * math.cos(half), d_bohr * math.sin(half)
    return np.array([[a, 0, 0], [-a, 0, 0], [0, b, 0], [0, -b, 0]], dtype=float)


def cluster_positions(c: Cluster) -> np.ndarray:
    """Cartesian positions (bohr) of a registry cluster, in the order of c.symbols."""
    if c.kind == "linear3":
        r = c.params[0] / BOHR_ANGSTROM
        return np.array([[0, 0, -r], [0, 0, 0], [0, 0, r]], dtype=float)
    if c.kind == "rhombus":
        return rhombus_positions(c.params[0] / BOHR_ANGSTROM, c.params[1])
    if c.kind == "dimer_hf":
        rff, rhf, t1, t2 = c.params[0] / BOHR_ANGSTROM, c.params[1] / BOHR_ANGSTROM, *map(math.radians, c.params[2:])
        # donor F1 at the origin, acceptor F2 on +z; t1: angle H1-F1...F2, t2: angle H2-F2...F1 (trans, planar)
        h1 = [rhf * math.sin(t1), 0.0, rhf * math.cos(t1)]
        h2 = [rhf * math.sin(t2), 0.0, rff - rhf * math.cos(t2)]
        return np.array([[0, 0, 0], h1, [0, 0, rff], h2], dtype=float)
    if c.kind == "bent3":
        r, half = c.params[0] / BOHR_ANGSTROM, math.radians(c.params[1]) / 2
        return np.array([[0, 0, 0], [r * math.sin(half), 0, r * math.cos(half)],
                         [-r * math.sin(half), 0, r * math.cos(half)]], dtype=float)
    if c.kind == "pyramid4":
        r, hnh = c.params[0] / BOHR_ANGSTROM, math.radians(c.params[1])
        # three H at polar angle θ from the C3 axis: cos(HNH) = 1 − 3/2 sin²θ
        sin_t = math.sqrt(2.0 * (1.0 - math.cos(hnh)) / 3.0)
        cos_t = math.sqrt(1.0 - sin_t ** 2)
        hs = [[r * sin_t * math.cos(phi), r * sin_t * math.sin(phi), r * cos_t]
              for phi in (0.0, 2 * math.pi / 3, 4 * math.pi / 3)]
        return np.array([[0, 0, 0], *hs], dtype=float)
    raise InputError(f"cluster {c.name}: unknown geometry kind {c.kind!r}")


def default_clusters(elements) -> list[str]:
    """Registry clusters made only of `elements` (in registry order)."""
    have = set(elements)
    return [n for n, c in CLUSTERS.items() if set(c.symbols) <= have]


def check_names(names, where: str = "tune.clusters") -> list[str]:
    """The names, each in the registry; InputError naming the first unknown one and the valid ones."""
    names = list(names)
    for n in names:
        if n not in CLUSTERS:
            raise InputError(f"{where}: unknown cluster {n!r} (known: {', '.join(CLUSTERS)})")
    return names


def _mole(c: Cluster, positions, level):
    from pyscf import gto

    from ..qm.level import load_basis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gto.M(atom=[[s, tuple(p)] for s, p in zip(c.symbols, positions)], unit="Bohr", spin=c.spin,
                     basis={s: load_basis(level.basis, s) for s in set(c.symbols)}, verbose=0, symmetry=False)


def cluster_energy(c: Cluster, level) -> dict:
    """Energy (hartree) of cluster c at `level`: {energy, scf, stable, wall_s}."""
    from .reference import _check_level, _converge, _energy_at_level, _follow_stability, _n_core, _scf_factory

    level = _check_level(level)
    t0 = time.perf_counter()
    mole = _mole(c, cluster_positions(c), level)
    what = f"cluster {c.name} at {level.label()}"
    make = _scf_factory(mole, "r" if c.spin == 0 else "u", level)
    mf = _converge(make, None, what)
    stable = True
    if c.spin:
        mf, stable = _follow_stability(mf, make, what)
    res = _energy_at_level(mf, level, _n_core(c.symbols, level), what)
    return {"energy": res["energy"], "scf": res["scf"], "stable": bool(stable), "wall_s": time.perf_counter() - t0}


def run_cluster(name: str, level, out_path, elements=None) -> dict:
    """Compute one registry cluster and the free atoms at `level`; write and return the JSON record
    (status 'unavailable' with the reason when the SCF/CC cannot be converged)."""
    from .. import __version__
    from ..io import write_json
    from .reference import atom_energy

    check_names([name], "cluster")
    c = CLUSTERS[name]
    if elements is not None and not set(c.symbols) <= set(elements):
        raise InputError(f"cluster {name} needs {', '.join(sorted(set(c.symbols)))}; the set has {', '.join(elements)}")
    rec = {"name": name, "symbols": list(c.symbols), "positions_bohr": cluster_positions(c).tolist(), "spin": c.spin,
           "geometry_source": c.source, "level": {**level.to_dict(), "label": level.label()},
           "ectem_version": __version__}
    t0 = time.perf_counter()
    try:
        e = cluster_energy(c, level)
        atoms = {s: atom_energy(s, level) for s in sorted(set(c.symbols))}
        e_atoms = sum(atoms[s] for s in c.symbols)
        rec.update(status="ok", reason="", energy_hartree=e["energy"], scf_hartree=e["scf"], stable=e["stable"],
                   atom_energies_hartree=atoms, atoms_energy_hartree=e_atoms,
                   binding_hartree=e["energy"] - e_atoms, binding_eV=(e["energy"] - e_atoms) * EV)
    except ConvergenceError as exc:
        rec.update(status="unavailable", reason=str(exc))
    rec["wall_seconds"] = time.perf_counter() - t0
    write_json(out_path, rec)
    return rec


def read_cluster(path) -> dict:
    """A cluster record written by run_cluster; InputError if missing or malformed."""
    from ..io import read_json

    doc = read_json(path, "cluster reference")
    need = ("name", "symbols", "positions_bohr", "status")
    missing = [k for k in need if k not in doc]
    if missing or (doc.get("status") == "ok" and "binding_hartree" not in doc):
        raise InputError(f"cluster reference {path}: missing {', '.join(missing) or 'binding_hartree'} "
                         "(rerun the cluster_reference rule)")
    if len(doc["symbols"]) != len(doc["positions_bohr"]):
        raise InputError(f"cluster reference {path}: {len(doc['symbols'])} symbols but "
                         f"{len(doc['positions_bohr'])} positions")
    return doc


__all__ = ["CLUSTERS", "Cluster", "check_names", "cluster_positions", "default_clusters", "read_cluster",
           "rhombus_positions", "run_cluster"]
