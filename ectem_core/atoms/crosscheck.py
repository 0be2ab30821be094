"""Cross-check of the two quantum-chemistry backends (PySCF and Psi4) on the same states,
the same level and the same basis functions: energy and sphericalized-density differences.

Differences are psi4 − pyscf. Densities are compared on the common radial grid:
  rho0_rel_diff          ρ_psi4(0)/ρ_pyscf(0) − 1
  max_rel_density_diff   max |Δρ̄|/ρ̄_pyscf over radii where ρ̄_pyscf > 1e-6 bohr⁻³
  abs_density_diff_int   ∫|Δρ̄| 4πr² dr (electrons)
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..io import csv_text
from ..qm.level import Level
from .radial import RadialGrid
from .states import AtomState, default_states, parse_state_id

DENSITY_FLOOR = 1e-6
COLUMNS = ("state_id", "method", "basis", "frozen_core", "reference", "density_method_pyscf",
           "density_method_psi4", "energy_pyscf", "energy_psi4", "energy_diff", "scf_diff",
           "ccsd_correlation_diff", "triples_diff", "all_electron_diff", "rho0_pyscf", "rho0_psi4",
           "rho0_rel_diff", "max_rel_density_diff", "abs_density_diff_int", "n_integrated_psi4",
           "wall_pyscf_s", "wall_psi4_s", "psi4_version", "notes")


def crosscheck_states(symbols: list[str], state_ids: list[str] | None = None, settings=None) -> list[AtomState]:
    """States to compare: the state set of each element (from `settings`, an AtomsSettings,
    else the defaults; bare nuclei and the analytic H n=2 state are exact in both backends
    and left out), or the listed ids."""
    from .compute import state_from_id

    symbols = [s.strip() for s in symbols if s.strip()]
    if not symbols:
        raise InputError("crosscheck needs at least one element symbol, e.g. 'F' or 'Li,F'")
    if state_ids:
        out = []
        for sid in state_ids:
            sym, _, _ = parse_state_id(sid)
            if sym not in symbols:
                raise InputError(f"state {sid!r} is not a state of {','.join(symbols)}")
            out.append(state_from_id(sid, settings))
    else:
        out = [st for sym in symbols for st in (settings.states(sym) if settings else default_states(sym))]
    return [st for st in out if st.kind not in ("bare", "analytic")]


def compare(a, b) -> dict:
    """One table row from two AtomResults of the same state (a: pyscf, b: psi4)."""
    ca, cb = a.components, b.components

    def diff(key, da=ca, db=cb):
        return (db[key] - da[key]) if key in da and key in db else None

    ra, rb = a.density, b.density
    if not np.array_equal(ra.r, rb.r):
        raise InputError("the two densities are on different radial grids")
    mask = ra.rho > DENSITY_FLOOR
    rel = float(np.max(np.abs(rb.rho[mask] - ra.rho[mask]) / ra.rho[mask])) if mask.any() else 0.0
    grid = RadialGrid(float(ra.r[0]), float(ra.r[-1]), len(ra.r))
    absint = grid.integrate(4.0 * np.pi * ra.r**2 * np.abs(rb.rho - ra.rho), 4.0 * np.pi * abs(rb.rho0 - ra.rho0))
    return {
        "state_id": a.state["state_id"], "method": a.energy_level["method"], "basis": a.energy_level["basis"],
        "frozen_core": a.energy_level["frozen_core"], "reference": a.energy_level["reference"],
        "density_method_pyscf": a.density_level["method"], "density_method_psi4": b.density_level["method"],
        "energy_pyscf": a.energy_hartree, "energy_psi4": b.energy_hartree,
        "energy_diff": b.energy_hartree - a.energy_hartree, "scf_diff": diff("scf"),
        "ccsd_correlation_diff": diff("ccsd_correlation"), "triples_diff": diff("triples"),
        "all_electron_diff": diff("all_electron", a.extra_energies, b.extra_energies),
        "rho0_pyscf": ra.rho0, "rho0_psi4": rb.rho0, "rho0_rel_diff": rb.rho0 / ra.rho0 - 1.0,
        "max_rel_density_diff": rel, "abs_density_diff_int": absint, "n_integrated_psi4": rb.n_integrated,
        "wall_pyscf_s": a.wall_s, "wall_psi4_s": b.wall_s, "psi4_version": b.versions.get("psi4"),
        "notes": "; ".join(n for n in b.notes if "fallback" in n or "could not" in n or "no valence" in n),
    }


def run_crosscheck(states: list[AtomState], level: Level, density_level: Level | None = None,
                   grid: RadialGrid | None = None, n_angular: int = 302, threads: int | None = None,
                   progress=None) -> list[dict]:
    """Run both backends on every state at one level; one row of differences per state."""
    from ..qm import psi4_backend, pyscf_backend

    psi4_backend.require_psi4()  # fail before spending time on PySCF
    rows = []
    for st in states:
        a = pyscf_backend.compute_state(st, level, density_level, grid, n_angular, threads)
        b = psi4_backend.compute_state(st, level, density_level, grid, n_angular, threads)
        rows.append(compare(a, b))
        if progress:
            progress(rows[-1])
    return rows


def to_csv(rows: list[dict]) -> str:
    """The comparison rows as CSV (one float format: io.format_value)."""
    return csv_text(COLUMNS, rows)


def to_text(rows: list[dict]) -> str:
    """A compact human-readable table."""
    head = (f"{'state':<10s} {'level':<28s} {'E_pyscf/Ha':>17s} {'ΔE/Ha':>10s} {'Δρ(0)/ρ(0)':>11s} "
            f"{'max|Δρ̄|/ρ̄':>11s} {'∫|Δρ̄|4πr²':>11s} {'density':>9s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        fc = "/fc" if r["frozen_core"] and r["method"] != "hf" else ""
        dens = r["density_method_psi4"] + ("" if r["density_method_psi4"] == r["density_method_pyscf"] else "!")
        lines.append(f"{r['state_id']:<10s} {r['method'] + '/' + r['basis'] + fc:<28s} {r['energy_pyscf']:17.10f} "
                     f"{r['energy_diff']:10.2e} {r['rho0_rel_diff']:11.2e} {r['max_rel_density_diff']:11.2e} "
                     f"{r['abs_density_diff_int']:11.2e} {dens:>9s}")
    return "\n".join(lines)
