"""Stage 1: compute one atomic state (energy + sphericalized density) and write its raw record
and density file; derived energies and the manifest are in `atoms.records`.

Files (all written atomically):
  raw/{state}.json   one state's energy + provenance, as computed (no derived quantities)
  {state}.npz        r_bohr, rho, drho_dr, rdf (4πr²ρ̄) on the radial grid
  {state}.json       the raw record + derived energies + status ('ok', 'exact', 'excluded')
  manifest.json      every state of the element with status and reason
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import SCHEMA_VERSION, elements
from ..errors import InputError
from ..io import canonical_hash, provenance, write_json, write_npz
from ..qm.level import Level
from ..qm.result import AtomResult
from .radial import RadialGrid
from .states import AtomState, default_states, make_state

EV = elements.HARTREE_EV


@dataclass(frozen=True)
class AtomsSettings:
    """What stage 1 needs from the config."""

    energy_level: Level
    density_level: Level
    grid: RadialGrid = field(default_factory=RadialGrid)
    n_angular: int = 302
    backend: str = "pyscf"
    threads: int | None = None
    anions: bool = True
    excited: dict = field(default_factory=dict)
    use_builtin_excited: bool = True
    exact_one_electron: bool = True
    excitation_tolerance_ev: float = 0.5

    def states(self, symbol: str) -> list[AtomState]:
        return default_states(symbol, anions=self.anions, excited=self.excited.get(symbol, []),
                              use_builtin_excited=self.use_builtin_excited)

    def input_hash(self, state: AtomState) -> str:
        return canonical_hash({
            "state": state.to_dict(), "energy_level": self.energy_level.to_dict(),
            "density_level": self.density_level.to_dict(),
            "grid": [self.grid.r_min, self.grid.r_max, self.grid.n], "n_angular": self.n_angular,
            "backend": self.backend, "schema_version": SCHEMA_VERSION,
        })


def settings_from_config(config: dict) -> AtomsSettings:
    """Build AtomsSettings from a validated config dict (see config/schema.yaml)."""
    lv = config.get("levels", {})
    scf = config.get("scf", {})
    e = dict(lv.get("energy", {}))
    d = dict(lv.get("density", {})) or None
    common = {"conv_tol": float(scf.get("conv_tol", 1e-10)), "max_cycle": int(scf.get("max_cycle", 200))}
    energy = Level(**{**common, **e})
    if d:
        density = Level(**{**common, **{"basis": energy.basis, "frozen_core": energy.frozen_core}, **d})
    else:
        from ..qm.pyscf_backend import default_density_level

        density = default_density_level(energy)
    g = config.get("grid", {})
    st = config.get("states", {})
    return AtomsSettings(
        energy_level=energy, density_level=density,
        grid=RadialGrid(float(g.get("r_min_bohr", 1e-4)), float(g.get("r_max_bohr", 40.0)), int(g.get("n_radial", 1201))),
        n_angular=int(g.get("lebedev_points", 302)), backend=config.get("backend", "pyscf"),
        threads=config.get("threads"), anions=bool(st.get("anions", True)),
        excited=dict(st.get("excited", {}) or {}), use_builtin_excited=bool(st.get("builtin_excited", True)),
        exact_one_electron=bool(st.get("exact_one_electron", True)),
        excitation_tolerance_ev=float(st.get("excitation_tolerance_eV", 0.5)),
    )


def compute(state: AtomState, settings: AtomsSettings) -> AtomResult:
    """Run one state with the configured backend."""
    if settings.backend == "pyscf":
        from ..qm.pyscf_backend import compute_state
    elif settings.backend == "psi4":
        from ..qm.psi4_backend import compute_state  # type: ignore[no-redef]
    else:
        raise InputError(f"unknown backend {settings.backend!r}: use pyscf or psi4")
    return compute_state(state, settings.energy_level, settings.density_level, settings.grid,
                         settings.n_angular, settings.threads)


def raw_record(result: AtomResult, input_hash: str) -> dict:
    """The per-state JSON record (without derived quantities)."""
    d = result.density
    return {
        "schema_version": SCHEMA_VERSION, **result.state,
        "energy_hartree": result.energy_hartree, "energy_components": result.components,
        "extra_energies": result.extra_energies, "level_energy": result.energy_level,
        "level_density": result.density_level, "backend": result.backend,
        "rho0": d.rho0 if d is not None else 0.0, "n_integrated": d.n_integrated if d is not None else 0.0,
        "anisotropy": d.anisotropy if d is not None else 0.0,
        "radial_grid": {"r_min_bohr": float(d.r[0]), "r_max_bohr": float(d.r[-1]), "n": int(len(d.r))} if d is not None else None,
        "convergence": result.convergence, "wall_s": result.wall_s, "versions": result.versions,
        "notes": result.notes, "input_hash": input_hash, **provenance(),
    }


def run_state_to_files(state: AtomState, settings: AtomsSettings, raw_json: Path, npz: Path) -> dict:
    """Compute one state and write raw/{state}.json and {state}.npz (both atomic; nothing is
    written if the calculation fails)."""
    result = compute(state, settings)
    rec = raw_record(result, settings.input_hash(state))
    d = result.density
    write_npz(npz, r_bohr=d.r, rho=d.rho, drho_dr=d.drho, rdf=d.rdf)
    write_json(raw_json, rec)
    return rec


def load_density(npz_path) -> dict[str, np.ndarray]:
    """Arrays of a stage-1 density file: r_bohr, rho, drho_dr, rdf."""
    try:
        with np.load(npz_path) as z:
            return {k: z[k] for k in ("r_bohr", "rho", "drho_dr", "rdf")}
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{npz_path} is not a stage-1 density file ({exc})") from None


def state_from_id(state_id: str, settings: AtomsSettings | None = None) -> AtomState:
    """AtomState for an id such as 'Li0_2P' (excited labels from the config or built-ins)."""
    from .states import parse_state_id

    symbol, charge, label = parse_state_id(state_id)
    excited = (settings.excited.get(symbol, []) if settings else [])
    role = "state"
    if settings is not None:
        for st in settings.states(symbol):
            if st.state_id == state_id:
                return st
    return make_state(symbol, charge, label, excited=excited, role=role)
